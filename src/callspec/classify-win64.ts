/**
 * The Win64 calling convention (GCC `__attribute__((ms_abi))` on amd64; libffi's FFI_WIN64), from Microsoft's
 * "x64 calling convention" documentation:
 *  - the first four arguments go in registers *by position*: RCX, RDX, R8, R9 for integers, pointers and small
 *    aggregates, XMM0–XMM3 for float and double; the fifth and later on the stack, 8 bytes each;
 *  - "Any argument that doesn't fit in 8 bytes, or isn't 1, 2, 4, or 8 bytes, must be passed by reference": the
 *    caller copies it to 16-byte-aligned memory and passes the copy's address (so does GCC for long double);
 *  - the caller always reserves 32 bytes of "home" (shadow) space above the return address;
 *  - a variadic (or unprototyped) call passes float and double in both the XMM and the integer register;
 *  - integers, pointers and 1/2/4/8-byte aggregates return in RAX, float and double in XMM0, anything else
 *    through a hidden pointer passed in RCX (the first position) and returned in RAX.
 * Callee-saved: RBX, RBP, RDI, RSI, RSP, R12–R15, XMM6–XMM15.
 */
import { sizeOf, typeName } from './layout.ts';
import { argumentHead, callArguments, planOf, describeLocations, extensionOf, ordinal, roundUp, type CallArgument } from './classify-common.ts';
import type { ArgSpec, CallSpec, CType, Location, Prototype, ReturnSpec } from './types.ts';

const ARCH = 'amd64';
const MS = 'Microsoft x64 calling convention';
/** "Integer arguments are passed in registers RCX, RDX, R8, and R9" (by position). */
export const WIN64_INTEGER_REGISTERS = ['rcx', 'rdx', 'r8', 'r9'] as const;
/** "Floating point arguments are passed in XMM0L, XMM1L, XMM2L, and XMM3L" (by position). */
export const WIN64_FLOAT_REGISTERS = ['xmm0', 'xmm1', 'xmm2', 'xmm3'] as const;
/** "The caller is responsible for allocating space for the parameters [of the four registers]": 4 × 8 bytes. */
export const WIN64_SHADOW_SPACE = 32;
const SLOT = 8;
const INT128_BYTES = 16;
const STACK_ALIGN = 16;
const POINTER_SIZE = 8;
/** The sizes an aggregate may have to be passed (and returned) like an integer of that size. */
const BY_VALUE_SIZES = new Set([1, 2, 4, 8]);
/** Callee-saved in Win64 beyond System V's: the checker expects them back (RDI, RSI and XMM6–XMM15). */
export const WIN64_EXTRA_CALLEE_SAVED = ['rdi', 'rsi'] as const;
export const WIN64_CALLEE_SAVED_XMM = ['xmm6', 'xmm7', 'xmm8', 'xmm9', 'xmm10', 'xmm11', 'xmm12', 'xmm13', 'xmm14', 'xmm15'] as const;

/**
 * float and double travel in XMM registers. GCC 12's ms_abi passes and returns `_Float16` like a 2-byte integer
 * (in CX/DX/R8/R9 and AX, measured), and `_Complex float` and 8-byte vectors like 8-byte structs.
 */
const isSseScalar = (type: CType) => type.kind === 'float' && (type.name === 'float' || type.name === 'double');

/** Passed by reference: anything that is not a 1-, 2-, 4- or 8-byte value (and GCC's 16-byte long double). */
export function isWin64Indirect(type: CType, size: number): boolean {
  return !BY_VALUE_SIZES.has(size) || (type.kind === 'float' && type.name === 'long double');
}

/** Returned in all 16 bytes of XMM0: __int128 (GCC) and the 16-byte vectors (__m128, "returned in XMM0" per Microsoft). */
function isXmmReturned(type: CType, size: number): boolean {
  return size === INT128_BYTES && (type.kind === 'int' || type.kind === 'vector');
}

function placeArgument(arg: CallArgument, position: number, stack: { offset: number }): ArgSpec {
  const indirect = isWin64Indirect(arg.type, arg.size);
  const spec = (locations: Location[], why: string): ArgSpec => {
    const out: ArgSpec = {
      index: arg.index, text: arg.text, type: arg.type, size: arg.size, align: arg.align, variadic: arg.variadic,
      locations, extension: indirect ? 'none' : extensionOf(arg.type), classes: [],
      reason: `${argumentHead(arg)} → ${indirect ? 'the address of a copy in ' : ''}${describeLocations(locations, indirect ? POINTER_SIZE : arg.size)}: ${why}`,
    };
    if (indirect) out.indirect = true;
    return out;
  };
  const size = indirect ? POINTER_SIZE : arg.size;
  const what = indirect
    ? `a ${arg.size}-byte ${typeName(arg.type)}, which is not 1, 2, 4 or 8 bytes: the caller copies it to 16-byte-aligned memory and passes the copy's address`
    : isSseScalar(arg.type) ? `a ${typeName(arg.type)}` : !['int', 'enum', 'pointer'].includes(arg.type.kind) ? `a ${arg.size}-byte ${typeName(arg.type)} travels like an integer of its size` : `an integer-class ${typeName(arg.type)}`;
  if (position < WIN64_INTEGER_REGISTERS.length) {
    const sse = isSseScalar(arg.type) && !indirect;
    const gpr: Location = { kind: 'reg', reg: WIN64_INTEGER_REGISTERS[position]!, offset: 0, size };
    if (!sse) return spec([gpr], `the ${ordinal(position + 1)} argument position's integer register, for ${what} (${MS}: the first four arguments go in RCX, RDX, R8, R9 by position)`);
    const xmm: Location = { kind: 'reg', reg: WIN64_FLOAT_REGISTERS[position]!, offset: 0, size };
    if (!arg.variadic) return spec([xmm], `the ${ordinal(position + 1)} argument position's vector register, for ${what} (${MS}: floating-point arguments go in XMM0–XMM3 by position)`);
    return spec([xmm, gpr], `${what} passed as a variadic argument goes in both ${xmm.reg} and ${gpr.reg} (${MS}: for varargs, floating-point values are duplicated in the integer register)`);
  }
  const location: Location = { kind: 'stack', stackOffset: stack.offset, offset: 0, size };
  stack.offset += roundUp(size, SLOT);
  return spec([location], `the ${ordinal(position + 1)} argument goes on the stack above the 32-byte shadow space, in an 8-byte slot, for ${what} (${MS}: arguments after the fourth are pushed on the stack)`);
}

function returnSpec(type: CType): ReturnSpec {
  if (type.kind === 'void') return { type, size: 0, kind: 'void', locations: [], classes: [], reason: 'void: nothing is returned' };
  const size = sizeOf(type, ARCH);
  if (isWin64Indirect(type, size) && !isXmmReturned(type, size)) {
    return {
      type, size, kind: 'memory', locations: [], classes: [],
      reason: `a ${size}-byte ${typeName(type)} is not 1, 2, 4 or 8 bytes: the caller passes a buffer's address in RCX as a hidden first argument (every other argument moves one position on) and the callee returns that address in RAX (${MS})`,
    };
  }
  if (isXmmReturned(type, size)) {
    return {
      type, size, kind: 'reg', locations: [{ kind: 'reg', reg: 'xmm0', offset: 0, size }], classes: [],
      reason: `${typeName(type)} is returned in all 16 bytes of xmm0 (${MS}: "__m128 … returned in XMM0"; GCC's ms_abi does the same for __int128)`,
    };
  }
  const reg = isSseScalar(type) ? 'xmm0' : 'rax';
  return {
    type, size, kind: 'reg', locations: [{ kind: 'reg', reg, offset: 0, size }], classes: [],
    reason: `${typeName(type)} is returned in ${reg} (${MS}: values of up to 8 bytes in RAX, float and double in XMM0)`,
  };
}

export function callSpecWin64(proto: Prototype, variadicTypes: CType[]): CallSpec {
  const ret = returnSpec(proto.ret);
  const hidden = ret.kind === 'memory';
  const stack = { offset: WIN64_SHADOW_SPACE };
  const args = callArguments(proto, ARCH, variadicTypes).map((arg, i) => placeArgument(arg, i + (hidden ? 1 : 0), stack));
  const spec: CallSpec = { ...planOf(proto, ARCH, args, ret, stack.offset, STACK_ALIGN, 0), convention: 'ms_abi', shadowSpace: WIN64_SHADOW_SPACE };
  if (hidden) spec.hiddenPointer = { kind: 'reg', reg: WIN64_INTEGER_REGISTERS[0], offset: 0, size: POINTER_SIZE };
  return spec;
}
