/**
 * Guest memory at scale: host-backed mappings whose engine regions are only a view (src/kernel/memory-view.ts).
 * Real engine, real glibc; the loops run in the guest (a small library compiled here with gcc).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GuestFault } from '../src/emu/errors.ts';
import { ERRNO } from '../src/kernel/errno.ts';
import { MAX_ENGINE_REGIONS } from '../src/kernel/memory-view.ts';
import { Machine } from '../src/machine.ts';

const PAGE = 4096;
const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_PRIVATE_ANONYMOUS = 0x22;
const MAP_FIXED = 0x10;
/** Bound on host RSS growth for mprotect of one page in a GiB (Unicorn's own split would copy the whole GiB). */
const RSS_GROWTH_LIMIT = 64 * MIB;
/** Engine regions after 100,000 adjacent page mappings (aligned blocks of one run: about 2·log2(n)). */
const FEW_REGIONS = 200;
/**
 * Mappings in the scale test: five times what used to abort the host (~4,070 engine regions). `npm run bench` runs
 * 100,000 (tens of seconds: ~90 µs of host CPU per guest mmap or munmap, measured) beside a native reference.
 */
const MAPPINGS = 20_000;
/** The scale loops take seconds. */
const SCALE_TIMEOUT = 300_000;
/** Allocations per guest call in the malloc test (a few seconds each). */
const BATCH = 1000;
/** Lets the test runner's pending messages through between long synchronous guest calls. */
const yieldToRunner = () => new Promise((resolve) => setImmediate(resolve));

const LOOPS = `
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
static void **kept;
long map_pages(long n) {
  kept = malloc(n * sizeof(void *));
  long ok = 0;
  for (long i = 0; i < n; i++) {
    char *p = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) break;
    if (p[0] != 0) break; /* fresh anonymous memory reads as zero */
    p[0] = 1; p[4095] = 2;
    kept[ok++] = p;
  }
  return ok;
}
long unmap_pages(long n) {
  long ok = 0;
  for (long i = 0; i < n; i++) ok += munmap(kept[i], 4096) == 0;
  free(kept);
  return ok;
}
/* Every other page of [base, base + pages*4096) read-only; returns how many mprotect calls failed with ENOMEM. */
long protect_alternate(char *base, long pages) {
  long refused = 0;
  for (long i = 0; i < pages; i += 2) if (mprotect(base + i * 4096, 4096, PROT_READ) != 0) refused++;
  return refused;
}
void keep(long n) { kept = malloc(n * sizeof(void *)); }
/* Allocates kept[first .. first+count) with malloc(size), marked; returns how many succeeded. */
long malloc_range(long first, long count, long size) {
  long ok = 0;
  for (long i = first; i < first + count; i++) {
    char *p = malloc(size);
    if (!p) break;
    p[0] = (char)i; p[size - 1] = (char)i;
    kept[i] = p;
    ok++;
  }
  return ok;
}
/* Frees kept[first .. first+count); returns how many still held their marks. */
long free_range(long first, long count, long size) {
  long good = 0;
  for (long i = first; i < first + count; i++) {
    char *p = kept[i];
    good += p[0] == (char)i && p[size - 1] == (char)i;
    free(p);
  }
  return good;
}
`;

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shim-memory-'));
  writeFileSync(join(dir, 'loops.c'), LOOPS);
  for (const [arch, flag] of [['amd64', '-m64'], ['i386', '-m32']]) {
    execFileSync('gcc', [flag!, '-O2', '-shared', '-fPIC', '-o', join(dir, `libloops-${arch}.so`), join(dir, 'loops.c')]);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const boot = (arch: 'amd64' | 'i386', extra: { memoryLimit?: number } = {}) =>
  Machine.boot({ arch, libs: [join(dir, `libloops-${arch}.so`)], callBudget: 2_000_000_000, ...extra });

describe.each(['amd64', 'i386'] as const)('guest memory at scale (%s)', (arch) => {
  it(`${MAPPINGS.toLocaleString('en')} mmap(4096) calls succeed with few engine regions, and munmap them all`, async () => {
    const m = await boot(arch);
    try {
      const N = MAPPINGS;
      expect(m.fn(`libloops-${arch}.so`, 'long map_pages(long n)')(N).value).toBe(N);
      expect(m.process.space.view.regionCount).toBeLessThan(FEW_REGIONS);
      expect(m.fn(`libloops-${arch}.so`, 'long unmap_pages(long n)')(N).value).toBe(N);
      expect(m.process.space.view.regionCount).toBeLessThan(FEW_REGIONS);
      // Still alive and well.
      expect(Number(m.fn('libc.so.6', 'void *malloc(unsigned long n)')(64).value)).not.toBe(0);
    } finally {
      m.close();
    }
  }, SCALE_TIMEOUT);

  it('mprotect of one page inside a 1 GiB mapping: cheap, the page faults on write, the rest stays writable', async () => {
    const m = await boot(arch);
    try {
      const mmap = m.fn('libc.so.6', 'void *mmap(void *address, unsigned long length, int prot, int flags, int fd, long offset)');
      const base = Number(mmap(0, GIB, PROT_READ | PROT_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0).value);
      expect(base % PAGE).toBe(0);
      const memset = m.fn('libc.so.6', 'void *memset(void *s, int c, unsigned long n)');
      const middle = base + GIB / 2;
      memset(middle - PAGE, 0x5a, 3 * PAGE);
      const rssBefore = process.memoryUsage().rss;
      const r = m.fn('libc.so.6', 'int mprotect(void *address, unsigned long length, int prot)')(middle, PAGE, PROT_READ);
      expect(r).toMatchObject({ value: 0, errno: 0 });
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(RSS_GROWTH_LIMIT);
      // The bytes are where they were (nothing was copied or lost), and both neighbours are still writable.
      expect([...m.read(middle, 2)]).toEqual([0x5a, 0x5a]);
      memset(middle - PAGE, 1, PAGE);
      memset(middle + PAGE, 2, PAGE);
      memset(base, 3, 16);
      memset(base + GIB - 16, 4, 16);
      expect([...m.read(middle - 1, 1), ...m.read(middle + PAGE, 1)]).toEqual([1, 2]);
      expect(() => memset(middle + 8, 7, 1)).toThrow(GuestFault);
    } finally {
      m.close();
    }
  });

  it('a mapping over the memory limit is ENOMEM; getrandom into unmapped memory is EFAULT', async () => {
    const m = await boot(arch, { memoryLimit: 256 * MIB });
    try {
      const mmap = m.fn('libc.so.6', 'void *mmap(void *address, unsigned long length, int prot, int flags, int fd, long offset)');
      const failed = mmap(0, 512 * MIB, PROT_READ | PROT_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0);
      expect(failed.errno).toBe(ERRNO.ENOMEM);
      expect(Number(failed.value) === -1 || BigInt(failed.value as number | bigint) === 2n ** 64n - 1n || Number(failed.value) === 2 ** 32 - 1).toBe(true);
      // PROT_NONE reservations do not count (Go reserves its arenas so); making them accessible does.
      const reserved = Number(mmap(0, 512 * MIB, 0, MAP_PRIVATE_ANONYMOUS, -1, 0).value);
      const mprotect = m.fn('libc.so.6', 'int mprotect(void *address, unsigned long length, int prot)');
      expect(mprotect(reserved, 512 * MIB, PROT_READ)).toMatchObject({ value: -1, errno: ERRNO.ENOMEM });
      expect(mprotect(reserved, MIB, PROT_READ | PROT_WRITE)).toMatchObject({ value: 0, errno: 0 });
      const getrandom = m.fn('libc.so.6', 'long getrandom(void *buf, unsigned long n, unsigned int flags)');
      expect(getrandom(0x1000, 16, 0)).toMatchObject({ value: -1, errno: ERRNO.EFAULT });
      expect(getrandom(reserved + MIB, 16, 0)).toMatchObject({ value: -1, errno: ERRNO.EFAULT }); // PROT_NONE
      expect(getrandom(reserved, 16, 0)).toMatchObject({ value: 16 });
    } finally {
      m.close();
    }
  });

  it('munmap, then mmap again at the same address, reads zeros', async () => {
    const m = await boot(arch);
    try {
      const mmap = m.fn('libc.so.6', 'void *mmap(void *address, unsigned long length, int prot, int flags, int fd, long offset)');
      const munmap = m.fn('libc.so.6', 'int munmap(void *address, unsigned long length)');
      const a = Number(mmap(0, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0).value);
      m.fn('libc.so.6', 'void *memset(void *s, int c, unsigned long n)')(a, 0xab, 4 * PAGE);
      expect(munmap(a, 4 * PAGE)).toMatchObject({ value: 0 });
      expect(() => m.read(a, 1)).toThrow();
      const again = Number(mmap(a, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE_ANONYMOUS | MAP_FIXED, -1, 0).value);
      expect(again).toBe(a);
      expect(m.read(a, 4 * PAGE).every((byte) => byte === 0)).toBe(true);
      // MAP_FIXED over live data zeroes it too.
      m.fn('libc.so.6', 'void *memset(void *s, int c, unsigned long n)')(a, 0xcd, PAGE);
      mmap(a, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE_ANONYMOUS | MAP_FIXED, -1, 0);
      expect(m.read(a, PAGE).every((byte) => byte === 0)).toBe(true);
    } finally {
      m.close();
    }
  });
});

describe('many large allocations (amd64)', () => {
  it('10,000 × malloc(1 MiB) (each its own mmap in glibc) succeed, then free them', async () => {
    const m = await boot('amd64', { memoryLimit: 16 * GIB });
    try {
      const N = 10_000;
      m.fn('libloops-amd64.so', 'void keep(long n)')(N);
      const range = (name: string) => m.fn('libloops-amd64.so', `long ${name}(long first, long count, long size)`);
      // In batches, yielding between them: one call of tens of seconds would starve the test runner's messages.
      let allocated = 0;
      for (let first = 0; first < N; first += BATCH) {
        allocated += Number(range('malloc_range')(first, BATCH, MIB).value);
        await yieldToRunner();
      }
      expect(allocated).toBe(N);
      expect(m.process.space.view.regionCount).toBeLessThan(MAX_ENGINE_REGIONS);
      let intact = 0;
      for (let first = 0; first < N; first += BATCH) {
        intact += Number(range('free_range')(first, BATCH, MIB).value);
        await yieldToRunner();
      }
      expect(intact).toBe(N);
      expect(m.process.space.accessibleBytes).toBeLessThan(GIB);
    } finally {
      m.close();
    }
  });

  it('more engine regions than the cap: mprotect answers ENOMEM and the host lives', async () => {
    // A small cap: each engine region makes every later change slower (QEMU rebuilds its flat view), so reaching the
    // default cap takes a minute; the mechanism is the same.
    const cap = 400;
    const m = await Machine.boot({ arch: 'amd64', libs: [join(dir, 'libloops-amd64.so')], callBudget: 2_000_000_000, maxEngineRegions: cap });
    try {
      const mmap = m.fn('libc.so.6', 'void *mmap(void *address, unsigned long length, int prot, int flags, int fd, long offset)');
      const pages = 2 * cap + 10;
      const base = Number(mmap(0, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0).value);
      // Every other page read-only (a loop in the guest): each one is two more engine regions, until the cap.
      const refused = m.fn('libloops-amd64.so', 'long protect_alternate(char *base, long pages)')(base, pages);
      expect(refused.value).toBeGreaterThan(0);
      expect(refused.errno).toBe(ERRNO.ENOMEM);
      expect(m.process.space.view.regionCount).toBeLessThanOrEqual(cap);
      expect(Number(m.fn('libc.so.6', 'void *malloc(unsigned long n)')(64).value)).not.toBe(0);
    } finally {
      m.close();
    }
  }, SCALE_TIMEOUT);
});
