/** Little-endian integers ↔ bytes: how x86 keeps them in registers and memory. */

/** The low `size` bytes of `value`, little-endian (two's complement for negative values). */
export function bytesOf(value: bigint | number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let v = BigInt.asUintN(size * 8, BigInt(value));
  for (let i = 0; i < size; i++, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

/** The unsigned integer in `bytes`, little-endian. */
export function unsignedOf(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}
