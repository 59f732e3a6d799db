/**
 * The teaching notes of a call plan: a short text per explanation key, the key of each argument's and the return
 * value's location (by class and where it went), and a CallSpec annotated with them (POST /api/plan, and every
 * recorded call's `spec`).
 */
import { containsAlignedValue } from '../callspec/classify-i386.ts';
import type { ArgSpec, CallSpec, CType, ReturnSpec } from '../callspec/types.ts';

/** Short teaching texts, by explanation key (each ArgSpec / the ReturnSpec carries its key in `explain`). */
export const EXPLANATIONS: Record<string, string> = {
  'amd64-integer':
    'INTEGER class (integers, pointers, enums): the next free register of rdi, rsi, rdx, rcx, r8, r9. Once those six are taken, further INTEGER arguments go to the stack.',
  'amd64-sse':
    'SSE class (float, double): the next free register of xmm0–xmm7 (a float in the low 4 bytes, a double in the low 8). A variadic double goes there too, which is why the caller must also set %al.',
  'amd64-x87':
    'long double is class X87/X87UP: it is never passed in a register. The caller copies its 10 bytes into a 16-byte, 16-byte-aligned stack slot.',
  'amd64-memory':
    'Class MEMORY (an aggregate larger than 16 bytes, or one with unaligned fields): the caller copies the whole value onto the stack and no register is used.',
  'amd64-eightbytes':
    'A struct of at most 16 bytes is cut into 8-byte chunks ("eightbytes"). A chunk holding only float/double is SSE, anything else INTEGER, and each chunk takes the next free register of its class, so one struct can straddle an xmm and a general-purpose register.',
  'amd64-stack':
    'The registers of this class are used up, so the argument goes to the next 8-byte stack slot, in order; a struct that does not fit entirely into the remaining registers goes to the stack as a whole.',
  'i386-stack':
    'i386 (System V cdecl): every argument goes on the stack, the first at the lowest address ([esp+4] at the callee\'s entry), each slot rounded up to 4 bytes: a double takes 8, a long double 12, a struct is copied whole. The caller removes the arguments after the call.',
  'amd64-return-integer':
    'Integers and pointers come back in rax; a 16-byte INTEGER result uses rax for the first eightbyte and rdx for the second.',
  'amd64-return-sse':
    'float and double come back in xmm0 (a second SSE eightbyte in xmm1); a small struct mixing both classes comes back in xmm0 and rax, one eightbyte each.',
  'amd64-x87-return':
    'long double comes back in st0, the top of the x87 register stack, as an 80-bit value; the caller must pop it.',
  'amd64-sseup':
    '__float128 and the 16-byte vectors (__m128, __m128d, __m128i) are classes SSE + SSEUP: the whole 16-byte value travels in one xmm register (all of xmm0 for a result), never split across two.',
  'amd64-complex':
    '_Complex float and _Complex double are classified as a struct of their real and imaginary parts: a complex float is one SSE eightbyte (both parts in the low 8 bytes of one xmm register), a complex double two (real part in one xmm register, imaginary part in the next).',
  'amd64-complex-x87':
    '_Complex long double is class COMPLEX_X87: like long double it is never passed in registers — the caller copies both 16-byte parts into a 32-byte, 16-byte-aligned stack slot.',
  'amd64-complex-x87-return':
    '_Complex long double comes back on the x87 stack: the real part in st0 and the imaginary part in st1; the caller pops both.',
  'i386-16-aligned':
    'A __float128 or a 16-byte vector (or a struct holding one) is 16-byte aligned, and GCC gives it a 16-byte-aligned stack slot: padding is left after the previous argument (GCC 4.6 changed this; older compilers and other ABIs disagree).',
  'i386-return-complex-float':
    '_Complex float comes back in edx:eax, like a 64-bit integer: the real part in eax, the imaginary part in edx. _Complex double and long double, __float128 and vectors come back in memory, like structs.',
  'i386-return-eax':
    'Integers and pointers come back in eax; 64-bit integers in edx:eax (high half in edx).',
  'i386-x87-return':
    'float, double and long double come back in st0, the top of the x87 stack, at 80-bit precision, and the caller pops it (fstp). A caller that looks in xmm0 reads garbage; one that forgets to pop leaks an x87 register.',
  'hidden-pointer':
    'The struct is returned in memory: the caller reserves the space and passes its address as a hidden first argument (amd64: rdi, shifting the others along; i386: the first stack slot). The callee fills it in and returns the same address in rax/eax; on i386 it also pops the pointer itself with `ret $4`.',
  al:
    'Variadic call on amd64: %al must hold an upper bound of the number of vector registers (xmm0–xmm7) that carry arguments. glibc\'s variadic functions test %al in their prologue and skip saving the xmm registers when it is 0, so a double passed with %al = 0 is lost (purego\'s bug).',
  variadic:
    'Arguments passed for `...` have no declared type: C\'s default promotions apply (float → double, char/short → int), and the promoted type decides the location exactly as for a fixed parameter.',
  'void-return': 'void: nothing is returned; whatever the callee left in rax/eax means nothing.',
  'stack-alignment':
    'At the call instruction the stack pointer must be 16-byte aligned (amd64, and i386 on Linux since GCC 4.5), so at the callee\'s entry (rsp+8) and (esp+4) are multiples of 16. SSE code that spills to aligned stack slots crashes otherwise — but only sometimes.',
};

function isAggregate(type: CType): boolean {
  return type.kind === 'struct' || type.kind === 'union' || type.kind === 'array';
}

export function argKey(spec: CallSpec, arg: ArgSpec): string {
  if (spec.arch === 'i386') return arg.locations.some((l) => l.kind === 'stack') && containsAlignedValue(arg.type) ? 'i386-16-aligned' : 'i386-stack';
  if (arg.classes.includes('MEMORY')) return 'amd64-memory';
  if (arg.classes.includes('X87')) return 'amd64-x87';
  if (arg.classes.includes('COMPLEX_X87')) return 'amd64-complex-x87';
  const inRegisters = arg.locations.every((l) => l.kind === 'reg');
  if (!inRegisters) return 'amd64-stack';
  if (isAggregate(arg.type)) return 'amd64-eightbytes';
  if (arg.type.kind === 'complex') return 'amd64-complex';
  if (arg.classes.includes('SSEUP')) return 'amd64-sseup';
  return arg.classes.includes('SSE') ? 'amd64-sse' : 'amd64-integer';
}

export function returnKey(spec: CallSpec, ret: ReturnSpec): string {
  if (ret.kind === 'void') return 'void-return';
  if (ret.kind === 'memory') return 'hidden-pointer';
  if (ret.kind === 'x87' && ret.locations.length > 1) return 'amd64-complex-x87-return';
  if (ret.kind === 'x87') return spec.arch === 'amd64' ? 'amd64-x87-return' : 'i386-x87-return';
  if (spec.arch === 'i386') return ret.type.kind === 'complex' ? 'i386-return-complex-float' : 'i386-return-eax';
  if (ret.type.kind === 'complex') return 'amd64-complex';
  if (ret.classes.includes('SSEUP')) return 'amd64-sseup';
  return ret.classes.includes('SSE') ? 'amd64-return-sse' : 'amd64-return-integer';
}

/** The spec with an `explain` key on every ArgSpec and on `ret`, and the texts for every key it uses. */
export function annotate(spec: CallSpec): { spec: CallSpec; explanations: Record<string, string> } {
  const keys: string[] = [];
  const use = (key: string) => {
    if (!keys.includes(key)) keys.push(key);
    return key;
  };
  const args = spec.args.map((a) => ({ ...a, explain: use(argKey(spec, a)) }));
  const ret = { ...spec.ret, explain: use(returnKey(spec, spec.ret)) };
  if (spec.hiddenPointer) use('hidden-pointer');
  if (spec.args.some((a) => a.variadic)) use('variadic');
  if (spec.al !== undefined) use('al');
  use('stack-alignment');
  return { spec: { ...spec, args, ret }, explanations: Object.fromEntries(keys.map((k) => [k, EXPLANATIONS[k]!])) };
}
