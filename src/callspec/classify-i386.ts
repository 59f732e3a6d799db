/**
 * The i386 calling conventions. The default is System V (Linux cdecl), i386 psABI §2.2.3 "Parameter Passing and
 * Returning Values": every argument on the stack, left to right at increasing addresses, in 4-byte-rounded slots;
 * integer results in %eax (and %edx), floating-point results on the x87 stack, structs and unions through a hidden
 * pointer that the callee pops.
 *
 * The other conventions (GCC manual, "x86 Function Attributes"; libffi src/x86/ffi.c for pascal and register)
 * change three things only, each decided by one function below:
 *  - which arguments travel in registers (`registerPlan`: fastcall ecx/edx, thiscall ecx, regparm(N) eax/edx/ecx,
 *    register eax/edx/ecx),
 *  - the order of the stack arguments (pascal and register push left to right, so the first is highest),
 *  - who removes the stack arguments (`calleePops`: stdcall, fastcall, thiscall, pascal, register pop them).
 * A variadic function always gets every argument on the stack and pops none of them (GCC: "If the number of
 * arguments is variable all arguments are pushed on the stack").
 */
import { alignOf, sizeOf, structLayout, typeName, X87_EXTENDED_BYTES } from './layout.ts';
import {
  argumentHead, callArguments, planOf, CallSpecError, describeLocations, extensionOf, roundUp, type CallArgument,
} from './classify-common.ts';
import { conventionText } from './conventions.ts';
import type { ArgSpec, CallSpec, Convention, CType, Location, Prototype, ReturnSpec } from './types.ts';

const ARCH = 'i386';

/** §2.2.3: arguments occupy the stack in slots rounded up to a multiple of 4 bytes ("word alignment"). */
const STACK_SLOT = 4;
/** The Linux i386 ABI (psABI 1.1, §2.2.2 "The Stack Frame") keeps %esp 16-byte aligned at calls. */
const STACK_ALIGN = 16;
const SIXTEEN_BYTE_ALIGNED = 16;
const POINTER_SIZE = 4;
/** The hidden return pointer occupies the first slot and the cdecl callee pops it with `ret $4`. */
const HIDDEN_POINTER_POP = POINTER_SIZE;
const REGISTER_SIZE = 4;
const INTEGER_RETURN_REGISTERS = ['eax', 'edx'] as const;
const X87_RETURN_REGISTER = 'st0';
/** GCC's register order for regparm(N), and libffi's for FFI_REGISTER. */
const REGPARM_REGISTERS = ['eax', 'edx', 'ecx'] as const;
/** GCC fastcall: "the first argument (if of integral type) … in ECX and the second … in EDX". */
const FASTCALL_REGISTERS = ['ecx', 'edx'] as const;
/** GCC thiscall: "the first argument (if of integral type) … in the register ECX". */
const THISCALL_REGISTERS = ['ecx'] as const;

const PSABI = 'i386 psABI §2.2.3';
const GCC = 'GCC "x86 Function Attributes"';

/** How a convention passes arguments: the pure data every rule below reads. */
interface ConventionRules {
  name: string;
  registers: readonly string[];
  /** GCC regparm: any non-floating argument whose words fit in the registers left (long long, structs) takes them; fastcall/thiscall/register: only integers of up to 4 bytes. */
  wideRegisters: boolean;
  /** libffi FFI_REGISTER: arguments that do not fit a register use none up (GCC's consume their words). */
  consumesSkipped: boolean;
  calleePopsArguments: boolean;
  /** pascal, register: the first stack argument is pushed first, so it ends up highest. */
  leftToRight: boolean;
  /** cdecl (Linux): the callee pops the hidden pointer (`ret $4`); MS cdecl leaves it to the caller. */
  calleePopsHidden: boolean;
}

function rulesOf(c: Convention | undefined, variadic: boolean): ConventionRules {
  const name = c ? conventionText(c) : 'cdecl';
  const base: ConventionRules = {
    name, registers: [], wideRegisters: false, consumesSkipped: true, calleePopsArguments: false, leftToRight: false, calleePopsHidden: true,
  };
  const kind = c?.name ?? 'cdecl';
  if (variadic) {
    if (kind === 'pascal' || kind === 'register') throw new CallSpecError(`a ${kind} function cannot be variadic: its callee pops a fixed number of bytes`);
    // GCC pops the hidden pointer in a variadic call only when the convention has no register arguments.
    const registerConvention = kind === 'fastcall' || kind === 'thiscall' || (c?.regparm ?? 0) > 0;
    return { ...base, calleePopsHidden: kind !== 'ms_cdecl' && !registerConvention };
  }
  const regparm = c?.regparm ?? 0;
  switch (kind) {
    case 'stdcall':
      return { ...base, registers: REGPARM_REGISTERS.slice(0, regparm), wideRegisters: true, calleePopsArguments: true };
    case 'fastcall':
      return { ...base, registers: FASTCALL_REGISTERS, calleePopsArguments: true };
    case 'thiscall':
      return { ...base, registers: THISCALL_REGISTERS, calleePopsArguments: true };
    case 'pascal':
      return { ...base, calleePopsArguments: true, leftToRight: true };
    case 'register':
      return { ...base, registers: REGPARM_REGISTERS, consumesSkipped: false, calleePopsArguments: true, leftToRight: true };
    case 'ms_cdecl':
      return { ...base, calleePopsHidden: false };
    default:
      return { ...base, registers: REGPARM_REGISTERS.slice(0, regparm), wideRegisters: true, calleePopsHidden: regparm === 0 };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// GCC's view of an argument: its machine mode decides whether it may use registers.

/**
 * A float, double or long double, or an aggregate whose only content is one (GCC gives `struct { float f; }` the
 * mode SFmode): these never use an argument register and, unlike other skipped arguments, use none up.
 */
export function isFloatLike(type: CType, inAggregate = false): boolean {
  // GCC's function_arg_32 gives register arguments only to integer modes and BLKmode: complex (SCmode, DCmode, XCmode),
  // __float128 (TFmode) and vectors never take a register and use none up (measured with gcc -m32 regparm(3)/fastcall).
  // A struct holding just a vector is not a vector to GCC without MMX/SSE (an integer mode or BLKmode): it uses
  // registers like any struct of its size (struct { v8qi a; } takes %eax:%edx under regparm(3)).
  if (type.kind === 'vector') return !inAggregate;
  if (type.kind === 'float' || type.kind === 'complex') return true;
  if (type.kind === 'array') return type.length === 1 && isFloatLike(type.of, true);
  if (type.kind !== 'struct' && type.kind !== 'union') return false;
  const fields = structLayout(type, ARCH).fields;
  return fields.length === 1 && fields[0]!.bits === undefined && sizeOf(type, ARCH) === fields[0]!.size && isFloatLike(fields[0]!.type, true);
}

function isAggregate(type: CType): boolean {
  return type.kind === 'struct' || type.kind === 'union' || type.kind === 'array';
}


const words = (size: number) => Math.ceil(size / REGISTER_SIZE);

/** Free argument registers, used up left to right. */
interface RegisterState {
  next: number;
}

/**
 * The registers an argument takes, or undefined for the stack (and then how many registers it uses up: GCC's
 * function_arg_advance subtracts a skipped integer or aggregate argument's words from the registers left).
 */
function registerPlan(arg: CallArgument, rules: ConventionRules, state: RegisterState): string[] | undefined {
  const left = rules.registers.length - state.next;
  if (left <= 0 || isFloatLike(arg.type) || arg.size === 0) return undefined;
  const n = words(arg.size);
  const fits = rules.wideRegisters ? n <= left : n === 1 && !isAggregate(arg.type);
  if (fits) {
    const taken = rules.registers.slice(state.next, state.next + n);
    state.next += n;
    return [...taken];
  }
  if (rules.consumesSkipped) state.next = Math.min(rules.registers.length, state.next + n);
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------

/** `a 4-byte slot`, `an 8-byte slot`, `an 11-byte ...`. */
function article(n: number): string {
  return /^(8|11|18)/.test(String(n)) ? 'an' : 'a';
}

function stackWhy(arg: CallArgument, rules: ConventionRules, hidden: boolean): string {
  const extension = extensionOf(arg.type);
  const widened = extension === 'none' ? '' : `, ${extension}-extended to 32 bits`;
  const after = hidden && arg.index === 1 ? ', after the hidden return pointer' : '';
  const what = isAggregate(arg.type) ? `the ${arg.size}-byte ${typeName(arg.type)} is copied by value` : `in ${article(roundUp(arg.size, STACK_SLOT))} ${roundUp(arg.size, STACK_SLOT)}-byte slot${widened}`;
  const rule = rules.leftToRight
    ? `libffi ${rules.name}: the stack arguments are pushed left to right, so the first one is highest, each rounded up to 4 bytes`
    : `${PSABI}: stack arguments go left to right at increasing addresses, each rounded up to 4 bytes`;
  const notInRegister = rules.registers.length === 0 ? '' : `${registerRefusal(arg, rules)}; `;
  return `${notInRegister}${what}${after} (${rule})`;
}

/** Why an argument of a register convention is on the stack anyway. */
function registerRefusal(arg: CallArgument, rules: ConventionRules): string {
  if (isFloatLike(arg.type)) return `${rules.name} passes floating-point, complex, __float128 and vector values (and structs holding just one float) on the stack, without using up a register (GCC gives registers only to integer modes)`;
  if (!rules.wideRegisters && (isAggregate(arg.type) || arg.size > REGISTER_SIZE)) {
    return `${rules.name} passes only integers and pointers of up to 4 bytes in registers; ${rules.consumesSkipped ? `as GCC does, this ${words(arg.size)}-word argument still uses up that many registers` : 'it uses up no register'}`;
  }
  if (rules.wideRegisters) return `${rules.name}: its ${words(arg.size)} words do not fit in the registers left, so it goes on the stack and (as GCC does) uses them up`;
  return `${rules.name}: no argument register is left`;
}

function placeArgument(arg: CallArgument, rules: ConventionRules, state: RegisterState, stack: { offset: number }, hidden: boolean): ArgSpec {
  const spec = (locations: Location[], why: string): ArgSpec => ({
    index: arg.index, text: arg.text, type: arg.type, size: arg.size, align: arg.align, variadic: arg.variadic,
    locations, extension: extensionOf(arg.type), classes: [],
    reason: `${argumentHead(arg)} → ${describeLocations(locations, arg.size)}: ${why}`,
  });
  const registers = registerPlan(arg, rules, state);
  if (registers) {
    const locations: Location[] = registers.map((reg, i) => ({ kind: 'reg', reg, offset: i * REGISTER_SIZE, size: Math.min(REGISTER_SIZE, arg.size - i * REGISTER_SIZE) }));
    const extension = extensionOf(arg.type);
    const widened = extension === 'none' ? '' : `, ${extension}-extended to 32 bits`;
    return spec(locations, `${rules.name} passes the first integer arguments in ${rules.registers.map((r) => `%${r}`).join(', ')}${widened} (${GCC})`);
  }
  if (arg.size === 0) return spec([], `an empty ${typeName(arg.type)} occupies no stack (GCC extension)`);
  const aligned = roundUp(stack.offset, stackSlotAlign(arg));
  const padding = aligned > stack.offset ? `; its type is 16-byte aligned, so its slot starts at the next 16-byte boundary (GCC's ix86_function_arg_boundary)` : '';
  stack.offset = aligned;
  const location: Location = { kind: 'stack', stackOffset: stack.offset, offset: 0, size: arg.size };
  stack.offset += roundUp(arg.size, STACK_SLOT);
  return spec([location], `${stackWhy(arg, rules, hidden)}${padding}`);
}

/**
 * §2.2.3 "Returning Values": structs and unions (of any size, on Linux) are returned in memory, and so are (i386
 * psABI 1.1, Table 2.4 "Return Value Location"; measured with gcc -m32) `_Complex double`, `_Complex long double`
 * and `__float128`; without MMX and SSE (gcc -m32's default, Debian's i386 baseline) vectors are too. `_Complex
 * float` comes back in %edx:%eax (real part in %eax).
 */
function isReturnedInMemory(type: CType): boolean {
  if (type.kind === 'complex') return type.of !== 'float';
  if (type.kind === 'float') return type.name === '__float128';
  return type.kind === 'struct' || type.kind === 'union' || type.kind === 'vector';
}

/**
 * GCC's ix86_function_arg_boundary (with ix86_contains_aligned_value_p): a stack argument that is, or contains, a
 * non-aggregate value of 16-byte alignment (__float128, a 16-byte vector) starts at a 16-byte-aligned slot ("the ABI
 * for passing parameters with 16-byte alignment has changed in GCC 4.6"); everything else — long double, and a struct
 * merely declared `aligned(16)` — at the next 4-byte slot.
 */
function stackSlotAlign(arg: CallArgument): number {
  return containsAlignedValue(arg.type) ? SIXTEEN_BYTE_ALIGNED : STACK_SLOT;
}

export function containsAlignedValue(type: CType): boolean {
  if (type.kind === 'array') return containsAlignedValue(type.of);
  if (type.kind === 'struct' || type.kind === 'union') return structLayout(type, ARCH).fields.some((f) => containsAlignedValue(f.type));
  return type.kind !== 'function' && type.kind !== 'void' && alignOf(type, ARCH) >= SIXTEEN_BYTE_ALIGNED;
}

/** Why a non-struct is returned in memory, for the reason sentence. */
function memoryReturnNote(type: CType): string {
  if (type.kind === 'complex') return ' (i386 psABI Table 2.4: complex double and long double are returned in memory)';
  if (type.kind === 'float') return ' (GCC: __float128 is returned in memory on i386)';
  if (type.kind === 'vector') return ' (gcc -m32 without MMX/SSE, Debian\'s i386 baseline, returns vectors in memory; code built with -mmmx/-msse uses %mm0/%xmm0 instead)';
  return '';
}

function returnSpec(type: CType, rules: ConventionRules): ReturnSpec {
  if (type.kind === 'void') return { type, size: 0, kind: 'void', locations: [], classes: [], reason: 'void: nothing is returned' };
  const size = sizeOf(type, ARCH);
  if (isReturnedInMemory(type)) {
    const where = rules.registers.length
      ? `in %${rules.registers[0]}, the first argument register (${rules.name})`
      : 'as a hidden first stack argument';
    const pop = !rules.registers.length && rules.calleePopsArguments ? `pops it with the other arguments (${rules.name})`
      : rules.registers.length ? 'pops nothing for it'
        : rules.calleePopsHidden ? 'pops it with `ret $4`' : `leaves it for the caller to remove (${rules.name})`;
    return {
      type, size, kind: 'memory', locations: [], classes: [],
      reason: `a ${typeName(type)} is returned in memory${memoryReturnNote(type)}: the caller passes a buffer's address ${where}; the callee returns it in %eax and ${pop} (${PSABI})`,
    };
  }
  if (type.kind === 'complex') {
    // Only _Complex float gets here: its two 4-byte parts in %eax (real) and %edx (imaginary).
    const locations: Location[] = INTEGER_RETURN_REGISTERS.map((reg, i) => ({ kind: 'reg', reg, offset: i * REGISTER_SIZE, size: REGISTER_SIZE }));
    return { type, size, kind: 'reg', locations, classes: [], reason: `_Complex float is returned in %edx:%eax, the real part in %eax and the imaginary part in %edx (${PSABI}, Table 2.4)` };
  }
  if (type.kind === 'float') {
    const bytes = type.name === 'long double' ? X87_EXTENDED_BYTES : size;
    return {
      type, size, kind: 'x87', locations: [{ kind: 'reg', reg: X87_RETURN_REGISTER, offset: 0, size: bytes }], classes: [],
      reason: `${type.name} is returned in %st0, the top of the x87 stack (${PSABI})`,
    };
  }
  // Integers, enums and pointers: %eax, with the high half of 8-byte values in %edx.
  const locations: Location[] = [];
  for (let offset = 0, i = 0; offset < size; offset += REGISTER_SIZE, i++) {
    locations.push({ kind: 'reg', reg: INTEGER_RETURN_REGISTERS[i], offset, size: Math.min(REGISTER_SIZE, size - offset) });
  }
  const where = locations.length > 1 ? '%edx:%eax (low half in %eax)' : '%eax';
  return { type, size, kind: 'reg', locations, classes: [], reason: `${typeName(type)} is returned in ${where} (${PSABI})` };
}

/**
 * pascal/register: the stack arguments were laid out left to right from `start`; flip them so the first is
 * highest. The hidden struct-return pointer (Delphi: an extra parameter after the declared ones) stays lowest.
 */
function reverseStack(args: ArgSpec[], start: number, total: number): void {
  for (const arg of args) {
    for (const l of arg.locations) if (l.kind === 'stack') l.stackOffset = start + total - l.stackOffset - roundUp(arg.size, STACK_SLOT);
  }
}

export function callSpecI386(proto: Prototype, variadicTypes: CType[]): CallSpec {
  const rules = rulesOf(proto.convention, proto.variadic);
  const ret = returnSpec(proto.ret, rules);
  if (ret.kind === 'memory' && proto.convention?.name === 'register') {
    throw new CallSpecError(`${proto.name}: a register-convention function cannot return a ${typeName(proto.ret)}: libffi's FFI_REGISTER defines no place for the hidden return pointer`);
  }
  const hidden = ret.kind === 'memory';
  const state: RegisterState = { next: 0 };
  const hiddenRegister = hidden && rules.registers.length ? rules.registers[state.next++] : undefined;
  const stack = { offset: hidden && !hiddenRegister ? POINTER_SIZE : 0 };
  const args = callArguments(proto, ARCH, variadicTypes).map((arg) => placeArgument(arg, rules, state, stack, hidden && !hiddenRegister));
  if (rules.leftToRight) {
    const aligned = args.find((a) => containsAlignedValue(a.type) && a.locations.some((l) => l.kind === 'stack'));
    if (aligned) throw new CallSpecError(`${proto.name}: libffi's ${rules.name} convention has no rule for a 16-byte-aligned stack argument (${aligned.text}); GCC cannot compile ${rules.name} either, so there is no reference for it`, aligned.index);
    reverseStack(args, hidden && !hiddenRegister ? POINTER_SIZE : 0, stack.offset);
  }
  const hiddenOnStack = hidden && !hiddenRegister;
  const calleePops = rules.calleePopsArguments ? stack.offset : hiddenOnStack && rules.calleePopsHidden ? HIDDEN_POINTER_POP : 0;
  const spec = planOf(proto, ARCH, args, ret, stack.offset, STACK_ALIGN, calleePops);
  if (hiddenRegister) spec.hiddenPointer = { kind: 'reg', reg: hiddenRegister, offset: 0, size: POINTER_SIZE };
  else if (hidden) spec.hiddenPointer = { kind: 'stack', stackOffset: 0, offset: 0, size: POINTER_SIZE };
  if (proto.convention) spec.convention = rules.name;
  return spec;
}
