/**
 * Exact __float128 and _Float16 values: text correctly rounded to binary128's 113-bit significand and to binary16,
 * bit-identical to what gcc 12 makes of the same literals (the bytes and the (double) casts below were printed by a
 * gcc-compiled program, -m64 and -m32 alike), f128: tokens, CLI tokens and JSON results, and exact values through
 * real calls and callbacks on both arches (the types corpus's gcc-compiled library).
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exactJson, resultJson } from '../src/cli/call.ts';
import { parseToken } from '../src/cli/tokens.ts';
import { decodeFloat16, encodeFloat16, Float128, Float128Error } from '../src/callspec/float128.ts';
import { LongDouble } from '../src/callspec/long-double.ts';
import type { CType } from '../src/callspec/types.ts';
import { ArgumentError, vararg } from '../src/callspec/values.ts';
import { Machine } from '../src/machine.ts';
import { ARCHES } from '../src/emu/arch.ts';
import type { ConventionsCorpus } from './conformance/conventions.ts';
import { DIR } from './conformance/runner.ts';

/** [literal, gcc's 16 bytes most significant first, gcc's (double) of it]. */
const GCC128: [string, string, number][] = [
  ['0.1', '3ffb999999999999999999999999999a', 0.1],
  ['-1.0471975511965977461542144610931676', 'bfff0c152382d73658465bb32e0f567b', -1.0471975511965979],
  ['3.14159265358979323846264338327950288419716939937510', '4000921fb54442d18469898cc51701b8', Math.PI],
  ['1e4932', '7ffeae596552b8fded99d037e3d04b75', Infinity],
  ['1.18973149535723176508575932662800702e4932', '7ffeffffffffffffffffffffffffffff', Infinity],
  ['6.475175119438025110924438958227646552e-4966', '00000000000000000000000000000001', 0],
  ['3.3621031431120935062626778173217526e-4932', '00010000000000000000000000000000', 0],
  ['0x1.8p+1', '40008000000000000000000000000000', 3],
  ['0x1.00000000000000000000000000008p0', '3fff0000000000000000000000000000', 1],
  ['0x1.00000000000000000000000000018p0', '3fff0000000000000000000000000002', 1],
  ['123456789012345678901234567890123456789.0', '407d7383a6958057fb16ab7e8ca2b8e6', 1.2345678901234568e38],
  ['1e-300', '3c1a56e1fc2f8f358d94db7ac6149156', 1e-300],
  ['2.2250738585072014e-308', '3c01000000000000008c304ccf867de0', 2.2250738585072014e-308],
  ['0x1.fffffffffffffp+1023', '43fefffffffffffff000000000000000', Number.MAX_VALUE],
  ['0x1.fffffffffffff8p+1023', '43fefffffffffffff800000000000000', Infinity],
  ['1e-5000', '00000000000000000000000000000000', 0],
  ['5e-4966', '00000000000000000000000000000001', 0],
];

/**
 * [text, shimulator's shortest decimal for its __float128]: libquadmath's strtoflt128 (gcc 12's, natively) reads
 * every decimal here back to the same 16 bytes, and no shorter decimal does (the loop tries the correctly rounded
 * one of each length).
 */
const SHORTEST: [string, string][] = [
  ['0.1', '0.1'], ['-1.0471975511965977461542144610931676', '-1.0471975511965977461542144610931677'],
  ['3.14159265358979323846264338327950288419716939937510', '3.1415926535897932384626433832795028'], ['1e4932', '1e+4932'],
  ['1.18973149535723176508575932662800702e4932', '1.189731495357231765085759326628007e+4932'],
  ['6.475175119438025110924438958227646552e-4966', '6e-4966'],
  ['3.3621031431120935062626778173217526e-4932', '3.3621031431120935062626778173217526e-4932'],
  ['0x1.00000000000000000000000000018p0', '1.0000000000000000000000000000000004'],
  ['123456789012345678901234567890123456789.0', '1.2345678901234567890123456789012346e+38'], ['1e-300', '1e-300'],
  ['2.2250738585072014e-308', '2.2250738585072014e-308'], ['0x1.fffffffffffff8p+1023', '1.7976931348623158079372897140530342e+308'],
  ['0.3', '0.3'], ['2.718281828459045235360287471352662497757', '2.7182818284590452353602874713526623'], ['-1e-4940', '-1e-4940'],
  ['100', '100'], ['0.00001', '0.00001'], ['-0', '-0'], ['-inf', '-inf'],
];

/** [literal, gcc's _Float16 bits] (amd64: gcc 12 refuses _Float16 for -m32). */
const GCC16: [string, number][] = [
  ['0.1', 0x2e66], ['65504.0', 0x7bff], ['65519.0', 0x7bff], ['5.960464477539063e-8', 0x0001], ['2.9802322387695312e-8', 0x0000],
  ['1.0009765625', 0x3c01], ['1.00048828125', 0x3c00], ['1.00146484375', 0x3c02], ['-3.14159', 0xc248], ['0x1.ffcp+15', 0x7bff],
];

const FLOAT128: CType = { kind: 'float', name: '__float128' };
const FLOAT16: CType = { kind: 'float', name: '_Float16' };
const bits16 = (b: Uint8Array) => b[0]! | (b[1]! << 8);

describe('__float128 text', () => {
  it.each(GCC128)('%s is rounded as gcc rounds it, and converts to the double gcc converts it to', (text, bytes, double) => {
    const value = Float128.parse(text);
    expect(value.toString()).toBe(`f128:${bytes}`);
    expect(value.toNumber()).toBe(double);
  });

  it.each(SHORTEST)('%s prints as %s, the shortest decimal that reads back as the same bits', (text, shortest) => {
    const value = Float128.parse(text);
    expect(value.toDecimal()).toBe(shortest);
    expect(Float128.parse(shortest).toString()).toBe(value.toString());
  });

  it('round-trips f128: tokens and doubles, and knows the specials', () => {
    expect(Float128.parse('f128:3fff0c152382d73658465bb32e0f567b').toString()).toBe('f128:3fff0c152382d73658465bb32e0f567b');
    expect(Float128.fromNumber(0.1).toString()).toBe('f128:3ffb999999999999a000000000000000');
    expect(Float128.fromNumber(5e-324).toNumber()).toBe(5e-324);
    expect(Float128.parse('-inf').toString()).toBe('f128:ffff0000000000000000000000000000');
    expect(Float128.parse('-0').toString()).toBe('f128:80000000000000000000000000000000');
    expect(Number.isNaN(Float128.parse('nan').toNumber())).toBe(true);
    expect(() => Float128.parse('0.1.2')).toThrow(Float128Error);
    expect(() => Float128.parse('f128:00')).toThrow(/f128:<32 hex digits>/);
  });
});

describe('_Float16 text and numbers', () => {
  it.each(GCC16)('%s is rounded as gcc rounds it', (text, bits) => {
    expect(bits16(encodeFloat16(text))).toBe(bits);
    expect(bits16(encodeFloat16(decodeFloat16(encodeFloat16(text))))).toBe(bits);
  });

  it('rounds a decimal once, correctly: 2.9802322387695313e-8 is just above half the least subnormal', () => {
    // gcc 12 makes the literal 0x0000; its own run-time conversion of the same value as a __float128 (libgcc's
    // __trunctfhf2, correctly rounded) gives 0x0001, as here: the literal is rounded twice, the value here once.
    expect(bits16(encodeFloat16('2.9802322387695313e-8'))).toBe(0x0001);
    expect(bits16(encodeFloat16(65520))).toBe(0x7c00); // the tie above the largest finite value is infinity
  });
});

describe('CLI tokens for the new types', () => {
  it('__float128 parameters take exact text and f128: tokens; float128: types a variadic one', () => {
    expect(String(parseToken('0.1', FLOAT128, 1))).toBe('f128:3ffb999999999999999999999999999a');
    expect(String(parseToken('f128:4000921fb54442d18469898cc51701b8', FLOAT128, 1))).toBe('f128:4000921fb54442d18469898cc51701b8');
    const typed = parseToken('float128:0x1.8p+1', undefined, 1) as ReturnType<typeof vararg.float128>;
    expect(String(typed.value)).toBe('f128:40008000000000000000000000000000');
    expect(() => parseToken('pi', FLOAT128, 1)).toThrow(ArgumentError);
  });

  it('_Complex takes {re, im} or a real number; vectors take their elements; _Float16 keeps its text', () => {
    expect(parseToken('{1.5, -2}', { kind: 'complex', of: 'double' }, 1)).toEqual(['1.5', '-2']);
    expect(parseToken('2.5', { kind: 'complex', of: 'float' }, 1)).toBe('2.5');
    expect(parseToken('{1, 2, 3, 4}', { kind: 'vector', of: { kind: 'float', name: 'float' }, size: 16 }, 1)).toEqual(['1', '2', '3', '4']);
    expect(() => parseToken('7', { kind: 'vector', of: { kind: 'int', name: 'int' }, size: 8 }, 1)).toThrow(/vector's elements like \{1, 2, 3, 4\}/);
    expect(parseToken('0x1.ffcp+15', FLOAT16, 1)).toBe('0x1.ffcp+15');
  });

  it('JSON shows long double and __float128 results exactly, complex long double part by part', () => {
    expect(exactJson(FLOAT128, Float128.parse('0.1').bytes, 'amd64')).toBe('f128:3ffb999999999999999999999999999a');
    const image = new Uint8Array(32);
    image.set(LongDouble.parse('0.1').bytes);
    image.set(LongDouble.parse('-2').bytes, 16);
    expect(exactJson({ kind: 'complex', of: 'long double' }, image, 'amd64')).toEqual({ re: 'x87:3ffbcccccccccccccccd', im: 'x87:c0008000000000000000' });
  });
});

for (const arch of ARCHES) {
  describe(`exact __float128 and complex values through calls on ${arch}`, () => {
    const corpus = JSON.parse(readFileSync(`${DIR}types-${arch}.json`, 'utf8')) as ConventionsCorpus;
    let m: Machine;
    beforeAll(async () => {
      m = await Machine.boot({ arch, libs: [`${DIR}libtypes-${arch}.so`], decls: corpus.decls });
    });
    afterAll(() => m?.close());

    it('a gcc-compiled function returns its __float128 literal bit for bit; the JSON result shows it exactly', () => {
      const sig = corpus.signatures.find((s) => s.ret === '__float128' && s.params[0] === '__float128' && !s.spelling)!;
      const proto = m.declarations.parsePrototype(sig.proto);
      const args = proto.params.map((p, i) => parseToken(String(sig.args[i]), p.type, i + 1));
      const r = m.fn('libtypes.so', proto.text)(...args);
      const expected = Float128.parse(sig.retValue as string);
      expect(new Float128(r.returnBytes.subarray(0, 16)).toString()).toBe(expected.toString());
      expect(resultJson(null, arch, proto, args, r)).toMatchObject({ return: expected.toString(), returnApprox: expected.toNumber() });
    });

    it('callbacks receive and return exact __float128 and complex values', () => {
      const q = Float128.parse('3.14159265358979323846264338327950288419716939937510');
      let received: unknown;
      const cb = m.callback('__float128 (*)(__float128, _Complex double)', (x, z) => {
        received = [String(x), z];
        return q;
      });
      const r = m.fnAt(cb.address, '__float128 f(__float128 x, _Complex double z)')('0.1', { re: 1.5, im: -0.25 });
      expect(received).toEqual(['f128:3ffb999999999999999999999999999a', { re: 1.5, im: -0.25 }]);
      expect(new Float128(r.returnBytes.subarray(0, 16)).toString()).toBe(q.toString());
      cb.free();
      const ld = m.callback('_Complex long double (*)(void)', () => ({ re: LongDouble.parse('0.1'), im: LongDouble.parse('-1e4000') }));
      const z = m.fnAt(ld.address, '_Complex long double g(void)')();
      expect(exactJson({ kind: 'complex', of: 'long double' }, z.returnBytes, arch)).toEqual({ re: 'x87:3ffbcccccccccccccccd', im: 'x87:f3e6d1ba8323fe558c61' });
      ld.free();
    });
  });
}
