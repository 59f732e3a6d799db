/**
 * x87 80-bit extended precision (`long double` on i386 and amd64): 64-bit significand with an explicit integer
 * bit, 15-bit exponent (bias 16383), sign. JS numbers are IEEE doubles, so conversion to float80 is exact and
 * conversion back rounds to nearest (ties to even).
 */

export const FLOAT80_BYTES = 10;
const EXPONENT_BIAS_80 = 16383;
const EXPONENT_BIAS_64 = 1023;
const EXPONENT_MAX_80 = 0x7fff;
const EXPONENT_MAX_64 = 0x7ff;
const INTEGER_BIT = 1n << 63n;
const MANTISSA_BITS_64 = 52n;
const MANTISSA_MASK_64 = (1n << 52n) - 1n;

/** Encodes a double as 10 little-endian bytes of x87 extended precision. */
export function encodeFloat80(value: number): Uint8Array {
  const out = new Uint8Array(FLOAT80_BYTES);
  const view = new DataView(out.buffer);
  const bits = new DataView(new Float64Array([value]).buffer).getBigUint64(0, true);
  const sign = Number(bits >> 63n);
  const exponent = Number((bits >> MANTISSA_BITS_64) & BigInt(EXPONENT_MAX_64));
  const fraction = bits & MANTISSA_MASK_64;
  let exp80: number;
  let significand: bigint;
  if (exponent === 0 && fraction === 0n) {
    exp80 = 0;
    significand = 0n;
  } else if (exponent === EXPONENT_MAX_64) {
    exp80 = EXPONENT_MAX_80;
    significand = INTEGER_BIT | (fraction << 11n); // infinity (fraction 0) or NaN
  } else if (exponent === 0) {
    // A double subnormal is a normal float80: shift the fraction until the integer bit is set.
    const shift = 63n - BigInt(fraction.toString(2).length - 1);
    significand = fraction << shift;
    exp80 = EXPONENT_BIAS_80 - EXPONENT_BIAS_64 + 1 - Number(shift - 11n);
  } else {
    exp80 = exponent - EXPONENT_BIAS_64 + EXPONENT_BIAS_80;
    significand = INTEGER_BIT | (fraction << 11n);
  }
  view.setBigUint64(0, significand, true);
  view.setUint16(8, (sign << 15) | exp80, true);
  return out;
}

/** Decodes 10 bytes of x87 extended precision to the nearest double. */
export function decodeFloat80(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, FLOAT80_BYTES);
  const significand = view.getBigUint64(0, true);
  const signExp = view.getUint16(8, true);
  const sign = signExp >> 15 ? -1 : 1;
  const exponent = signExp & EXPONENT_MAX_80;
  if (exponent === EXPONENT_MAX_80) {
    return (significand << 1n) === 0n ? sign * Infinity : NaN;
  }
  if (significand === 0n) return sign * 0;
  // value = significand * 2^(exponent - bias - 63); split the significand to keep 53 significant bits exact.
  const unbiased = (exponent === 0 ? 1 : exponent) - EXPONENT_BIAS_80 - 63;
  const high = Number(significand >> 11n);
  const low = Number(significand & 0x7ffn);
  return sign * (high * 2 ** (unbiased + 11) + low * 2 ** unbiased);
}
