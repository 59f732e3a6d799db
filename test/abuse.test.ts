/**
 * Guest programs that abuse the host: a loop that never ends, recursion to the end of the stack, a getrandom of
 * a gigabyte into 16 bytes, a gigabyte written to stdout in one call, a gigabyte mapped and re-protected, and the
 * ordinary ways out (exit, abort, raise). Each ends in its typed error or its correct status, quickly, with the
 * host process alive and its resident memory bounded. `npm run fuzz` runs them on i386 too.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Arch } from '../src/emu/arch.ts';
import { findFixture } from '../src/loader/fixtures.ts';
import { type RunReport, runProgram } from '../src/run/program.ts';
import { canCompile, fuzzRounds } from './fuzz/elf-mutations.ts';

/** Instructions for the endless loop: enough to see it is endless, few enough to stop in about a second. */
const LOOP_BUDGET = 5_000_000;
/** Bytes of output the one-gigabyte write may produce before the run is stopped. */
const OUTPUT_LIMIT = 4 * 1024 * 1024;
/** Host wall-clock seconds any of these programs may take: each must be stopped or finish well before. */
const TIMEOUT_SECONDS = 30;
/** Growth of the host's resident memory per program that still counts as bounded. */
const RSS_GROWTH_LIMIT = 200 * 1024 * 1024;
const SIGABRT = 6;
const SIGSEGV = 11;
const SIGTERM = 15;
const SIGNAL_EXIT_BASE = 128;

const PROGRAMS = {
  loop: 'int main(void) { for (volatile unsigned long i = 0;; i++) {} }',
  recurse: `
    static int down(int depth) { volatile char frame[512]; frame[0] = (char)depth; return down(depth + 1) + frame[0]; }
    int main(void) { return down(0); }`,
  getrandom: `
    #include <sys/random.h>
    #include <errno.h>
    int main(void) {
      char small[16];
      long n = getrandom(small, 1L << 30, 0);
      printf("%ld %d\\n", n, n < 0 ? errno : 0);
      return n < 0 ? (errno == EFAULT ? 0 : 1) : (n <= 1L << 30 ? 0 : 2);
    }`,
  write: `
    #include <sys/mman.h>
    int main(void) {
      char *p = mmap(0, 1L << 30, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) return 1;
      write(1, p, 1L << 30);
      return 0;
    }`,
  mprotect: `
    #include <sys/mman.h>
    int main(void) {
      size_t size = 1UL << 30;
      char *p = mmap(0, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) return 1;
      if (mprotect(p, size, PROT_READ | PROT_WRITE) != 0) return 2;
      for (size_t at = 0; at < size; at += size / 16) p[at] = 1;
      if (mprotect(p, size, PROT_READ) != 0) return 3;
      return p[size / 2] + p[size - 1] + munmap(p, size) == 1 ? 0 : 4;
    }`,
  exit: '#include <stdlib.h>\nint main(void) { exit(3); }',
  abort: '#include <stdlib.h>\nint main(void) { abort(); }',
  raise: '#include <signal.h>\nint main(void) { raise(SIGTERM); return 0; }',
} as const;
type ProgramName = keyof typeof PROGRAMS;

const dir = mkdtempSync(join(tmpdir(), 'shimulator-abuse-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function compile(name: ProgramName, arch: Arch): string {
  const path = join(dir, `${name}-${arch}`);
  writeFileSync(`${path}.c`, `#include <unistd.h>\n#include <stdio.h>\n${PROGRAMS[name]}\n`);
  execFileSync('gcc', [arch === 'amd64' ? '-m64' : '-m32', '-O1', '-o', path, `${path}.c`]);
  return path;
}

/** Runs one abusive program and checks the host survived it with its memory bounded. */
async function run(name: ProgramName, arch: Arch, options: { budget?: number; outputLimit?: number } = {}): Promise<RunReport> {
  const program = compile(name, arch);
  const rssBefore = process.memoryUsage().rss;
  const started = Date.now();
  const report = await runProgram({ program, timeoutSeconds: TIMEOUT_SECONDS, stdout: () => {}, ...options });
  expect(Date.now() - started, `${name} took too long`).toBeLessThan(TIMEOUT_SECONDS * 1000);
  expect(process.memoryUsage().rss - rssBefore, `${name} grew the host's memory`).toBeLessThan(RSS_GROWTH_LIMIT);
  return report;
}

/** amd64 in `npm test`; i386 as well in `npm run fuzz`. */
const ARCHES = (fuzzRounds(0) > 0 ? (['amd64', 'i386'] as Arch[]) : (['amd64'] as Arch[]))
  .filter((arch) => findFixture(arch, 'libc.so.6') && canCompile(arch));

describe.each(ARCHES)('%s programs that abuse the host', (arch) => {
  it('a loop that never ends is stopped by the instruction budget', async () => {
    const report = await run('loop', arch, { budget: LOOP_BUDGET });
    expect(report.error?.kind).toBe('BudgetExceededError');
    expect(report.exit).toBeNull();
  });

  it('recursion to the end of the stack ends in SIGSEGV (exit 139)', async () => {
    const report = await run('recurse', arch);
    expect(report.exit).toBe(SIGNAL_EXIT_BASE + SIGSEGV);
    expect(report.signal).toBe(SIGSEGV);
  });

  it('getrandom of a gigabyte into 16 bytes fails with EFAULT or comes back short, quickly', async () => {
    const report = await run('getrandom', arch);
    expect(report.error).toBeNull();
    expect(report.exit).toBe(0);
  });

  it('a gigabyte written to stdout in one call is stopped at the output limit', async () => {
    const report = await run('write', arch, { outputLimit: OUTPUT_LIMIT });
    expect(report.error?.kind).toBe('OutputLimitError');
  });

  it('a gigabyte mapped, made writable, touched and made read-only again is quick', async () => {
    const report = await run('mprotect', arch);
    expect(report.error).toBeNull();
    expect(report.exit).toBe(0);
  });

  it('exit(3), abort() and raise(SIGTERM) end with their statuses', async () => {
    expect((await run('exit', arch)).exit).toBe(3);
    const aborted = await run('abort', arch);
    expect([aborted.exit, aborted.signal]).toEqual([SIGNAL_EXIT_BASE + SIGABRT, SIGABRT]);
    const terminated = await run('raise', arch);
    expect([terminated.exit, terminated.signal]).toEqual([SIGNAL_EXIT_BASE + SIGTERM, SIGTERM]);
  });
});
