/**
 * Exact `__float128` (`_Float128`, IEEE binary128) values, like LongDouble for the x87 type: text is parsed straight
 * to the 113-bit significand, correctly rounded (as gcc rounds `2.5Q` literals), raw values travel as `f128:` tokens
 * — the 16 bytes written most significant first (`f128:4000921fb54442d18469898cc51701b8`) — and JSON shows the
 * token with the nearest double beside it. `_Float16` values are plain numbers: every binary16 is a double. Pure.
 */
import {
  BINARY128, BINARY16, BINARY64, BinaryFloatError, bitsOfBytes, bitsOfNumber, bytesOfBits, convertBinary, numberOfBits, parseBinary,
  shortestDecimal,
} from './ieee-binary.ts';

export const FLOAT128_BYTES = 16;
export const FLOAT16_BYTES = 2;
const RAW = /^f128:([0-9a-f]{32})$/i;

export class Float128Error extends Error {
  override name = 'Float128Error';
}

/** A __float128 value by its exact 16 bytes (little-endian, as in memory). */
export class Float128 {
  readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    if (bytes.length !== FLOAT128_BYTES) throw new Float128Error(`a __float128 has ${FLOAT128_BYTES} bytes, got ${bytes.length}`);
    this.bytes = Uint8Array.from(bytes);
  }

  /** `3.14159265358979323846264338327950288`, `0x1.8p+1`, `inf`, `nan`, or `f128:HEX`: exactly, correctly rounded. */
  static parse(text: string): Float128 {
    return new Float128(parseFloat128(text));
  }

  /** A double, converted exactly (every double is a binary128). */
  static fromNumber(value: number): Float128 {
    return new Float128(bytesOfBits(convertBinary(BINARY64, bitsOfNumber(value), BINARY128), FLOAT128_BYTES));
  }

  /** The nearest double (what JS can compute with). */
  toNumber(): number {
    return numberOfBits(convertBinary(BINARY128, bitsOfBytes(this.bytes), BINARY64));
  }

  /** The shortest decimal that reads back as exactly this value (`0.1`, `3.141592653589793238462643383279503`). */
  toDecimal(): string {
    return shortestDecimal(BINARY128, bitsOfBytes(this.bytes));
  }

  /** `f128:4000921fb54442d18469898cc51701b8`: the exact value as a token. */
  toString(): string {
    return `f128:${[...this.bytes].reverse().map((b) => b.toString(16).padStart(2, '0')).join('')}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

/** Parses a __float128 written as text (or an `f128:` token), correctly rounded to the 113-bit significand. */
export function parseFloat128(input: string): Uint8Array {
  const raw = RAW.exec(input.trim());
  if (raw) return bytesOfBits(BigInt(`0x${raw[1]}`), FLOAT128_BYTES);
  try {
    return bytesOfBits(parseBinary(BINARY128, input), FLOAT128_BYTES);
  } catch (error) {
    if (error instanceof BinaryFloatError) throw new Float128Error(`${error.message}, or f128:<32 hex digits>`);
    throw error;
  }
}

/** A number (or text) as _Float16, correctly rounded: 2 little-endian bytes. */
export function encodeFloat16(value: number | string): Uint8Array {
  const bits = typeof value === 'string' ? parseBinary(BINARY16, value) : convertBinary(BINARY64, bitsOfNumber(value), BINARY16);
  return bytesOfBits(bits, FLOAT16_BYTES);
}

/** A _Float16's exact value as a number. */
export function decodeFloat16(bytes: Uint8Array): number {
  return numberOfBits(convertBinary(BINARY16, bitsOfBytes(bytes.subarray(0, FLOAT16_BYTES)), BINARY64));
}
