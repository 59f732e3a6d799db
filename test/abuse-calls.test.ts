/**
 * Host calls that abuse the host: a callee that never returns (with a budget too large to stop it), and system
 * calls asking for huge sizes. Each ends in its typed error or a correct result, the host's resident memory
 * bounded, and the machine usable afterwards (after `reset()` where the call was cut short).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CALL_TIMEOUT_SECONDS, WallTimeoutError } from '../src/loader/limits.ts';
import { Machine } from '../src/machine.ts';
import { shimulatorCli } from './support/spawn.ts';

/** A budget no call reaches before the wall-clock timeout stops it. */
const HUGE_BUDGET = 1_000_000_000_000;
const TIMEOUT_SECONDS = 0.5;
const TIMEOUT_EXIT_STATUS = 124;

const SOURCE = `
#include <unistd.h>
#include <sys/syscall.h>
long spin(void) { for (volatile unsigned long i = 0;; i++) {} return 0; }
long syscalls(void) { long n = 0; for (;;) n += syscall(SYS_getppid); return n; }
`;

const dir = mkdtempSync(join(tmpdir(), 'shimulator-abuse-calls-'));
const library = join(dir, 'libabuse.so');
beforeAll(() => {
  writeFileSync(join(dir, 'abuse.c'), SOURCE);
  execFileSync('gcc', ['-m64', '-shared', '-fPIC', '-O1', '-o', library, join(dir, 'abuse.c')]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the wall-clock timeout of a call', () => {
  it('is on by default', async () => {
    const m = await Machine.boot();
    expect(m.process.callTimeoutSeconds).toBe(DEFAULT_CALL_TIMEOUT_SECONDS);
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
    const bad = await shimulatorCli('call', '--timeout', '0', 'int abs(int x)', '-1');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--timeout takes a positive number of seconds, got "0"/);
  });
});
