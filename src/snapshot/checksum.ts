/** The checksum of the files shimulator caches (boot images, the command's compiled code): it guards against corruption, not forgery. */
import { createHash } from 'node:crypto';
import * as zlib from 'node:zlib';

/** Bytes of a checksum. */
export const CHECKSUM_BYTES = 4;
/** CRC-32 where node:zlib has it (Node ≥ 20.15; ~10x faster than sha256 over the ~2 MiB of an image's pages). */
const crc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/** CRC-32 of `data` (u32 LE), else the first 4 bytes of its sha256. */
export function checksum(data: Uint8Array): Buffer {
  if (!crc32) return createHash('sha256').update(data).digest().subarray(0, CHECKSUM_BYTES);
  const b = Buffer.alloc(CHECKSUM_BYTES);
  b.writeUInt32LE(crc32(data));
  return b;
}
