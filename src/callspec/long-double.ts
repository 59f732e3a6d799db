/**
 * Exact x87 extended-precision values (`long double`): JS numbers are doubles, so a long double written as text
 * (`2.71828182846`, `0x1.8p+1`) is parsed here straight to the 64-bit significand, correctly rounded (to nearest,
 * ties to even, as gcc rounds `2.71828182846L`), and raw values travel as `x87:` tokens — the 10 bytes written
 * most significant first, sign and exponent then significand (`x87:3fff860a8aaaaaaaaaab`). Pure.
 */
import { decodeFloat80, FLOAT80_BYTES } from './float80.ts';
import { bitLength, scaled } from './ieee-binary.ts';

const BIAS = 16383;
const MAX_EXPONENT = 0x7fff;
/** The exponent of the smallest normal value; below it values are denormal (integer bit clear). */
const MIN_NORMAL_EXPONENT = 1 - BIAS;
const SIGNIFICAND_BITS = 64;
const INTEGER_BIT = 1n << 63n;
/** Decimal and C hex-float spellings, with an optional sign. */
const DECIMAL = /^([-+]?)(\d+\.?\d*|\.\d+)(?:e([-+]?\d+))?$/i;
const HEX = /^([-+]?)0x([0-9a-f]+\.?[0-9a-f]*|\.[0-9a-f]+)(?:p([-+]?\d+))?$/i;
const SPECIAL = /^([-+]?)(inf|infinity|nan)$/i;
/** Exponents beyond which a decimal is certainly infinite or zero in float80 (|x| < 10^5000). */
const DECIMAL_EXPONENT_LIMIT = 5000;

export class LongDoubleError extends Error {
  override name = 'LongDoubleError';
}

/** A long double value by its exact 10 bytes (little-endian, as in memory). */
export class LongDouble {
  readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    if (bytes.length !== FLOAT80_BYTES) throw new LongDoubleError(`a long double has ${FLOAT80_BYTES} bytes, got ${bytes.length}`);
    this.bytes = Uint8Array.from(bytes);
  }

  /** `2.71828182846`, `-1e4000`, `0x1.8p+1`, `inf`, `nan`, or `x87:HEX`: exactly, correctly rounded. */
  static parse(text: string): LongDouble {
    return new LongDouble(parseFloat80(text));
  }

  /** The nearest double (what JS can compute with). */
  toNumber(): number {
    return decodeFloat80(this.bytes);
  }

  /** `x87:3fff860a8aaaaaaaaaab`: the exact value as a token. */
  toString(): string {
    return `x87:${[...this.bytes].reverse().map((b) => b.toString(16).padStart(2, '0')).join('')}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

function pack(negative: boolean, exponent: number, significand: bigint): Uint8Array {
  const out = new Uint8Array(FLOAT80_BYTES);
  for (let i = 0; i < 8; i++) out[i] = Number((significand >> BigInt(8 * i)) & 0xffn);
  const top = (negative ? 0x8000 : 0) | exponent;
  out[8] = top & 0xff;
  out[9] = top >> 8;
  return out;
}

/** The float80 nearest to the positive rational n / d (ties to even), with overflow to infinity and denormals. */
export function float80OfRational(negative: boolean, n: bigint, d: bigint): Uint8Array {
  if (n === 0n) return pack(negative, 0, 0n);
  // 2^e ≤ n/d < 2^(e+1)
  let e = bitLength(n) - bitLength(d);
  const below = e >= 0 ? n < d << BigInt(e) : n << BigInt(-e) < d;
  if (below) e--;
  if (e < MIN_NORMAL_EXPONENT) {
    // Denormal: a fixed scale of 2^(MIN_NORMAL_EXPONENT - 63); rounding may carry into the smallest normal.
    const m = scaled(n, d, SIGNIFICAND_BITS - 1 - MIN_NORMAL_EXPONENT);
    return m >= INTEGER_BIT ? pack(negative, 1, m) : pack(negative, 0, m);
  }
  let m = scaled(n, d, SIGNIFICAND_BITS - 1 - e);
  if (m === 1n << 64n) {
    m = INTEGER_BIT;
    e++;
  }
  if (e + BIAS >= MAX_EXPONENT) return pack(negative, MAX_EXPONENT, INTEGER_BIT);
  return pack(negative, e + BIAS, m);
}

/** Parses a long double written as text, correctly rounded to the 64-bit significand. */
export function parseFloat80(input: string): Uint8Array {
  const text = input.trim();
  const raw = /^x87:([0-9a-f]{20})$/i.exec(text);
  if (raw) return Uint8Array.from(raw[1]!.match(/../g)!.map((h) => parseInt(h, 16))).reverse();
  const special = SPECIAL.exec(text);
  if (special) {
    const negative = special[1] === '-';
    return special[2]!.toLowerCase() === 'nan' ? pack(negative, MAX_EXPONENT, INTEGER_BIT | (1n << 62n)) : pack(negative, MAX_EXPONENT, INTEGER_BIT);
  }
  const hex = HEX.exec(text);
  if (hex) {
    const [whole, fraction = ''] = hex[2]!.split('.');
    const n = BigInt(`0x${whole || '0'}${fraction}`);
    const exponent = Number(hex[3] ?? 0) - 4 * fraction.length;
    return exponent >= 0 ? float80OfRational(hex[1] === '-', n << BigInt(exponent), 1n) : float80OfRational(hex[1] === '-', n, 1n << BigInt(-exponent));
  }
  const decimal = DECIMAL.exec(text);
  if (!decimal) throw new LongDoubleError(`"${input}" is not a number: expected a decimal (2.5, 1e-300), a hex float (0x1.8p+1), inf, nan or x87:<20 hex digits>`);
  const [whole, fraction = ''] = decimal[2]!.split('.');
  const digits = BigInt(`${whole || '0'}${fraction}`);
  const exponent = Number(decimal[3] ?? 0) - fraction.length;
  const negative = decimal[1] === '-';
  const magnitude = exponent + `${digits}`.length;
  if (digits === 0n || magnitude < -DECIMAL_EXPONENT_LIMIT) return pack(negative, 0, 0n);
  if (magnitude > DECIMAL_EXPONENT_LIMIT) return pack(negative, MAX_EXPONENT, INTEGER_BIT);
  return exponent >= 0 ? float80OfRational(negative, digits * 10n ** BigInt(exponent), 1n) : float80OfRational(negative, digits, 10n ** BigInt(-exponent));
}
