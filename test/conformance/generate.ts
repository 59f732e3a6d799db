/**
 * The conformance corpus (issue 3): seeded random C signatures plus hand-picked libffi-style families, C callees
 * that serialise what they received, and a native caller whose output on real x86 hardware is the expected answer.
 *
 * Library: `generateCorpus({ seed, count })` gives the signatures with their argument and return values;
 * `renderHeader`, `renderCallees`, `renderCaller` give the C sources; `predictLine` gives the line a correct caller
 * must produce, computed from the values alone (used to check the native output and the committed files).
 *
 * CLI: `npx tsx test/conformance/generate.ts [--seed N] [--count N] [--out DIR]` writes corpus.h, callees.c,
 * caller.c and corpus.json into DIR (default build/conformance).
 *
 * One line per signature: `<name> <hex of conformance_out> <hex of the return value>`, `-` for no bytes. Only the
 * bytes that carry meaning are serialised: scalars in their C size (pointers and `long` in the arch's size), a
 * `long double` as its 10 x87 bytes, a struct field by field (never padding), arrays element by element.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { extraBytes, extraLayout, extraLiteral, extraPut, extraValue, type Helpers, isExtraType } from './types-values.ts';

export type Arch = 'amd64' | 'i386';
export const ARCHES: Arch[] = ['amd64', 'i386'];

// ---------------------------------------------------------------------------------------------------------------
// Types

export const INT_TYPES = [
  '_Bool', 'char', 'signed char', 'unsigned char', 'short', 'unsigned short', 'int', 'unsigned int',
  'long', 'unsigned long', 'long long', 'unsigned long long',
] as const;
export const FLOAT_TYPES = ['float', 'double', 'long double'] as const;
export const SCALAR_TYPES = [...INT_TYPES, ...FLOAT_TYPES, 'void *'] as const;
/** Variadic arguments: types that are their own default argument promotion. */
export const PROMOTED_TYPES = ['int', 'unsigned int', 'long', 'unsigned long', 'long long', 'unsigned long long', 'double', 'long double', 'void *'] as const;
/** Element types of array members (never long double, whose elements would contain padding). */
const ARRAY_ELEMENTS = ['char', 'signed char', 'unsigned char', 'char', 'unsigned char', 'short', 'int', 'float'] as const;

/** A C type spelling: a scalar from SCALAR_TYPES, `struct TAG`, or `void` (returns only). */
export type TypeName = string;

export interface FieldDef {
  name: string;
  type: TypeName;
  /** Array member: `type name[length]`. */
  length?: number;
}

export interface StructDef {
  tag: string;
  fields: FieldDef[];
  /** `__attribute__((packed))`. */
  packed?: boolean;
  /** `__attribute__((aligned(N)))`. */
  aligned?: number;
}

/** A JSON value: integers as numbers (decimal strings beyond 2^53), floats as numbers ("-0", "Infinity",
 * "-Infinity" as strings), structs and arrays as arrays, arch-dependent values (long, pointers) as {amd64, i386}. */
export type Value = number | string | Value[] | { amd64: Value; i386: Value };

export interface Signature {
  name: string;
  /** The C prototype, parameters named a0, a1, …. */
  proto: string;
  ret: TypeName;
  params: TypeName[];
  /** Types of the variadic arguments passed (empty for a fixed-arity function). */
  variadic: TypeName[];
  /** `…` in the prototype. */
  isVariadic: boolean;
  /** Values for params then variadic arguments. */
  args: Value[];
  /** The value the callee returns (absent for void). */
  retValue?: Value;
  /** For hand-picked cases: what the case is about. */
  note?: string;
}

export interface Corpus {
  seed: number;
  count: number;
  /** C struct definitions, valid for gcc and for shimulator's Declarations. */
  decls: string;
  structs: StructDef[];
  signatures: Signature[];
}

const isStruct = (t: TypeName) => t.startsWith('struct ');
const tagOf = (t: TypeName) => t.slice('struct '.length);
/** long, unsigned long and pointers are 8 bytes on amd64 and 4 on i386: their values are per arch. */
const ARCH_DEPENDENT = new Set(['long', 'unsigned long', 'void *']);

interface IntInfo {
  bytes: Record<Arch, number>;
  signed: boolean;
}

function intInfo(t: TypeName): IntInfo {
  const both = (n: number) => ({ amd64: n, i386: n });
  switch (t) {
    case '_Bool': return { bytes: both(1), signed: false };
    case 'char': case 'signed char': return { bytes: both(1), signed: true };
    case 'unsigned char': return { bytes: both(1), signed: false };
    case 'short': return { bytes: both(2), signed: true };
    case 'unsigned short': return { bytes: both(2), signed: false };
    case 'int': return { bytes: both(4), signed: true };
    case 'unsigned int': return { bytes: both(4), signed: false };
    case 'long': return { bytes: { amd64: 8, i386: 4 }, signed: true };
    case 'unsigned long': case 'void *': return { bytes: { amd64: 8, i386: 4 }, signed: false };
    case 'long long': return { bytes: both(8), signed: true };
    case 'unsigned long long': return { bytes: both(8), signed: false };
    case '__int128': return { bytes: both(16), signed: true };
    case 'unsigned __int128': return { bytes: both(16), signed: false };
    default: throw new Error(`not an integer type: ${t}`);
  }
}

/** amd64 only: used by the conventions corpus, never by the cross-arch random corpus. */
export const INT128_TYPES = ['__int128', 'unsigned __int128'] as const;
const isInt = (t: TypeName) => (INT_TYPES as readonly string[]).includes(t) || t === 'void *' || (INT128_TYPES as readonly string[]).includes(t);
const isFloat = (t: TypeName) => (FLOAT_TYPES as readonly string[]).includes(t);

/** Size and alignment (only used to keep generated structs within 64 bytes and to describe them). */
function scalarLayout(t: TypeName, arch: Arch): { size: number; align: number } {
  if (isExtraType(t)) return extraLayout(t, arch, HELPERS);
  if (isInt(t)) {
    const size = intInfo(t).bytes[arch];
    return { size, align: arch === 'i386' ? Math.min(size, 4) : size };
  }
  if (t === 'float') return { size: 4, align: 4 };
  if (t === 'double') return { size: 8, align: arch === 'i386' ? 4 : 8 };
  if (t === 'long double') return arch === 'i386' ? { size: 12, align: 4 } : { size: 16, align: 16 };
  throw new Error(`not a scalar: ${t}`);
}

export function typeLayout(t: TypeName, structs: Map<string, StructDef>, arch: Arch): { size: number; align: number } {
  if (!isStruct(t)) return scalarLayout(t, arch);
  const def = structs.get(tagOf(t))!;
  let offset = 0;
  let align = 1;
  for (const f of def.fields) {
    const l = typeLayout(f.type, structs, arch);
    const fieldAlign = def.packed ? 1 : l.align;
    offset = Math.ceil(offset / fieldAlign) * fieldAlign + l.size * (f.length ?? 1);
    align = Math.max(align, fieldAlign);
  }
  align = Math.max(align, def.aligned ?? 1);
  return { size: Math.ceil(offset / align) * align, align };
}

// ---------------------------------------------------------------------------------------------------------------
// A small seeded PRNG (sfc32, seeded through splitmix32)

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t >>> 0;
  }

  /** 0 ≤ n < bound. */
  int(bound: number): number {
    return Math.floor((this.u32() / 2 ** 32) * bound);
  }

  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.u32() / 2 ** 32 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  /** A uniformly random unsigned integer of `bits` bits. */
  bits(bits: number): bigint {
    let v = 0n;
    for (let i = 0; i < bits; i += 32) v = (v << 32n) | BigInt(this.u32());
    return BigInt.asUintN(bits, v);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Values

const jsonInt = (v: bigint): Value => (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString());

function jsonFloat(v: number): Value {
  if (Object.is(v, -0)) return '-0';
  if (!Number.isFinite(v)) return String(v);
  return v;
}

export function floatOf(v: Value): number {
  return typeof v === 'string' ? Number(v) : (v as number);
}

export function intOf(v: Value): bigint {
  return typeof v === 'string' ? BigInt(v) : BigInt(v as number);
}

/** The value for `arch` of a possibly arch-dependent value. */
export function forArch(v: Value, arch: Arch): Value {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v[arch] : v;
}

function genInt(rng: Rng, bytes: number, signed: boolean): bigint {
  const bits = bytes * 8;
  const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
  const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
  const r = rng.int(100);
  if (r < 22) return rng.pick([min, max, min + 1n, max - 1n, 0n, 1n, signed ? -1n : max >> 1n, signed ? min >> 1n : (max >> 1n) + 1n]);
  if (r < 45) {
    const small = BigInt(rng.range(-300, 300));
    const v = signed ? small : small < 0n ? -small : small;
    return v < min ? min : v > max ? max : v;
  }
  const raw = rng.bits(bits);
  return signed ? BigInt.asIntN(bits, raw) : raw;
}

function genPointer(rng: Rng, bytes: number): bigint {
  const r = rng.int(10);
  if (r === 0) return 0n;
  if (r === 1) return bytes === 8 ? 0xffff_ffff_ffff_fff0n + BigInt(rng.int(16)) : 0xffff_fff0n + BigInt(rng.int(16));
  if (r < 5) return 0x1000n + BigInt(rng.int(0x10000));
  return bytes === 8 ? 0x7f00_0000_0000n + rng.bits(40) : 0x0804_8000n + rng.bits(27);
}

const FLOAT_SPECIALS = [0, -0, 1, -1, 0.5, -2.5, 100, Infinity, -Infinity, 3.4028234663852886e38, -3.4028234663852886e38,
  1.1754943508222875e-38, 1.401298464324817e-45, -1.401298464324817e-45, Math.fround(1 / 3), Math.fround(Math.PI), 16777216, -16777215];
const DOUBLE_SPECIALS = [0, -0, 1, -1, 0.5, 0.1, -1e-300, 1e300, Infinity, -Infinity, Number.MAX_VALUE, -Number.MAX_VALUE,
  Number.MIN_VALUE, 2.2250738585072014e-308, 2.225073858507201e-308, 1 / 3, Math.PI, 2 ** 53, -(2 ** 53 - 1), Number.EPSILON];

/** A float (exactly representable in float32) or a double; long doubles are doubles, converted exactly. */
function genFloat(rng: Rng, single: boolean): number {
  const r = rng.int(100);
  if (r < 15) return rng.pick(single ? FLOAT_SPECIALS : DOUBLE_SPECIALS);
  if (r < 35) return rng.range(-4000, 4000) / 8;
  const bytes = new DataView(new ArrayBuffer(8));
  const sign = rng.chance(0.5) ? 1 : 0;
  const exponent = r < 90 ? rng.range(-40, 40) : single ? rng.range(-126, 127) : rng.range(-1022, 1023);
  bytes.setUint32(0, (sign << 31) | ((exponent + 1023) << 20) | (rng.u32() & 0xfffff));
  bytes.setUint32(4, rng.u32());
  const v = bytes.getFloat64(0);
  return single ? Math.fround(v) : v;
}

export function genValue(rng: Rng, t: TypeName, structs: Map<string, StructDef>): Value {
  if (isExtraType(t)) return extraValue(rng, t, HELPERS);
  if (isStruct(t)) {
    const def = structs.get(tagOf(t))!;
    return def.fields.map((f) =>
      f.length === undefined ? genValue(rng, f.type, structs) : Array.from({ length: f.length }, () => genValue(rng, f.type, structs)),
    );
  }
  if (t === 'void *') return { amd64: jsonInt(genPointer(rng, 8)), i386: jsonInt(genPointer(rng, 4)) };
  if (t === '_Bool') return rng.int(2);
  if (isInt(t)) {
    const info = intInfo(t);
    if (ARCH_DEPENDENT.has(t)) {
      return { amd64: jsonInt(genInt(rng, info.bytes.amd64, info.signed)), i386: jsonInt(genInt(rng, info.bytes.i386, info.signed)) };
    }
    return jsonInt(genInt(rng, info.bytes.amd64, info.signed));
  }
  if (isFloat(t)) return jsonFloat(genFloat(rng, t === 'float'));
  throw new Error(`cannot generate a value of type ${t}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Structs

/** Fixed structs: every return size class and the alignment- and classification-sensitive shapes. */
export const KNOWN_STRUCTS: [tag: string, body: string, attributes?: { packed?: boolean; aligned?: number }][] = [
  ['k_c1', 'char a;'],
  ['k_b1', '_Bool a;'],
  ['k_s1', 'short a;'],
  ['k_cc', 'char a; unsigned char b;'],
  ['k_c3', 'char a[3];'],
  ['k_ccc', 'char a; signed char b; unsigned char c;'],
  ['k_i1', 'int a;'],
  ['k_f1', 'float a;'],
  ['k_sc', 'short a; char b;'],
  ['k_c5', 'unsigned char a[5];'],
  ['k_s3', 'short a[3];'],
  ['k_c7', 'signed char a[7];'],
  ['k_ff', 'float a; float b;'],
  ['k_fi', 'float a; int b;'],
  ['k_if', 'int a; float b;'],
  ['k_ii', 'int a; int b;'],
  ['k_fc', 'float a; char b;'],
  ['k_d', 'double a;'],
  ['k_l', 'long a;'],
  ['k_p', 'void *a;'],
  ['k_c9', 'char a[9];'],
  ['k_sfs', 'short a; float b; short c;'],
  ['k_c12', 'unsigned char a[12];'],
  ['k_fff', 'float a; float b; float c;'],
  ['k_iif', 'int a; int b; float c;'],
  ['k_cic', 'char a; int b; char c;'],
  ['k_ffff', 'float a; float b; float c; float d;'],
  ['k_ffi', 'float a; float b; int c;'],
  ['k_dd', 'double a; double b;'],
  ['k_dl', 'double a; long b;'],
  ['k_ld2', 'long a; double b;'],
  ['k_df', 'double a; float b;'],
  ['k_fd', 'float a; double b;'],
  ['k_dc', 'double a; char b;'],
  ['k_cd', 'char a; double b;'],
  ['k_ll', 'long long a; long long b;'],
  ['k_sll', 'short a; long long b;'],
  ['k_ffd', 'float a; float b; double c;'],
  ['k_ifd', 'int a; float b; double c;'],
  ['k_x', 'long double a;'],
  ['k_cx', 'char a; long double b;'],
  ['k_xi', 'long double a; int b;'],
  ['k_xd', 'long double a; double b;'],
  ['k_c17', 'char a[17];'],
  ['k_lll', 'long long a; long long b; long long c;'],
  ['k_ddd', 'double a; double b; double c;'],
  ['k_dfi', 'double a; float b; int c; char d[5];'],
  ['k_d4', 'double a[4];'],
  ['k_c33', 'unsigned char a[33];'],
  ['k_ll6', 'long long a[6];'],
  ['k_xx', 'long double a; long double b;'],
  ['k_64', 'double a[4]; long long b[4];'],
  ['k_n_ff_f', 'struct k_ff a; float b;'],
  ['k_n_fi_d', 'struct k_fi a; double b;'],
  ['k_n_c_c3_s', 'char a; struct k_c3 b; short c;'],
  ['k_n_d_dd', 'double a; struct k_dd b;'],
  ['k_n_f_n', 'float a; struct k_n_ff_f b;'],
  ['k_bcb', '_Bool a; char b; _Bool c;'],
  ['k_c10', 'char a[10];'],
  ['k_fc9', 'float a; char b[9];'],
  ['k_c15', 'unsigned char a[15];'],
  ['k_dc7', 'double a; char b[7];'],
  ['k_fc3', 'float a; char b[3];'],
  ['k_c40', 'char a[40];'],
  ['k_ic55', 'int a; unsigned char b[55];'],
  ['k_c63', 'signed char a[63];'],
  ['k_pk_cd', 'char a; double b;', { packed: true }],
  ['k_pk_si', 'short a; int b;', { packed: true }],
  ['k_pk_cff', 'char a; float b; float c;', { packed: true }],
  ['k_pk_cx', 'char a; long double b;', { packed: true }],
  ['k_al16_d', 'double a;', { aligned: 16 }],
  ['k_al8_cc', 'char a; char b;', { aligned: 8 }],
  ['k_al16_if', 'int a; float b;', { aligned: 16 }],
  ['k_al32_f', 'float a;', { aligned: 32 }],
  ['k_pi', 'void *a; int b;'],
  ['k_ulc', 'unsigned long a; char b[3];'],
];

function parseFields(body: string): FieldDef[] {
  return body
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s)
    .map((s) => {
      const m = /^(.*?)\s*\b([a-z]\w*)(?:\[(\d+)\])?$/.exec(s)!;
      const field: FieldDef = { name: m[2]!, type: m[1]!.trim() };
      if (m[3]) field.length = Number(m[3]);
      return field;
    });
}

function maxSize(t: TypeName, structs: Map<string, StructDef>): number {
  return Math.max(...ARCHES.map((a) => typeLayout(t, structs, a).size));
}

/** Random structs of 1–4 fields: scalars, float/int mixes, char arrays (odd sizes), sometimes a nested struct. */
function randomStruct(rng: Rng, tag: string, structs: Map<string, StructDef>, nestable: string[]): StructDef {
  for (;;) {
    const fields: FieldDef[] = [];
    const count = rng.range(1, 4);
    const floatIntMix = rng.chance(0.3);
    for (let i = 0; i < count; i++) {
      const name = String.fromCharCode(0x61 + i);
      const r = rng.int(100);
      if (r < 15) fields.push({ name, type: rng.pick(ARRAY_ELEMENTS), length: rng.range(1, 12) });
      else if (r < 23 && nestable.length) fields.push({ name, type: `struct ${rng.pick(nestable)}` });
      else if (floatIntMix) fields.push({ name, type: rng.pick(['float', 'int', 'float', 'unsigned int', 'char', 'short', 'double', 'float']) });
      else fields.push({ name, type: rng.pick(SCALAR_TYPES) });
    }
    const def = { tag, fields };
    structs.set(tag, def);
    if (maxSize(`struct ${tag}`, structs) <= 64) return def;
    structs.delete(tag);
  }
}

export function structDecl(def: StructDef): string {
  const fields = def.fields.map((f) => `${f.type}${f.type.endsWith('*') ? '' : ' '}${f.name}${f.length === undefined ? '' : `[${f.length}]`};`);
  const attributes = [def.packed ? 'packed' : '', def.aligned ? `aligned(${def.aligned})` : ''].filter(Boolean);
  return `struct ${def.tag} { ${fields.join(' ')} }${attributes.length ? ` __attribute__((${attributes.join(', ')}))` : ''};`;
}

// ---------------------------------------------------------------------------------------------------------------
// Signatures

export const DEFAULT_SEED = 20260101;
export const DEFAULT_COUNT = 1000;
const RANDOM_STRUCTS = 80;

export function makeSignature(
  rng: Rng,
  structs: Map<string, StructDef>,
  name: string,
  ret: TypeName,
  params: TypeName[],
  variadic: TypeName[] | undefined,
  note?: string,
): Signature {
  const isVariadic = variadic !== undefined;
  if (isVariadic && params.length === 0) throw new Error(`${name}: a variadic function needs a fixed parameter`);
  const list = params.map((t, i) => `${t}${t.endsWith('*') ? '' : ' '}a${i}`);
  if (isVariadic) list.push('...');
  const proto = `${ret}${ret.endsWith('*') ? '' : ' '}${name}(${list.join(', ') || 'void'})`;
  const vtypes = variadic ?? [];
  const sig: Signature = {
    name,
    proto,
    ret,
    params,
    variadic: vtypes,
    isVariadic,
    args: [...params, ...vtypes].map((t) => genValue(rng, t, structs)),
  };
  if (ret !== 'void') sig.retValue = genValue(rng, ret, structs);
  if (note) sig.note = note;
  return sig;
}

/** Hand-picked libffi-style families. */
function handPicked(rng: Rng, structs: Map<string, StructDef>): Signature[] {
  const out: Signature[] = [];
  const add = (ret: TypeName, params: TypeName[], variadic: TypeName[] | undefined, note: string) =>
    out.push(makeSignature(rng, structs, `h${String(out.length).padStart(3, '0')}`, ret, params, variadic, note));
  const alternate = (n: number, a: TypeName, b: TypeName) => Array.from({ length: n }, (_, i) => (i % 2 ? b : a));

  // Many mixed arguments: register exhaustion in both register files, the rest on the stack.
  add('double', alternate(15, 'double', 'int'), undefined, '15 params alternating double/int');
  add('int', alternate(15, 'int', 'double'), undefined, '15 params alternating int/double');
  add('float', alternate(15, 'float', 'long long'), undefined, '15 params alternating float/long long');
  add('long double', alternate(15, 'long double', 'char'), undefined, '15 params alternating long double/char');
  add('void', alternate(15, 'unsigned char', 'float'), undefined, '15 params alternating unsigned char/float');
  add('short', alternate(15, 'short', 'double'), undefined, '15 params alternating short/double');
  add('unsigned long long', Array(15).fill('double'), undefined, '15 doubles: 8 in xmm, 7 on the stack');
  add('long', Array(15).fill('long'), undefined, '15 longs: 6 in GPRs, 9 on the stack');
  add('_Bool', Array(15).fill('_Bool'), undefined, '15 _Bools');
  add('signed char', [...Array(6).fill('int'), ...Array(8).fill('float'), 'long double'], undefined, 'all registers used, then x87 on the stack');
  add('void *', ['void *', 'float', 'void *', 'double', 'void *', 'long double', 'void *', 'unsigned short'], undefined, 'pointers and floats');

  // Every struct: by value alone (and returned), after GPR / SSE pressure, and on the stack among scalars.
  for (const [tag] of KNOWN_STRUCTS) {
    const s = `struct ${tag}`;
    add(s, [s], undefined, `${tag} by value and returned`);
    add('int', ['long', 'long', 'long', 'long', 'long', s, 'int', 'double'], undefined, `${tag} with one GPR left`);
    add('double', [...Array(7).fill('double'), s, 'float', 'char'], undefined, `${tag} with one SSE register left`);
    add(s, ['char', s, 'long double', s, 'short'], undefined, `${tag} twice around a long double, returned`);
  }

  // Alignment-sensitive sequences (i386 stack slots, amd64 16-byte long double slots).
  add('long double', ['char', 'long double', 'char', 'long double'], undefined, 'long double alignment on the stack');
  add('struct k_x', ['struct k_x', 'int', 'struct k_x'], undefined, 'struct {long double}: memory class');
  add('long long', ['char', 'long long', 'short', 'double', 'char', 'struct k_cd'], undefined, '8-byte scalars after narrow ones');
  add('struct k_xd', ['long double', 'long double', 'long double'], undefined, 'long double args, 32-byte return');
  add('long double', ['long double'], undefined, 'long double identity-shaped');
  add('long double', ['struct k_xi', 'float', 'struct k_cx'], undefined, 'long double inside structs');

  // Variadic tails of every promoted type, also beyond the register files, and %al.
  add('int', ['int'], ['double', 'double', 'double', 'double', 'double', 'double', 'double', 'double', 'double', 'double'], 'variadic: 10 doubles (8 in xmm, 2 on the stack)');
  add('double', ['double', 'double', 'double', 'double', 'double', 'double', 'double', 'double'], ['double', 'int', 'long double'], 'variadic after all xmm registers used');
  add('long double', ['int'], ['long double', 'int', 'long double', 'double', 'long double'], 'variadic long doubles');
  add('void', ['long', 'long', 'long', 'long', 'long'], ['long', 'unsigned long long', 'void *', 'unsigned int', 'int'], 'variadic after GPR pressure');
  add('struct k_dd', ['char'], ['int', 'unsigned int', 'long', 'unsigned long', 'long long', 'unsigned long long', 'double', 'long double', 'void *'], 'every promoted type');
  add('float', ['float'], ['struct k_dd', 'int', 'struct k_fi', 'struct k_lll'], 'structs in a variadic tail');
  add('int', ['struct k_ff'], ['struct k_x', 'double', 'struct k_c3'], 'struct {long double} and 3-byte struct variadic');
  return out;
}

/** The known structs and RANDOM_STRUCTS random ones (`s00`…), drawn from `rng`. */
export function makeStructs(rng: Rng): Map<string, StructDef> {
  const structs = new Map<string, StructDef>();
  for (const [tag, body, attributes] of KNOWN_STRUCTS) structs.set(tag, { tag, fields: parseFields(body), ...attributes });
  const nestable = KNOWN_STRUCTS.map(([tag]) => tag).filter((tag) => maxSize(`struct ${tag}`, structs) <= 24);
  for (let i = 0; i < RANDOM_STRUCTS; i++) {
    const tag = `s${String(i).padStart(2, '0')}`;
    randomStruct(rng, tag, structs, nestable);
    if (maxSize(`struct ${tag}`, structs) <= 24) nestable.push(tag);
  }
  return structs;
}

export function generateCorpus(options: { seed?: number; count?: number } = {}): Corpus {
  const seed = options.seed ?? DEFAULT_SEED;
  const count = options.count ?? DEFAULT_COUNT;
  const rng = new Rng(seed);
  const structs = makeStructs(rng);
  const structTypes = [...structs.keys()].map((tag) => `struct ${tag}`);

  const randomType = (): TypeName => (rng.chance(0.33) ? rng.pick(structTypes) : rng.pick(SCALAR_TYPES));
  const signatures: Signature[] = [];
  for (let i = 0; i < count; i++) {
    const name = `f${String(i).padStart(4, '0')}`;
    const nparams = rng.chance(0.15) ? rng.range(10, 15) : rng.range(0, 9);
    const params = Array.from({ length: nparams }, randomType);
    let variadic: TypeName[] | undefined;
    if (rng.chance(0.25)) {
      if (params.length === 0) params.push(randomType());
      variadic = Array.from({ length: rng.range(1, 6) }, () => rng.pick(PROMOTED_TYPES));
    }
    const r = rng.int(100);
    const ret = r < 10 ? 'void' : r < 55 ? rng.pick(SCALAR_TYPES) : rng.pick(structTypes);
    signatures.push(makeSignature(rng, structs, name, ret, params, variadic));
  }
  signatures.push(...handPicked(rng, structs));

  const defs = [...structs.values()];
  return { seed, count, decls: defs.map(structDecl).join('\n') + '\n', structs: defs, signatures };
}

// ---------------------------------------------------------------------------------------------------------------
// C sources

/** An exact C hex-float literal body for a double (`0x1.8p+1`, `0x0.0000000000001p-1022`); no sign handling for inf/nan. */
export function hexFloat(v: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v);
  const bits = view.getBigUint64(0);
  const sign = bits >> 63n ? '-' : '';
  const exponent = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const digits = fraction.toString(16).padStart(13, '0').replace(/0+$/, '');
  const frac = digits ? `.${digits}` : '';
  if (exponent === 0) return fraction === 0n ? `${sign}0x0p+0` : `${sign}0x0${frac}p-1022`;
  const e = exponent - 1023;
  return `${sign}0x1${frac}p${e >= 0 ? '+' : ''}${e}`;
}

function floatLiteral(t: TypeName, v: number): string {
  const suffix = t === 'float' ? 'f' : t === 'long double' ? 'L' : '';
  if (!Number.isFinite(v)) {
    const inf = `__builtin_inf${suffix === 'f' ? 'f' : suffix === 'L' ? 'l' : ''}()`;
    return v < 0 ? `(-${inf})` : inf;
  }
  return `${hexFloat(v)}${suffix}`;
}

function intLiteral(t: TypeName, v: bigint): string {
  if ((INT128_TYPES as readonly string[]).includes(t)) {
    // C has no 128-bit literals: the two halves, shifted and or-ed.
    const u = BigInt.asUintN(128, v);
    return `(${t})(((unsigned __int128)${u >> 64n}ULL << 64) | ${u & ((1n << 64n) - 1n)}ULL)`;
  }
  if (t === 'void *') return `(void *)(unsigned long)${v}ULL`;
  if (t === '_Bool') return `(_Bool)${v}`;
  if (!intInfo(t).signed) return `(${t})${v}ULL`;
  if (v === -(1n << 63n)) return `(${t})(-9223372036854775807LL - 1)`;
  return `(${t})${v}LL`;
}

/** A C expression (or, inside an initializer, a braced list) for the value. */
export function literal(t: TypeName, v: Value, structs: Map<string, StructDef>, inInitializer = false): string {
  if (isExtraType(t)) return extraLiteral(t, v, HELPERS);
  if (isStruct(t)) {
    const def = structs.get(tagOf(t))!;
    const values = v as Value[];
    const inits = def.fields.map((f, i) =>
      f.length === undefined
        ? literal(f.type, values[i]!, structs, true)
        : `{ ${(values[i] as Value[]).map((e) => literal(f.type, e, structs, true)).join(', ')} }`,
    );
    const body = `{ ${inits.join(', ')} }`;
    return inInitializer ? body : `(${t})${body}`;
  }
  if (ARCH_DEPENDENT.has(t)) {
    const o = v as { amd64: Value; i386: Value };
    return `ARCH(${intLiteral(t, intOf(o.amd64))}, ${intLiteral(t, intOf(o.i386))})`;
  }
  if (isFloat(t)) return floatLiteral(t, floatOf(v));
  return intLiteral(t, intOf(v));
}

const cName = (t: TypeName) => t.replace(/^struct /, '').replace(/\W+/g, '_');

/** C statement(s) appending the meaningful bytes of the object `expr` (an lvalue) of type t. */
export function putStatement(t: TypeName, expr: string): string {
  if (isExtraType(t)) return extraPut(t, expr);
  if (isStruct(t)) return `put_${cName(t)}(&${expr});`;
  if (t === 'long double') return `PUTLD(${expr});`;
  return `PUT(${expr});`;
}

export function renderHeader(corpus: Corpus): string {
  return [
    '/* Generated by test/conformance/generate.ts: the conformance corpus\'s types and functions. */',
    '#ifndef CONFORMANCE_CORPUS_H',
    '#define CONFORMANCE_CORPUS_H',
    '#ifdef __x86_64__',
    '#define ARCH(amd64, i386) (amd64)',
    '#else',
    '#define ARCH(amd64, i386) (i386)',
    '#endif',
    corpus.decls,
    'extern unsigned char conformance_out[];',
    'extern unsigned int conformance_len;',
    'void conformance_reset(void);',
    ...corpus.signatures.map((s) => `${s.proto};`),
    '#endif',
    '',
  ].join('\n');
}

/** Serialisers for every struct, writing to SINK / SINK_LEN (defined by the including file). */
export function renderSerialisers(corpus: Pick<Corpus, 'structs'>): string {
  const lines = [
    'static void __attribute__((noinline)) put(const void *p, unsigned n) {',
    '  const unsigned char *b = p;',
    '  if (SINK_LEN + n > sizeof SINK) abort();',
    '  for (unsigned i = 0; i < n; i++) SINK[SINK_LEN++] = b[i];',
    '}',
    '#define PUT(x) put(&(x), sizeof(x))',
    '#define PUTLD(x) put(&(x), 10)',
  ];
  for (const def of corpus.structs) lines.push(`static void put_${def.tag}(const struct ${def.tag} *v);`);
  for (const def of corpus.structs) {
    const body = def.fields.map((f) => (f.length === undefined ? putStatement(f.type, `v->${f.name}`) : `PUT(v->${f.name});`));
    lines.push(`static void put_${def.tag}(const struct ${def.tag} *v) { ${body.join(' ')} }`);
  }
  return lines.join('\n');
}

/** The callees: each appends what it received to conformance_out and returns its constant. */
export function renderCallees(corpus: Corpus): string {
  const lines = [
    '/* Generated by test/conformance/generate.ts: callees that serialise what they received. */',
    '#include <stdarg.h>',
    '#include <stdlib.h>',
    '#include "corpus.h"',
    '#define EXPORT __attribute__((visibility("default")))',
    'EXPORT unsigned char conformance_out[8192];',
    'EXPORT unsigned int conformance_len;',
    'EXPORT void conformance_reset(void) { conformance_len = 0; }',
    '#define SINK conformance_out',
    '#define SINK_LEN conformance_len',
    renderSerialisers(corpus),
  ];
  for (const sig of corpus.signatures) {
    const body: string[] = sig.params.map((t, i) => `  ${putStatement(t, `a${i}`)}`);
    if (sig.isVariadic) {
      body.push('  va_list ap;', `  va_start(ap, a${sig.params.length - 1});`);
      sig.variadic.forEach((t) => body.push(`  { ${t}${t.endsWith('*') ? '' : ' '}v = va_arg(ap, ${t}); ${putStatement(t, 'v')} }`));
      body.push('  va_end(ap);');
    }
    if (sig.ret !== 'void') body.push(`  return ${literal(sig.ret, sig.retValue!, new Map(corpus.structs.map((d) => [d.tag, d])))};`);
    lines.push(`EXPORT ${sig.proto} {`, ...body, '}');
  }
  return lines.join('\n') + '\n';
}

/** The native caller: calls every function with literal values and prints one line each. */
export function renderCaller(corpus: Corpus): string {
  const structs = new Map(corpus.structs.map((d) => [d.tag, d]));
  const lines = [
    '/* Generated by test/conformance/generate.ts: the native caller; its output is the expected answer. */',
    '#include <stdio.h>',
    '#include <stdlib.h>',
    '#include "corpus.h"',
    'static unsigned char ret_buf[1024];',
    'static unsigned int ret_len;',
    '#define SINK ret_buf',
    '#define SINK_LEN ret_len',
    renderSerialisers(corpus),
    'static void hex(const unsigned char *b, unsigned n) {',
    '  if (n == 0) fputs("-", stdout);',
    '  for (unsigned i = 0; i < n; i++) printf("%02x", b[i]);',
    '}',
    'static void line(const char *name) {',
    '  printf("%s ", name); hex(conformance_out, conformance_len); putchar(\' \'); hex(ret_buf, ret_len); putchar(\'\\n\');',
    '}',
  ];
  for (const sig of corpus.signatures) {
    const types = [...sig.params, ...sig.variadic];
    const call = `${sig.name}(${types.map((t, i) => literal(t, sig.args[i]!, structs)).join(', ')})`;
    lines.push(`static void call_${sig.name}(void) {`, '  conformance_reset();', '  ret_len = 0;');
    if (sig.ret === 'void') lines.push(`  ${call};`);
    else lines.push(`  ${sig.ret}${sig.ret.endsWith('*') ? '' : ' '}r = ${call};`, `  ${putStatement(sig.ret, 'r')}`);
    lines.push(`  line("${sig.name}");`, '}');
  }
  lines.push('int main(void) {', ...corpus.signatures.map((s) => `  call_${s.name}();`), '  return 0;', '}');
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------------------------
// Prediction: the line a correct caller produces, from the values alone

function intBytes(v: bigint, bytes: number): number[] {
  let u = BigInt.asUintN(bytes * 8, v);
  const out: number[] = [];
  for (let i = 0; i < bytes; i++, u >>= 8n) out.push(Number(u & 0xffn));
  return out;
}

/** 10 bytes of x87 extended precision for a double (exact). */
function float80Bytes(v: number): number[] {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, v);
  const bits = view.getBigUint64(0);
  const sign = Number(bits >> 63n);
  let exponent = Number((bits >> 52n) & 0x7ffn);
  let fraction = bits & ((1n << 52n) - 1n);
  let exp80: number;
  let significand: bigint;
  if (exponent === 0 && fraction === 0n) {
    exp80 = 0;
    significand = 0n;
  } else if (exponent === 0x7ff) {
    exp80 = 0x7fff;
    significand = (1n << 63n) | (fraction << 11n);
  } else {
    if (exponent === 0) {
      // Subnormal double: normalise.
      exponent = 1;
      while (!(fraction & (1n << 52n))) {
        fraction <<= 1n;
        exponent--;
      }
      fraction &= (1n << 52n) - 1n;
    }
    exp80 = exponent - 1023 + 16383;
    significand = (1n << 63n) | (fraction << 11n);
  }
  return [...intBytes(significand, 8), ...intBytes(BigInt((sign << 15) | exp80), 2)];
}

/** The meaningful bytes of a value of type t on arch. */
export function valueBytes(t: TypeName, v: Value, structs: Map<string, StructDef>, arch: Arch): number[] {
  if (isExtraType(t)) return extraBytes(t, v, arch, HELPERS);
  if (isStruct(t)) {
    const def = structs.get(tagOf(t))!;
    const values = v as Value[];
    return def.fields.flatMap((f, i) =>
      f.length === undefined
        ? valueBytes(f.type, values[i]!, structs, arch)
        : (values[i] as Value[]).flatMap((e) => valueBytes(f.type, e, structs, arch)),
    );
  }
  const x = forArch(v, arch);
  if (t === 'float') return [...new Uint8Array(new Float32Array([floatOf(x)]).buffer)];
  if (t === 'double') return [...new Uint8Array(new Float64Array([floatOf(x)]).buffer)];
  if (t === 'long double') return float80Bytes(floatOf(x));
  return intBytes(intOf(x), intInfo(t).bytes[arch]);
}

export const hexOf = (bytes: ArrayLike<number>): string =>
  bytes.length === 0 ? '-' : Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

export function predictLine(sig: Signature, structs: Map<string, StructDef>, arch: Arch): string {
  const types = [...sig.params, ...sig.variadic];
  const received = types.flatMap((t, i) => valueBytes(t, sig.args[i]!, structs, arch));
  const ret = sig.ret === 'void' ? [] : valueBytes(sig.ret, sig.retValue!, structs, arch);
  return `${sig.name} ${hexOf(received)} ${hexOf(ret)}`;
}

/** corpus.json: one struct and one signature per line (small, diff-friendly, deterministic). */
export function corpusJson(corpus: Corpus): string {
  const { signatures, structs, ...head } = corpus;
  const list = (items: unknown[]) => `[\n${items.map((x) => `  ${JSON.stringify(x)}`).join(',\n')}\n ]`;
  const fields = Object.entries(head).map(([k, v]) => ` ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  fields.push(` "structs": ${list(structs)}`, ` "signatures": ${list(signatures)}`);
  return `{\n${fields.join(',\n')}\n}\n`;
}

/** generate.ts's element-type helpers, for the types corpus's hooks (types-values.ts). */
const NO_STRUCTS = new Map<string, StructDef>();
const HELPERS: Helpers = {
  scalarLayout,
  genValue: (rng, t) => genValue(rng, t, NO_STRUCTS),
  literal: (t, v) => literal(t, v, NO_STRUCTS),
  valueBytes: (t, v, arch) => valueBytes(t, v, NO_STRUCTS, arch),
  hexFloat,
};

// ---------------------------------------------------------------------------------------------------------------
// CLI

function main(argv: string[]): void {
  const option = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const seed = Number(option('--seed') ?? DEFAULT_SEED);
  const count = Number(option('--count') ?? DEFAULT_COUNT);
  const dir = option('--out') ?? 'build/conformance';
  const corpus = generateCorpus({ seed, count });
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'corpus.h'), renderHeader(corpus));
  writeFileSync(join(dir, 'callees.c'), renderCallees(corpus));
  writeFileSync(join(dir, 'caller.c'), renderCaller(corpus));
  writeFileSync(join(dir, 'corpus.json'), corpusJson(corpus));
  const structs = new Map(corpus.structs.map((d) => [d.tag, d]));
  for (const arch of ARCHES) {
    writeFileSync(join(dir, `predicted-${arch}.txt`), corpus.signatures.map((s) => predictLine(s, structs, arch)).join('\n') + '\n');
  }
  console.log(`${corpus.signatures.length} signatures (${count} random, seed ${seed}), ${corpus.structs.length} structs → ${dir}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main(process.argv.slice(2));
