/**
 * IEEE 754 binary interchange formats by their parameters — binary16 (`_Float16`), binary64 (`double`) and
 * binary128 (`__float128`, `_Float128`): exact values as rationals, correctly rounded packing (to nearest, ties to
 * even, as gcc rounds literals), and the text forms shimulator accepts (decimal, C hex float, inf, nan). Pure; the
 * bits are bigints, most significant bit first.
 */

export interface BinaryFormat {
  /** Total width in bits. */
  bits: number;
  /** Stored fraction bits (the significand has one more, implicit, bit). */
  fraction: number;
  /** Exponent field width in bits. */
  exponent: number;
}

/** IEEE 754-2008 §3.6, Table 3.5. */
export const BINARY16: BinaryFormat = { bits: 16, fraction: 10, exponent: 5 };
export const BINARY32: BinaryFormat = { bits: 32, fraction: 23, exponent: 8 };
export const BINARY64: BinaryFormat = { bits: 64, fraction: 52, exponent: 11 };
export const BINARY128: BinaryFormat = { bits: 128, fraction: 112, exponent: 15 };

export class BinaryFloatError extends Error {
  override name = 'BinaryFloatError';
}

const bias = (f: BinaryFormat) => (1 << (f.exponent - 1)) - 1;
const maxExponent = (f: BinaryFormat) => (1 << f.exponent) - 1;
export const bitLength = (n: bigint) => (n === 0n ? 0 : n.toString(2).length);

/** round(num / den) to nearest, ties to even. */
export function roundDivide(num: bigint, den: bigint): bigint {
  const q = num / den;
  const twice = 2n * (num % den);
  return twice > den || (twice === den && (q & 1n) === 1n) ? q + 1n : q;
}

/** round(n / d × 2^shift). */
export function scaled(n: bigint, d: bigint, shift: number): bigint {
  return shift >= 0 ? roundDivide(n << BigInt(shift), d) : roundDivide(n, d << BigInt(-shift));
}

function pack(f: BinaryFormat, negative: boolean, exponent: number, fraction: bigint): bigint {
  return ((negative ? 1n : 0n) << BigInt(f.bits - 1)) | (BigInt(exponent) << BigInt(f.fraction)) | fraction;
}

export function infinityBits(f: BinaryFormat, negative: boolean): bigint {
  return pack(f, negative, maxExponent(f), 0n);
}

/** The default quiet NaN gcc produces (`__builtin_nan("")`): the top fraction bit set. */
export function nanBits(f: BinaryFormat, negative: boolean): bigint {
  return pack(f, negative, maxExponent(f), 1n << BigInt(f.fraction - 1));
}

/** The value of format `f` nearest to ±n/d (ties to even), overflowing to infinity and rounding into subnormals. */
export function binaryOfRational(f: BinaryFormat, negative: boolean, n: bigint, d: bigint): bigint {
  if (n === 0n) return pack(f, negative, 0, 0n);
  const minNormal = 1 - bias(f);
  // 2^e ≤ n/d < 2^(e+1)
  let e = bitLength(n) - bitLength(d);
  if (e >= 0 ? n < d << BigInt(e) : n << BigInt(-e) < d) e--;
  const implicit = 1n << BigInt(f.fraction);
  if (e < minNormal) {
    // Subnormal: a fixed scale; rounding up to the implicit bit gives the smallest normal, which the bits encode.
    const m = scaled(n, d, f.fraction - minNormal);
    return pack(f, negative, 0, m); // m ≤ implicit: a carry sets the exponent field to 1
  }
  let m = scaled(n, d, f.fraction - e);
  if (m === implicit << 1n) {
    m = implicit;
    e++;
  }
  if (e + bias(f) >= maxExponent(f)) return infinityBits(f, negative);
  return pack(f, negative, e + bias(f), m - implicit);
}

/** An exact value: ±num/den, or infinity or NaN. */
export type ExactValue = { kind: 'finite'; negative: boolean; num: bigint; den: bigint } | { kind: 'inf' | 'nan'; negative: boolean };

/** The exact value of `bits` in format `f`. */
export function exactOfBinary(f: BinaryFormat, bits: bigint): ExactValue {
  const negative = (bits >> BigInt(f.bits - 1)) === 1n;
  const exponent = Number((bits >> BigInt(f.fraction)) & BigInt(maxExponent(f)));
  const fraction = bits & ((1n << BigInt(f.fraction)) - 1n);
  if (exponent === maxExponent(f)) return { kind: fraction === 0n ? 'inf' : 'nan', negative };
  const significand = exponent === 0 ? fraction : fraction | (1n << BigInt(f.fraction));
  const power = (exponent === 0 ? 1 : exponent) - bias(f) - f.fraction;
  return power >= 0
    ? { kind: 'finite', negative, num: significand << BigInt(power), den: 1n }
    : { kind: 'finite', negative, num: significand, den: 1n << BigInt(-power) };
}

/** `bits` of format `f` converted to format `to`, correctly rounded (NaNs stay quiet NaNs of the same sign). */
export function convertBinary(f: BinaryFormat, bits: bigint, to: BinaryFormat): bigint {
  const v = exactOfBinary(f, bits);
  if (v.kind === 'finite') return binaryOfRational(to, v.negative, v.num, v.den);
  return v.kind === 'inf' ? infinityBits(to, v.negative) : nanBits(to, v.negative);
}

/** A JS number's binary64 bits. */
export function bitsOfNumber(value: number): bigint {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  return view.getBigUint64(0);
}

export function numberOfBits(bits: bigint): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, bits);
  return view.getFloat64(0);
}

/** Decimal and C hex-float spellings, with an optional sign. */
const DECIMAL = /^([-+]?)(\d+\.?\d*|\.\d+)(?:e([-+]?\d+))?$/i;
const HEX = /^([-+]?)0x([0-9a-f]+\.?[0-9a-f]*|\.[0-9a-f]+)(?:p([-+]?\d+))?$/i;
const SPECIAL = /^([-+]?)(inf|infinity|nan)$/i;
/** Decimal exponents beyond which every binary format here is certainly infinite or zero (binary128: |x| < 10^4933). */
const DECIMAL_EXPONENT_LIMIT = 5000;

/** Text (`2.5`, `-1e-4000`, `0x1.8p+1`, `inf`, `nan`) correctly rounded to format `f`. */
export function parseBinary(f: BinaryFormat, input: string): bigint {
  const text = input.trim();
  const special = SPECIAL.exec(text);
  if (special) {
    const negative = special[1] === '-';
    return special[2]!.toLowerCase() === 'nan' ? nanBits(f, negative) : infinityBits(f, negative);
  }
  const hex = HEX.exec(text);
  if (hex) {
    const [whole, fraction = ''] = hex[2]!.split('.');
    const n = BigInt(`0x${whole || '0'}${fraction}`);
    const exponent = Number(hex[3] ?? 0) - 4 * fraction.length;
    const negative = hex[1] === '-';
    if (Math.abs(exponent) > 4 * DECIMAL_EXPONENT_LIMIT) return exponent > 0 && n !== 0n ? infinityBits(f, negative) : pack(f, negative, 0, 0n);
    return exponent >= 0 ? binaryOfRational(f, negative, n << BigInt(exponent), 1n) : binaryOfRational(f, negative, n, 1n << BigInt(-exponent));
  }
  const decimal = DECIMAL.exec(text);
  if (!decimal) throw new BinaryFloatError(`"${input}" is not a number: expected a decimal (2.5, 1e-300), a hex float (0x1.8p+1), inf or nan`);
  const [whole, fraction = ''] = decimal[2]!.split('.');
  const digits = BigInt(`${whole || '0'}${fraction}`);
  const exponent = Number(decimal[3] ?? 0) - fraction.length;
  const negative = decimal[1] === '-';
  const magnitude = exponent + `${digits}`.length;
  if (digits === 0n || magnitude < -DECIMAL_EXPONENT_LIMIT) return pack(f, negative, 0, 0n);
  if (magnitude > DECIMAL_EXPONENT_LIMIT) return infinityBits(f, negative);
  return exponent >= 0 ? binaryOfRational(f, negative, digits * 10n ** BigInt(exponent), 1n) : binaryOfRational(f, negative, digits, 10n ** BigInt(-exponent));
}

/** Little-endian bytes of `bits` (the memory image). */
export function bytesOfBits(bits: bigint, bytes: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = Number((bits >> BigInt(8 * i)) & 0xffn);
  return out;
}

export function bitsOfBytes(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

/** ⌊log10(n/d)⌋ for a positive rational: the decimal exponent of its leading digit. */
function decimalExponent(n: bigint, d: bigint): number {
  let e = n.toString().length - d.toString().length;
  const at = (k: number) => (k >= 0 ? n >= d * 10n ** BigInt(k) : n * 10n ** BigInt(-k) >= d);
  while (!at(e)) e--;
  while (at(e + 1)) e++;
  return e;
}

/** n/d rounded to `digits` significant decimal digits (ties to even): the digits and the exponent of the first. */
function roundDecimal(n: bigint, d: bigint, digits: number): { digits: bigint; exponent: number } {
  let exponent = decimalExponent(n, d);
  const shift = digits - 1 - exponent; // value × 10^shift has `digits` digits before the point
  let m = shift >= 0 ? roundDivide(n * 10n ** BigInt(shift), d) : roundDivide(n, d * 10n ** BigInt(-shift));
  if (m === 10n ** BigInt(digits)) {
    m /= 10n;
    exponent++;
  }
  return { digits: m, exponent };
}

/**
 * The shortest decimal that reads back (correctly rounded) as exactly `bits` in format `f` — `0.1`, `-1e+4932`,
 * `inf`, `nan` — in C's `%g`-like scientific form when that is shorter. At most 36 digits for binary128.
 */
export function shortestDecimal(f: BinaryFormat, bits: bigint): string {
  const v = exactOfBinary(f, bits);
  const sign = v.negative ? '-' : '';
  if (v.kind !== 'finite') return `${sign}${v.kind}`;
  if (v.num === 0n) return `${sign}0`;
  for (let digits = 1; ; digits++) {
    const r = roundDecimal(v.num, v.den, digits);
    const text = formatDecimal(sign, r.digits.toString(), r.exponent);
    if (parseBinary(f, text) === bits) return text;
  }
}

/** `d.ddde±x`, or plain positional notation when the exponent is small. */
function formatDecimal(sign: string, digits: string, exponent: number): string {
  const trimmed = digits.replace(/0+$/, '') || '0';
  if (exponent >= -5 && exponent < 21) {
    if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${trimmed}`;
    const whole = trimmed.length > exponent + 1 ? `${trimmed.slice(0, exponent + 1)}.${trimmed.slice(exponent + 1)}` : trimmed.padEnd(exponent + 1, '0');
    return `${sign}${whole}`;
  }
  const mantissa = trimmed.length > 1 ? `${trimmed[0]}.${trimmed.slice(1)}` : trimmed;
  return `${sign}${mantissa}e${exponent >= 0 ? '+' : ''}${exponent}`;
}
