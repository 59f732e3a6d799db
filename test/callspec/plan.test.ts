import { describe, expect, it } from 'vitest';
import { Declarations } from '../../src/callspec/parse.ts';
import { type ArgumentMemory, makePlan, type OutSlot, PlanCache } from '../../src/callspec/plan.ts';
import { callSpec } from '../../src/callspec/classify.ts';
import {
  decodeValue, encodeValue, GuestPointer, type HostValue, out, OutBuffer, TypedValue, vararg,
} from '../../src/callspec/values.ts';
import { ARCHES } from '../../src/emu/arch.ts';

/** Guest memory that records what is placed where (addresses count up from a fixed base, like the host arena). */
class RecordingMemory implements ArgumentMemory {
  readonly placed: { address: number; bytes: number[] }[] = [];
  private next = 0x10000;
  place(bytes: Uint8Array, align = 16): number {
    const address = Math.ceil(this.next / align) * align;
    this.next = address + bytes.length;
    this.placed.push({ address, bytes: [...bytes] });
    return address;
  }
  placeString(text: string): number {
    return this.place(Uint8Array.from([...new TextEncoder().encode(text), 0]), 1);
  }
  placeZeros(size: number): number {
    return this.place(new Uint8Array(size), 16);
  }
}

const decls = new Declarations();
decls.addDeclarations('struct pt { int x; double y; };');

/** One argument through the plan's writer, and through the general encoder: image bytes and placements. */
function bothWays(prototype: string, arch: (typeof ARCHES)[number], value: HostValue) {
  const proto = decls.parsePrototype(prototype);
  const plan = makePlan(callSpec(proto, arch));
  const arg = plan.spec.args[0]!;
  const offset = plan.layout.argOffsets[0]!;
  const run = <T>(f: () => T): { ok: T } | { error: string } => {
    try {
      return { ok: f() };
    } catch (error) {
      return { error: String(error) };
    }
  };
  const fastMemory = new RecordingMemory();
  const outs: OutSlot[] = [];
  plan.image.fill(0);
  const fast = run(() => {
    plan.writers[0]!(value, plan.image, plan.imageView, offset, fastMemory, outs);
    return [...plan.image.subarray(offset, offset + arg.size)];
  });
  const generalMemory = new RecordingMemory();
  const general = run(() => {
    const encoded = encodeValue(arg.type, value, arch, generalMemory, `argument 1 (${arg.text})`);
    const slot = new Uint8Array(arg.size); // the block image is zeroed: a shorter image leaves zeros after it
    slot.set(encoded.bytes.subarray(0, arg.size));
    return [...slot];
  });
  return { fast, general, fastPlaced: fastMemory.placed, generalPlaced: generalMemory.placed, outs };
}

const INTEGER_VALUES: HostValue[] = [
  0, 1, -1, 127, 128, 255, 256, -128, -129, 32767, 65535, 65536, -32768, -32769, 2 ** 31 - 1, 2 ** 31, -(2 ** 31),
  -(2 ** 31) - 1, 2 ** 32 - 1, 2 ** 32, 2 ** 53, -(2 ** 53), 2 ** 60, 2 ** 63, -(2 ** 63), 2 ** 64, -(2 ** 64), 1.5, NaN,
  Infinity, 7n, true, '12', 'x', null, vararg.int(5), vararg.long(-3), vararg.double(2),
];

describe('call plans: the fast argument writers store exactly what the general encoder does', () => {
  for (const arch of ARCHES) {
    for (const type of ['char', 'unsigned char', 'short', 'unsigned short', 'int', 'unsigned int', 'long', 'unsigned long', 'long long', 'unsigned long long', 'enum e']) {
      it(`${arch}: ${type}`, () => {
        const prototype = type === 'enum e' ? 'void f(enum e x)' : `void f(${type} x)`;
        if (type === 'enum e') decls.addDeclarations('enum e { A, B };');
        for (const value of INTEGER_VALUES) {
          const { fast, general } = bothWays(prototype, arch, value);
          expect(fast, `${type} ${String(value)}`).toEqual(general);
        }
      });
    }

    it(`${arch}: pointers (numbers, NULL, strings, out buffers, bytes, guest pointers)`, () => {
      const values: HostValue[] = [0, 1, 2 ** 32 - 1, 2 ** 32, -1, 2 ** 53, null, 'text', '', 'héllo', '0x10', out(24), out(0), new Uint8Array([1, 2, 3]), new GuestPointer(0x1234), 1.5, vararg.ptr(8), vararg.str('s')];
      for (const prototype of ['void f(const char *s)', 'void f(void *p)']) {
        for (const value of values) {
          const r = bothWays(prototype, arch, value);
          expect(r.fast, `${prototype} ${String(value)}`).toEqual(r.general);
          expect(r.fastPlaced, `${prototype} ${String(value)}`).toEqual(r.generalPlaced);
          if (value instanceof OutBuffer || value instanceof Uint8Array) expect(r.outs).toHaveLength(1);
        }
      }
    });

    it(`${arch}: float and double (numbers, strings, NaN)`, () => {
      for (const prototype of ['void f(double d)', 'void f(float d)']) {
        for (const value of [0, -0, 1.5, 1e300, -1e-300, NaN, Infinity, 3, '2.5', 'nan', 'x', null, vararg.double(4)]) {
          const { fast, general } = bothWays(prototype, arch, value);
          expect(fast, `${prototype} ${String(value)}`).toEqual(general);
        }
      }
    });

    it(`${arch}: return values decode as the general decoder does, without BigInt while exact`, () => {
      const cases: [string, number[]][] = [
        ['int f(void)', [0xff, 0xff, 0xff, 0xff]],
        ['unsigned int f(void)', [0xff, 0xff, 0xff, 0xff]],
        ['char f(void)', [0x80]],
        ['unsigned short f(void)', [0xff, 0xff]],
        ['short f(void)', [0x00, 0x80]],
        ['long long f(void)', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]],
        ['long long f(void)', [0, 0, 0, 0, 0, 0, 0xe0, 0xff]], // -2^53: a bigint, as narrow() gives
        ['long long f(void)', [1, 0, 0, 0, 0, 0, 0xe0, 0xff]], // -(2^53 - 1): still a number
        ['unsigned long long f(void)', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0]],
        ['unsigned long long f(void)', [0, 0, 0, 0, 0, 0, 0x20, 0]],
        ['unsigned long long f(void)', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]],
        ['void *f(void)', arch === 'amd64' ? [0, 0x10, 0, 0, 0xff, 0x7f, 0, 0] : [0, 0x10, 0xff, 0xf7]],
        ['double f(void)', [...new Uint8Array(new Float64Array([-2.75]).buffer)]],
        ['float f(void)', [...new Uint8Array(new Float32Array([0.5]).buffer)]],
      ];
      for (const [prototype, bytes] of cases) {
        const plan = makePlan(callSpec(decls.parsePrototype(prototype), arch));
        const image = Uint8Array.from(bytes);
        expect(plan.decodeReturn(image), prototype).toStrictEqual(decodeValue(plan.spec.ret.type, image, arch));
      }
    });
  }
});

describe('call plans: found by identity, shared by equal signatures', () => {
  const snprintf = decls.parsePrototype('int snprintf(char *buf, unsigned long n, const char *fmt, ...)');

  it('a variadic signature finds the same plan through vararg constructors and inferred types', () => {
    const plans = new PlanCache(snprintf, 'amd64');
    const a = plans.planFor([out(8), 8, '%f %d', vararg.double(1.5), vararg.int(7)]);
    expect(plans.planFor([out(8), 8, '%f %d', vararg.double(2.5), vararg.int(9)])).toBe(a);
    expect(plans.planFor([out(8), 8, '%f %d', 2.5, 9])).toBe(a); // inferred double and int: the same types
    expect(plans.planFor([out(8), 8, '%d', vararg.int(1)])).not.toBe(a);
    expect(a.spec.al).toBe(1);
  });

  it('a type made afresh for each call still finds the plan of its signature', () => {
    const plans = new PlanCache(snprintf, 'i386');
    const fresh = () => new TypedValue({ kind: 'float', name: 'double' }, 1);
    const a = plans.planFor([out(8), 8, '%f', fresh()]);
    expect(plans.planFor([out(8), 8, '%f', fresh()])).toBe(a);
    expect(plans.planFor([out(8), 8, '%f', vararg.double(1)])).toBe(a);
  });

  it('wrong argument counts and untyped variadic values are refused as before', () => {
    const plans = new PlanCache(snprintf, 'amd64');
    expect(() => plans.planFor([out(8), 8])).toThrow('snprintf takes 3 or more argument(s), got 2');
    expect(() => plans.planFor([out(8), 8, '%ld', 2 ** 40])).toThrow(/variadic argument #1 .* needs an explicit type/);
    expect(() => new PlanCache(decls.parsePrototype('int abs(int x)'), 'amd64').planFor([1, 2])).toThrow('abs takes 1 argument(s), got 2');
  });
});
