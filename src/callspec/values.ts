/**
 * Argument and return values: how host (JS) values become the memory image of a C value, and back. Pure except
 * for the `GuestMemory` callback that places strings and buffers in guest memory.
 */
import type { Arch } from '../emu/arch.ts';
import { decodeFloat80, encodeFloat80, FLOAT80_BYTES } from './float80.ts';
import { decodeFloat16, encodeFloat16, Float128, FLOAT128_BYTES, parseFloat128 } from './float128.ts';
import { BINARY16, BINARY32, BINARY64, bytesOfBits, parseBinary } from './ieee-binary.ts';
import { LongDouble, parseFloat80 } from './long-double.ts';
import { sizeOf, structLayout, typeName } from './layout.ts';
import type { ComplexPart, CType, FloatKind, IntKind } from './types.ts';

export class ArgumentError extends Error {
  override name = 'ArgumentError';
}

/** The host arena's size: one call's strings, out-buffers and struct-return buffers together live in it. */
export const HOST_ARENA_BYTES = 4 * 1024 * 1024;

/** A zeroed guest buffer of `size` bytes passed as a pointer; its contents are reported after the call. */
export class OutBuffer {
  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 0 || size > HOST_ARENA_BYTES) {
      throw new ArgumentError(
        `out buffer size must be a whole number of bytes up to ${HOST_ARENA_BYTES >> 20} MiB (the host arena a call's strings and buffers share), got ${size}`,
      );
    }
  }
}

/** Something that lives at a guest address (a callback stub, a buffer): passed as that address. */
export class GuestPointer {
  constructor(readonly address: number) {}
}

/** A value with an explicit C type: what variadic arguments need (`vararg.double(1)`). */
export class TypedValue {
  constructor(
    readonly type: CType,
    readonly value: HostValue,
  ) {}
}

export type HostValue =
  | number
  | bigint
  | string
  | boolean
  | null
  | Uint8Array
  | OutBuffer
  | TypedValue
  | GuestPointer
  | LongDouble
  | Float128
  | HostValue[]
  | { [field: string]: HostValue };

const int = (name: IntKind): CType => Object.freeze({ kind: 'int', name });
/**
 * The types of variadic arguments, one shared (frozen) object each: call plans are found by their identity
 * (src/callspec/plan.ts), so the same signature finds its plan without building a key.
 */
export const INT = int('int');
export const DOUBLE: CType = Object.freeze({ kind: 'float', name: 'double' });
export const CHAR_POINTER: CType = Object.freeze({ kind: 'pointer', to: Object.freeze({ kind: 'int', name: 'char' }) });
export const VOID_POINTER: CType = Object.freeze({ kind: 'pointer', to: Object.freeze({ kind: 'void' }) });
const UINT = int('unsigned int');
const LONG = int('long');
const ULONG = int('unsigned long');
const LONG_LONG = int('long long');
const ULONG_LONG = int('unsigned long long');
const LONG_DOUBLE: CType = Object.freeze({ kind: 'float', name: 'long double' });
const FLOAT128: CType = Object.freeze({ kind: 'float', name: '__float128' });
const complex = (of: ComplexPart): CType => Object.freeze({ kind: 'complex', of });
const COMPLEX_FLOAT = complex('float');
const COMPLEX_DOUBLE = complex('double');
const COMPLEX_LONG_DOUBLE = complex('long double');

/** Typed constructors for variadic arguments, after C's default argument promotions. */
export const vararg = {
  int: (v: number | bigint) => new TypedValue(INT, v),
  uint: (v: number | bigint) => new TypedValue(UINT, v),
  long: (v: number | bigint) => new TypedValue(LONG, v),
  ulong: (v: number | bigint) => new TypedValue(ULONG, v),
  longlong: (v: number | bigint) => new TypedValue(LONG_LONG, v),
  ulonglong: (v: number | bigint) => new TypedValue(ULONG_LONG, v),
  double: (v: number) => new TypedValue(DOUBLE, v),
  /** A number (a double, converted exactly), or text / a LongDouble for the value exactly (`'2.71828182846'`). */
  longdouble: (v: number | string | LongDouble) => new TypedValue(LONG_DOUBLE, v),
  /** A __float128 (not promoted): a number (converted exactly), or text / a Float128 for the value exactly. */
  float128: (v: number | string | Float128) => new TypedValue(FLOAT128, v),
  /** Complex values are not promoted either: `{ re, im }`, `[re, im]` or a real number (parts exact as their type). */
  complexfloat: (v: HostValue) => new TypedValue(COMPLEX_FLOAT, v),
  complexdouble: (v: HostValue) => new TypedValue(COMPLEX_DOUBLE, v),
  complexlongdouble: (v: HostValue) => new TypedValue(COMPLEX_LONG_DOUBLE, v),
  ptr: (v: number | bigint | null) => new TypedValue(VOID_POINTER, v),
  str: (v: string) => new TypedValue(CHAR_POINTER, v),
  /**
   * A struct (or union) passed through `...` by value (libffi's va_struct tests): `vararg.struct('pt', {x: 1, y: 2})`.
   * The tag is looked up in the machine's declarations when the call is planned.
   */
  struct: (tag: string, v: HostValue) => new TypedValue(recordReference('struct', tag), v),
  union: (tag: string, v: HostValue) => new TypedValue(recordReference('union', tag), v),
};

/** The scalar variadic type prefixes the CLI accepts (`double:1.5`), mapped to the constructors above. */
export const VARARG_PREFIXES = Object.keys(vararg).filter((k) => k !== 'struct' && k !== 'union') as Exclude<keyof typeof vararg, 'struct' | 'union'>[];

/**
 * One CType object per `struct tag` / `union tag` reference: call plans are found by type identity, so the same
 * tag must give the same object on every call.
 */
const recordReferences = new Map<string, CType>();
function recordReference(kind: 'struct' | 'union', tag: string): CType {
  const key = `${kind} ${tag}`;
  let type = recordReferences.get(key);
  if (!type) recordReferences.set(key, (type = Object.freeze({ kind, tag }) as CType));
  return type;
}

/** A `struct tag` reference without its fields (`vararg.struct`): to be completed from declarations. */
export function isRecordReference(type: CType): type is CType & { kind: 'struct' | 'union'; tag: string } {
  return (type.kind === 'struct' || type.kind === 'union') && type.fields === undefined && type.tag !== undefined;
}

/**
 * The type of a variadic argument with `vararg.struct('tag', …)` references completed by `lookup` (a scope's
 * `tag(kind, tag)`); an undeclared tag is an ArgumentError saying how to declare it.
 */
export function completeVariadicType(type: CType, lookup: (kind: 'struct' | 'union', tag: string) => CType | undefined, position: number): CType {
  if (!isRecordReference(type)) return type;
  const complete = lookup(type.kind, type.tag);
  if (!complete || (complete.kind !== 'struct' && complete.kind !== 'union') || !complete.fields) {
    throw new ArgumentError(`variadic argument #${position}: ${type.kind} ${type.tag} is not defined; declare it (Machine.boot({ decls }), --decls) to pass it by value`);
  }
  return complete;
}

export function out(size: number): OutBuffer {
  return new OutBuffer(size);
}

/** Places host data in guest memory for the duration of a call. */
export interface GuestMemory {
  /** Copies bytes into guest memory; returns their address. */
  place(bytes: Uint8Array, align?: number): number;
}

interface IntInfo {
  bytes: number;
  signed: boolean;
}

export function intInfo(name: IntKind, arch: Arch): IntInfo {
  const bytes = sizeOf({ kind: 'int', name }, arch);
  const signed = !name.startsWith('unsigned') && name !== '_Bool';
  return { bytes, signed };
}

function toBigInt(value: HostValue, what: string): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'boolean') return value ? 1n : 0n;
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^-?(0x[0-9a-f]+|\d+)$/i.test(value.trim())) {
    const t = value.trim();
    return t.startsWith('-') ? -BigInt(t.slice(1)) : BigInt(t);
  }
  throw new ArgumentError(`${what}: expected an integer, got ${describe(value)}`);
}

function describe(value: HostValue): string {
  if (value instanceof OutBuffer) return `out:${value.size}`;
  if (value instanceof GuestPointer) return `pointer 0x${value.address.toString(16)}`;
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  return String(typeof value === 'object' && value !== null ? JSON.stringify(value) : value);
}

/** Encodes an integer into `bytes` little-endian bytes, checking that it fits the C type. */
function encodeInt(value: bigint, info: IntInfo, what: string): Uint8Array {
  const bits = BigInt(info.bytes * 8);
  const min = info.signed ? -(1n << (bits - 1n)) : 0n;
  const max = info.signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  // Accept the other signedness's spelling of the same bits (e.g. -1 for unsigned), as C conversions do.
  const lowest = info.signed ? min : -(1n << (bits - 1n));
  const highest = info.signed ? (1n << bits) - 1n : max;
  if (value < lowest || value > highest) {
    throw new ArgumentError(`${what}: ${value} does not fit in ${info.bytes * 8} bits`);
  }
  const out = new Uint8Array(info.bytes);
  let v = BigInt.asUintN(info.bytes * 8, value);
  for (let i = 0; i < info.bytes; i++, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

/** A __float128 from a Float128, text (exactly) or a number (a double, converted exactly). */
function encodeFloat128(value: HostValue, what: string): Uint8Array {
  try {
    if (value instanceof Float128) return Uint8Array.from(value.bytes);
    if (typeof value === 'string') return parseFloat128(value);
    if (value instanceof LongDouble) value = value.toNumber();
    if (typeof value === 'number' && !Number.isNaN(value)) return Float128.fromNumber(value).bytes;
  } catch (error) {
    throw new ArgumentError(`${what}: ${(error as Error).message}`);
  }
  throw new ArgumentError(`${what}: expected a number, text (\"1.5\", \"0x1.8p+1\") or a Float128 for __float128, got ${describe(value)}`);
}

const TEXT_FORMATS = { _Float16: BINARY16, float: BINARY32, double: BINARY64 } as const;

function encodeFloat(name: FloatKind, value: HostValue, arch: Arch, what: string): Uint8Array {
  if (name === '__float128') return encodeFloat128(value, what);
  if ((name === '_Float16' || name === 'float' || name === 'double') && typeof value === 'string') {
    // Text (decimal or hex float) is rounded once, straight to the type: a double in between would round twice.
    try {
      return bytesOfBits(parseBinary(TEXT_FORMATS[name], value), TEXT_FORMATS[name].bits / 8);
    } catch (error) {
      throw new ArgumentError(`${what}: expected a number, got ${describe(value)} (${(error as Error).message})`);
    }
  }
  if (name === 'long double' && (value instanceof LongDouble || typeof value === 'string')) {
    // Text is parsed straight to the 64-bit significand: a double in between would round it twice.
    const out = new Uint8Array(sizeOf({ kind: 'float', name: 'long double' }, arch));
    try {
      out.set(value instanceof LongDouble ? value.bytes : parseFloat80(value));
    } catch (error) {
      throw new ArgumentError(`${what}: ${(error as Error).message}`);
    }
    return out;
  }
  if (value instanceof LongDouble) value = value.toNumber();
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (Number.isNaN(n) && !(typeof value === 'string' && /^[-+]?nan$/i.test(value.trim()))) {
    throw new ArgumentError(`${what}: expected a number, got ${describe(value)}`);
  }
  if (name === '_Float16') return encodeFloat16(n);
  if (name === 'float') return new Uint8Array(new Float32Array([n]).buffer);
  if (name === 'double') return new Uint8Array(new Float64Array([n]).buffer);
  const out = new Uint8Array(sizeOf({ kind: 'float', name: 'long double' }, arch));
  out.set(encodeFloat80(n));
  return out;
}

export interface EncodedArgument {
  /** The value's memory image (its C size). */
  bytes: Uint8Array;
  /** For pointer arguments backed by an out buffer: where it is, to read back after the call. */
  outBuffer?: { address: number; size: number };
}

/** Encodes one host value as the C type `type`. Strings and buffers for pointer types are placed via `memory`. */
export function encodeValue(type: CType, value: HostValue, arch: Arch, memory: GuestMemory, what: string): EncodedArgument {
  // A `vararg.struct` reference takes the planned (complete) type.
  if (value instanceof TypedValue) return encodeValue(isRecordReference(value.type) ? type : value.type, value.value, arch, memory, what);
  switch (type.kind) {
    case 'int':
      if (type.name === '_Bool') return { bytes: Uint8Array.of(toBigInt(value, what) !== 0n ? 1 : 0) }; // C: nonzero → 1
      return { bytes: encodeInt(toBigInt(value, what), intInfo(type.name, arch), what) };
    case 'enum':
      return { bytes: encodeInt(toBigInt(value, what), { bytes: 4, signed: true }, what) };
    case 'float':
      return { bytes: encodeFloat(type.name, value, arch, what) };
    case 'pointer':
      return encodePointer(type, value, arch, memory, what);
    case 'struct':
    case 'union':
      return { bytes: encodeAggregate(type, value, arch, memory, what) };
    case 'array':
      return { bytes: encodeArray(type, value, arch, memory, what) };
    case 'complex':
      return { bytes: encodeComplex(type.of, value, arch, what) };
    case 'vector':
      return { bytes: encodeVector(type, value, arch, memory, what) };
    default:
      throw new ArgumentError(`${what}: cannot pass a value of type ${typeName(type)}`);
  }
}

function encodePointer(type: CType, value: HostValue, arch: Arch, memory: GuestMemory, what: string): EncodedArgument {
  const ptrInfo = { bytes: arch === 'amd64' ? 8 : 4, signed: false };
  if (value === null) return { bytes: new Uint8Array(ptrInfo.bytes) };
  if (value instanceof GuestPointer) return { bytes: encodeInt(BigInt(value.address), ptrInfo, what) };
  if (value instanceof OutBuffer) {
    const address = memory.place(new Uint8Array(value.size), 16);
    return { bytes: encodeInt(BigInt(address), ptrInfo, what), outBuffer: { address, size: value.size } };
  }
  if (value instanceof Uint8Array) {
    const address = memory.place(value, 16);
    return { bytes: encodeInt(BigInt(address), ptrInfo, what), outBuffer: { address, size: value.length } };
  }
  // A string is text for `char *` parameters (even "42"); for other pointers only non-numeric strings are text.
  if (typeof value === 'string' && (isCharPointer(type) || !/^-?(0x[0-9a-f]+|\d+)$/i.test(value))) {
    const bytes = new TextEncoder().encode(value);
    const address = memory.place(Uint8Array.from([...bytes, 0]), 1);
    return { bytes: encodeInt(BigInt(address), ptrInfo, what) };
  }
  return { bytes: encodeInt(toBigInt(value, what), ptrInfo, what) };
}

/** An array member of a struct: a list of element values, or a string for a char array (NUL-padded). */
function encodeArray(type: CType & { kind: 'array' }, value: HostValue, arch: Arch, memory: GuestMemory, what: string): Uint8Array {
  const elementSize = sizeOf(type.of, arch);
  const out = new Uint8Array(elementSize * type.length);
  if (typeof value === 'string' && type.of.kind === 'int' && type.of.name.endsWith('char')) {
    const text = new TextEncoder().encode(value);
    if (text.length > type.length) throw new ArgumentError(`${what}: "${value}" is longer than ${typeName(type)}`);
    out.set(text);
    return out;
  }
  if (!Array.isArray(value)) {
    throw new ArgumentError(`${what}: expected {…} element values${type.of.kind === 'int' && type.of.name.endsWith('char') ? ' or a string' : ''} for ${typeName(type)}, got ${describe(value)}`);
  }
  if (value.length > type.length) throw new ArgumentError(`${what}: ${typeName(type)} has ${type.length} elements, got ${value.length}`);
  value.forEach((element, i) => out.set(encodeValue(type.of, element, arch, memory, `${what}[${i}]`).bytes, i * elementSize));
  return out;
}

/** The parts of a complex value: `{ re, im }`, `[re, im]`, or a real number (imaginary part 0). */
function complexParts(value: HostValue, what: string, type: string): [HostValue, HostValue] {
  if (Array.isArray(value) && value.length === 2) return [value[0]!, value[1]!];
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && 're' in value) {
    const v = value as { re: HostValue; im?: HostValue };
    return [v.re, v.im ?? 0];
  }
  if (typeof value === 'number' || typeof value === 'string' || value instanceof LongDouble) return [value, 0];
  throw new ArgumentError(`${what}: expected a complex value { re, im } (or [re, im], or a real number) for ${type}, got ${describe(value)}`);
}

/** `_Complex T`: the real part's image then the imaginary part's, each T's size (long double: 12 or 16 bytes). */
function encodeComplex(part: ComplexPart, value: HostValue, arch: Arch, what: string): Uint8Array {
  const [re, im] = complexParts(value, what, `_Complex ${part}`);
  const size = sizeOf({ kind: 'float', name: part }, arch);
  const out = new Uint8Array(2 * size);
  out.set(encodeFloat(part, re, arch, `${what}.re`));
  out.set(encodeFloat(part, im, arch, `${what}.im`), size);
  return out;
}

/** A vector: its raw bytes (a Uint8Array of its size), or its elements (missing ones are 0). */
function encodeVector(type: CType & { kind: 'vector' }, value: HostValue, arch: Arch, memory: GuestMemory, what: string): Uint8Array {
  if (value instanceof Uint8Array) {
    if (value.length !== type.size) throw new ArgumentError(`${what}: ${typeName(type)} has ${type.size} bytes, got ${value.length}`);
    return Uint8Array.from(value);
  }
  const elementSize = sizeOf(type.of, arch);
  const length = type.size / elementSize;
  if (!Array.isArray(value) || value.length > length) {
    throw new ArgumentError(`${what}: expected up to ${length} ${typeName(type.of)} elements (or ${type.size} raw bytes) for ${typeName(type)}, got ${describe(value)}`);
  }
  const out = new Uint8Array(type.size);
  value.forEach((element, i) => out.set(encodeValue(type.of, element, arch, memory, `${what}[${i}]`).bytes, i * elementSize));
  return out;
}

function encodeAggregate(type: CType, value: HostValue, arch: Arch, memory: GuestMemory, what: string): Uint8Array {
  const layout = structLayout(type, arch);
  const out = new Uint8Array(layout.size);
  const fields = layout.fields.filter((f) => f.bitOffset === undefined);
  const values: HostValue[] = Array.isArray(value)
    ? value
    : value !== null && typeof value === 'object' && !(value instanceof Uint8Array) && !(value instanceof OutBuffer)
      ? fields.map((f) => (value as Record<string, HostValue>)[f.name ?? ''] ?? 0)
      : (() => {
          throw new ArgumentError(`${what}: expected a struct value {…} for ${typeName(type)}, got ${describe(value)}`);
        })();
  const count = type.kind === 'union' ? 1 : fields.length;
  if (values.length > count) {
    throw new ArgumentError(`${what}: ${typeName(type)} has ${count} field(s), got ${values.length} value(s)`);
  }
  values.forEach((v, i) => {
    const field = fields[i]!;
    const encoded = encodeValue(field.type, v, arch, memory, `${what}.${field.name ?? i}`);
    out.set(encoded.bytes.subarray(0, field.size), field.offset);
  });
  return out;
}

/** A decoded C value: numbers for ints that fit in 2^53, bigints beyond; objects for structs. */
export type DecodedValue = number | bigint | undefined | Float128 | { [field: string]: DecodedValue } | DecodedValue[];

/** Decodes the memory image of a C value. */
export function decodeValue(type: CType, bytes: Uint8Array, arch: Arch): DecodedValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (type.kind) {
    case 'void':
      return undefined;
    case 'int':
    case 'enum': {
      const info = type.kind === 'int' ? intInfo(type.name, arch) : { bytes: 4, signed: true };
      let v = 0n;
      for (let i = info.bytes - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
      if (info.signed) v = BigInt.asIntN(info.bytes * 8, v);
      return narrow(v);
    }
    case 'pointer':
      return arch === 'amd64' ? narrow(view.getBigUint64(0, true)) : view.getUint32(0, true);
    case 'float':
      if (type.name === 'float') return view.getFloat32(0, true);
      if (type.name === 'double') return view.getFloat64(0, true);
      if (type.name === '_Float16') return decodeFloat16(bytes);
      // Exactly: no JS number holds a __float128 (`toNumber()` gives the nearest double).
      if (type.name === '__float128') return new Float128(bytes.subarray(0, FLOAT128_BYTES));
      return decodeFloat80(bytes.subarray(0, FLOAT80_BYTES));
    case 'complex': {
      // `{ re, im }`; long double parts are the nearest doubles, as long double values are (the exact bytes are in the image).
      const part: CType = { kind: 'float', name: type.of };
      const size = sizeOf(part, arch);
      return { re: decodeValue(part, bytes.subarray(0, size), arch), im: decodeValue(part, bytes.subarray(size, 2 * size), arch) };
    }
    case 'vector': {
      const size = sizeOf(type.of, arch);
      return Array.from({ length: type.size / size }, (_, i) => decodeValue(type.of, bytes.subarray(i * size, (i + 1) * size), arch));
    }
    case 'struct':
    case 'union': {
      const layout = structLayout(type, arch);
      const result: { [field: string]: DecodedValue } = {};
      layout.fields.forEach((f, i) => {
        if (f.bitOffset !== undefined) return;
        result[f.name ?? `_${i}`] = decodeValue(f.type, bytes.subarray(f.offset, f.offset + f.size), arch);
      });
      return result;
    }
    case 'array': {
      const size = sizeOf(type.of, arch);
      return Array.from({ length: type.length }, (_, i) => decodeValue(type.of, bytes.subarray(i * size, (i + 1) * size), arch));
    }
    default:
      return undefined;
  }
}

function narrow(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** True for `char *`, `const char *`, `signed/unsigned char *`: parameters where strings are natural. */
export function isCharPointer(type: CType): boolean {
  return type.kind === 'pointer' && type.to.kind === 'int' && type.to.name.endsWith('char');
}
