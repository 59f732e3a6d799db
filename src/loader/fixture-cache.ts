/**
 * Uncompressed copies of the bundled fixtures in the cache directory (`$XDG_CACHE_HOME/shimulator/fixtures/`, named
 * by their sha256). Inflating libc is ~8 ms of every process that uses it (a third of what a one-call CLI process
 * spends on its own code); reading the copy is ~1 ms. A copy is written only from bytes that matched the manifest's
 * sha256 (as inflated), followed by their checksum (CRC-32, snapshot/checksum.ts, what guards the boot images): it is
 * used only when its size and that checksum match, which costs ~0.1 ms where hashing libc's 2 MiB again with sha256
 * cost ~1.4 ms of every call. It is written under a temporary name and renamed into place, and is skipped silently
 * when the cache cannot be read or written. Small files inflate quickly and are not copied.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultCacheDir } from '../snapshot/cache-dir.ts';
import { checksum, CHECKSUM_BYTES } from '../snapshot/checksum.ts';

/**
 * Fixtures smaller than this are inflated every time (well under a millisecond). ld.so (215 KB, used by every boot)
 * is above it: inflating and checking it took 1–2 ms of each CLI call, reading and checking its copy 0.3 ms.
 */
export const MIN_CACHED_BYTES = 128 * 1024;

/**
 * Where copies go: a cache directory (the boot image cache's: `BootOptions.cache`'s `dir`, `--cache-dir`), or
 * `false` for none at all (`cache: false`, `--no-cache`: nothing read or written).
 */
export type CopiesOption = string | false;

/**
 * After a copy's name (its sha256): the format, the bytes and their CRC-32. Copies once were the bytes alone, under
 * the bare sha256; a different name lets an older shimulator sharing the cache directory keep its copies.
 */
export const COPY_SUFFIX = '.crc32';

function copyPath(sha256: string, cacheDir: string): string {
  return join(cacheDir, 'fixtures', `${sha256}${COPY_SUFFIX}`);
}

/** The uncompressed copy of the fixture with this size and sha256, or undefined when there is no good one. */
export function readUncompressedCopy(size: number, sha256: string, cacheDir: CopiesOption = defaultCacheDir()): Uint8Array | undefined {
  if (size < MIN_CACHED_BYTES || cacheDir === false) return undefined;
  let bytes: Buffer;
  try {
    bytes = readFileSync(copyPath(sha256, cacheDir));
  } catch {
    return undefined;
  }
  if (bytes.length !== size + CHECKSUM_BYTES) return undefined;
  const data = new Uint8Array(bytes.buffer, bytes.byteOffset, size);
  return checksum(data).equals(bytes.subarray(size)) ? data : undefined;
}

/** Keeps an uncompressed copy of a fixture that matched the manifest (a cache that cannot be written is skipped). */
export function saveUncompressedCopy(bytes: Uint8Array, sha256: string, cacheDir: CopiesOption = defaultCacheDir()): void {
  if (bytes.length < MIN_CACHED_BYTES || cacheDir === false) return;
  const path = copyPath(sha256, cacheDir);
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(join(cacheDir, 'fixtures'), { recursive: true });
    writeFileSync(temporary, Buffer.concat([bytes, checksum(bytes)]));
    renameSync(temporary, path);
  } catch {
    try {
      rmSync(temporary, { force: true });
    } catch {
      // its folder cannot be read either: nothing was written
    }
  }
}
