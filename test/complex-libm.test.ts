/**
 * _Complex values through Debian's real libm (as libffi's libffi.complex suite calls cexp, csqrt, …): float and double
 * complex results in xmm0 (+ xmm1) on amd64 and edx:eax / memory on i386, long double complex in st0 + st1 on amd64
 * and memory on i386 — each result bit-identical to what the same libm returned natively (the bytes below were
 * printed by a gcc-compiled program linked with -lm on this machine, -m64 and -m32 alike).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exactJson } from '../src/cli/call.ts';
import { ARCHES } from '../src/emu/arch.ts';
import { Machine } from '../src/machine.ts';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
/** A complex long double's two parts, 10 x87 bytes each (the rest of each part is padding). */
const x87Parts = (bytes: Uint8Array, part: number) => hex(bytes.subarray(0, 10)) + hex(bytes.subarray(part, part + 10));

const ZF = { re: 0.5, im: 1.25 };
const ZD = { re: -0.75, im: 2.5 };
const ZL = { re: '1.5', im: '-0.3' }; // exact long double text: 0.3L is not a double

for (const arch of ARCHES) {
  describe(`complex libm calls on ${arch}`, () => {
    let m: Machine;
    const part = arch === 'amd64' ? 16 : 12;
    beforeAll(async () => {
      m = await Machine.boot({ arch, libs: ['libm.so.6'] });
    });
    afterAll(() => m?.close());

    it('float and double complex results are bit-identical to native', () => {
      const call = (proto: string, z: { re: number; im: number }) => hex(m.fn('libm.so.6', proto)(z).returnBytes);
      expect(call('float _Complex cexpf(float _Complex z)', ZF)).toBe('c516053f2d45c83f');
      expect(call('_Complex float csqrtf(_Complex float z)', ZF)).toBe('4bf7753fef86263f');
      expect(call('double _Complex cexp(double _Complex z)', ZD)).toBe('9d9aa3ec4038d8bf37fa454aba17d23f');
      expect(call('double _Complex clog(double _Complex z)', ZD)).toBe('3be010ce3cb3ee3fdad8cbedc9cbfd3f');
      expect(call('double cabs(double _Complex z)', ZD)).toBe('37f9cfda6fe10440');
      const native = new DataView(Uint8Array.from(Buffer.from('9d9aa3ec4038d8bf37fa454aba17d23f', 'hex')).buffer);
      expect(m.fn('libm.so.6', 'double _Complex cexp(double _Complex z)')(ZD).value).toEqual({ re: native.getFloat64(0, true), im: native.getFloat64(8, true) });
    });

    it('long double complex results are bit-identical to native, and JSON shows both parts exactly', () => {
      const call = (proto: string) => m.fn('libm.so.6', proto)(ZL).returnBytes;
      // (cexpl and cargl are left out: they use x87 f2xm1 / fpatan, whose emulation by Unicorn is not bit-exact with
      // the hardware — expl(1.5L) itself differs in its last bits — which says nothing about the call.)
      expect(x87Parts(call('long double _Complex csqrtl(long double _Complex z)'), part)).toBe('6d75f9092ea58a9dff3f1485a4e67f5598f9fbbf');
      expect(x87Parts(call('long double _Complex conjl(long double _Complex z)'), part)).toBe('00000000000000c0ff3f9a99999999999999fd3f');
      expect(exactJson({ kind: 'complex', of: 'long double' }, call('long double _Complex conjl(long double _Complex z)'), arch))
        .toEqual({ re: 'x87:3fffc000000000000000', im: 'x87:3ffd999999999999999a' });
    });
  });
}
