/**
 * Host calls that abuse the host: a callee that never returns (with a budget too large to stop it), and system
 * calls asking for huge sizes. Each ends in its typed error or a correct result, the host's resident memory
 * bounded, and the machine usable afterwards (after `reset()` where the call was cut short).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CALL_TIMEOUT_SECONDS, WallTimeoutError } from '../src/loader/limits.ts';
import { OutputLimitError } from '../src/kernel/output.ts';
import { Machine } from '../src/machine.ts';
import type { Arch } from '../src/emu/arch.ts';
import { shimulatorCli } from './support/spawn.ts';

/** A budget no call reaches before the wall-clock timeout stops it. */
const HUGE_BUDGET = 1_000_000_000_000;
const TIMEOUT_SECONDS = 0.5;
const TIMEOUT_EXIT_STATUS = 124;
/** Growth of the host's resident memory per abusive call that still counts as bounded. */
const RSS_GROWTH_LIMIT = 200 * 1024 * 1024;
const MIB = 1024 * 1024;
const PIPE_CAPACITY = 64 * 1024;
const EINVAL = 22;

const SOURCE = `
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#define MIB (1L << 20)
#define GIB (1L << 30)
long spin(void) { for (volatile unsigned long i = 0;; i++) {} return 0; }
long syscalls(void) { long n = 0; for (;;) n += syscall(SYS_getppid); return n; }

static char *mapped(long size) {
  char *p = mmap(0, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? 0 : p;
}
/* 16 iovecs of 64 MiB, all over one mapping: a gigabyte in one writev. */
static long writev_gib(int fd) {
  char *p = mapped(64 * MIB);
  struct iovec v[16];
  for (int i = 0; i < 16; i++) { v[i].iov_base = p; v[i].iov_len = 64 * MIB; }
  long n = writev(fd, v, 16);
  munmap(p, 64 * MIB);
  return n < 0 ? -errno : n;
}
static long into_pipe(long (*put)(int fd)) {
  int fds[2];
  if (pipe2(fds, O_NONBLOCK) != 0) return -1000;
  long n = put(fds[1]);
  close(fds[0]);
  close(fds[1]);
  return n;
}
static long write_gib(int fd) {
  char *p = mapped(GIB);
  long n = write(fd, p, GIB);
  munmap(p, GIB);
  return n < 0 ? -errno : n;
}
long writev_gib_pipe(void) { return into_pipe(writev_gib); }
long write_gib_pipe(void) { return into_pipe(write_gib); }
long writev_gib_stdout(void) { return writev_gib(1); }
long write_gib_tmp(void) {
  int fd = open("/tmp/big", O_CREAT | O_RDWR | O_TRUNC, 0600);
  long n = write_gib(fd);
  close(fd);
  unlink("/tmp/big");
  return n;
}
long read_gib(void) {
  int fd = open("/tmp/small", O_CREAT | O_RDWR | O_TRUNC, 0600);
  write(fd, "0123456789", 10);
  lseek(fd, 0, SEEK_SET);
  char *p = mapped(GIB);
  long n = read(fd, p, GIB);
  long ok = n == 10 && p[9] == '9';
  munmap(p, GIB);
  close(fd);
  return ok ? n : -1;
}
long writev_too_many(void) { static struct iovec v[1025]; return writev(1, v, 1025) < 0 ? errno : 0; }
long writev_negative(void) { char c = 0; struct iovec v = { &c, (size_t)-1 }; return writev(1, &v, 1) < 0 ? errno : 0; }
long poll_huge(void) { char *p = mapped(GIB); long r = poll((struct pollfd *)p, GIB / sizeof(struct pollfd), 0); munmap(p, GIB); return r < 0 ? errno : r; }
`;

const dir = mkdtempSync(join(tmpdir(), 'shimulator-abuse-calls-'));
const library = join(dir, 'libabuse.so');
/** The same library for both architectures (i386 needs gcc-multilib, which `npm test`'s set-up installs). */
const ARCHES: Arch[] = ['amd64', 'i386'];
const libraryFor = (arch: Arch) => (arch === 'amd64' ? library : join(dir, 'i386', 'libabuse.so'));
beforeAll(() => {
  writeFileSync(join(dir, 'abuse.c'), SOURCE);
  mkdirSync(join(dir, 'i386'));
  for (const arch of ARCHES) {
    execFileSync('gcc', [arch === 'amd64' ? '-m64' : '-m32', '-shared', '-fPIC', '-O1', '-o', libraryFor(arch), join(dir, 'abuse.c')]);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the wall-clock timeout of a call', () => {
  it('is on by default', async () => {
    const m = await Machine.boot();
    expect(m.process.scheduler.callTimeoutSeconds).toBe(DEFAULT_CALL_TIMEOUT_SECONDS);
    m.close();
  });

  it('stops a callee that never returns, and one that makes system calls forever; reset() gives a clean machine', async () => {
    const m = await Machine.boot({ libs: [library], callBudget: HUGE_BUDGET, callTimeoutSeconds: TIMEOUT_SECONDS });
    try {
      for (const proto of ['long spin(void)', 'long syscalls(void)']) {
        const call = () => m.fn('libabuse.so', proto)();
        expect(call).toThrow(WallTimeoutError);
        expect(call).toThrow(`the call took longer than its wall-clock timeout of ${TIMEOUT_SECONDS} s`);
        m.reset();
        expect(m.fn('libc.so.6', 'int abs(int x)')(-7).value).toBe(7);
        expect(m.fn('libc.so.6', 'unsigned long strlen(const char *s)')('timeout').value).toBe(7);
      }
    } finally {
      m.close();
    }
  });

  it('`call --timeout` ends the call with its message and exit status 124; a bad value is a usage error', async () => {
    const run = await shimulatorCli('call', '--lib', library, '--budget', String(HUGE_BUDGET), '--timeout', String(TIMEOUT_SECONDS), 'long spin(void)');
    expect(run.status).toBe(TIMEOUT_EXIT_STATUS);
    expect(run.stderr).toMatch(/the call took longer than its wall-clock timeout of 0\.5 s/);
    // With --trace: the timeout still ends the call (checked every 250,000 instructions, however slow recording
    // makes them), and the file holds the partial trace.
    const trace = join(dir, 'spin.trace');
    const traced = await shimulatorCli('call', '--lib', library, '--budget', String(HUGE_BUDGET), '--timeout', '0.05', '--trace', trace, 'long spin(void)');
    expect(traced.status).toBe(TIMEOUT_EXIT_STATUS);
    expect(traced.stderr).toMatch(/^shimulator: the call took longer than its wall-clock timeout of 0\.05 s[^\n]*\n$/);
    const printed = (await shimulatorCli('trace', trace, '--limit', '1')).stdout;
    expect(printed).toMatch(/long spin\(void\)" {2}amd64 {2}\d+ instructions/);
    expect(printed).toMatch(/error: WallTimeoutError: the call took longer/);
    const bad = await shimulatorCli('call', '--timeout', '0', 'int abs(int x)', '-1');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--timeout takes a positive number of seconds, got "0"/);
  });
});

describe('the trace limit of `call --trace`', () => {
  it('ends a long call with one message and leaves the trace so far in the file', async () => {
    const trace = join(dir, 'limit.trace');
    const run = await shimulatorCli('call', '--lib', library, '--budget', String(HUGE_BUDGET), '--trace', trace, '--trace-limit', '5000', 'long spin(void)');
    expect(run.status).toBe(1);
    expect(run.stderr).toBe(`shimulator: the trace reached its limit of 5000 instructions and the call was stopped there (${trace} holds them; raise --trace-limit to record further)\n`);
    expect((await shimulatorCli('trace', trace, '--limit', '1')).stdout).toMatch(/long spin\(void\)" {2}amd64 {2}5000 instructions/);
  });
});

describe.each(ARCHES)('%s system calls asking for huge sizes', (arch) => {
  /** Calls `proto` and checks the host's resident memory stayed bounded meanwhile. */
  function bounded(m: Machine, proto: string): number {
    const before = process.memoryUsage().rss;
    const value = Number(m.fn('libabuse.so', proto)().value);
    expect(process.memoryUsage().rss - before, `${proto} grew the host's memory`).toBeLessThan(RSS_GROWTH_LIMIT);
    return value;
  }

  it('a gigabyte written or read in one call: what fits, and the host holds a chunk at a time', async () => {
    const tmpLimit = 8 * MIB;
    const m = await Machine.boot({ arch, libs: [libraryFor(arch)], tmpLimit, outputLimit: 4 * MIB });
    try {
      expect(bounded(m, 'long writev_gib_pipe(void)')).toBe(PIPE_CAPACITY);
      expect(bounded(m, 'long write_gib_pipe(void)')).toBe(PIPE_CAPACITY);
      expect(bounded(m, 'long write_gib_tmp(void)')).toBe(tmpLimit); // a short write at the /tmp limit
      expect(bounded(m, 'long read_gib(void)')).toBe(10);
      expect(bounded(m, 'long writev_too_many(void)')).toBe(EINVAL);
      expect(bounded(m, 'long writev_negative(void)')).toBe(EINVAL);
      expect(bounded(m, 'long poll_huge(void)')).toBe(EINVAL);
      // A gigabyte to stdout through writev ends at the output limit; the machine needs a reset after it.
      expect(() => bounded(m, 'long writev_gib_stdout(void)')).toThrow(OutputLimitError);
      m.reset();
      expect(m.fn('libc.so.6', 'int abs(int x)')(-9).value).toBe(9);
    } finally {
      m.close();
    }
  });
});
