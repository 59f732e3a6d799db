/**
 * The C types of issue 12 below the corpus: how they are spelled (parser), laid out (sizes and alignments measured
 * with gcc 12 -m64 / -m32: `sizeof`, `_Alignof`, `sizeof(struct { char c; T v; })`), classified (AMD64 psABI
 * §3.2.3), placed on i386 (16-byte slots, registers never used), explained in the playground's plan, and refused
 * with one clear error where gcc has no such type or shimulator no rule.
 */
import { describe, expect, it } from 'vitest';
import { callSpec, CallSpecError, classifyAmd64 } from '../../src/callspec/classify.ts';
import { alignOf, sizeOf, typeName } from '../../src/callspec/layout.ts';
import { DeclarationError, Declarations } from '../../src/callspec/parse.ts';
import type { Arch } from '../../src/emu/arch.ts';
import { plan } from '../../src/playground/api.ts';
import { formatCallValue } from '../../src/check/calls.ts';
import { Float128 } from '../../src/callspec/float128.ts';
import { ArgumentError, encodeValue, type HostValue } from '../../src/callspec/values.ts';

const DECLS = `
  typedef float v4sf __attribute__((vector_size(16)));
  typedef __attribute__((vector_size(8))) short v4hi;
  typedef int __m64x __attribute__((__vector_size__(8), __may_alias__));
  struct fcf { float a; _Complex float b; };
  struct cq { char c; __float128 q; };
  struct cm { char c; __m64 v; };
  struct a16 { double d; } __attribute__((aligned(16)));
`;
const scope = (arch?: Arch) => {
  const d = new Declarations(arch ? { arch } : {});
  d.addDeclarations(DECLS);
  return d;
};
const type = (text: string, arch?: Arch) => scope(arch).parseType(text);
const errorOf = (f: () => unknown): Error => {
  try {
    f();
  } catch (error) {
    return error as Error;
  }
  throw new Error('no error');
};

describe('spellings', () => {
  it.each([
    ['float _Complex', '_Complex float'], ['_Complex double', '_Complex double'], ['__complex__ float', '_Complex float'],
    ['long double _Complex', '_Complex long double'], ['_Complex', '_Complex double'], ['_Float128', '__float128'], ['__float128', '__float128'],
    ['_Float16', '_Float16'], ['__m128i', '__m128i'], ['__m64', '__m64'], ['v4sf', 'float __attribute__((vector_size(16)))'],
    ['v4hi', 'short __attribute__((vector_size(8)))'], ['__m64x', 'int __attribute__((vector_size(8)))'],
  ])('%s is %s', (text, name) => {
    expect(typeName(type(text))).toBe(name);
  });

  it('vector_size applies to the base type, written before the type, after it, or after a parameter name', () => {
    const proto = scope().parsePrototype('int __attribute__((vector_size(16))) f(double v __attribute__((vector_size(16))), int *p)');
    expect(proto.ret).toEqual({ kind: 'vector', of: { kind: 'int', name: 'int' }, size: 16 });
    expect(proto.params[0]!.type).toEqual({ kind: 'vector', of: { kind: 'float', name: 'double' }, size: 16 });
    expect(proto.params[1]!.type).toEqual({ kind: 'pointer', to: { kind: 'int', name: 'int' } });
  });

  it.each([
    ['int _Complex f(void)', /"int _Complex" is not supported: _Complex takes float, double or long double/],
    ['int __attribute__((vector_size(32))) f(void)', /vector_size\(32\) is not supported: shimulator models the 8- and 16-byte vectors/],
    ['struct cq __attribute__((vector_size(16))) f(void)', /vector_size applies to an integer or floating-point element type, not to struct cq/],
    ['int f(int * __attribute__((vector_size(16))) p)', /vector_size cannot stand inside a declarator/],
    ['__float80 f(void)', /__float80 types are not supported \(shimulator models _Complex float\/double\/long double, _Float16, __float128/],
    ['int f(int __attribute__((vector_size)) v)', /vector_size takes a size in bytes/],
    ['int f(_Bool __attribute__((vector_size(16))) v)', /vector_size applies to an integer or floating-point element type, not to _Bool/],
    ['int f(long double __attribute__((vector_size(16))) v)', /vectors of long double are not supported: GCC makes a one-element vector/],
  ])('%s is refused: %s', (text, message) => {
    const error = errorOf(() => scope().parsePrototype(text));
    expect(error).toBeInstanceOf(DeclarationError);
    expect(error.message).toMatch(message);
  });

  it('_Float16 on i386 is one DeclarationError saying why (GCC 12 -m32 refuses it)', () => {
    const error = errorOf(() => scope('i386').parsePrototype('_Float16 f(_Float16 x)'));
    expect(error).toBeInstanceOf(DeclarationError);
    expect(error.message).toMatch(/at column 1: _Float16 is not supported on i386: GCC 12 refuses it without SSE2/);
    expect(errorOf(() => callSpec(scope().parsePrototype('int f(_Float16 x)'), 'i386')).message).toMatch(/_Float16 is not supported on i386/);
  });
});

describe('layout, as gcc 12 lays them out', () => {
  it.each([
    ['_Complex float', 8, 4, 8, 4], ['_Complex double', 16, 8, 16, 4], ['_Complex long double', 32, 16, 24, 4],
    ['__float128', 16, 16, 16, 16], ['__m64', 8, 8, 8, 4], ['__m128', 16, 16, 16, 16], ['v4hi', 8, 8, 8, 4],
    ['struct cq', 32, 16, 32, 16], ['struct cm', 16, 8, 12, 4], ['struct fcf', 12, 4, 12, 4],
  ])('%s: amd64 %i bytes / %i-aligned, i386 %i / %i', (text, size64, align64, size32, align32) => {
    expect([sizeOf(type(text), 'amd64'), alignOf(type(text), 'amd64')]).toEqual([size64, align64]);
    expect([sizeOf(type(text), 'i386'), alignOf(type(text), 'i386')]).toEqual([size32, align32]);
  });

  it('_Float16 is 2 bytes on amd64', () => {
    expect([sizeOf(type('_Float16'), 'amd64'), alignOf(type('_Float16'), 'amd64')]).toEqual([2, 2]);
  });
});

describe('AMD64 classification (psABI §3.2.3)', () => {
  it.each([
    ['_Complex float', ['SSE']], ['_Complex double', ['SSE', 'SSE']], ['_Complex long double', ['COMPLEX_X87']],
    ['__float128', ['SSE', 'SSEUP']], ['_Float16', ['SSE']], ['__m64', ['SSE']], ['__m128i', ['SSE', 'SSEUP']],
    ['struct fcf', ['SSE', 'SSE']], ['struct cm', ['INTEGER', 'SSE']], ['struct cq', ['MEMORY']],
  ])('%s is %j', (text, classes) => {
    expect(classifyAmd64(type(text)).classes).toEqual(classes);
  });

  it('returns: complex double in xmm0 + xmm1, __float128 in all of xmm0, complex long double in st0 + st1', () => {
    const spec = (p: string) => callSpec(scope().parsePrototype(p), 'amd64').ret;
    expect(spec('_Complex double f(void)').locations.map((l) => l.kind === 'reg' && [l.reg, l.size])).toEqual([['xmm0', 8], ['xmm1', 8]]);
    expect(spec('__float128 f(void)').locations).toEqual([{ kind: 'reg', reg: 'xmm0', offset: 0, size: 16 }]);
    const x = spec('_Complex long double f(void)');
    expect([x.kind, x.locations.map((l) => l.kind === 'reg' && [l.reg, l.offset])]).toEqual(['x87', [['st0', 0], ['st1', 16]]]);
  });

  it('Win64 (GCC ms_abi): complex float and __m64 like 8-byte structs, _Float16 like a short, __m128 by reference and returned in xmm0', () => {
    const spec = callSpec(scope().parsePrototype('__m128 __attribute__((ms_abi)) f(_Complex float a, _Float16 b, __m128 c, __float128 d)'), 'amd64');
    expect(spec.args.map((a) => [a.locations[0]!.kind === 'reg' && a.locations[0]!.reg, a.indirect ?? false])).toEqual([['rcx', false], ['rdx', false], ['r8', true], ['r9', true]]);
    expect(spec.ret.locations).toEqual([{ kind: 'reg', reg: 'xmm0', offset: 0, size: 16 }]);
    expect(callSpec(scope().parsePrototype('__float128 __attribute__((ms_abi)) g(void)'), 'amd64').ret.kind).toBe('memory');
  });
});

describe('i386', () => {
  const i386 = (p: string) => callSpec(scope('i386').parsePrototype(p), 'i386');

  it('a __float128 (or a struct holding one) gets a 16-byte-aligned slot; an aligned(16) struct of double does not', () => {
    expect(i386('int f(int a, __float128 q, int b)').args.map((a) => a.locations[0]!.kind === 'stack' && a.locations[0]!.stackOffset)).toEqual([0, 16, 32]);
    expect(i386('int f(int a, struct cq q)').args[1]!.locations[0]).toMatchObject({ stackOffset: 16 });
    expect(i386('int f(int a, struct a16 q)').args[1]!.locations[0]).toMatchObject({ stackOffset: 4 });
  });

  it('complex, __float128 and vectors never take a register argument, and use none up (regparm(3), fastcall)', () => {
    const spec = i386('int __attribute__((regparm(3))) f(_Complex float z, __m64 v, int a, int b)');
    expect(spec.args.map((a) => a.locations[0]!.kind === 'reg' ? a.locations[0]!.reg : 'stack')).toEqual(['stack', 'stack', 'eax', 'edx']);
  });

  it('returns: complex float in edx:eax; complex double, __float128 and vectors through the hidden pointer', () => {
    expect(i386('_Complex float f(void)').ret.locations.map((l) => l.kind === 'reg' && l.reg)).toEqual(['eax', 'edx']);
    for (const t of ['_Complex double', '_Complex long double', '__float128', '__m128', 'v4hi']) {
      const spec = i386(`${t} f(void)`);
      expect([spec.ret.kind, spec.calleePops], t).toEqual(['memory', 4]);
    }
  });

  it('pascal and register refuse a 16-byte-aligned stack argument (no GCC reference, no libffi rule)', () => {
    const error = errorOf(() => i386('int __attribute__((pascal)) f(int a, __float128 q)'));
    expect(error).toBeInstanceOf(CallSpecError);
    expect(error.message).toMatch(/libffi's pascal convention has no rule for a 16-byte-aligned stack argument/);
  });
});

describe("the playground's plan explains the new types", () => {
  it.each([
    ['amd64', '__m128 f(__float128 q, _Complex double z)', ['amd64-sseup', 'amd64-complex'], 'amd64-sseup'],
    ['amd64', '_Complex long double f(_Complex long double z)', ['amd64-complex-x87'], 'amd64-complex-x87-return'],
    ['i386', '_Complex float f(int a, __float128 q)', ['i386-stack', 'i386-16-aligned'], 'i386-return-complex-float'],
  ] as const)('%s %s', (arch, prototype, argKeys, retKey) => {
    const result = plan({ arch, prototype }) as { spec: { args: { explain: string }[]; ret: { explain: string } }; explanations: Record<string, string> };
    expect(result.spec.args.map((a) => a.explain)).toEqual(argKeys);
    expect(result.spec.ret.explain).toBe(retKey);
    for (const key of [...argKeys, retKey]) expect(result.explanations[key], key).toEqual(expect.any(String));
  });
});

describe('--calls lines show the new values', () => {
  it('complex as re±im·i, __float128 as its exact token, vectors as their elements', () => {
    const clx = { kind: 'complex', of: 'double' } as const;
    expect(formatCallValue({ type: clx, value: { re: 1.5, im: -0.25 } })).toBe('1.5-0.25i');
    expect(formatCallValue({ type: clx, value: { re: 0, im: -0 } })).toBe('0-0i');
    expect(formatCallValue({ type: clx, value: { re: 2, im: 3 } })).toBe('2+3i');
    expect(formatCallValue({ type: { kind: 'float', name: '__float128' }, value: Float128.parse('1') })).toBe('f128:3fff0000000000000000000000000000');
    expect(formatCallValue({ type: type('__m64'), value: [1, -2] })).toBe('[1, -2]');
  });
});

describe('bad values for the new types are one clear ArgumentError', () => {
  const memory = { place: () => 0 };
  it.each([
    ['__float128', { re: 1 }, /expected a number, text .* or a Float128 for __float128/],
    ['__float128', 'pi', /"pi" is not a number/],
    ['_Complex double', 'x', /\.re: expected a number, got "x"/],
    ['_Complex double', [1, 2, 3], /expected a complex value \{ re, im \}/],
    ['__m64', [1, 2, 3], /expected up to 2 int elements \(or 8 raw bytes\) for __m64/],
    ['__m128', new Uint8Array(8), /__m128 has 16 bytes, got 8/],
    ['_Float16', 'half', /expected a number, got "half"/],
  ] as const)('%s ← %j', (text, value, message) => {
    const error = errorOf(() => encodeValue(type(text), value as HostValue, 'amd64', memory, 'arg'));
    expect(error).toBeInstanceOf(ArgumentError);
    expect(error.message).toMatch(message);
  });

  it('good values encode to the C images', () => {
    expect([...encodeValue(type('__m64'), [1, -1], 'amd64', memory, 'arg').bytes]).toEqual([1, 0, 0, 0, 255, 255, 255, 255]);
    expect([...encodeValue(type('_Complex float'), { re: 1, im: -2 }, 'i386', memory, 'arg').bytes]).toEqual([0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]);
    expect([...encodeValue(type('_Complex float'), 2.5, 'i386', memory, 'arg').bytes]).toEqual([0, 0, 0x20, 0x40, 0, 0, 0, 0]);
    expect([...encodeValue(type('float'), '0x1.8p+1', 'i386', memory, 'arg').bytes]).toEqual([0, 0, 0x40, 0x40]);
  });
});
