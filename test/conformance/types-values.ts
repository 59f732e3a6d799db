/**
 * The types of the types corpus (issue 12) that the first corpora do not have — `_Complex float/double/long double`,
 * `__float128`, `_Float16` and vectors (`__m64`, `__m128`, `__m128d`, `__m128i`, and `vector_size` typedefs) — as
 * generate.ts's hooks: layout, random values, C literals, serialisation and the predicted bytes.
 *
 * Values: complex as [re, im] (parts like float/double/long double values), `_Float16` as a number that binary16
 * holds exactly, `__float128` as text (decimal or hex float, written with gcc's `Q` suffix; `inf`, `-inf`), vectors
 * as arrays of element values. A `__float128`'s predicted bytes come from shimulator's correctly rounded parser,
 * so the native run (build.sh compares it with the prediction) checks that parser against gcc's literals.
 */
import { parseFloat128 } from '../../src/callspec/float128.ts';
import type { Arch, Rng, TypeName, Value } from './generate.ts';

export const COMPLEX_TYPES = ['_Complex float', '_Complex double', '_Complex long double'] as const;
/** Vector types: element type and count. The `v…` ones are `vector_size` typedefs from VECTOR_TYPEDEFS. */
export const VECTORS: Record<string, { of: TypeName; count: number }> = {
  __m64: { of: 'int', count: 2 },
  __m128: { of: 'float', count: 4 },
  __m128d: { of: 'double', count: 2 },
  __m128i: { of: 'long long', count: 2 },
  v8qi: { of: 'signed char', count: 8 },
  v4hi: { of: 'short', count: 4 },
  v4si: { of: 'int', count: 4 },
  v8hu: { of: 'unsigned short', count: 8 },
};
/** The x86 intrinsic typedefs as GCC's headers spell them, and the corpus's own `vector_size` typedefs. */
export const VECTOR_TYPEDEFS = [
  'typedef int __m64 __attribute__((__vector_size__(8), __may_alias__));',
  'typedef float __m128 __attribute__((__vector_size__(16), __may_alias__));',
  'typedef double __m128d __attribute__((__vector_size__(16), __may_alias__));',
  'typedef long long __m128i __attribute__((__vector_size__(16), __may_alias__));',
  'typedef signed char v8qi __attribute__((vector_size(8)));',
  'typedef short v4hi __attribute__((vector_size(8)));',
  'typedef int v4si __attribute__((vector_size(16)));',
  'typedef unsigned short __attribute__((vector_size(16))) v8hu;',
].join('\n');

export const FLOAT128 = '__float128';
export const FLOAT16 = '_Float16';

/** The new types that exist on `arch` (GCC 12 -m32 refuses _Float16). */
export function extraTypes(arch: Arch): TypeName[] {
  return [...COMPLEX_TYPES, FLOAT128, ...(arch === 'amd64' ? [FLOAT16] : []), ...Object.keys(VECTORS)];
}

export const isExtraType = (t: TypeName) => (COMPLEX_TYPES as readonly string[]).includes(t) || t === FLOAT128 || t === FLOAT16 || t in VECTORS;
const complexPart = (t: TypeName) => t.slice('_Complex '.length);

/** Hooks generate.ts calls for these types; each receives generate.ts's own helpers for the element types. */
export interface Helpers {
  scalarLayout(t: TypeName, arch: Arch): { size: number; align: number };
  genValue(rng: Rng, t: TypeName): Value;
  literal(t: TypeName, v: Value): string;
  valueBytes(t: TypeName, v: Value, arch: Arch): number[];
  hexFloat(v: number): string;
}

export function extraLayout(t: TypeName, arch: Arch, h: Helpers): { size: number; align: number } {
  if (t === FLOAT128) return { size: 16, align: 16 };
  if (t === FLOAT16) return { size: 2, align: 2 };
  if (t in VECTORS) {
    const { of, count } = VECTORS[t]!;
    const size = h.scalarLayout(of, arch).size * count;
    return { size, align: arch === 'i386' && size === 8 ? 4 : size };
  }
  const part = h.scalarLayout(complexPart(t), arch);
  return { size: 2 * part.size, align: part.align };
}

const FLOAT128_SPECIALS = ['0', '-0', '1', '-1', '0.1', '3.14159265358979323846264338327950288419716939937510',
  '1e4932', '1.18973149535723176508575932662800702e4932', '6.475175119438025110924438958227646552e-4966',
  '3.36210314311209350626267781732175260e-4932', 'inf', '-inf', '0x1.ffffffffffffffffffffffffffffp+16383',
  '0x1.0000000000000000000000000001p+0', '2.718281828459045235360287471352662497757', '-1e-300', '123456789012345678901234567890123456789'];

function genFloat128(rng: Rng): string {
  const r = rng.int(100);
  if (r < 20) return rng.pick(FLOAT128_SPECIALS);
  const sign = rng.chance(0.3) ? '-' : '';
  if (r < 55) {
    // A decimal with up to 40 significant digits: most are not exactly representable, so rounding is exercised.
    const digits = Array.from({ length: rng.range(1, 40) }, () => rng.int(10)).join('').replace(/^0+(?=\d)/, '');
    return `${sign}${digits}e${rng.range(-60, 60)}`;
  }
  // A hex float of up to 30 hex digits (beyond 28 it rounds to the 113-bit significand).
  const digits = Array.from({ length: rng.range(1, 30) }, () => rng.int(16).toString(16)).join('');
  return `${sign}0x1.${digits}p${rng.range(-16000, 16000)}`;
}

/** A random binary16 value (never NaN), as the number it is exactly. */
function genFloat16(rng: Rng): number {
  for (;;) {
    const bits = rng.int(0x10000);
    if ((bits & 0x7c00) === 0x7c00 && (bits & 0x3ff) !== 0) continue; // NaN
    const negative = bits >> 15 ? -1 : 1;
    const exponent = (bits >> 10) & 0x1f;
    const fraction = bits & 0x3ff;
    if (exponent === 0x1f) return negative * Infinity;
    return negative * (exponent === 0 ? fraction * 2 ** -24 : (1024 + fraction) * 2 ** (exponent - 25));
  }
}

export function extraValue(rng: Rng, t: TypeName, h: Helpers): Value {
  if (t === FLOAT128) return genFloat128(rng);
  if (t === FLOAT16) {
    const v = genFloat16(rng);
    return Object.is(v, -0) ? '-0' : Number.isFinite(v) ? v : String(v);
  }
  if (t in VECTORS) {
    const { of, count } = VECTORS[t]!;
    return Array.from({ length: count }, () => h.genValue(rng, of));
  }
  const part = complexPart(t);
  return [h.genValue(rng, part), h.genValue(rng, part)];
}

export function extraLiteral(t: TypeName, v: Value, h: Helpers): string {
  if (t === FLOAT128) {
    const text = v as string;
    if (/^[-+]?inf$/.test(text)) return text.startsWith('-') ? '(-__builtin_infq())' : '__builtin_infq()';
    // `1Q` is not a literal: a decimal without a point or an exponent gets `.0`.
    return `(${/^[-+]?\d+$/.test(text) ? `${text}.0` : text}Q)`;
  }
  if (t === FLOAT16) {
    const n = typeof v === 'string' ? Number(v) : (v as number);
    if (!Number.isFinite(n)) return n < 0 ? '(-__builtin_inff16())' : '__builtin_inff16()';
    return `(${h.hexFloat(n)}f16)`;
  }
  if (t in VECTORS) {
    const { of } = VECTORS[t]!;
    return `((${t}){ ${(v as Value[]).map((e) => h.literal(of, e)).join(', ')} })`;
  }
  const [re, im] = v as Value[];
  return `__builtin_complex(${h.literal(complexPart(t), re!)}, ${h.literal(complexPart(t), im!)})`;
}

/** Serialise the meaningful bytes: everything but a complex long double's padding (its parts' 10 x87 bytes each). */
export function extraPut(t: TypeName, expr: string): string {
  if (t === '_Complex long double') return `{ long double re_ = __real__ ${expr}, im_ = __imag__ ${expr}; PUTLD(re_); PUTLD(im_); }`;
  return `PUT(${expr});`;
}

export function extraBytes(t: TypeName, v: Value, arch: Arch, h: Helpers): number[] {
  if (t === FLOAT128) return [...parseFloat128(v as string)];
  if (t === FLOAT16) return float16Bytes(typeof v === 'string' ? Number(v) : (v as number));
  if (t in VECTORS) return (v as Value[]).flatMap((e) => h.valueBytes(VECTORS[t]!.of, e, arch));
  const [re, im] = v as Value[];
  return [...h.valueBytes(complexPart(t), re!, arch), ...h.valueBytes(complexPart(t), im!, arch)];
}

/** A binary16 value's two bytes (the value is exactly representable). */
function float16Bytes(v: number): number[] {
  const negative = v < 0 || Object.is(v, -0) ? 0x8000 : 0;
  const a = Math.abs(v);
  let bits: number;
  if (a === Infinity) bits = 0x7c00;
  else if (a < 2 ** -14) bits = a / 2 ** -24;
  else {
    const exponent = Math.floor(Math.log2(a));
    const e = a >= 2 ** (exponent + 1) ? exponent + 1 : a < 2 ** exponent ? exponent - 1 : exponent;
    bits = ((e + 15) << 10) | (a / 2 ** (e - 10) - 1024);
  }
  bits |= negative;
  return [bits & 0xff, bits >> 8];
}
