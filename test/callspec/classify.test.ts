import { describe, expect, it } from 'vitest';
import { CallSpecError, callSpec, classifyAmd64, mergeClasses } from '../../src/callspec/classify.ts';
import { Declarations } from '../../src/callspec/parse.ts';
import { renderCallSpec } from '../../src/callspec/render.ts';
import type { Arch } from '../../src/emu/arch.ts';
import type { CallSpec, Location } from '../../src/callspec/types.ts';

const decls = new Declarations();
decls.addDeclarations(`
  typedef struct { int a, b; double d; } structparm;
  struct pair { double d; int i; };
  struct ipair { long i; double d; };
  struct dd { double a, b; };
  struct ll { long a, b; };
  struct f3 { float a, b, c; };
  struct f4 { float a, b, c, d; };
  struct fi { float f; int i; };
  union fu { float f; int i; };
  struct ld { long double x; };
  union ldi { long double x; int i; };
  struct big { long a, b, c; };
  struct darr { double d[2]; };
  struct c3 { char a, b, c; };
  struct packed { char c; double d; } __attribute__((packed));
  struct a16 { double d; } __attribute__((aligned(16)));
  struct bits { unsigned a : 4; float f; };
  struct empty {};
  struct huge { char bytes[100]; };
`);

const reg = (name: string, offset: number, size: number): Location => ({ kind: 'reg', reg: name, offset, size });
const stack = (stackOffset: number, size: number): Location => ({ kind: 'stack', stackOffset, offset: 0, size });

function plan(text: string, arch: Arch, variadic: string[] = []): CallSpec {
  return callSpec(decls.parsePrototype(text), arch, variadic.map((t) => decls.parseType(t)));
}

const where = (spec: CallSpec) => spec.args.map((a) => a.locations);

describe('amd64 classification (psABI §3.2.3)', () => {
  const classes = (text: string) => classifyAmd64(decls.parseType(text)).classes;
  const cases: Array<[string, string[]]> = [
    ['int', ['INTEGER']],
    ['char *', ['INTEGER']],
    ['double', ['SSE']],
    ['long double', ['X87', 'X87UP']],
    ['struct pair', ['SSE', 'INTEGER']],
    ['struct ipair', ['INTEGER', 'SSE']],
    ['struct dd', ['SSE', 'SSE']],
    ['struct f3', ['SSE', 'SSE']],
    ['struct f4', ['SSE', 'SSE']],
    ['struct fi', ['INTEGER']],
    ['union fu', ['INTEGER']],
    ['struct ld', ['X87', 'X87UP']],
    ['union ldi', ['MEMORY']],
    ['struct big', ['MEMORY']],
    ['struct darr', ['SSE', 'SSE']],
    ['struct c3', ['INTEGER']],
    ['struct packed', ['MEMORY']],
    ['struct a16', ['SSE', 'NO_CLASS']],
    ['struct bits', ['INTEGER']],
    ['struct empty', []],
    ['struct huge', ['MEMORY']],
    ['structparm', ['INTEGER', 'SSE']],
  ];
  it.each(cases)('%s → %j', (type, expected) => {
    expect(classes(type)).toEqual(expected);
  });

  it('memory reasons name the rule', () => {
    expect(classifyAmd64(decls.parseType('struct big')).memoryReason).toMatch(/larger than two eightbytes \(24 bytes\)/);
    expect(classifyAmd64(decls.parseType('struct huge')).memoryReason).toMatch(/larger than eight eightbytes/);
    expect(classifyAmd64(decls.parseType('struct packed')).memoryReason).toMatch(/unaligned/);
  });

  it('the merge rule', () => {
    expect(mergeClasses('NO_CLASS', 'SSE')).toBe('SSE');
    expect(mergeClasses('SSE', 'SSE')).toBe('SSE');
    expect(mergeClasses('SSE', 'INTEGER')).toBe('INTEGER');
    expect(mergeClasses('MEMORY', 'INTEGER')).toBe('MEMORY');
    expect(mergeClasses('X87', 'SSE')).toBe('MEMORY');
    expect(mergeClasses('SSEUP', 'SSE')).toBe('SSE');
  });
});

describe('amd64 argument passing', () => {
  it('the psABI parameter passing example (without the __m256 argument)', () => {
    const spec = plan('void func(int e, int f, structparm s, int g, int h, long double ld, double m, double n, int i, int j, int k)', 'amd64');
    expect(where(spec)).toEqual([
      [reg('rdi', 0, 4)],
      [reg('rsi', 0, 4)],
      [reg('rdx', 0, 8), reg('xmm0', 8, 8)],
      [reg('rcx', 0, 4)],
      [reg('r8', 0, 4)],
      [stack(0, 16)],
      [reg('xmm1', 0, 8)],
      [reg('xmm2', 0, 8)],
      [reg('r9', 0, 4)],
      [stack(16, 4)],
      [stack(24, 4)],
    ]);
    expect(spec.stackSize).toBe(32);
    expect(spec.al).toBeUndefined();
    expect(spec.args[6].reason).toBe(
      'arg 7 `double m` → xmm1: second SSE-class argument register (psABI §3.2.3: SSE class uses the next available vector register, %xmm0 to %xmm7)',
    );
  });

  it('struct {float, float, float} uses two vector registers, the second partly', () => {
    expect(where(plan('void f(struct f3 v)', 'amd64'))).toEqual([[reg('xmm0', 0, 8), reg('xmm1', 8, 4)]]);
  });

  it('mixed eightbytes take the next register of each class', () => {
    expect(where(plan('void f(struct pair p, struct ipair q)', 'amd64'))).toEqual([
      [reg('xmm0', 0, 8), reg('rdi', 8, 8)],
      [reg('rsi', 0, 8), reg('xmm1', 8, 8)],
    ]);
  });

  it('long double and struct {long double} go on the stack in 16-byte-aligned slots', () => {
    const spec = plan('void f(int a, struct c3 pad, long double x, struct ld y)', 'amd64');
    expect(where(spec)).toEqual([[reg('rdi', 0, 4)], [reg('rsi', 0, 3)], [stack(0, 16)], [stack(16, 16)]]);
    expect(spec.stackSize).toBe(32);
  });

  it('a stack argument after an 8-byte one is realigned to 16 for long double', () => {
    const spec = plan('void f(struct big b, long double x)', 'amd64');
    expect(where(spec)).toEqual([[stack(0, 24)], [stack(32, 16)]]);
    expect(spec.stackSize).toBe(48);
  });

  it('no partial passing: a two-register struct goes whole to the stack, later ints still use registers', () => {
    const spec = plan('void f(long a, long b, long c, long d, long e, struct ll s, long g)', 'amd64');
    expect(where(spec).slice(5)).toEqual([[stack(0, 16)], [reg('r9', 0, 8)]]);
    expect(spec.args[5].reason).toMatch(/needs 2 general-purpose register\(s\) but 1 of the six are left, so the whole argument goes on the stack/);
    expect(spec.stackSize).toBe(16);
  });

  it('nine doubles: the ninth goes on the stack', () => {
    const spec = plan('double f(double a, double b, double c, double d, double e, double f, double g, double h, double i)', 'amd64');
    expect(spec.args[7].locations).toEqual([reg('xmm7', 0, 8)]);
    expect(spec.args[8].locations).toEqual([stack(0, 8)]);
    expect(spec.stackSize).toBe(16);
    expect(spec.ret.locations).toEqual([reg('xmm0', 0, 8)]);
  });

  it('narrow integers are extended by signedness', () => {
    const spec = plan('void f(char a, unsigned char b, short c, unsigned short d, _Bool e, int f, long g, signed char h)', 'amd64');
    expect(spec.args.map((a) => a.extension)).toEqual(['sign', 'zero', 'sign', 'zero', 'zero', 'none', 'none', 'sign']);
    expect(spec.args[0].locations).toEqual([reg('rdi', 0, 1)]);
  });

  it('variadic calls set %al to the number of vector registers', () => {
    const spec = plan('int printf(const char *fmt, ...)', 'amd64', ['double', 'int', 'double', 'struct dd']);
    expect(where(spec)).toEqual([
      [reg('rdi', 0, 8)],
      [reg('xmm0', 0, 8)],
      [reg('rsi', 0, 4)],
      [reg('xmm1', 0, 8)],
      [reg('xmm2', 0, 8), reg('xmm3', 8, 8)],
    ]);
    expect(spec.al).toBe(4);
    expect(spec.args[1]).toMatchObject({ variadic: true, text: 'variadic #1 double' });
    expect(plan('int printf(const char *fmt, ...)', 'amd64').al).toBe(0);
  });

  it('variadic types must be promoted', () => {
    expect(() => plan('int printf(const char *fmt, ...)', 'amd64', ['float'])).toThrow(CallSpecError);
    expect(() => plan('int printf(const char *fmt, ...)', 'amd64', ['char'])).toThrow(/arg 2: char cannot be passed as a variadic argument/);
    expect(() => plan('int puts(const char *s)', 'amd64', ['int'])).toThrow(/puts is not variadic/);
  });

  it('arguments without a size are rejected', () => {
    expect(() => plan('void f(int a, pcap_t p)', 'amd64')).toThrow('arg 2: struct pcap has no definition; only pointers to it can be passed');
  });

  it('empty structs take nothing', () => {
    expect(where(plan('void f(struct empty e, int x)', 'amd64'))).toEqual([[], [reg('rdi', 0, 4)]]);
  });
});

describe('amd64 returns', () => {
  const ret = (text: string) => plan(`${text} f(void)`, 'amd64').ret;
  it.each([
    ['int', 'reg', [reg('rax', 0, 4)]],
    ['char', 'reg', [reg('rax', 0, 1)]],
    ['void *', 'reg', [reg('rax', 0, 8)]],
    ['double', 'reg', [reg('xmm0', 0, 8)]],
    ['float', 'reg', [reg('xmm0', 0, 4)]],
    ['long double', 'x87', [reg('st0', 0, 10)]],
    ['struct ld', 'x87', [reg('st0', 0, 10)]],
    ['struct pair', 'reg', [reg('xmm0', 0, 8), reg('rax', 8, 8)]],
    ['struct ipair', 'reg', [reg('rax', 0, 8), reg('xmm0', 8, 8)]],
    ['struct dd', 'reg', [reg('xmm0', 0, 8), reg('xmm1', 8, 8)]],
    ['struct ll', 'reg', [reg('rax', 0, 8), reg('rdx', 8, 8)]],
    ['struct f3', 'reg', [reg('xmm0', 0, 8), reg('xmm1', 8, 4)]],
    ['struct c3', 'reg', [reg('rax', 0, 3)]],
    ['void', 'void', []],
  ] as const)('%s → %s', (type, kind, locations) => {
    const r = ret(type);
    expect(r.kind).toBe(kind);
    expect(r.locations).toEqual(locations);
  });

  it('MEMORY returns use a hidden pointer in rdi that shifts the integer registers', () => {
    const spec = plan('struct big f(int a, double b, struct ll c)', 'amd64');
    expect(spec.ret.kind).toBe('memory');
    expect(spec.hiddenPointer).toEqual(reg('rdi', 0, 8));
    expect(where(spec)).toEqual([[reg('rsi', 0, 4)], [reg('xmm0', 0, 8)], [reg('rdx', 0, 8), reg('rcx', 8, 8)]]);
    expect(spec.calleePops).toBe(0);
    expect(spec.args[0].reason).toMatch(/%rdi already carries the hidden return pointer/);
  });
});

describe('i386 (cdecl)', () => {
  it('everything on the stack in 4-byte-rounded slots', () => {
    const spec = plan('int f(char a, double b, long long c, long double d, struct f3 e, short g)', 'i386');
    expect(where(spec)).toEqual([[stack(0, 1)], [stack(4, 8)], [stack(12, 8)], [stack(20, 12)], [stack(32, 12)], [stack(44, 2)]]);
    expect(spec.stackSize).toBe(48);
    expect(spec.stackAlign).toBe(16);
    expect(spec.args.map((a) => a.extension)).toEqual(['sign', 'none', 'none', 'none', 'none', 'sign']);
    expect(spec.args.every((a) => a.classes.length === 0)).toBe(true);
    expect(spec.ret.locations).toEqual([reg('eax', 0, 4)]);
  });

  it('odd-sized structs are rounded up to 4', () => {
    expect(where(plan('void f(struct c3 a, int b)', 'i386'))).toEqual([[stack(0, 3)], [stack(4, 4)]]);
  });

  it.each([
    ['long long', 'reg', [reg('eax', 0, 4), reg('edx', 4, 4)]],
    ['unsigned short', 'reg', [reg('eax', 0, 2)]],
    ['float', 'x87', [reg('st0', 0, 4)]],
    ['double', 'x87', [reg('st0', 0, 8)]],
    ['long double', 'x87', [reg('st0', 0, 10)]],
    ['char *', 'reg', [reg('eax', 0, 4)]],
  ] as const)('returns %s', (type, kind, locations) => {
    const spec = plan(`${type} f(void)`, 'i386');
    expect(spec.ret.kind).toBe(kind);
    expect(spec.ret.locations).toEqual(locations);
    expect(spec.calleePops).toBe(0);
  });

  it('every struct or union is returned through a hidden pointer that the callee pops', () => {
    for (const type of ['struct c3', 'struct pair', 'union fu']) {
      const spec = plan(`${type} f(int x)`, 'i386');
      expect(spec.ret.kind).toBe('memory');
      expect(spec.hiddenPointer).toEqual(stack(0, 4));
      expect(spec.calleePops).toBe(4);
      expect(where(spec)).toEqual([[stack(4, 4)]]);
    }
  });

  it('variadic arguments follow on the stack; no %al', () => {
    const spec = plan('int printf(const char *fmt, ...)', 'i386', ['double', 'int']);
    expect(where(spec)).toEqual([[stack(0, 4)], [stack(4, 8)], [stack(12, 4)]]);
    expect(spec.al).toBeUndefined();
    expect(spec.stackSize).toBe(16);
  });
});

describe('renderCallSpec', () => {
  it('amd64 with a hidden pointer and %al', () => {
    const text = renderCallSpec(plan('struct big f(const char *fmt, ...)', 'amd64', ['double']));
    expect(text).toBe([
      'struct big f(const char *fmt, ...)    (amd64)',
      '  arg 1   const char *fmt     → rsi     (second general-purpose argument register) [INTEGER]',
      '  arg 2   variadic #1 double  → xmm0    (first SSE-class argument register) [SSE]',
      '  return  struct big          → memory  (through the hidden pointer; the callee returns its address in rax) [MEMORY]',
      '  hidden return pointer in rdi',
      '  stack: 0 bytes of arguments, 16-byte aligned at the call',
      '  %al = 1 (vector registers used by this variadic call)',
    ].join('\n'));
  });

  it('i386', () => {
    const text = renderCallSpec(plan('struct pair f(char c, double x)', 'i386'));
    expect(text).toContain('arg 1   char c       → stack+4  (in a 4-byte slot, sign-extended to 32 bits, after the hidden return pointer)');
    expect(text).toContain('callee pops 4 bytes (ret $4)');
  });
});
