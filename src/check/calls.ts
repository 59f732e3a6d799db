/**
 * Call events, for an ltrace-like view (`--calls`): the checker reports every watched call at entry and at return
 * with its arguments and return value decoded by the prototype's CallSpec. That view shows bugs no rule can see —
 * an i386 caller that passes a 64-bit `long long` in one 4-byte slot makes `llabs` read its high half from the
 * next slot, and the line shows the value the callee really received.
 *
 * Decoding is pure over a `MachineView` (registers and memory at the moment of the event); the formatter and the
 * printer are pure over the events.
 */
import type { Arch } from '../emu/arch.ts';
import { decodeFloat80, FLOAT80_BYTES } from '../callspec/float80.ts';
import { typeName } from '../callspec/layout.ts';
import type { ArgSpec, CallSpec, CType, Location, ReturnSpec } from '../callspec/types.ts';
import { decodeValue, type DecodedValue, isCharPointer } from '../callspec/values.ts';
import type { RuleId } from './rules.ts';

/** Characters of a C string shown before it is cut with `…`. */
export const CALL_STRING_CHARS = 32;

/** One decoded argument or return value. */
export interface CallValue {
  /** The parameter as written (`const char *fmt`), `...` position text for variadic ones, or the return type. */
  text: string;
  type: CType;
  value: DecodedValue;
  /** For `char *` values: the C string there (at most CALL_STRING_CHARS + 1 characters; NULL has none). */
  string?: string;
}

export interface CallEvent {
  kind: 'entry' | 'return';
  /** Sequence number of the call: its entry and return events (and violations) share it. */
  call: number;
  thread: number;
  /** More than one guest thread exists: lines show the thread id. */
  multithreaded: boolean;
  /** Watched calls open below this one on the same thread (0: outermost). */
  depth: number;
  function: string;
  arch: Arch;
  /** The return address (the caller's site). */
  returnAddress: number;
  /** Made by the host (shimulator's reference trampoline) rather than by guest code. */
  fromHost: boolean;
  /** The arguments as the callee received them (decoded at entry; repeated on the return event). */
  args: CallValue[];
  /** Variadic arguments whose types are unknown (shown as `…`). */
  moreVariadic: boolean;
  /** Return events: the value where the CallSpec says it is (undefined for void). */
  ret?: CallValue;
  /** Rules broken at this entry / return. */
  violations: RuleId[];
}

/** Registers and memory at an event, as the decoder needs them. */
export interface MachineView {
  arch: Arch;
  /** Stack pointer at entry (the return address is at [sp]). */
  sp: number;
  reg(name: string): bigint;
  regBytes(name: string, size: number): Uint8Array;
  read(address: number, size: number): Uint8Array;
  /** At most `max` bytes of the C string at `address`. */
  cString(address: number, max: number): string;
}

const pointerSize = (arch: Arch) => (arch === 'amd64' ? 8 : 4);

/** The bytes a value occupies in its locations (registers, stack slots at entry), reassembled into its image. */
function gather(view: MachineView, locations: Location[], size: number, sp: number): Uint8Array {
  const image = new Uint8Array(Math.max(size, 1));
  for (const location of locations) {
    let bytes: Uint8Array;
    if (location.kind === 'stack') bytes = view.read(sp + pointerSize(view.arch) + location.stackOffset, location.size);
    else if (location.reg.startsWith('xmm')) bytes = view.regBytes(location.reg, 16);
    else if (location.reg.startsWith('st')) bytes = x87Image(view.regBytes(location.reg, FLOAT80_BYTES), location.size);
    else bytes = littleEndian(view.reg(location.reg), 8);
    image.set(bytes.subarray(0, Math.min(location.size, image.length - location.offset)), location.offset);
  }
  return image;
}

/** An argument's image; a by-reference one (Win64) is read where its location points. */
function argumentImage(view: MachineView, arg: ArgSpec): Uint8Array {
  if (!arg.indirect) return gather(view, arg.locations, arg.size, view.sp);
  const pointer = gather(view, arg.locations, pointerSize(view.arch), view.sp);
  return view.read(Number(new DataView(pointer.buffer).getBigUint64(0, true)), arg.size);
}

function littleEndian(value: bigint, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = Number((value >> BigInt(8 * i)) & 0xffn);
  return bytes;
}

/** st0 holds an 80-bit extended value; a float or double result is its rounding to the C type. */
function x87Image(st: Uint8Array, size: number): Uint8Array {
  if (size === 4) return new Uint8Array(new Float32Array([decodeFloat80(st)]).buffer);
  if (size === 8) return new Uint8Array(new Float64Array([decodeFloat80(st)]).buffer);
  return st;
}

function valueOf(view: MachineView, text: string, type: CType, image: Uint8Array): CallValue {
  const value = decodeValue(type, image, view.arch);
  const result: CallValue = { text, type, value };
  if (isCharPointer(type) && typeof value === 'number' && value !== 0) result.string = view.cString(value, CALL_STRING_CHARS + 1);
  return result;
}

/** The arguments at a function's entry, by the CallSpec (variadic ones only when `spec` includes them). */
export function readArguments(view: MachineView, spec: CallSpec): CallValue[] {
  return spec.args.map((arg: ArgSpec) => valueOf(view, arg.text, arg.type, argumentImage(view, arg)));
}

/** The return value right after the return, where the CallSpec puts it (memory results: at the hidden pointer). */
export function readReturn(view: MachineView, ret: ReturnSpec, hiddenPointer: number | undefined): CallValue | undefined {
  if (ret.kind === 'void') return undefined;
  const text = typeName(ret.type);
  if (ret.kind === 'memory') return valueOf(view, text, ret.type, hiddenPointer ? view.read(hiddenPointer, ret.size) : new Uint8Array(ret.size));
  if (ret.kind === 'x87' && ret.locations.length === 1) return valueOf(view, text, ret.type, x87Image(view.regBytes('st0', FLOAT80_BYTES), ret.size));
  return valueOf(view, text, ret.type, gather(view, ret.locations, ret.size, view.sp));
}

const hex = (n: number | bigint) => `0x${n.toString(16)}`;

/** A C string as a quoted literal, cut after CALL_STRING_CHARS characters. */
function quote(text: string): string {
  const shown = text.length > CALL_STRING_CHARS ? text.slice(0, CALL_STRING_CHARS) : text;
  return `${JSON.stringify(shown)}${text.length > CALL_STRING_CHARS ? '…' : ''}`;
}

/** One value the way ltrace shows it: integers in decimal, pointers in hex, strings quoted, structs in braces. */
export function formatCallValue(v: Pick<CallValue, 'type' | 'value' | 'string'>): string {
  const { type, value } = v;
  if (value === undefined) return type.kind === 'void' ? '<void>' : '?';
  if (type.kind === 'pointer') {
    if (value === 0) return 'NULL';
    return v.string !== undefined ? quote(v.string) : hex(value as number | bigint);
  }
  if (type.kind === 'float') return Number.isNaN(value) ? 'nan' : String(value);
  if (type.kind === 'complex') {
    // `1.5-0.25i`, as C's complex literals read.
    const { re, im } = value as { re: number; im: number };
    const imText = Number.isNaN(im) ? '+nan' : Object.is(im, -0) ? '-0' : im < 0 ? String(im) : `+${im}`;
    return `${Number.isNaN(re) ? 'nan' : re}${imText}i`;
  }
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return `[${value.map((x) => formatCallValue({ type: { kind: 'void' }, value: x })).join(', ')}]`;
  if (type.kind === 'struct' || type.kind === 'union') {
    const fields = type.fields ?? [];
    return `{${Object.entries(value).map(([name, x], i) => `${name}=${formatCallValue({ type: fields[i]?.type ?? { kind: 'int', name: 'long' }, value: x })}`).join(', ')}}`;
  }
  return JSON.stringify(value);
}

/**
 * One line for an event, indented two spaces per depth, with `[tid]` when several threads exist. An entry event
 * reads `snprintf(0x7ffe…, 64, "%.2f", 1.5) …`; a return event the whole call: `llabs(4294967291) = 4294967291`.
 * Broken rules follow the line (`✗ stack-alignment`).
 */
export function formatCallLine(event: CallEvent): string {
  const prefix = `${event.multithreaded ? `[${event.thread}] ` : ''}${'  '.repeat(event.depth)}`;
  const args = [...event.args.map(formatCallValue), ...(event.moreVariadic ? ['…'] : [])].join(', ');
  const call = `${event.function}(${args})`;
  const body = event.kind === 'entry' ? `${call} …` : `${call} = ${event.ret ? formatCallValue(event.ret) : '<void>'}`;
  const marks = event.violations.length ? `   ${event.violations.map((r) => `✗ ${r}`).join(' ')}` : '';
  return `${prefix}${body}${marks}`;
}

/**
 * Turns the event stream into ltrace-like lines: a call that makes no watched calls of its own prints one line at
 * its return (`strlen("ok") = 2`); one that does prints `fn(args) …` when its first nested call starts, the
 * nested calls indented below it, and `… fn resumed = value` at its return. Lines are written as soon as known.
 */
export function callPrinter(write: (line: string) => void): (event: CallEvent) => void {
  const pending = new Map<number, CallEvent>(); // per thread: an entry not printed yet
  return (event) => {
    const open = pending.get(event.thread);
    if (event.kind === 'entry') {
      if (open) write(formatCallLine(open));
      pending.set(event.thread, event);
      return;
    }
    if (open && open.call === event.call) {
      pending.delete(event.thread);
      write(formatCallLine({ ...event, violations: [...open.violations, ...event.violations] }));
      return;
    }
    if (open) {
      write(formatCallLine(open));
      pending.delete(event.thread);
    }
    const resumed = formatCallLine({ ...event, args: [], moreVariadic: false });
    write(resumed.replace(`${event.function}() =`, `… ${event.function} resumed =`));
  };
}
