/**
 * Calling-convention attributes: where the parser accepts them, what it refuses, and the plans they give. The
 * placements asserted here are GCC 12's (checked natively by the conventions corpus, test/conformance-conventions).
 */
import { describe, expect, it } from 'vitest';
import { CallSpecError, callSpec } from '../../src/callspec/classify.ts';
import { DeclarationError, Declarations } from '../../src/callspec/parse.ts';
import { renderCallSpec } from '../../src/callspec/render.ts';
import type { Arch } from '../../src/emu/arch.ts';
import type { CallSpec, CType, Location } from '../../src/callspec/types.ts';

const decls = new Declarations();
decls.addDeclarations(`
  struct s4 { int a; };
  struct s12 { int a, b, c; };
  struct sf { float f; };
  struct c3 { char a[3]; };
  typedef int (__stdcall *compare_t)(const void *, const void *);
`);

const spec = (proto: string, arch: Arch, variadic: CType[] = []): CallSpec => callSpec(decls.parsePrototype(proto), arch, variadic);
const where = (l: Location) => (l.kind === 'reg' ? l.reg : `stack+${l.stackOffset}`);
const places = (s: CallSpec) => s.args.map((a) => a.locations.map(where).join('+'));
const errorOf = (f: () => unknown): Error => {
  try {
    f();
  } catch (error) {
    return error as Error;
  }
  throw new Error('no error');
};
const double: CType = { kind: 'float', name: 'double' };

describe('convention attributes in declarations', () => {
  it.each([
    ['int __attribute__((stdcall)) f(int a)', 'stdcall'],
    ['__attribute__((fastcall)) int f(int a)', 'fastcall'],
    ['int f(int a) __attribute__((thiscall))', 'thiscall'],
    ['int __stdcall f(int a)', 'stdcall'],
    ['int _fastcall f(int a)', 'fastcall'],
    ['int __attribute__((__stdcall__)) f(int a)', 'stdcall'],
    ['int __attribute__((regparm(3))) f(int a)', 'cdecl+3'],
    ['int __attribute__((stdcall, regparm(2))) f(int a)', 'stdcall+2'],
    ['int __attribute__((regparm(2))) __stdcall f(int a)', 'stdcall+2'],
    ['int __attribute__((nonnull(1), ms_abi)) f(int *a)', 'ms_abi'],
    ['int __attribute__((callee_pop_aggregate_return(0))) f(int a)', 'ms_cdecl'],
    ['int __attribute__((callee_pop_aggregate_return(1))) f(int a)', 'none'],
    ['int * __stdcall f(int a)', 'stdcall'],
  ])('%s', (text, expected) => {
    const c = decls.parsePrototype(text).convention;
    expect(c ? `${c.name}${c.regparm === undefined ? '' : `+${c.regparm}`}` : 'none').toBe(expected);
  });

  it('puts a convention on the function a pointer points to: parameters, typedefs, type names', () => {
    const qsort = decls.parsePrototype('void qsort(void *b, int n, int s, int (__stdcall *cmp)(const void *, const void *))');
    const cmp = qsort.params[3]!.type;
    expect(cmp.kind === 'pointer' && cmp.to.kind === 'function' && cmp.to.convention).toEqual({ name: 'stdcall' });
    expect(qsort.convention).toBeUndefined();
    const viaTypedef = decls.parsePrototype('void sort(compare_t cmp)').params[0]!.type;
    expect(viaTypedef.kind === 'pointer' && viaTypedef.to.kind === 'function' && viaTypedef.to.convention).toEqual({ name: 'stdcall' });
    const type = decls.parseType('int (__attribute__((fastcall)) *)(int, int)');
    expect(type.kind === 'pointer' && type.to.kind === 'function' && type.to.convention).toEqual({ name: 'fastcall' });
    const callbackReturning = decls.parsePrototype('__attribute__((ms_abi)) int (*get(void))(int)');
    expect(callbackReturning.convention).toEqual({ name: 'ms_abi' });
  });

  it.each([
    ['int __attribute__((frobnicate)) f(int a)', /unknown attribute "frobnicate".*calling conventions/],
    ['int __attribute__((sseregparm)) f(int a)', /sseregparm is not supported.*SSE registers/],
    ['int __attribute__((stdcall, fastcall)) f(int a)', /stdcall and fastcall are different calling conventions/],
    ['int __attribute__((fastcall, regparm(2))) f(int a)', /regparm cannot be combined with fastcall/],
    ['int __attribute__((regparm(4))) f(int a)', /regparm takes a number of registers from 0 to 3/],
    ['int __attribute__((regparm)) f(int a)', /regparm takes a number/],
    ['int __attribute__((stdcall(1))) f(int a)', /stdcall takes no arguments/],
    ['int f(int __stdcall a)', /applies to a function or a pointer to one/],
    ['int f(struct __attribute__((stdcall)) s4 a)', /applies to a function, not to a struct/],
    ['int __attribute__((vector_size(32))) f(int a)', /vector_size\(32\) is not supported: shimulator models the 8- and 16-byte vectors/],
  ])('refuses %s', (text, message) => {
    const error = errorOf(() => decls.parsePrototype(text));
    expect(error).toBeInstanceOf(DeclarationError);
    expect(error.message).toMatch(message);
  });

  it('refuses a convention of the other architecture while parsing when it knows the arch, else when planning', () => {
    const amd64 = new Declarations({ arch: 'amd64' });
    const error = errorOf(() => amd64.parsePrototype('int __stdcall f(int a)')) as DeclarationError;
    expect(error).toBeInstanceOf(DeclarationError);
    expect(error.column).toBe(5);
    expect(error.message).toMatch(/stdcall is an i386 calling convention.*ms_abi/);
    expect(errorOf(() => new Declarations({ arch: 'i386' }).parsePrototype('int __attribute__((ms_abi)) f(int a)')).message).toMatch(/ms_abi is an amd64 calling convention/);
    expect(errorOf(() => spec('int __attribute__((regparm(2))) f(int a)', 'amd64'))).toBeInstanceOf(CallSpecError);
    expect(errorOf(() => spec('int __attribute__((sysv_abi)) f(int a)', 'i386')).message).toMatch(/sysv_abi is an amd64/);
  });
});

describe('i386 conventions', () => {
  it('fastcall: the first two integers of up to 4 bytes in ecx, edx; the callee pops the rest', () => {
    const s = spec('int __fastcall f(char a, short b, int c, double d)', 'i386');
    expect(places(s)).toEqual(['ecx', 'edx', 'stack+0', 'stack+4']);
    expect(s.calleePops).toBe(12);
    expect(s.args[0]!.extension).toBe('sign');
    expect(s.convention).toBe('fastcall');
    expect(s.args[2]!.reason).toMatch(/fastcall: no argument register is left/);
  });

  it('fastcall: floats use no register up; structs and long long go on the stack but use their words up (GCC)', () => {
    expect(places(spec('int __fastcall f(float a, int b, double c, int d)', 'i386'))).toEqual(['stack+0', 'ecx', 'stack+4', 'edx']);
    expect(places(spec('int __fastcall f(struct s4 a, int b, int c)', 'i386'))).toEqual(['stack+0', 'edx', 'stack+4']);
    expect(places(spec('int __fastcall f(struct sf a, int b)', 'i386'))).toEqual(['stack+0', 'ecx']);
    expect(places(spec('int __fastcall f(long long a, int b)', 'i386'))).toEqual(['stack+0', 'stack+8']);
  });

  it('thiscall: this in ecx; a struct return takes ecx for the hidden pointer', () => {
    expect(places(spec('int __thiscall f(void *self, int a)', 'i386'))).toEqual(['ecx', 'stack+0']);
    const s = spec('struct s12 __thiscall f(void *self, int a)', 'i386');
    expect(s.hiddenPointer).toMatchObject({ kind: 'reg', reg: 'ecx' });
    expect(places(s)).toEqual(['stack+0', 'stack+4']);
    expect(s.calleePops).toBe(8);
  });

  it('stdcall pops everything, the hidden pointer too; variadic stdcall is cdecl', () => {
    expect(spec('int __stdcall f(int a, long long b)', 'i386').calleePops).toBe(12);
    expect(spec('struct s12 __stdcall f(int a, int b)', 'i386').calleePops).toBe(12);
    expect(spec('int __stdcall f(int a, ...)', 'i386', [double]).calleePops).toBe(0);
    expect(spec('struct s12 __stdcall f(int a, ...)', 'i386', [double]).calleePops).toBe(4);
    expect(spec('struct s12 __fastcall f(int a, ...)', 'i386', [double]).calleePops).toBe(0);
  });

  it('regparm(N): eax, edx, ecx for integers, register pairs and small structs; the callee pops nothing', () => {
    expect(places(spec('int __attribute__((regparm(3))) f(int x, long long a, int b)', 'i386'))).toEqual(['eax', 'edx+ecx', 'stack+0']);
    expect(places(spec('int __attribute__((regparm(3))) f(struct c3 a, float b, int c)', 'i386'))).toEqual(['eax', 'stack+0', 'edx']);
    expect(places(spec('int __attribute__((regparm(2))) f(int a, int b, int c)', 'i386'))).toEqual(['eax', 'edx', 'stack+0']);
    const sret = spec('struct s12 __attribute__((regparm(3))) f(int a, int b)', 'i386');
    expect(sret.hiddenPointer).toMatchObject({ reg: 'eax' });
    expect(sret.calleePops).toBe(0);
    expect(spec('int __attribute__((stdcall, regparm(2))) f(int a, int b, int c)', 'i386').calleePops).toBe(4);
  });

  it('MS cdecl leaves the hidden pointer to the caller; pascal pushes left to right; register uses eax, edx, ecx', () => {
    expect(spec('struct s12 __attribute__((callee_pop_aggregate_return(0))) f(int a)', 'i386').calleePops).toBe(0);
    const pascal = spec('int __attribute__((pascal)) f(int a, char b, double c)', 'i386');
    expect(places(pascal)).toEqual(['stack+12', 'stack+8', 'stack+0']);
    expect(pascal.calleePops).toBe(16);
    expect(places(spec('int __attribute__((register)) f(int a, double d, struct s4 s, int b, int c, int e)', 'i386')))
      .toEqual(['eax', 'stack+8', 'stack+4', 'edx', 'ecx', 'stack+0']);
    expect(errorOf(() => spec('int __attribute__((pascal)) f(int a, ...)', 'i386', [double])).message).toMatch(/cannot be variadic/);
  });
});

describe('Win64 (ms_abi)', () => {
  it('passes by position in rcx/rdx/r8/r9 or xmm0–3, then on the stack above 32 bytes of shadow space', () => {
    const s = spec('double __attribute__((ms_abi)) f(int a, double b, int c, float d, double e, char g)', 'amd64');
    expect(places(s)).toEqual(['rcx', 'xmm1', 'r8', 'xmm3', 'stack+32', 'stack+40']);
    expect(s.shadowSpace).toBe(32);
    expect(s.stackSize).toBe(48);
    expect(s.ret.locations.map(where)).toEqual(['xmm0']);
    expect(s.al).toBeUndefined();
    expect(renderCallSpec(s)).toMatch(/\(amd64, ms_abi\)[\s\S]*the first 32 are the callee's shadow space/);
  });

  it('passes aggregates that are not 1, 2, 4 or 8 bytes (and long double) by reference; returns them through rcx', () => {
    const s = spec('struct s12 __attribute__((ms_abi)) f(struct c3 a, struct s4 b, long double c, struct sf d)', 'amd64');
    expect(s.hiddenPointer).toMatchObject({ reg: 'rcx' });
    expect(places(s)).toEqual(['rdx', 'r8', 'r9', 'stack+32']);
    expect(s.args.map((a) => a.indirect ?? false)).toEqual([true, false, true, false]);
    expect(s.args[0]!.reason).toMatch(/which is not 1, 2, 4 or 8 bytes: the caller copies it to 16-byte-aligned memory and passes the copy's address/);
    expect(spec('struct sf __attribute__((ms_abi)) f(void)', 'amd64').ret.locations.map(where)).toEqual(['rax']);
  });

  it('duplicates variadic doubles in the integer register', () => {
    const s = spec('int __attribute__((ms_abi)) f(int a, ...)', 'amd64', [double, { kind: 'int', name: 'int' }]);
    expect(places(s)).toEqual(['rcx', 'xmm1+rdx', 'r8']);
  });

  it('sysv_abi is the System V plan, labelled', () => {
    const s = spec('int __attribute__((sysv_abi)) f(int a, double b)', 'amd64');
    expect(places(s)).toEqual(['rdi', 'xmm0']);
    expect(s.convention).toBe('sysv_abi');
  });
});

describe('__int128 (amd64)', () => {
  it('is two INTEGER eightbytes: a register pair or a 16-byte-aligned stack slot, never split; returned in rax:rdx', () => {
    const s = spec('__int128 f(long a, long b, long c, long d, long e, unsigned __int128 x, int y, __int128_t z)', 'amd64');
    expect(places(s)).toEqual(['rdi', 'rsi', 'rdx', 'rcx', 'r8', 'stack+0', 'r9', 'stack+16']);
    expect(s.args[5]!.classes).toEqual(['INTEGER', 'INTEGER']);
    expect(s.ret.locations.map(where)).toEqual(['rax', 'rdx']);
    expect(places(spec('int f(__int128 x, int y)', 'amd64'))).toEqual(['rdi+rsi', 'rdx']);
  });

  it('Win64 passes it by reference and returns it in xmm0', () => {
    const s = spec('__int128 __attribute__((ms_abi)) f(__int128 x, int y)', 'amd64');
    expect(places(s)).toEqual(['rcx', 'rdx']);
    expect(s.args[0]!.indirect).toBe(true);
    expect(s.ret.locations).toEqual([{ kind: 'reg', reg: 'xmm0', offset: 0, size: 16 }]);
  });

  it('does not exist on i386', () => {
    expect(errorOf(() => spec('int f(__int128 x)', 'i386'))).toBeInstanceOf(CallSpecError);
    expect(errorOf(() => spec('int f(__int128 x)', 'i386')).message).toMatch(/__int128 is not supported on i386/);
  });
});
