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

/** Decodes 10 bytes of x87 extended precision to the nearest double (round half to even, like the FPU). */
export function decodeFloat80(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, FLOAT80_BYTES);
  const significand = view.getBigUint64(0, true);
  const signExp = view.getUint16(8, true);
  const negative = signExp >> 15 === 1;
  const exponent = signExp & EXPONENT_MAX_80;
  const sign = negative ? -1 : 1;
  if (exponent === EXPONENT_MAX_80) {
    // The integer bit is explicit; infinity is exactly the integer bit with a zero fraction.
    return (significand & ~INTEGER_BIT) === 0n ? sign * Infinity : NaN;
  }
  if (significand === 0n) return sign * 0;
  // value = significand × 2^(e − bias − 63); denormals (e = 0) use e = 1.
  const scale = (exponent === 0 ? 1 : exponent) - EXPONENT_BIAS_80 - 63;
  const msb = significand.toString(2).length - 1;
  let unbiased = scale + msb; // value = 1.f × 2^unbiased
  if (unbiased > EXPONENT_BIAS_64) return sign * Infinity;
  let bits: bigint;
  if (unbiased >= 1 - EXPONENT_BIAS_64) {
    let mantissa = shiftRound(significand, msb - Number(MANTISSA_BITS_64));
    if (mantissa >> (MANTISSA_BITS_64 + 1n)) {
      mantissa >>= 1n; // rounding carried into a new bit
      unbiased++;
      if (unbiased > EXPONENT_BIAS_64) return sign * Infinity;
    }
    bits = (BigInt(unbiased + EXPONENT_BIAS_64) << MANTISSA_BITS_64) | (mantissa & MANTISSA_MASK_64);
  } else {
    // A double subnormal: count units of 2^-1074 (rounding may reach the smallest normal, which the bits encode).
    bits = shiftRound(significand, -(scale + DOUBLE_SUBNORMAL_SCALE));
  }
  const out = new DataView(new ArrayBuffer(8));
  out.setBigUint64(0, bits | (negative ? 1n << 63n : 0n), true);
  return out.getFloat64(0, true);
}

/** 2^1074: the weight of a double's least subnormal bit is 2^-1074. */
const DOUBLE_SUBNORMAL_SCALE = 1074;

/** value >> shift with round half to even (shift ≤ 0 shifts left). */
function shiftRound(value: bigint, shift: number): bigint {
  if (shift <= 0) return value << BigInt(-shift);
  const s = BigInt(shift);
  const kept = value >> s;
  const rest = value & ((1n << s) - 1n);
  const half = 1n << (s - 1n);
  if (rest > half || (rest === half && (kept & 1n) === 1n)) return kept + 1n;
  return kept;
}
