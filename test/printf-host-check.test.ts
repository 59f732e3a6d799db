/**
 * The host-side printf check: printf-family calls from the host are checked against their typed variadic
 * arguments (`%f` with an int, a missing argument, `%s` with an int, `%d` with a double, `%ld` with an int on
 * amd64, `%n` with a non-pointer), as a warning on the result, in the ABI report with checking on, on stderr for
 * `shimulator call`, and in the playground's answer — on both architectures.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHES, type Arch } from '../src/emu/arch.ts';
import { GuestFault } from '../src/emu/errors.ts';
import { checkPrintfArguments } from '../src/check/printf-arguments.ts';
import { DOUBLE, INT, out, vararg, VOID_POINTER } from '../src/callspec/values.ts';
import type { CType } from '../src/callspec/types.ts';
import { Machine } from '../src/machine.ts';
import { runCall } from '../src/cli/call.ts';
import { call as playgroundCall, closeMachines } from '../src/playground/api.ts';

const SNPRINTF = 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)';
const LONG: CType = { kind: 'int', name: 'long' };
const LONG_LONG: CType = { kind: 'int', name: 'long long' };
const passed = (...types: CType[]) => types.map((type, i) => ({ index: 3 + i, type }));

describe.each(ARCHES)('checkPrintfArguments on %s', (arch: Arch) => {
  const check = (format: string, ...types: CType[]) => checkPrintfArguments('snprintf', format, passed(...types), arch);

  it('is silent when every conversion gets an argument of its type', () => {
    expect(check('%f %d %s %p %c %%', DOUBLE, INT, VOID_POINTER, VOID_POINTER, INT)).toEqual([]);
    expect(check('%*d|%.*f', INT, INT, INT, DOUBLE)).toEqual([]);
    expect(check('%1$d %1$d', DOUBLE)).toEqual([]); // positional formats are not followed
  });

  it('names the argument and the conversion of a mismatch', () => {
    const [f] = check('%f', INT);
    expect(f).toMatchObject({ rule: 'printf-format', severity: 'warning', expected: 'double', actual: 'int' });
    expect(f!.message).toContain('argument 4 (variadic #1) is an int, but the format\'s conversion %f reads a double');
    expect(check('%d', DOUBLE)[0]!.message).toContain('is a double, but the format\'s conversion %d reads an int');
    expect(check('%s', INT)[0]!.message).toContain('conversion %s reads a char *');
    expect(check('%n', INT)[0]!.message).toContain('conversion %n reads a void *');
  });

  it('reports missing and unused arguments', () => {
    expect(check('%d %s', INT)[0]!.message).toContain('conversion %s (its 2nd) reads a char *, but no argument was passed');
    expect(check('%d', INT, INT)[0]!.message).toContain('argument 5 (an int) is not used');
  });

  it('compares integer sizes: %ld with an int is wrong on amd64 only, %lld with a long on i386 only', () => {
    expect(check('%ld', INT).length).toBe(arch === 'amd64' ? 1 : 0);
    expect(check('%lld', LONG).length).toBe(arch === 'i386' ? 1 : 0);
    expect(check('%lld', LONG_LONG)).toEqual([]);
    if (arch === 'amd64') expect(check('%ld', INT)[0]!.message).toContain('(4 bytes on amd64, the conversion reads 8)');
  });
});

describe.each(ARCHES)('host printf calls on %s', (arch: Arch) => {
  let m: Machine;
  beforeAll(async () => {
    m = await Machine.boot({ arch });
  });
  afterAll(() => m?.close());

  it('warns on the result with checking off, and in the ABI report with checking on', () => {
    const snprintf = m.fn('libc.so.6', SNPRINTF);
    const r = snprintf(out(64), 64, '%f', vararg.int(1));
    expect(r.abi).toBeUndefined();
    expect(r.formatWarnings?.map((w) => w.actual)).toEqual(['int']);
    expect(snprintf(out(64), 64, '%f', vararg.double(1.5)).formatWarnings).toBeUndefined();
    m.checking = true;
    try {
      const checked = snprintf(out(64), 64, '%d %d', vararg.int(1));
      expect(checked.abi?.ok).toBe(true); // a warning, not an error
      expect(checked.abi?.violations.map((v) => v.rule)).toContain('printf-format');
      expect(checked.formatWarnings?.[0]!.message).toContain('%d (its 2nd)');
    } finally {
      m.checking = false;
    }
  });

  it('puts the warning on the fault it explains (%s with an int)', () => {
    let error: unknown;
    try {
      m.fn('libc.so.6', SNPRINTF)(out(64), 64, '%s', vararg.int(5));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GuestFault);
    expect((error as { formatWarnings?: { message: string }[] }).formatWarnings?.[0]!.message).toContain('conversion %s reads a char *');
    m.reset();
  });

  it('checks printf, fprintf-style and dprintf formats too (the format parameter by function)', () => {
    const dprintf = m.fn('libc.so.6', 'int dprintf(int fd, const char *fmt, ...)');
    expect(dprintf(1, '%f\n', vararg.int(2)).formatWarnings?.[0]!.message).toContain('argument 3 (variadic #1) is an int');
    const printf = m.fn('libc.so.6', 'int printf(const char *fmt, ...)');
    expect(printf('%d %s\n', vararg.int(1), vararg.str('x')).formatWarnings).toBeUndefined();
  });

  it('warns on stderr for `shimulator call`, without --check', async () => {
    const lines: string[] = [];
    const warnings: string[] = [];
    const status = await runCall(['--arch', arch, SNPRINTF, 'out:64', '64', '%f|%d', 'int:7', 'int:8'], (l) => lines.push(l), (w) => warnings.push(w));
    expect(status).toBe(0);
    expect(warnings).toEqual(['shimulator: warning: argument 4 (variadic #1) is an int, but the format\'s conversion %f reads a double [printf-format]']);
    const json: string[] = [];
    await runCall(['--arch', arch, '--json', SNPRINTF, 'out:64', '64', '%d', 'double:1.5'], (l) => json.push(l), () => undefined);
    expect(JSON.parse(json[0]!).formatWarnings[0].expected).toBe('int');
  });

  it('returns the warning in the playground API answer', async () => {
    const answer = await playgroundCall({ arch, prototype: SNPRINTF, args: ['out:64', '64', '%f', 'int:1'] }) as { result: { formatWarnings?: { message: string }[] } };
    expect(answer.result.formatWarnings?.[0]!.message).toContain('conversion %f reads a double');
  });
});

afterAll(() => closeMachines());
