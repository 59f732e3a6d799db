/**
 * Sizes, alignments and struct layouts of C types on the two System V x86 ABIs.
 *
 * Alignments are ABI alignments, the ones used for struct members, array elements and argument slots, and the
 * ones C11 `_Alignof` reports. On i386 they differ from GCC's "preferred" alignment (`__alignof__`) for
 * `long long` and `double`: those are 8-byte aligned as standalone variables but only 4-byte aligned inside
 * structs and on the argument stack (i386 psABI §2.1.2, Figure 2.1), which is what matters for calls.
 */
import type { Arch } from '../emu/arch.ts';
import type { CField, CType, FloatKind, IntKind } from './types.ts';

/** A type that has no size (void, functions, incomplete structs, flexible arrays) was used where one is needed. */
export class LayoutError extends Error {
  readonly type: CType;
  constructor(type: CType, message: string) {
    super(message);
    this.name = 'LayoutError';
    this.type = type;
  }
}

const BITS_PER_BYTE = 8;

interface ScalarLayout {
  size: number;
  align: number;
}

type ScalarName = IntKind | FloatKind | 'pointer' | 'enum';
/** The scalars that exist on amd64 only (GCC for i386: "__int128 is not supported on this target", and likewise _Float16). */
type Amd64Only = '__int128' | 'unsigned __int128' | '_Float16';

/** i386 psABI §2.1.2 (Figure 2.1, "Scalar Types"): ABI alignment of 8-byte scalars is 4. */
const I386_SCALARS: Record<Exclude<ScalarName, Amd64Only>, ScalarLayout> = {
  _Bool: { size: 1, align: 1 },
  char: { size: 1, align: 1 }, 'signed char': { size: 1, align: 1 }, 'unsigned char': { size: 1, align: 1 },
  short: { size: 2, align: 2 }, 'unsigned short': { size: 2, align: 2 },
  int: { size: 4, align: 4 }, 'unsigned int': { size: 4, align: 4 },
  long: { size: 4, align: 4 }, 'unsigned long': { size: 4, align: 4 },
  'long long': { size: 8, align: 4 }, 'unsigned long long': { size: 8, align: 4 },
  float: { size: 4, align: 4 },
  double: { size: 8, align: 4 },
  'long double': { size: 12, align: 4 },
  // GCC: __float128 keeps its 16-byte alignment on i386 (sizeof(struct { char c; __float128 q; }) is 32).
  __float128: { size: 16, align: 16 },
  pointer: { size: 4, align: 4 },
  enum: { size: 4, align: 4 },
};

/** AMD64 psABI §3.1.2 (Figure 3.1, "Scalar Types"): LP64, every scalar naturally aligned. */
const AMD64_SCALARS: Record<ScalarName, ScalarLayout> = {
  ...I386_SCALARS,
  long: { size: 8, align: 8 }, 'unsigned long': { size: 8, align: 8 },
  'long long': { size: 8, align: 8 }, 'unsigned long long': { size: 8, align: 8 },
  double: { size: 8, align: 8 },
  'long double': { size: 16, align: 16 },
  pointer: { size: 8, align: 8 },
  // AMD64 psABI §3.1.2: __int128 is 16 bytes, 16-byte aligned.
  __int128: { size: 16, align: 16 }, 'unsigned __int128': { size: 16, align: 16 },
  // AMD64 psABI §3.1.2 (Figure 3.1): _Float16 is 2 bytes, 2-byte aligned; __float128 16 bytes, 16-byte aligned.
  _Float16: { size: 2, align: 2 },
};

const SCALARS: Record<Arch, Partial<Record<ScalarName, ScalarLayout>>> = { i386: I386_SCALARS, amd64: AMD64_SCALARS };

/** A scalar's layout on `arch`; __int128 exists only on amd64. */
function scalarLayout(scalar: ScalarName, type: CType, arch: Arch): ScalarLayout {
  const layout = SCALARS[arch][scalar];
  if (!layout) {
    const why = scalar === '_Float16' ? 'GCC 12 for i386 without SSE2, the Debian i386 baseline: "\'_Float16\' is not supported on this target"' : `GCC: "${scalar} is not supported on this target"`;
    throw new LayoutError(type, `${scalar} is not supported on ${arch} (${why}); it exists on amd64`);
  }
  return layout;
}

/**
 * `_Complex T`: the real and imaginary parts one after the other, aligned like T (i386 psABI §2.1.2 and AMD64 psABI
 * §3.1.2, "complex" rows of Figure 2.1 / 3.1: on i386 `_Complex double` is 16 bytes, 4-byte aligned; `_Complex long
 * double` 24 bytes).
 */
function complexLayout(type: CType & { kind: 'complex' }, arch: Arch): ScalarLayout {
  const part = scalarLayout(type.of, type, arch);
  return { size: 2 * part.size, align: part.align };
}

/** The sizes GCC accepts for the vectors modelled here: an MMX-sized and an SSE-sized one. */
export const VECTOR_SIZES = [8, 16] as const;

/**
 * A GCC vector: its `vector_size` bytes, aligned to its size — except that i386 without MMX (Debian's baseline,
 * GCC's default for -m32) gives 8-byte vectors the 4-byte ABI alignment of `long long` (sizeof(struct { char c;
 * __m64 v; }) is 12 there).
 */
function vectorLayout(type: CType & { kind: 'vector' }, arch: Arch): ScalarLayout {
  return { size: type.size, align: arch === 'i386' && type.size === 8 ? 4 : type.size };
}

/** Bytes of a long double's memory image that hold the 80-bit x87 extended value (the rest is padding). */
export const X87_EXTENDED_BYTES = 10;

/** One member of a laid-out struct or union. */
export interface FieldLayout {
  /** Undefined for anonymous struct/union members and unnamed bit-fields. */
  name?: string;
  /** Byte offset. For a bit-field: the byte holding its lowest bit. */
  offset: number;
  /** Bytes occupied: the type's size, or for a bit-field the bytes its bits touch. */
  size: number;
  type: CType;
  /** Bit-fields only: position of the lowest bit within the byte at `offset` (0–7, little-endian). */
  bitOffset?: number;
  /** Bit-fields only: width in bits. */
  bits?: number;
}

export interface StructLayout {
  size: number;
  align: number;
  fields: FieldLayout[];
}

/** A type in C syntax, for messages: `struct pcap`, `int [4]`, `const char *`, `void (*)(int)`. */
export function typeName(type: CType): string {
  return declare(type, '', false);
}

/** C's inside-out declarator syntax: `inner` is what has been derived so far (`*`, `[4]`, ...). */
function declare(type: CType, inner: string, isConst: boolean): string {
  const grouped = inner.startsWith('*') ? `(${inner})` : inner;
  switch (type.kind) {
    case 'pointer':
      return declare(type.to, `*${inner}`, type.const === true);
    case 'array':
      return declare(type.of, `${grouped}[${type.flexible ? '' : type.length}]`, isConst);
    case 'function': {
      const params = type.params.map((p) => typeName(p.type));
      if (type.variadic) params.push('...');
      return declare(type.ret, `${grouped}(${params.join(', ') || 'void'})`, false);
    }
    default: {
      const base = `${isConst ? 'const ' : ''}${baseName(type)}`;
      return inner ? `${base} ${inner}` : base;
    }
  }
}

function baseName(type: CType): string {
  switch (type.kind) {
    case 'int':
    case 'float':
      return type.name;
    case 'complex':
      return `_Complex ${type.of}`;
    case 'vector':
      return type.name ?? `${baseName(type.of)} __attribute__((vector_size(${type.size})))`;
    case 'struct':
    case 'union':
    case 'enum':
      return type.tag === undefined ? `anonymous ${type.kind}` : `${type.kind} ${type.tag}`;
    default:
      return type.kind;
  }
}

function scalarName(type: CType): ScalarName | undefined {
  if (type.kind === 'int' || type.kind === 'float') return type.name;
  if (type.kind === 'pointer' || type.kind === 'enum') return type.kind;
  return undefined;
}

/** Reject the types that have no size, with a sentence saying what can be done instead. */
function requireSized(type: CType): void {
  if (type.kind === 'void') throw new LayoutError(type, 'void has no size; only pointers to it can be passed');
  if (type.kind === 'function') throw new LayoutError(type, `a function (${typeName(type)}) has no size; pass a pointer to it`);
  if ((type.kind === 'struct' || type.kind === 'union') && !type.fields) {
    throw new LayoutError(type, `${typeName(type)} has no definition; only pointers to it can be passed`);
  }
  if (type.kind === 'array' && type.flexible) {
    throw new LayoutError(type, `a flexible array (${typeName(type)}) has no size`);
  }
}

/** sizeof(type) on `arch`. */
export function sizeOf(type: CType, arch: Arch): number {
  const scalar = scalarName(type);
  if (scalar) return scalarLayout(scalar, type, arch).size;
  if (type.kind === 'complex') return complexLayout(type, arch).size;
  if (type.kind === 'vector') return vectorLayout(type, arch).size;
  requireSized(type);
  if (type.kind === 'array') return type.length * sizeOf(type.of, arch);
  return structLayout(type, arch).size;
}

/** The ABI alignment of `type` on `arch` (as a struct member or argument; C11 `_Alignof`). */
export function alignOf(type: CType, arch: Arch): number {
  const scalar = scalarName(type);
  if (scalar) return scalarLayout(scalar, type, arch).align;
  if (type.kind === 'complex') return complexLayout(type, arch).align;
  if (type.kind === 'vector') return vectorLayout(type, arch).align;
  requireSized(type);
  if (type.kind === 'array') return alignOf(type.of, arch);
  return structLayout(type, arch).align;
}

function roundUp(value: number, multiple: number): number {
  return Math.ceil(value / multiple) * multiple;
}

/**
 * A flexible or zero-length array member makes the aggregate's size meaningless for a by-value copy: reject it.
 * (GCC accepts both as extensions; passing such a struct by value copies only the fixed part, which is never
 * what the caller means.)
 */
function rejectVariableLengthMember(owner: CType, field: CField): void {
  const t = field.type;
  if (t.kind !== 'array' || (!t.flexible && t.length !== 0)) return;
  const what = t.flexible ? 'a flexible array member' : 'a zero-length array';
  throw new LayoutError(
    owner,
    `${typeName(owner)}: field \`${field.name ?? '(unnamed)'}\` is ${what} (${typeName(t)}); ` +
      'a struct ending in a variable-length array has no fixed size and cannot be laid out or passed by value',
  );
}

/**
 * GCC's rule for bit-fields on x86 (PCC_BITFIELD_TYPE_MATTERS, "excess_unit_span"): a bit-field may not span
 * more units of its type's alignment than the type itself has; otherwise it starts at the next aligned unit.
 * For `int` (size 4, align 4) this means it may not cross a 4-byte boundary; for `long long` on i386 (size 8,
 * align 4) it may cross one 4-byte boundary but not two.
 */
function bitFieldExceedsUnitSpan(bitPos: number, bits: number, unitBits: number, typeBits: number): boolean {
  const within = bitPos % unitBits;
  return Math.ceil((within + bits) / unitBits) > typeBits / unitBits;
}

/**
 * Place one bit-field (System V psABI: "bit-fields must be contained in a storage unit appropriate for its
 * declared type"; i386 §2.1.2 / AMD64 §3.1.2 "Bit-Fields"). Returns the bit position of its lowest bit.
 */
function placeBitField(bitPos: number, bits: number, type: CType, arch: Arch, packed: boolean): number {
  const unitBits = alignOf(type, arch) * BITS_PER_BYTE;
  const typeBits = sizeOf(type, arch) * BITS_PER_BYTE;
  // A zero-width bit-field pads to the next unit of its type, even in a packed struct.
  if (bits === 0) return roundUp(bitPos, unitBits);
  if (!packed && bitFieldExceedsUnitSpan(bitPos, bits, unitBits, typeBits)) return roundUp(bitPos, unitBits);
  return bitPos;
}

function bitFieldLayout(field: CField, bitPos: number): FieldLayout {
  const bits = field.bits!;
  const offset = Math.floor(bitPos / BITS_PER_BYTE);
  const bitOffset = bitPos % BITS_PER_BYTE;
  const layout: FieldLayout = { offset, size: Math.ceil((bitOffset + bits) / BITS_PER_BYTE), type: field.type, bitOffset, bits };
  if (field.name !== undefined) layout.name = field.name;
  return layout;
}

function validateBitField(owner: CType, field: CField, arch: Arch): void {
  const maxBits = sizeOf(field.type, arch) * BITS_PER_BYTE;
  if (field.bits! > maxBits) {
    throw new LayoutError(owner, `${typeName(owner)}: bit-field \`${field.name ?? '(unnamed)'}\` is ${field.bits} bits wide, but ${typeName(field.type)} has only ${maxBits}`);
  }
}

const layoutCache: Record<Arch, WeakMap<CType, StructLayout>> = { i386: new WeakMap(), amd64: new WeakMap() };

/**
 * The layout of a struct or union: members in declaration order at increasing offsets, each aligned to its ABI
 * alignment; the size rounded up to the largest member alignment (psABI "Aggregates and Unions"). Named
 * bit-fields give the aggregate their type's alignment; unnamed ones do not. `packed` drops all member
 * alignment; `aligned(N)` raises the aggregate's alignment.
 */
export function structLayout(type: CType, arch: Arch): StructLayout {
  if (type.kind !== 'struct' && type.kind !== 'union') throw new LayoutError(type, `${typeName(type)} is not a struct or union`);
  requireSized(type);
  const cached = layoutCache[arch].get(type);
  if (cached) return cached;
  const packed = type.packed === true;
  const isUnion = type.kind === 'union';
  const fields: FieldLayout[] = [];
  let bitPos = 0; // next free bit (structs)
  let sizeBits = 0; // bits used so far (the maximum, for unions)
  let align = 1;
  for (const field of type.fields!) {
    rejectVariableLengthMember(type, field);
    const start = isUnion ? 0 : bitPos;
    if (field.bits !== undefined) {
      validateBitField(type, field, arch);
      const at = placeBitField(start, field.bits, field.type, arch, packed);
      if (field.bits > 0) fields.push(bitFieldLayout(field, at));
      if (field.name !== undefined && !packed) align = Math.max(align, alignOf(field.type, arch));
      bitPos = at + field.bits;
    } else {
      const fieldAlign = packed ? 1 : alignOf(field.type, arch);
      const size = sizeOf(field.type, arch);
      const offset = roundUp(start, fieldAlign * BITS_PER_BYTE) / BITS_PER_BYTE;
      const layout: FieldLayout = { offset, size, type: field.type };
      if (field.name !== undefined) layout.name = field.name;
      fields.push(layout);
      align = Math.max(align, fieldAlign);
      bitPos = (offset + size) * BITS_PER_BYTE;
    }
    sizeBits = Math.max(sizeBits, bitPos);
  }
  if (type.align !== undefined) align = Math.max(align, type.align);
  const size = roundUp(Math.ceil(sizeBits / BITS_PER_BYTE), align);
  const layout = { size, align, fields };
  layoutCache[arch].set(type, layout);
  return layout;
}
