/**
 * Guest memory at scale, beside the same work done natively in the same run: 100,000 mmap(4096) calls (and their
 * munmaps), and mprotect of one page inside a 1 GiB mapping. Needs gcc (the guest loop is a small library compiled
 * here; the reference is the same C as a host program); without gcc it says so and skips.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine } from '../src/machine.ts';

const MMAPS = 100_000;
const GIB = 2 ** 30;
const MIB = 2 ** 20;

const LOOPS = `
#include <stdlib.h>
#include <sys/mman.h>
long map_and_unmap(long n) {
  void **kept = malloc(n * sizeof(void *));
  long ok = 0;
  for (long i = 0; i < n; i++) {
    char *p = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) break;
    p[0] = 1;
    kept[ok++] = p;
  }
  for (long i = 0; i < ok; i++) munmap(kept[i], 4096);
  free(kept);
  return ok;
}
long protect_middle(long size) {
  char *p = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return -1;
  p[size / 2] = 1;
  return mprotect(p + size / 2, 4096, PROT_READ);
}
`;

const NATIVE = `
#include <stdio.h>
#include <time.h>
long map_and_unmap(long n);
long protect_middle(long size);
static double clock_ms(clockid_t id) { struct timespec t; clock_gettime(id, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
static double now_ms(void) { return clock_ms(CLOCK_MONOTONIC); }
static double cpu_ms(void) { return clock_ms(CLOCK_PROCESS_CPUTIME_ID); }
static long rss_kb(void) { long pages = 0, rss = 0; FILE *f = fopen("/proc/self/statm", "r"); if (f) { fscanf(f, "%ld %ld", &pages, &rss); fclose(f); } return rss * 4; }
int main(void) {
  long r0 = rss_kb(); double c0 = cpu_ms(), t0 = now_ms(); long ok = map_and_unmap(${MMAPS}); double t1 = now_ms(), c1 = cpu_ms(); long r1 = rss_kb();
  long rc = protect_middle(1L << 30); double t2 = now_ms(); long r2 = rss_kb();
  printf("%ld %.1f %ld %ld %.2f %ld %.1f\\n", ok, t1 - t0, r1 - r0, rc, t2 - t1, r2 - r1, c1 - c0);
  return 0;
}
`;

const rssMiB = () => process.memoryUsage().rss / MIB;

/** Wall and CPU time (CPU time is what to compare on a loaded machine: it leaves out waiting for a core). */
function time<T>(body: () => T): { value: T; ms: number; cpuMs: number; rssMiB: number } {
  const rss = rssMiB();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const value = body();
  const used = process.cpuUsage(cpu);
  return { value, ms: performance.now() - started, cpuMs: (used.user + used.system) / 1000, rssMiB: rssMiB() - rss };
}

export async function runMemoryBench(write: (line: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shim-memory-bench-'));
  try {
    writeFileSync(join(dir, 'loops.c'), LOOPS);
    writeFileSync(join(dir, 'main.c'), NATIVE);
    try {
      execFileSync('gcc', ['-O2', '-shared', '-fPIC', '-o', join(dir, 'libloops.so'), join(dir, 'loops.c')]);
      execFileSync('gcc', ['-O2', '-o', join(dir, 'native'), join(dir, 'main.c'), join(dir, 'loops.c')]);
    } catch {
      write('memory: skipped (needs gcc to build the guest loop and its native reference)');
      return;
    }
    const [ok, mapMs, mapKb, rc, protectMs, protectKb, mapCpuMs] = execFileSync(join(dir, 'native'), { encoding: 'utf8' }).trim().split(' ').map(Number);
    const m = await Machine.boot({ arch: 'amd64', libs: [join(dir, 'libloops.so')], callBudget: 2_000_000_000 });
    try {
      const maps = time(() => m.fn('libloops.so', 'long map_and_unmap(long n)')(MMAPS).value);
      write(`amd64: ${maps.value} mmaps + munmaps ${maps.ms.toFixed(0)} ms (CPU ${maps.cpuMs.toFixed(0)} ms), RSS +${maps.rssMiB.toFixed(1)} MiB,`
        + ` ${m.process.space.view.regionCount} engine regions (native: ${ok} in ${mapMs!.toFixed(1)} ms (CPU ${mapCpuMs!.toFixed(1)} ms),`
        + ` RSS +${(mapKb! / 1024).toFixed(1)} MiB; ${(maps.cpuMs / mapCpuMs!).toFixed(0)}× native CPU)`);
      const protect = time(() => m.fn('libloops.so', 'long protect_middle(long size)')(GIB).value);
      write(`amd64: mprotect of one page in 1 GiB = ${protect.value}: ${protect.ms.toFixed(1)} ms, RSS +${protect.rssMiB.toFixed(1)} MiB`
        + ` (native: ${rc} in ${protectMs!.toFixed(2)} ms, RSS +${(protectKb! / 1024).toFixed(1)} MiB)`);
    } finally {
      m.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
