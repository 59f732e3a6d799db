/**
 * Variadic callbacks (C → TypeScript through `...`): gcc-compiled callers pass ints, strings, longs, long doubles
 * and more doubles than there are vector registers (amd64: xmm0–7 with %al, then the stack; i386: all on the
 * stack); the callback learns each call's variadic types from its fixed arguments or from a printf-style format.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHES, type Arch } from '../src/emu/arch.ts';
import { ArgumentError } from '../src/callspec/values.ts';
import { Machine } from '../src/machine.ts';

const CALLER = `
/* Ten doubles: eight in xmm0-7 (%al = 8), two on the stack on amd64; all on the stack on i386. */
double ten_doubles(double (*f)(int n, ...)) { return f(10, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5) * 2; }
/* Mixed kinds, the types told by the first (fixed) argument. */
long mixed(long (*f)(const char *kinds, ...)) { return f("idls", 7, 0.25, -123456789L, "tail") + 1; }
/* A printf-style callback. */
int log_line(int (*f)(int level, const char *fmt, ...)) { return f(3, "%d %s %f %ld %c %Lf %%", -5, "hi", 0.125, -1234567890L, 'x', 2.5L); }
/* Called twice with different variadic types: the description is per call. */
int twice(int (*f)(const char *fmt, ...)) { return f("%d", 1) + f("%s|%g", "two", 3.0); }
`;

const TYPE_OF: Record<string, string> = { i: 'int', d: 'double', l: 'long', s: 'const char *' };

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shim-varcb-'));
  writeFileSync(join(dir, 'caller.c'), CALLER);
  for (const [arch, flag] of [['amd64', '-m64'], ['i386', '-m32']]) {
    execFileSync('gcc', [flag!, '-O2', '-shared', '-fPIC', '-o', join(dir, `libvarcb-${arch}.so`), join(dir, 'caller.c')]);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(ARCHES)('variadic callbacks on %s', (arch: Arch) => {
  let m: Machine;
  beforeAll(async () => {
    m = await Machine.boot({ arch, libs: [join(dir, `libvarcb-${arch}.so`)] });
  });
  afterAll(() => m?.close());

  it('reads more doubles than there are vector registers (types from the fixed count)', () => {
    let seen: unknown[] = [];
    let al = -1;
    const f = m.callback('double (*)(int n, ...)', (...args) => {
      seen = args;
      if (arch === 'amd64') al = Number(m.process.engine.reg('rax') & 0xffn); // what the caller said it used
      return (args.slice(1) as number[]).reduce((a, b) => a + b, 0);
    }, { varargs: (n) => Array(n as number).fill('double') });
    const r = m.fn(undefined, 'double ten_doubles(double (*f)(int n, ...))')(f);
    expect(seen).toEqual([10, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5]);
    expect(r.value).toBe(2 * 60);
    if (arch === 'amd64') expect(al).toBe(8); // psABI §3.5.7: %al bounds the vector registers the call used
  });

  it('reads ints, doubles, longs and strings told by a fixed argument', () => {
    let seen: unknown[] = [];
    const f = m.callback('long (*)(const char *kinds, ...)', (kinds, ...rest) => {
      seen = [m.readCString(kinds as number), ...rest.map((v, i) => (i === 3 ? m.readCString(v as number) : v))];
      return 40;
    }, { varargs: (kinds) => [...m.readCString(kinds as number)].map((k) => TYPE_OF[k]!) });
    expect(m.fn(undefined, 'long mixed(long (*f)(const char *kinds, ...))')(f).value).toBe(41);
    expect(seen).toEqual(['idls', 7, 0.25, -123456789, 'tail']);
  });

  it('reads the variadic types from a printf-style format argument, per call', () => {
    const lines: unknown[][] = [];
    const f = m.callback('int (*)(int level, const char *fmt, ...)', (level, fmt, ...rest) => {
      lines.push([level, m.readCString(fmt as number), ...rest]);
      return 99;
    }, { format: 1 });
    expect(m.fn(undefined, 'int log_line(int (*f)(int level, const char *fmt, ...))')(f).value).toBe(99);
    const [level, fmt, d, s, g, l, c, ld] = lines[0]!;
    expect([level, fmt, d, m.readCString(s as number), g, l, c, ld]).toEqual([3, '%d %s %f %ld %c %Lf %%', -5, 'hi', 0.125, -1234567890, 'x'.charCodeAt(0), 2.5]);

    const calls: unknown[][] = [];
    const g2 = m.callback('int (*)(const char *fmt, ...)', (fmt, ...rest) => {
      calls.push(rest.map((v, i) => (m.readCString(fmt as number).startsWith('%s') && i === 0 ? m.readCString(v as number) : v)));
      return calls.length;
    }, { format: 0 });
    expect(m.fn(undefined, 'int twice(int (*f)(const char *fmt, ...))')(g2).value).toBe(3);
    expect(calls).toEqual([[1], ['two', 3]]);
  });

  it('refuses a variadic callback without a description, clearly', () => {
    expect(() => m.callback('int (*)(const char *, ...)', () => 0)).toThrow(ArgumentError);
    expect(() => m.callback('int (*)(const char *, ...)', () => 0)).toThrow(/varargs|format/);
    expect(() => m.callback('int (*)(int)', () => 0, { format: 0 })).toThrow(/not variadic/);
  });
});
