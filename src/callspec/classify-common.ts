/**
 * Pieces shared by the two classifiers: the list of arguments a call passes (fixed and variadic), integer
 * extension, and the words used in explanations.
 */
import type { Arch } from '../emu/arch.ts';
import { alignOf, sizeOf, typeName } from './layout.ts';
import type { ArgSpec, CallSpec, CType, Extension, IntKind, Location, Prototype, ReturnSpec } from './types.ts';

/** A call that cannot be planned: a bad variadic type, an argument without a size. `argIndex` is 1-based. */
export class CallSpecError extends Error {
  readonly argIndex?: number;
  constructor(message: string, argIndex?: number) {
    super(argIndex === undefined ? message : `arg ${argIndex}: ${message}`);
    this.name = 'CallSpecError';
    if (argIndex !== undefined) this.argIndex = argIndex;
  }
}

/** One argument of the call, before placement. */
export interface CallArgument {
  /** 1-based position in the call. */
  index: number;
  text: string;
  type: CType;
  size: number;
  align: number;
  variadic: boolean;
}

/** Integer kinds narrower than `int`: the ones the default argument promotions widen (C11 §6.5.2.2p6). */
const PROMOTED_INT_KINDS = new Set<IntKind>(['_Bool', 'char', 'signed char', 'unsigned char', 'short', 'unsigned short']);

const UNSIGNED_INT_KINDS = new Set<IntKind>(['_Bool', 'unsigned char', 'unsigned short', 'unsigned int', 'unsigned long', 'unsigned long long', 'unsigned __int128']);

/** `char` is signed on x86 (i386 psABI §2.1.2, AMD64 psABI §3.1.2: "char" is signed). */
export function isSignedInt(name: IntKind): boolean {
  return !UNSIGNED_INT_KINDS.has(name);
}

/**
 * How a narrow integer is widened in its register or stack slot. The psABIs leave the upper bits unspecified,
 * but GCC and Clang extend `_Bool`, `char` and `short` arguments to 32 bits according to signedness, and code
 * compiled by Clang relies on it (GCC's callees extend again), so a caller must do so. Values of 32 bits and more are not extended.
 */
export function extensionOf(type: CType): Extension {
  if (type.kind !== 'int' || !PROMOTED_INT_KINDS.has(type.name)) return 'none';
  return isSignedInt(type.name) ? 'sign' : 'zero';
}

/** Variadic arguments must already have had the default argument promotions applied (C11 §6.5.2.2p7). */
function checkPromoted(type: CType, index: number): void {
  if (type.kind === 'float' && type.name === 'float') {
    throw new CallSpecError('a float cannot be passed as a variadic argument: the default argument promotions make it double', index);
  }
  if (type.kind === 'int' && PROMOTED_INT_KINDS.has(type.name)) {
    throw new CallSpecError(`${type.name} cannot be passed as a variadic argument: the default argument promotions make it int`, index);
  }
}

function sizedArgument(type: CType, arch: Arch, index: number): { size: number; align: number } {
  try {
    return { size: sizeOf(type, arch), align: alignOf(type, arch) };
  } catch (error) {
    throw new CallSpecError((error as Error).message, index);
  }
}

/** The arguments of a call: the prototype's parameters followed by the variadic ones. */
export function callArguments(proto: Prototype, arch: Arch, variadicTypes: CType[]): CallArgument[] {
  if (!proto.variadic && variadicTypes.length) {
    throw new CallSpecError(`${proto.name} is not variadic, but ${variadicTypes.length} variadic argument type(s) were given`);
  }
  const fixed = proto.params.map((param, i) => {
    const index = i + 1;
    return { index, text: param.text ?? typeName(param.type), type: param.type, variadic: false, ...sizedArgument(param.type, arch, index) };
  });
  const variadic = variadicTypes.map((type, i) => {
    const index = proto.params.length + i + 1;
    checkPromoted(type, index);
    return { index, text: `variadic #${i + 1} ${typeName(type)}`, type, variadic: true, ...sizedArgument(type, arch, index) };
  });
  return [...fixed, ...variadic];
}

const ORDINALS = ['zeroth', 'first', 'second', 'third', 'fourth', 'fifth', 'sixth', 'seventh', 'eighth', 'ninth', 'tenth'];

/** `1` → `first`; falls back to `#11` past ten. */
export function ordinal(n: number): string {
  return ORDINALS[n] ?? `#${n}`;
}

export function roundUp(value: number, multiple: number): number {
  return Math.ceil(value / multiple) * multiple;
}

/** `rdi`, `xmm0 (bytes 0–7) + rdi (bytes 8–15)`, `stack+16 (24 bytes)`. */
export function describeLocations(locations: Location[], valueSize: number): string {
  if (!locations.length) return 'nowhere (empty)';
  const one = (l: Location): string => {
    const name = l.kind === 'reg' ? l.reg : `stack+${l.stackOffset}`;
    if (locations.length > 1) return `${name} (bytes ${l.offset}–${l.offset + l.size - 1})`;
    return l.kind === 'stack' && l.size > 0 && l.size !== valueSize ? `${name} (${l.size} bytes)` : name;
  };
  return locations.map(one).join(' + ');
}

/** The `arg 3 \`double x\`` head of an argument's reason sentence. */
export function argumentHead(arg: CallArgument): string {
  return `arg ${arg.index} \`${arg.text}\``;
}

/** The plan's common fields: `stackBytes` of outgoing arguments, rounded up to the stack alignment. */
export function planOf(proto: Prototype, arch: Arch, args: ArgSpec[], ret: ReturnSpec, stackBytes: number, stackAlign: number, calleePops: number): CallSpec {
  return {
    arch, prototype: proto.text, function: proto.name, args, ret, stackSize: roundUp(stackBytes, stackAlign), stackAlign, calleePops,
  };
}
