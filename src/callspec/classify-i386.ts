/**
 * The i386 System V (Linux cdecl) calling convention, i386 psABI §2.2.3 "Parameter Passing and Returning
 * Values": every argument on the stack, left to right at increasing addresses, in 4-byte-rounded slots; integer
 * results in %eax (and %edx), floating-point results on the x87 stack, structs and unions through a hidden
 * pointer that the callee pops.
 */
import { sizeOf, typeName, X87_EXTENDED_BYTES } from './layout.ts';
import {
  argumentHead, callArguments, describeLocations, extensionOf, roundUp, type CallArgument,
} from './classify-common.ts';
import type { ArgSpec, CallSpec, CType, Location, Prototype, ReturnSpec } from './types.ts';

const ARCH = 'i386';

/** §2.2.3: arguments occupy the stack in slots rounded up to a multiple of 4 bytes ("word alignment"). */
const STACK_SLOT = 4;
/** The Linux i386 ABI (psABI 1.1, §2.2.2 "The Stack Frame") keeps %esp 16-byte aligned at calls. */
const STACK_ALIGN = 16;
const POINTER_SIZE = 4;
/** The hidden return pointer occupies the first slot and the callee pops it with `ret $4`. */
const HIDDEN_POINTER_POP = POINTER_SIZE;
const REGISTER_SIZE = 4;
const INTEGER_RETURN_REGISTERS = ['eax', 'edx'] as const;
const X87_RETURN_REGISTER = 'st0';

const PSABI = 'i386 psABI §2.2.3';

/** Every argument, whatever its type, goes in the next slot, its size rounded up to 4 (§2.2.3). */
function assignStack(arg: CallArgument, stack: { offset: number }): Location {
  const stackOffset = stack.offset;
  stack.offset += roundUp(arg.size, STACK_SLOT);
  return { kind: 'stack', stackOffset, offset: 0, size: arg.size };
}

/** `a 4-byte slot`, `an 8-byte slot`, `an 11-byte ...`. */
function article(n: number): string {
  return /^(8|11|18)/.test(String(n)) ? 'an' : 'a';
}

function placeArgument(arg: CallArgument, stack: { offset: number }, hidden: boolean): ArgSpec {
  const locations = arg.size === 0 ? [] : [assignStack(arg, stack)];
  const extension = extensionOf(arg.type);
  const widened = extension === 'none' ? '' : `, ${extension}-extended to 32 bits`;
  const after = hidden && arg.index === 1 ? ', after the hidden return pointer' : '';
  const what = arg.type.kind === 'struct' || arg.type.kind === 'union' ? `the ${arg.size}-byte ${typeName(arg.type)} is copied by value` : `in ${article(roundUp(arg.size, STACK_SLOT))} ${roundUp(arg.size, STACK_SLOT)}-byte slot${widened}`;
  return {
    index: arg.index, text: arg.text, type: arg.type, size: arg.size, align: arg.align, variadic: arg.variadic,
    locations, extension, classes: [],
    reason: `${argumentHead(arg)} → ${describeLocations(locations, arg.size)}: ${what}${after} (${PSABI}: all arguments are passed on the stack, left to right at increasing addresses, each rounded up to 4 bytes)`,
  };
}

/** §2.2.3 "Returning Values": structs and unions (of any size, on Linux) are returned in memory. */
function isReturnedInMemory(type: CType): boolean {
  return type.kind === 'struct' || type.kind === 'union';
}

function returnSpec(type: CType): ReturnSpec {
  if (type.kind === 'void') return { type, size: 0, kind: 'void', locations: [], classes: [], reason: 'void: nothing is returned' };
  const size = sizeOf(type, ARCH);
  if (isReturnedInMemory(type)) {
    return {
      type, size, kind: 'memory', locations: [], classes: [],
      reason: `a ${typeName(type)} is returned in memory: the caller passes a buffer's address as a hidden first stack argument; the callee returns it in %eax and pops it with \`ret $4\` (${PSABI})`,
    };
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

export function callSpecI386(proto: Prototype, variadicTypes: CType[]): CallSpec {
  const ret = returnSpec(proto.ret);
  const hidden = ret.kind === 'memory';
  const stack = { offset: hidden ? POINTER_SIZE : 0 };
  const args = callArguments(proto, ARCH, variadicTypes).map((arg) => placeArgument(arg, stack, hidden));
  const spec: CallSpec = {
    arch: ARCH,
    prototype: proto.text,
    function: proto.name,
    args,
    ret,
    stackSize: roundUp(stack.offset, STACK_ALIGN),
    stackAlign: STACK_ALIGN,
    calleePops: hidden ? HIDDEN_POINTER_POP : 0,
  };
  if (hidden) spec.hiddenPointer = { kind: 'stack', stackOffset: 0, offset: 0, size: POINTER_SIZE };
  return spec;
}
