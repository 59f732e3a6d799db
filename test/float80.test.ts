/**
 * x87 80-bit extended precision (`long double`): encodeFloat80 / decodeFloat80 against known bit patterns and
 * against the host's own x87 conversions (a small C program built with gcc, for -m64 and -m32).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFloat80, encodeFloat80, FLOAT80_BYTES } from '../src/callspec/float80.ts';

/** The 10 bytes as "SEXP SIGNIFICAND" in hex (sign/exponent word, then the 64-bit significand). */
function fields(bytes: Uint8Array): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, FLOAT80_BYTES);
  return `${view.getUint16(8, true).toString(16).padStart(4, '0')} ${view.getBigUint64(0, true).toString(16).padStart(16, '0')}`;
}

function fromFields(signExp: number, significand: bigint): Uint8Array {
  const out = new Uint8Array(FLOAT80_BYTES);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, significand, true);
  view.setUint16(8, signExp, true);
  return out;
}

const doubleBits = (x: number) => new DataView(new Float64Array([x]).buffer).getBigUint64(0, true);
const fromBits = (bits: bigint) => new DataView(new BigUint64Array([bits]).buffer).getFloat64(0, true);
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** A deterministic stream of 64-bit values (SplitMix64). */
function* random64(seed: bigint): Generator<bigint> {
  let state = seed;
  for (;;) {
    state = BigInt.asUintN(64, state + 0x9e3779b97f4a7c15n);
    let z = state;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    yield z ^ (z >> 31n);
  }
}

const SUBNORMALS = [5e-324, -5e-324, 1e-310, -1e-320, 2.225073858507201e-308, fromBits(0x000fffffffffffffn), fromBits(0x0000000000000003n)];

describe('encodeFloat80: known bit patterns', () => {
  it.each([
    [1, '3fff 8000000000000000'],
    [2.5, '4000 a000000000000000'],
    [-2, 'c000 8000000000000000'],
    [0.5, '3ffe 8000000000000000'],
    [3, '4000 c000000000000000'],
    [0.1, '3ffb ccccccccccccd000'], // the double nearest 0.1 (0x3fb999999999999a), widened exactly
    [0, '0000 0000000000000000'],
    [-0, '8000 0000000000000000'],
    [Infinity, '7fff 8000000000000000'],
    [-Infinity, 'ffff 8000000000000000'],
    [NaN, '7fff c000000000000000'], // the default quiet NaN
    [Number.MAX_VALUE, '43fe fffffffffffff800'],
    [2.2250738585072014e-308, '3c01 8000000000000000'], // DBL_MIN, the smallest normal double
    [5e-324, '3bcd 8000000000000000'], // the smallest subnormal double is a normal float80 (2^-1074)
    [2 ** 63, '403e 8000000000000000'],
  ])('%s → %s', (value, expected) => {
    const bytes = encodeFloat80(value);
    expect(bytes).toHaveLength(FLOAT80_BYTES);
    expect(fields(bytes)).toBe(expected);
  });

  it('1.0 is 00 00 00 00 00 00 00 80 ff 3f in memory order', () => {
    expect([...encodeFloat80(1)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0x3f]);
  });
});

describe('decodeFloat80', () => {
  it('decodes known patterns', () => {
    expect(decodeFloat80(fromFields(0x3fff, 0x8000000000000000n))).toBe(1);
    expect(decodeFloat80(fromFields(0x4000, 0xa000000000000000n))).toBe(2.5);
    expect(decodeFloat80(fromFields(0xc000, 0x8000000000000000n))).toBe(-2);
    expect(decodeFloat80(fromFields(0x4000, 0xc90fdaa22168c235n))).toBe(Math.PI); // fldpi rounds to Math.PI
    expect(Object.is(decodeFloat80(fromFields(0x8000, 0n)), -0)).toBe(true);
    expect(Object.is(decodeFloat80(fromFields(0, 0n)), 0)).toBe(true);
    expect(decodeFloat80(fromFields(0x7fff, 0xc000000000000000n))).toBeNaN();
    expect(decodeFloat80(fromFields(0xffff, 0xc000000000000001n))).toBeNaN();
  });

  it('reads through a subarray view (byteOffset is honoured)', () => {
    const buffer = new Uint8Array(16).fill(0xaa);
    buffer.set(encodeFloat80(-2.5), 3);
    expect(decodeFloat80(buffer.subarray(3, 13))).toBe(-2.5);
  });

  it('rounds to nearest, ties to even', () => {
    // 1 + 2^-53 is halfway between 1 and the next double: ties to even → 1.
    expect(decodeFloat80(fromFields(0x3fff, 0x8000000000000400n))).toBe(1);
    // 1 + 3·2^-53 is halfway between 1+2^-52 (odd) and 1+2^-51 (even) → 1+2^-51.
    expect(decodeFloat80(fromFields(0x3fff, 0x8000000000000c00n))).toBe(1 + 2 ** -51);
    // Just above the halfway point rounds up.
    expect(decodeFloat80(fromFields(0x3fff, 0x8000000000000401n))).toBe(1 + 2 ** -52);
    // Just beyond the double range: infinity; far below it: zero.
    expect(decodeFloat80(fromFields(0x43ff, 0x8000000000000000n))).toBe(Infinity); // 2^1024
    expect(decodeFloat80(fromFields(0xc43f, 0x8000000000000001n))).toBe(-Infinity); // -2^1088·(1+2^-63)
    expect(decodeFloat80(fromFields(0x8001, 0x8000000000000000n))).toBe(-0);
  });

  // BUG (src/callspec/float80.ts, decodeFloat80): for exponents above about 2^1086 the factor 2 ** unbiased
  // overflows to Infinity, and when the low 11 significand bits are 0 the term `low * 2 ** unbiased` is
  // 0 · Infinity = NaN, so e.g. 1e400L, 2^2000 or LDBL_MAX-like values (whose low bits are usually 0) decode as
  // NaN instead of ±Infinity. Fix: return sign·Infinity early when exponent − 16383 > 1023.
  it('decodes huge finite values (beyond the double range) as ±Infinity', () => {
    expect(decodeFloat80(fromFields(0x7ffe, 0x8000000000000000n))).toBe(Infinity); // 2^16383
    expect(decodeFloat80(fromFields(0x47cf, 0x8000000000000000n))).toBe(Infinity); // 2^2000
    expect(decodeFloat80(fromFields(0xc43f, 0x8000000000000000n))).toBe(-Infinity); // -2^1088
  });

  // BUG (src/callspec/float80.ts, decodeFloat80): `(significand << 1n) === 0n` never holds for a BigInt (it does
  // not wrap at 64 bits), so ±Infinity (significand 0x8000000000000000) decodes as NaN. This also breaks i386
  // `double`/`float` returns of ±Infinity, which go through decodeFloat80 from st0 in call.ts (x87Return).
  // Fix: test `(significand & ~(1n << 63n)) === 0n` (or BigInt.asUintN(64, significand << 1n) === 0n).
  it('decodes ±Infinity', () => {
    expect(decodeFloat80(fromFields(0x7fff, 0x8000000000000000n))).toBe(Infinity);
    expect(decodeFloat80(fromFields(0xffff, 0x8000000000000000n))).toBe(-Infinity);
  });

  // BUG (src/callspec/float80.ts, decodeFloat80): values below the smallest normal double decode as 0. The
  // significand is split as high·2^(e+11) + low·2^e, and for results below 2^-1022 the power of two itself
  // underflows to 0 (e.g. 2^-1126 for 5e-324), so the product is 0 instead of a subnormal double.
  // Fix: when the result is below 2^-1022, shift the significand right in BigInt by the extra amount with
  // round-to-nearest-even and build the double's bits directly (exponent field 0).
  it('decodes values in the subnormal double range', () => {
    expect(decodeFloat80(fromFields(0x3bcd, 0x8000000000000000n))).toBe(5e-324);
  });
});

describe('round trips through float80', () => {
  it.each([
    1, -1, 2.5, -2, 0.1, 1 / 3, Math.PI, 1e300, -1e-300, 123456789.125, 2 ** 53 + 2, Number.MAX_VALUE, -Number.MAX_VALUE,
    Number.MIN_VALUE * 2 ** 52, /* DBL_MIN */ Number.EPSILON, 65504, 2 ** -1000,
  ])('%s', (value) => {
    expect(decodeFloat80(encodeFloat80(value))).toBe(value);
  });

  it('±0 keep their sign', () => {
    expect(Object.is(decodeFloat80(encodeFloat80(0)), 0)).toBe(true);
    expect(Object.is(decodeFloat80(encodeFloat80(-0)), -0)).toBe(true);
  });

  it('NaN stays NaN', () => {
    expect(decodeFloat80(encodeFloat80(NaN))).toBeNaN();
  });

  it('10,000 pseudo-random normal doubles', () => {
    const source = random64(42n);
    for (let i = 0; i < 10_000; i++) {
      const bits = source.next().value as bigint;
      const exponent = (bits >> 52n) & 0x7ffn;
      if (exponent === 0n || exponent === 0x7ffn) continue; // subnormals, infinities and NaNs are tested apart
      const value = fromBits(bits);
      const back = decodeFloat80(encodeFloat80(value));
      if (doubleBits(back) !== bits) expect.fail(`${value} (0x${bits.toString(16)}) came back as ${back}`);
    }
  });

  // Fails because of the ±Infinity decoding bug above.
  it('±Infinity', () => {
    expect(decodeFloat80(encodeFloat80(Infinity))).toBe(Infinity);
    expect(decodeFloat80(encodeFloat80(-Infinity))).toBe(-Infinity);
  });

  // Encoding subnormals is right (see the native comparison); decoding them back fails (bug above).
  it.each(SUBNORMALS)('subnormal double %s', (value) => {
    expect(decodeFloat80(encodeFloat80(value))).toBe(value);
  });
});

describe('against the host x87 (gcc)', () => {
  const C_SOURCE = String.raw`
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
/* e <hex double bits>...: widen each double to long double and print its 10 bytes in memory order.
   d <20 hex digits>...:   read 10 bytes as a long double, narrow it to double and print the double's bits.
   s:                      print sizeof(long double). */
int main(int argc, char **argv) {
  if (argv[1][0] == 's') { printf("%u\n", (unsigned) sizeof(long double)); return 0; }
  for (int i = 2; i < argc; i++) {
    if (argv[1][0] == 'e') {
      uint64_t bits = strtoull(argv[i], NULL, 16);
      volatile double d; memcpy((void *) &d, &bits, 8);
      volatile long double ld = d;
      unsigned char b[sizeof(long double)]; memcpy(b, (const void *) &ld, sizeof b);
      for (int j = 0; j < 10; j++) printf("%02x", b[j]);
    } else {
      unsigned char b[sizeof(long double)] = {0};
      for (int j = 0; j < 10; j++) { unsigned v; sscanf(argv[i] + 2 * j, "%2x", &v); b[j] = (unsigned char) v; }
      volatile long double ld; memcpy((void *) &ld, b, sizeof b);
      volatile double d = ld;
      uint64_t bits; memcpy(&bits, (const void *) &d, 8);
      printf("%016llx", (unsigned long long) bits);
    }
    printf("\n");
  }
  return 0;
}
`;
  let dir = '';
  const binaries: Record<string, string> = {};

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'shimulator-float80-'));
    writeFileSync(join(dir, 'ld.c'), C_SOURCE);
    for (const mode of ['-m64', '-m32']) {
      const out = join(dir, `ld${mode}`);
      execFileSync('gcc', [mode, '-O0', '-o', out, join(dir, 'ld.c')]);
      binaries[mode] = out;
    }
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const native = (mode: string, command: 'e' | 'd' | 's', args: string[] = []) =>
    execFileSync(binaries[mode]!, [command, ...args], { encoding: 'utf8' }).trim().split('\n');

  it('long double is the x87 format padded to 16 bytes (amd64) and 12 bytes (i386)', () => {
    expect(native('-m64', 's')).toEqual(['16']);
    expect(native('-m32', 's')).toEqual(['12']);
  });

  const SPECIAL = [
    1, 2.5, -2, 0.1, -0, 0, Infinity, -Infinity, NaN, Number.MAX_VALUE, -Number.MAX_VALUE, 2.2250738585072014e-308,
    Math.PI, 1e-300, ...SUBNORMALS,
  ];

  it.each(['-m64', '-m32'])('encodeFloat80 matches double → long double widening (%s)', (mode) => {
    const source = random64(7n);
    const values = [...SPECIAL];
    for (let i = 0; i < 300; i++) {
      const bits = source.next().value as bigint;
      if (((bits >> 52n) & 0x7ffn) === 0x7ffn) continue; // NaN payloads: JS canonicalises them
      values.push(fromBits(bits));
    }
    const expected = native(mode, 'e', values.map((v) => doubleBits(v).toString(16)));
    expect(expected).toHaveLength(values.length);
    const mismatches = values
      .map((v, i) => ({ v, ours: hex(encodeFloat80(v)), gcc: expected[i] }))
      .filter((m) => m.ours !== m.gcc);
    expect(mismatches).toEqual([]);
  });

  /** float80 patterns to narrow: normal ranges, ties, the double's overflow edge and the subnormal range. */
  function narrowingCases(): Uint8Array[] {
    const source = random64(99n);
    const next = () => source.next().value as bigint;
    const cases: Uint8Array[] = [];
    const normal = (signExp: number, significand: bigint) => cases.push(fromFields(signExp, significand | (1n << 63n)));
    for (let i = 0; i < 200; i++) {
      const exponent = 0x3c01 + Number(next() % BigInt(0x43fe - 0x3c01 + 1)); // inside the double's normal range
      normal(exponent | (i % 2 ? 0x8000 : 0), next());
      normal(exponent, (next() & ~0x7ffn) | 0x400n); // exact ties
    }
    normal(0x43fe, 0xfffffffffffff800n); // DBL_MAX
    normal(0x43fe, 0xfffffffffffffbffn); // just below the rounding edge: DBL_MAX
    normal(0x43fe, 0xfffffffffffffc00n); // the tie at the edge: rounds to infinity
    return cases;
  }

  it.each(['-m64', '-m32'])('decodeFloat80 matches long double → double narrowing in the normal range (%s)', (mode) => {
    const cases = narrowingCases();
    const expected = native(mode, 'd', cases.map(hex));
    const mismatches = cases
      .map((bytes, i) => ({ bytes: fields(bytes), ours: doubleBits(decodeFloat80(bytes)).toString(16).padStart(16, '0'), gcc: expected[i] }))
      .filter((m) => m.ours !== m.gcc);
    // The edge tie rounds to infinity, which decodeFloat80 gets right (only an infinite *input* is misread).
    expect(mismatches).toEqual([]);
  });

  // Fails because of the subnormal decoding bug above: the host narrows these to subnormal doubles (or ±0 with
  // correct rounding), decodeFloat80 gives 0.
  it('decodeFloat80 matches long double → double narrowing in the subnormal range (-m64)', () => {
    const cases = [
      fromFields(0x3bcd, 0x8000000000000000n), // 2^-1074
      fromFields(0x3bcc, 0xc000000000000000n), // 0.75·2^-1074 → rounds up to 2^-1074
      fromFields(0x3c00, 0xfffffffffffff000n), // just below DBL_MIN
      fromFields(0xbbf0, 0xabcdef0123456789n),
    ];
    const expected = native('-m64', 'd', cases.map(hex));
    expect(cases.map((b) => doubleBits(decodeFloat80(b)).toString(16).padStart(16, '0'))).toEqual(expected);
  });

  it('decodeFloat80 matches the host beyond the double range (-m64)', () => {
    const cases = [fromFields(0x7ffe, 0xffffffffffffffffn), fromFields(0x47cf, 0x8000000000000000n), fromFields(0xc43f, 0x8000000000000000n)];
    const expected = native('-m64', 'd', cases.map(hex));
    expect(expected).toEqual(['7ff0000000000000', '7ff0000000000000', 'fff0000000000000']);
    expect(cases.map((b) => doubleBits(decodeFloat80(b)).toString(16).padStart(16, '0'))).toEqual(expected);
  });

  it('decodeFloat80 matches the host for ±Infinity (-m64)', () => {
    const cases = [fromFields(0x7fff, 0x8000000000000000n), fromFields(0xffff, 0x8000000000000000n)];
    const expected = native('-m64', 'd', cases.map(hex));
    expect(expected).toEqual(['7ff0000000000000', 'fff0000000000000']);
    expect(cases.map((b) => doubleBits(decodeFloat80(b)).toString(16).padStart(16, '0'))).toEqual(expected);
  });
});
