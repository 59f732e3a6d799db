/**
 * Callbacks (C → TypeScript): glibc's qsort and bsearch with comparators written in TypeScript, and a C library
 * compiled here that calls function pointers of every return kind (double, float, long double on x87, small and
 * large structs, narrow integers), on both architectures.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHES } from '../src/emu/arch.ts';
import { Machine } from '../src/machine.ts';

const DECLS = `
struct pair { double a; long b; };
struct big { long v[5]; };
`;

const CALLER = `${DECLS}
double apply_double(double (*f)(double, int), double x, int n) { return f(x, n) + 1.0; }
float apply_float(float (*f)(float), float x) { return f(x) * 2.0f; }
long double apply_ldouble(long double (*f)(long double, long double), long double a, long double b) { return f(a, b) / 2; }
long apply_pair(struct pair (*f)(int), int n) { struct pair p = f(n); return (long)(p.a * 10) + p.b; }
long apply_big(struct big (*f)(long, struct big), long k) {
  struct big in = {{1, 2, 3, 4, 5}};
  struct big out = f(k, in);
  return out.v[0] + out.v[1] * 10 + out.v[2] * 100 + out.v[3] * 1000 + out.v[4] * 10000;
}
int apply_char(signed char (*f)(unsigned char), unsigned char c) { return f(c); }
int call_many(int (*f)(int, int, int, int, int, int, int, int, double, double), int base) {
  return f(base, base + 1, base + 2, base + 3, base + 4, base + 5, base + 6, base + 7, 0.5, 0.25);
}
`;

function cString(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  return new TextDecoder().decode(nul >= 0 ? bytes.subarray(0, nul) : bytes);
}

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shim-callback-'));
  writeFileSync(join(dir, 'caller.c'), CALLER);
  for (const [arch, flag] of [['amd64', '-m64'], ['i386', '-m32']]) {
    execFileSync('gcc', [flag!, '-O2', '-shared', '-fPIC', '-o', join(dir, `libcaller-${arch}.so`), join(dir, 'caller.c')]);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(ARCHES)('callbacks on %s', (arch) => {
  let m: Machine;
  beforeAll(async () => {
    m = await Machine.boot({ arch, libs: [join(dir, `libcaller-${arch}.so`)], decls: DECLS });
  });
  afterAll(() => m?.close());

  const readInt = (address: number) => new DataView(m.read(address, 4).buffer).getInt32(0, true);

  it('qsort sorts with a TypeScript comparator', () => {
    const values = [42, -7, 19, 0, 1000, -300, 5, 5];
    const bytes = new Uint8Array(values.length * 4);
    values.forEach((v, i) => new DataView(bytes.buffer).setInt32(i * 4, v, true));
    let comparisons = 0;
    const compare = m.callback('int (*)(const void *, const void *)', (a, b) => {
      comparisons++;
      return Math.sign(readInt(a as number) - readInt(b as number));
    });
    const r = m.fn('libc.so.6', 'void qsort(void *base, unsigned long n, unsigned long size, int (*cmp)(const void *, const void *))')(bytes, values.length, 4, compare);
    const sorted = Array.from({ length: values.length }, (_, i) => new DataView(r.out[0]!.buffer).getInt32(i * 4, true));
    expect(sorted).toEqual([...values].sort((x, y) => x - y));
    expect(comparisons).toBeGreaterThan(values.length - 1);
    compare.free();
  });

  it('bsearch finds a string with a TypeScript comparator', () => {
    const words = ['apple', 'banana', 'cherry', 'grape', 'kiwi', 'lemon', 'mango', 'peach'];
    const width = 8;
    const table = new Uint8Array(words.length * width);
    words.forEach((w, i) => table.set(new TextEncoder().encode(w), i * width));
    const compare = m.callback('int (*)(const void *, const void *)', (key, element) => {
      const a = m.readCString(key as number);
      const b = m.readCString(element as number);
      return a < b ? -1 : a > b ? 1 : 0;
    });
    const bsearch = m.fn('libc.so.6', 'void *bsearch(const void *key, const void *base, unsigned long n, unsigned long size, int (*cmp)(const void *, const void *))');
    const found = bsearch('mango', table, words.length, width, compare);
    const base = (found.value as number) - words.indexOf('mango') * width;
    expect(cString(m.read(found.value as number, width))).toBe('mango');
    expect(base % 4).toBe(0);
    expect(bsearch('zucchini', table, words.length, width, compare).value).toBe(0);
    compare.free();
  });

  it('returns double, float and long double (st0 on i386; xmm0 / st0 on amd64)', () => {
    const seen: unknown[] = [];
    const d = m.callback('double (*)(double, int)', (x, n) => (seen.push([x, n]), (x as number) * (n as number)));
    expect(m.fn(undefined, 'double apply_double(double (*f)(double, int), double x, int n)')(d, 1.5, 4).value).toBe(7);
    expect(seen).toEqual([[1.5, 4]]);
    const f = m.callback('float (*)(float)', (x) => (x as number) + 0.25);
    expect(m.fn(undefined, 'float apply_float(float (*f)(float), float x)')(f, 1.5).value).toBe(3.5);
    const l = m.callback('long double (*)(long double, long double)', (a, b) => (a as number) * (b as number));
    expect(m.fn(undefined, 'long double apply_ldouble(long double (*f)(long double, long double), long double a, long double b)')(l, 3, 7).value).toBe(10.5);
    for (const cb of [d, f, l]) cb.free();
  });

  it('returns structs: in registers (amd64 xmm0+rax) and through the hidden pointer', () => {
    const pair = m.callback('struct pair (*)(int)', (n) => ({ a: (n as number) / 2, b: 7 }));
    expect(m.fn(undefined, 'long apply_pair(struct pair (*f)(int), int n)')(pair, 9).value).toBe(45 + 7);
    const big = m.callback('struct big (*)(long, struct big)', (k, b) => {
      const v = (b as { v: number[] }).v;
      return { v: v.map((x) => x + (k as number)) };
    });
    expect(m.fn(undefined, 'long apply_big(struct big (*f)(long, struct big), long k)')(big, 1).value).toBe(2 + 30 + 400 + 5000 + 60000);
  });

  it('passes narrow integers and many arguments (registers and stack)', () => {
    const narrow = m.callback('signed char (*)(unsigned char)', (c) => (c as number) - 256);
    expect(m.fn(undefined, 'int apply_char(signed char (*f)(unsigned char), unsigned char c)')(narrow, 200).value).toBe(-56);
    const many = m.callback('int (*)(int, int, int, int, int, int, int, int, double, double)', (...args) => {
      const [a, b, c, d, e, f, g, h, x, y] = args as number[];
      return a! + b! * 2 + c! * 3 + d! * 4 + e! * 5 + f! * 6 + g! * 7 + h! * 8 + (x! + y!) * 100;
    });
    const base = 10;
    const expected = [0, 1, 2, 3, 4, 5, 6, 7].reduce((sum, i) => sum + (base + i) * (i + 1), 0) + 75;
    expect(m.fn(undefined, 'int call_many(int (*f)(int, int, int, int, int, int, int, int, double, double), int base)')(many, base).value).toBe(expected);
  });

  it('has no fixed limit on live callbacks, and freed stubs are reused', () => {
    const before = m.callbacks.live;
    const many = Array.from({ length: 2000 }, (_, i) => m.callback('int (*)(int)', (x) => (x as number) + i));
    expect(m.callbacks.live).toBe(before + 2000);
    const apply = m.fnAt(many[1234]!.address, 'int f(int x)');
    expect(apply(1).value).toBe(1235);
    const freedAddress = many[5]!.address;
    for (const cb of many) cb.free();
    expect(m.callbacks.live).toBe(before);
    const reused = m.callback('int (*)(int)', (x) => (x as number) * 3);
    expect(reused.address).toBe(many[1999]!.address === freedAddress ? freedAddress : reused.address);
    expect(m.fnAt(reused.address, 'int f(int x)')(5).value).toBe(15); // rewritten code runs, not a stale translation
  });

  it('a callback that throws fails the call with its own error', () => {
    const bad = m.callback('int (*)(const void *, const void *)', () => {
      throw new Error('comparator exploded');
    });
    const qsort = m.fn('libc.so.6', 'void qsort(void *base, unsigned long n, unsigned long size, int (*cmp)(const void *, const void *))');
    expect(() => qsort(new Uint8Array(16), 4, 4, bad)).toThrow('comparator exploded');
    // the machine is still usable afterwards
    expect(m.fn('libc.so.6', 'int abs(int)')(-9).value).toBe(9);
  });
});
