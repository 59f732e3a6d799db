/**
 * Exact long double values: text correctly rounded to the x87 64-bit significand, bit-identical to what gcc makes
 * of the same literal (the bytes below were printed by a gcc-compiled program, -m64 and -m32 alike), and carried
 * through a real call both ways.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resultJson } from '../src/cli/call.ts';
import { parseToken } from '../src/cli/tokens.ts';
import { LongDouble, LongDoubleError } from '../src/callspec/long-double.ts';
import { Machine } from '../src/machine.ts';
import { ARCHES } from '../src/emu/arch.ts';

/** [literal, gcc's 10 bytes most significant first] — gcc 12, `printf` of the literal with an L suffix. */
const GCC: [string, string][] = [
  ['2.71828182846', '4000adf85458a2fe7a1d'],
  ['0.1', '3ffbcccccccccccccccd'],
  ['-1.0471975511965977461542', 'bfff860a91c16b9b2c23'],
  ['1e4000', '73e6d1ba8323fe558c61'],
  ['3.6451995318824746025e-4951', '00000000000000000001'],
  ['1.18973149535723176502e+4932', '7ffeffffffffffffffff'],
  ['1.18973149535723176509e+4932', '7fff8000000000000000'],
  ['0x1.8p+1', '4000c000000000000000'],
  ['0x1.00000000000000008p0', '3fff8000000000000000'],
  ['0x1.00000000000000018p0', '3fff8000000000000001'],
  ['123456789012345678901234567890', '405fc77487fb61b9f077'],
  ['5e-4951', '00000000000000000001'],
  ['1e-5000', '00000000000000000000'],
];

describe('long double text', () => {
  it.each(GCC)('%s is rounded as gcc rounds it', (text, bytes) => {
    expect(LongDouble.parse(text).toString()).toBe(`x87:${bytes}`);
  });

  it('round-trips x87: tokens, and knows the specials', () => {
    expect(LongDouble.parse('x87:3fff860a8aaaaaaaaaab').toString()).toBe('x87:3fff860a8aaaaaaaaaab');
    expect(LongDouble.parse('-inf').toString()).toBe('x87:ffff8000000000000000');
    expect(LongDouble.parse('-0').toString()).toBe('x87:80000000000000000000');
    expect(Number.isNaN(LongDouble.parse('nan').toNumber())).toBe(true);
    expect(LongDouble.parse('0.1').toNumber()).toBe(0.1);
    expect(() => LongDouble.parse('0.1.2')).toThrow(LongDoubleError);
  });

  it('is what CLI tokens for long double parameters mean', () => {
    const type = { kind: 'float', name: 'long double' } as const;
    expect(String(parseToken('2.71828182846', type, 1))).toBe('x87:4000adf85458a2fe7a1d');
    expect(String(parseToken('x87:3fff860a8aaaaaaaaaab', type, 1))).toBe('x87:3fff860a8aaaaaaaaaab');
  });
});

for (const arch of ARCHES) {
  describe(`exact long double calls on ${arch}`, () => {
    let m: Machine;
    beforeAll(async () => {
      m = await Machine.boot({ arch, libs: ['libm.so.6'] });
    });
    afterAll(() => m?.close());

    it('passes and returns every bit (fabsl, nextafterl)', () => {
      const fabsl = m.fn('libm.so.6', 'long double fabsl(long double x)');
      for (const [text, bytes] of GCC) {
        const r = fabsl(LongDouble.parse(text));
        const expected = LongDouble.parse(`x87:${(parseInt(bytes.slice(0, 2), 16) & 0x7f).toString(16).padStart(2, '0')}${bytes.slice(2)}`);
        expect(new LongDouble(r.returnBytes.subarray(0, 10)).toString(), text).toBe(expected.toString());
      }
      // The next long double above 1: a difference no double can show.
      const next = m.fn('libm.so.6', 'long double nextafterl(long double x, long double y)')('1', '2');
      expect(new LongDouble(next.returnBytes.subarray(0, 10)).toString()).toBe('x87:3fff8000000000000001');
    });

    it('JSON results show a long double exactly, with the nearest double beside it', () => {
      const proto = m.declarations.parsePrototype('long double fabsl(long double x)');
      const args = [parseToken('-1.0471975511965977461542', proto.params[0]!.type, 1)];
      const json = resultJson(null, arch, proto, args, m.fn('libm.so.6', proto.text)(...args));
      expect(json).toMatchObject({ return: 'x87:3fff860a91c16b9b2c23', returnApprox: 1.0471975511965979 });
    });

    it('a callback can return an exact long double', () => {
      const cb = m.callback('long double (*)(void)', () => LongDouble.parse('x87:3fff860a8aaaaaaaaaab'));
      const r = m.fnAt(cb.address, 'long double f(void)')();
      expect(new LongDouble(r.returnBytes.subarray(0, 10)).toString()).toBe('x87:3fff860a8aaaaaaaaaab');
      cb.free();
    });
  });
}
