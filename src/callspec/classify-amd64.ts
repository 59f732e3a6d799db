/**
 * The System V AMD64 calling convention (AMD64 psABI §3.2.3 "Parameter Passing"), in the style of libffi's
 * src/x86/ffi64.c: each value is split into eightbytes, each eightbyte gets a class, the classes are merged and
 * cleaned up, and the classes decide the registers. One small function per rule.
 */
import { structLayout, sizeOf, alignOf, X87_EXTENDED_BYTES, typeName } from './layout.ts';
import {
  argumentHead, callArguments, planOf, describeLocations, extensionOf, ordinal, roundUp, type CallArgument,
} from './classify-common.ts';
import type { ArgSpec, CallSpec, ComplexPart, CType, FloatKind, Location, Prototype, ReturnSpec } from './types.ts';

const ARCH = 'amd64';

/** The eightbyte classes of psABI §3.2.3. */
export type ArgClass = 'INTEGER' | 'SSE' | 'SSEUP' | 'X87' | 'X87UP' | 'COMPLEX_X87' | 'NO_CLASS' | 'MEMORY';

export const EIGHTBYTE = 8;
/** §3.2.3 classification rule 1: objects larger than eight eightbytes are MEMORY. */
const MAX_CLASSIFIED_EIGHTBYTES = 8;
/** §3.2.3 post-merger rule (c): beyond two eightbytes only an SSE vector (SSE followed by SSEUPs) stays in registers. */
const MAX_REGISTER_EIGHTBYTES = 2;
/** §3.2.3 "Passing": the general-purpose argument registers, in order. */
export const INTEGER_ARGUMENT_REGISTERS = ['rdi', 'rsi', 'rdx', 'rcx', 'r8', 'r9'] as const;
/** §3.2.3 "Passing": the vector argument registers, in order. */
export const SSE_ARGUMENT_REGISTERS = ['xmm0', 'xmm1', 'xmm2', 'xmm3', 'xmm4', 'xmm5', 'xmm6', 'xmm7'] as const;
/** §3.2.3 "Returning of Values": INTEGER eightbytes use %rax then %rdx, SSE eightbytes %xmm0 then %xmm1. */
const INTEGER_RETURN_REGISTERS = ['rax', 'rdx'] as const;
const SSE_RETURN_REGISTERS = ['xmm0', 'xmm1'] as const;
const X87_RETURN_REGISTER = 'st0';
/** §3.2.3 "Returning of Values" rule 8: a COMPLEX_X87 value's imaginary part comes back in %st1. */
const X87_SECOND_RETURN_REGISTER = 'st1';
/** §3.2.2 "The Stack Frame": stack arguments occupy eightbyte slots; the stack is 16-byte aligned at the call. */
const STACK_SLOT = 8;
const STACK_ALIGN = 16;
const POINTER_SIZE = 8;

const PSABI = 'psABI §3.2.3';

export interface Classification {
  /** One class per eightbyte; a single MEMORY for values passed in memory. */
  classes: ArgClass[];
  /** Why the value is MEMORY (the rule that applied), when it is. */
  memoryReason?: string;
}

// ---------------------------------------------------------------------------------------------------------------
// Classification (§3.2.3 "Classification")

/**
 * §3.2.3 rules for the basic types: _Bool, char, short, int, long, long long and pointers are INTEGER; float and
 * double are SSE; long double is X87 (its significand eightbyte) and X87UP (the upper one).
 */
function classifyScalar(type: CType): ArgClass[] | undefined {
  switch (type.kind) {
    case 'int':
      // §3.2.3: "Arguments of type __int128 offer the same operations as INTEGERs, yet they do not fit into one
      // general purpose register but require two registers" — two INTEGER eightbytes.
      return type.name === '__int128' || type.name === 'unsigned __int128' ? ['INTEGER', 'INTEGER'] : ['INTEGER'];
    case 'enum':
    case 'pointer':
      return ['INTEGER'];
    case 'float':
      return classifyFloat(type.name);
    case 'complex':
      return classifyComplex(type.of);
    case 'vector':
      return classifyVector(type.size);
    default:
      return undefined;
  }
}

/**
 * §3.2.3: "Arguments of types float, double, _Decimal32, _Decimal64 and __m64 are in class SSE" (and _Float16, added
 * in psABI 1.0); "Arguments of types __float128, _Decimal128 and __m128 are split into two halves. The least
 * significant ones belong to class SSE, the most significant one to class SSEUP"; long double's 64-bit mantissa is
 * X87, its exponent X87UP.
 */
function classifyFloat(name: FloatKind): ArgClass[] {
  if (name === 'long double') return ['X87', 'X87UP'];
  if (name === '__float128') return ['SSE', 'SSEUP'];
  return ['SSE'];
}

/**
 * §3.2.3: "A variable of type complex long double is classified as type COMPLEX_X87"; complex float and complex
 * double are treated as a struct of their two parts ("Each field of an object is classified recursively"): complex
 * float is one SSE eightbyte holding both parts, complex double two SSE eightbytes.
 */
function classifyComplex(part: ComplexPart): ArgClass[] {
  if (part === 'long double') return ['COMPLEX_X87'];
  return part === 'float' ? ['SSE'] : ['SSE', 'SSE'];
}

/** §3.2.3: 8-byte vectors (__m64) are SSE; 16-byte ones (__m128) an SSE eightbyte and an SSEUP one: one XMM register. */
function classifyVector(size: number): ArgClass[] {
  return size === EIGHTBYTE ? ['SSE'] : ['SSE', 'SSEUP'];
}

/**
 * §3.2.3 classification rule 4, merging the classes of two fields sharing an eightbyte:
 * (a) equal classes stay; (b) NO_CLASS yields the other; (c) MEMORY wins; (d) INTEGER wins;
 * (e) X87, X87UP or COMPLEX_X87 give MEMORY; (f) otherwise SSE.
 */
export function mergeClasses(a: ArgClass, b: ArgClass): ArgClass {
  if (a === b) return a;
  if (a === 'NO_CLASS') return b;
  if (b === 'NO_CLASS') return a;
  if (a === 'MEMORY' || b === 'MEMORY') return 'MEMORY';
  if (a === 'INTEGER' || b === 'INTEGER') return 'INTEGER';
  const x87 = (c: ArgClass) => c === 'X87' || c === 'X87UP' || c === 'COMPLEX_X87';
  if (x87(a) || x87(b)) return 'MEMORY';
  return 'SSE';
}

/** §3.2.3 classification rule 1: "If ... it contains unaligned fields, it has class MEMORY." */
function isUnaligned(offset: number, type: CType): boolean {
  return offset % alignOf(type, ARCH) !== 0;
}

/**
 * §3.2.3 classification rule 3: each field of an aggregate is classified recursively and merged into the
 * eightbyte(s) it occupies; arrays are their elements. Bit-fields make the eightbytes they touch INTEGER.
 * Returns a reason when a field is unaligned.
 */
function mergeFieldClasses(type: CType, offset: number, classes: ArgClass[]): string | undefined {
  if (type.kind === 'complex') {
    // A complex member is its two parts, each classified where it lies (a complex float may straddle eightbytes).
    const part: CType = { kind: 'float', name: type.of };
    const size = sizeOf(part, ARCH);
    return mergeFieldClasses(part, offset, classes) ?? mergeFieldClasses(part, offset + size, classes);
  }
  const scalar = classifyScalar(type);
  if (scalar) {
    if (isUnaligned(offset, type)) return `its field of type ${typeName(type)} at offset ${offset} is unaligned`;
    const first = Math.floor(offset / EIGHTBYTE);
    scalar.forEach((c, i) => (classes[first + i] = mergeClasses(classes[first + i], c)));
    return undefined;
  }
  if (type.kind === 'array') {
    const elementSize = sizeOf(type.of, ARCH);
    for (let i = 0; i < type.length; i++) {
      const problem = mergeFieldClasses(type.of, offset + i * elementSize, classes);
      if (problem) return problem;
    }
    return undefined;
  }
  for (const field of structLayout(type, ARCH).fields) {
    if (field.bits !== undefined) {
      const startBit = (offset + field.offset) * 8 + field.bitOffset!;
      const first = Math.floor(startBit / (EIGHTBYTE * 8));
      const last = Math.floor((startBit + field.bits - 1) / (EIGHTBYTE * 8));
      for (let i = first; i <= last; i++) classes[i] = mergeClasses(classes[i], 'INTEGER');
      continue;
    }
    const problem = mergeFieldClasses(field.type, offset + field.offset, classes);
    if (problem) return problem;
  }
  return undefined;
}

/**
 * §3.2.3 classification rule 5, the post-merger cleanup:
 * (a) any MEMORY eightbyte makes the whole argument MEMORY;
 * (b) X87UP not preceded by X87 makes it MEMORY;
 * (c) more than two eightbytes, unless the first is SSE and all others SSEUP, makes it MEMORY;
 * (d) SSEUP not preceded by SSE or SSEUP becomes SSE.
 */
function postMerge(classes: ArgClass[], size: number): Classification {
  if (classes.includes('MEMORY')) {
    return { classes: ['MEMORY'], memoryReason: 'a field shares an eightbyte with a field of an incompatible class (an x87 value merged with another class gives MEMORY)' };
  }
  if (classes.some((c, i) => c === 'X87UP' && classes[i - 1] !== 'X87')) {
    return { classes: ['MEMORY'], memoryReason: 'its X87UP eightbyte is not preceded by an X87 one' };
  }
  const isVector = classes[0] === 'SSE' && classes.slice(1).every((c) => c === 'SSEUP');
  if (classes.length > MAX_REGISTER_EIGHTBYTES && !isVector) {
    return { classes: ['MEMORY'], memoryReason: `it is larger than two eightbytes (${size} bytes) and not a single SSE vector` };
  }
  return { classes: classes.map((c, i) => (c === 'SSEUP' && classes[i - 1] !== 'SSE' && classes[i - 1] !== 'SSEUP' ? 'SSE' : c)) };
}

/** §3.2.3 classification of an aggregate (struct, union or array): rules 1, 3, 4 and 5. */
function classifyAggregate(type: CType): Classification {
  const size = sizeOf(type, ARCH);
  const eightbytes = Math.ceil(size / EIGHTBYTE);
  if (eightbytes > MAX_CLASSIFIED_EIGHTBYTES) {
    return { classes: ['MEMORY'], memoryReason: `it is larger than eight eightbytes (${size} bytes)` };
  }
  const classes: ArgClass[] = new Array(eightbytes).fill('NO_CLASS');
  const unaligned = mergeFieldClasses(type, 0, classes);
  if (unaligned) return { classes: ['MEMORY'], memoryReason: unaligned };
  return postMerge(classes, size);
}

/** The classes of a value of `type` (psABI §3.2.3 "Classification"). */
export function classifyAmd64(type: CType): Classification {
  const scalar = classifyScalar(type);
  if (scalar) return { classes: scalar };
  return classifyAggregate(type);
}

// ---------------------------------------------------------------------------------------------------------------
// Passing (§3.2.3 "Passing")

/** The x87 classes: "The X87, X87UP and COMPLEX_X87 classes are passed in memory" (§3.2.3 "Passing", rule 5). */
function isPassedInMemory(classes: ArgClass[]): boolean {
  return classes.some((c) => c === 'MEMORY' || c === 'X87' || c === 'X87UP' || c === 'COMPLEX_X87');
}

function count(classes: ArgClass[], wanted: ArgClass): number {
  return classes.filter((c) => c === wanted).length;
}

/** The free argument registers, consumed in order as arguments are placed. */
interface RegisterState {
  integer: number;
  sse: number;
  /** True when %rdi carries the hidden return pointer, so every integer register is one later. */
  hiddenPointer: boolean;
}

/**
 * Assign each eightbyte the next register of its class (§3.2.3 "Passing", rules 2–4). SSEUP extends the
 * previous vector register; NO_CLASS eightbytes (pure padding) need no register.
 */
function assignRegisters(classes: ArgClass[], size: number, registers: RegisterState): Location[] {
  const locations: Location[] = [];
  classes.forEach((cls, i) => {
    const offset = i * EIGHTBYTE;
    const bytes = Math.min(EIGHTBYTE, size - offset);
    if (cls === 'INTEGER') locations.push({ kind: 'reg', reg: INTEGER_ARGUMENT_REGISTERS[registers.integer++], offset, size: bytes });
    else if (cls === 'SSE') locations.push({ kind: 'reg', reg: SSE_ARGUMENT_REGISTERS[registers.sse++], offset, size: bytes });
    else if (cls === 'SSEUP') {
      const previous = locations[locations.length - 1];
      if (previous?.kind === 'reg') previous.size += bytes;
    }
  });
  return locations;
}

/** The stack, filled left to right in eightbyte slots (§3.2.3 "Passing": arguments are pushed right to left). */
interface StackState {
  offset: number;
}

/** A stack argument takes a slot aligned to 8 bytes, or to 16 when the type requires it (long double). */
function assignStack(arg: CallArgument, stack: StackState): Location {
  const slotAlign = Math.max(STACK_SLOT, arg.align);
  const stackOffset = roundUp(stack.offset, slotAlign);
  stack.offset = stackOffset + roundUp(arg.size, STACK_SLOT);
  return { kind: 'stack', stackOffset, offset: 0, size: arg.size };
}

function placeArgument(arg: CallArgument, registers: RegisterState, stack: StackState): ArgSpec {
  const { classes, memoryReason } = classifyAmd64(arg.type);
  const spec = (locations: Location[], why: string): ArgSpec => ({
    index: arg.index, text: arg.text, type: arg.type, size: arg.size, align: arg.align, variadic: arg.variadic,
    locations, extension: extensionOf(arg.type), classes,
    reason: `${argumentHead(arg)} → ${describeLocations(locations, arg.size)}: ${why}`,
  });
  if (arg.size === 0) return spec([], `an empty ${typeName(arg.type)} occupies no register and no stack (GCC extension)`);
  if (isPassedInMemory(classes)) {
    const why = memoryReason
      ? `class MEMORY because ${memoryReason}; it is copied to the stack (${PSABI}: MEMORY-class arguments are passed on the stack)`
      : `class ${classes.join('+')}: x87 values are always passed on the stack, in a 16-byte-aligned slot (${PSABI}: X87, X87UP and COMPLEX_X87 classes are passed in memory)`;
    return spec([assignStack(arg, stack)], why);
  }
  const needInteger = count(classes, 'INTEGER');
  const needSse = count(classes, 'SSE');
  const freeInteger = INTEGER_ARGUMENT_REGISTERS.length - registers.integer;
  const freeSse = SSE_ARGUMENT_REGISTERS.length - registers.sse;
  if (needInteger > freeInteger || needSse > freeSse) {
    const missing = needInteger > freeInteger
      ? `needs ${needInteger} general-purpose register(s) but ${freeInteger} of the six are left`
      : `needs ${needSse} vector register(s) but ${freeSse} of the eight are left`;
    return spec([assignStack(arg, stack)],
      `${missing}, so the whole argument goes on the stack (${PSABI}: if no register is available for any eightbyte, the whole argument is passed in memory, never split)`);
  }
  const before = { ...registers };
  const locations = assignRegisters(classes, arg.size, registers);
  return spec(locations, registerReason(arg, classes, before));
}

function registerReason(arg: CallArgument, classes: ArgClass[], before: RegisterState): string {
  const shifted = before.hiddenPointer && before.integer > 0 ? '; %rdi already carries the hidden return pointer' : '';
  const extension = extensionOf(arg.type);
  const widened = extension === 'none' ? '' : `, ${extension}-extended to 32 bits: Clang-compiled callees rely on it (GCC's extend again themselves)`;
  if (classes.length === 1 && arg.type.kind !== 'struct' && arg.type.kind !== 'union' && arg.type.kind !== 'array') {
    if (classes[0] === 'INTEGER') {
      return `${ordinal(before.integer + 1)} general-purpose argument register${widened}${shifted} (${PSABI}: INTEGER class uses the next available register of %rdi, %rsi, %rdx, %rcx, %r8, %r9)`;
    }
    const parts = arg.type.kind === 'complex' ? ', the real part in its bytes 0–3 and the imaginary part in bytes 4–7 (one SSE eightbyte)' : '';
    return `${ordinal(before.sse + 1)} SSE-class argument register${parts} (${PSABI}: SSE class uses the next available vector register, %xmm0 to %xmm7)`;
  }
  if (classes.includes('SSEUP') && arg.type.kind !== 'struct' && arg.type.kind !== 'union' && arg.type.kind !== 'array') {
    return `${ordinal(before.sse + 1)} SSE-class argument register, all 16 bytes: a ${typeName(arg.type)} is classes SSE + SSEUP (${PSABI}: "the most significant [half] belongs to class SSEUP", passed in the upper half of the same vector register)`;
  }
  if (arg.type.kind === 'complex') {
    return `a ${typeName(arg.type)} is classified as the struct of its two parts, [${classes.join(', ')}]: the real part in the next free vector register, the imaginary part in the one after (${PSABI}: complex types are classified like structs of their parts)`;
  }
  return `a ${arg.size}-byte ${typeName(arg.type)} classified [${classes.join(', ')}]; each eightbyte takes the next free register of its class${shifted} (${PSABI}: aggregates of up to two eightbytes are passed in registers when enough are free)`;
}

// ---------------------------------------------------------------------------------------------------------------
// Returning (§3.2.3 "Returning of Values")

function returnSpec(type: CType): ReturnSpec {
  if (type.kind === 'void') return { type, size: 0, kind: 'void', locations: [], classes: [], reason: 'void: nothing is returned' };
  const size = sizeOf(type, ARCH);
  const { classes, memoryReason } = classifyAmd64(type);
  if (classes.includes('MEMORY')) {
    return {
      type, size, kind: 'memory', locations: [], classes,
      reason: `class MEMORY because ${memoryReason}: the caller passes a buffer's address in %rdi as a hidden first argument, and the callee returns that address in %rax (${PSABI} "Returning of Values", rule 2)`,
    };
  }
  if (classes.includes('COMPLEX_X87')) {
    const part = size / 2;
    const locations: Location[] = [
      { kind: 'reg', reg: X87_RETURN_REGISTER, offset: 0, size: X87_EXTENDED_BYTES },
      { kind: 'reg', reg: X87_SECOND_RETURN_REGISTER, offset: part, size: X87_EXTENDED_BYTES },
    ];
    return {
      type, size, kind: 'x87', locations, classes,
      reason: `class COMPLEX_X87: the real part is returned in %st0 and the imaginary part in %st1, both 80-bit extended values (${PSABI} "Returning of Values", rule 8)`,
    };
  }
  if (classes.includes('X87')) {
    const locations: Location[] = [{ kind: 'reg', reg: X87_RETURN_REGISTER, offset: 0, size: X87_EXTENDED_BYTES }];
    return {
      type, size, kind: 'x87', locations, classes,
      reason: `class X87: returned in %st0, the top of the x87 stack, as an 80-bit extended value (${PSABI} "Returning of Values", rules 6–7)`,
    };
  }
  const next = { integer: 0, sse: 0 };
  const locations: Location[] = [];
  classes.forEach((cls, i) => {
    const offset = i * EIGHTBYTE;
    const bytes = Math.min(EIGHTBYTE, size - offset);
    if (cls === 'INTEGER') locations.push({ kind: 'reg', reg: INTEGER_RETURN_REGISTERS[next.integer++], offset, size: bytes });
    if (cls === 'SSE') locations.push({ kind: 'reg', reg: SSE_RETURN_REGISTERS[next.sse++], offset, size: bytes });
    // §3.2.3 "Returning of Values" rule 5: an SSEUP eightbyte comes back in the upper half of the last used vector register.
    const previous = locations[locations.length - 1];
    if (cls === 'SSEUP' && previous) previous.size += bytes;
  });
  const where = describeLocations(locations, size);
  return {
    type, size, kind: 'reg', locations, classes,
    reason: `class ${classes.join('+') || 'NO_CLASS'} → ${where} (${PSABI} "Returning of Values": INTEGER eightbytes use the next of %rax, %rdx; SSE eightbytes the next of %xmm0, %xmm1)`,
  };
}

// ---------------------------------------------------------------------------------------------------------------

export function callSpecAmd64(proto: Prototype, variadicTypes: CType[]): CallSpec {
  const ret = returnSpec(proto.ret);
  const hidden = ret.kind === 'memory';
  const registers: RegisterState = { integer: hidden ? 1 : 0, sse: 0, hiddenPointer: hidden };
  const stack: StackState = { offset: 0 };
  const args = callArguments(proto, ARCH, variadicTypes).map((arg) => placeArgument(arg, registers, stack));
  const spec = planOf(proto, ARCH, args, ret, stack.offset, STACK_ALIGN, 0);
  if (hidden) spec.hiddenPointer = { kind: 'reg', reg: INTEGER_ARGUMENT_REGISTERS[0], offset: 0, size: POINTER_SIZE };
  // §3.2.3: "For calls that may call functions that use varargs or stdargs (prototype-less calls or calls to
  // functions containing ellipsis (...) in the declaration) %al is used as hidden argument to specify the
  // number of vector registers used."
  if (proto.variadic) spec.al = registers.sse;
  return spec;
}
