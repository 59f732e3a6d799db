/**
 * Access to the bundled fixtures: the real Debian shared objects (ld.so, libc,
 * libpcap and its dependency closure) and the guest stub executable, stored
 * gzip-compressed under fixtures/<arch>/ and described by
 * fixtures/manifest.json. Both are produced by scripts/fixtures/regenerate.sh
 * (`npm run fixtures`).
 *
 * Every loaded file is checked against the size and sha256 the manifest
 * records, and kept in memory so that later boots do not inflate it again
 * (and, for the bundled ones, uncompressed in the cache directory so that
 * later processes do not either: fixture-cache.ts).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { Arch } from '../emu/arch.ts';
import { type CopiesOption, readUncompressedCopy, saveUncompressedCopy } from './fixture-cache.ts';

/** The fixtures directory shipped with the package (repo root /fixtures). */
const DEFAULT_FIXTURES_DIR = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const MANIFEST_NAME = 'manifest.json';
const REGENERATE_HINT = 'run `npm run fixtures` (as root on Debian bookworm) to regenerate the fixtures';
const SHA256_HEX = /^[0-9a-f]{64}$/;
const KNOWN_ARCHES: readonly string[] = ['amd64', 'i386'];
const STRING_FIELDS = ['name', 'file', 'guestPath', 'package', 'version', 'debPath'] as const;

/** A fixture is missing, unreadable, corrupt, or the manifest is malformed. */
export class FixtureError extends Error {
  /** The fixture file (or manifest) the problem is about. */
  readonly file: string;

  constructor(file: string, problem: string) {
    super(`fixture ${file}: ${problem}; ${REGENERATE_HINT}`);
    this.name = 'FixtureError';
    this.file = file;
  }
}

/** One file of fixtures/manifest.json. */
export interface FixtureEntry {
  /** Guest architecture the file is built for. */
  arch: Arch;
  /** SONAME of the library, or `shimulator-stub` for the stub executable. */
  name: string;
  /** Compressed file, relative to the fixtures directory (e.g. `amd64/libc.so.6.gz`). */
  file: string;
  /** Absolute path at which the emulated process sees the file. */
  guestPath: string;
  /** Debian package the file comes from (`shimulator-stub` for the stub). */
  package: string;
  /** Exact package version (for the stub: the compiler that built it). */
  version: string;
  /** Path of the real file inside the .deb (for the stub: its source file). */
  debPath: string;
  /** Uncompressed size in bytes. */
  size: number;
  /** Hex sha256 of the uncompressed bytes. */
  sha256: string;
}

const documentCache = new Map<string, Record<string, unknown>>();
const manifestCache = new Map<string, FixtureEntry[]>();
const contentCache = new Map<string, Uint8Array>();

function fixturesDir(dir?: string): string {
  return resolve(dir ?? DEFAULT_FIXTURES_DIR);
}

/** Check that one raw manifest item has every field with the right type. */
function validateEntry(raw: unknown, index: number, manifestPath: string): FixtureEntry {
  const where = `entry ${index} of the manifest`;
  if (typeof raw !== 'object' || raw === null) {
    throw new FixtureError(manifestPath, `${where} is not an object`);
  }
  const item = raw as Record<string, unknown>;
  if (typeof item.arch !== 'string' || !KNOWN_ARCHES.includes(item.arch)) {
    throw new FixtureError(manifestPath, `${where} has unknown arch ${JSON.stringify(item.arch)}`);
  }
  for (const field of STRING_FIELDS) {
    if (typeof item[field] !== 'string' || item[field] === '') {
      throw new FixtureError(manifestPath, `${where} has no "${field}" string`);
    }
  }
  if (typeof item.size !== 'number' || !Number.isSafeInteger(item.size) || item.size < 0) {
    throw new FixtureError(manifestPath, `${where} has an invalid "size"`);
  }
  if (typeof item.sha256 !== 'string' || !SHA256_HEX.test(item.sha256)) {
    throw new FixtureError(manifestPath, `${where} has an invalid "sha256"`);
  }
  return item as unknown as FixtureEntry;
}

/** Read and validate manifest.json in DIR. */
function readManifest(dir: string): FixtureEntry[] {
  const manifestPath = join(dir, MANIFEST_NAME);
  const files = manifestDocument(dir).files;
  if (!Array.isArray(files)) {
    throw new FixtureError(manifestPath, 'the manifest has no "files" array');
  }
  return files.map((raw, index) => validateEntry(raw, index, manifestPath));
}

/**
 * The parsed manifest.json of a fixtures directory (cached per directory), for readers of its other lists
 * (`debugSymbols`, see debug-symbols.ts).
 */
export function manifestDocument(dir?: string): Record<string, unknown> {
  const root = fixturesDir(dir);
  const cached = documentCache.get(root);
  if (cached !== undefined) return cached;
  const manifestPath = join(root, MANIFEST_NAME);
  let text: string;
  try {
    text = readFileSync(manifestPath, 'utf8');
  } catch (error) {
    throw new FixtureError(manifestPath, `cannot read the manifest (${(error as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new FixtureError(manifestPath, `the manifest is not valid JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new FixtureError(manifestPath, 'the manifest is not a JSON object');
  }
  documentCache.set(root, parsed as Record<string, unknown>);
  return parsed as Record<string, unknown>;
}

/**
 * All fixtures listed in the manifest, sorted by arch then name.
 * @param dir fixtures directory; defaults to the bundled one. Cached per directory.
 */
export function fixtureManifest(dir?: string): FixtureEntry[] {
  const root = fixturesDir(dir);
  let entries = manifestCache.get(root);
  if (entries === undefined) {
    entries = readManifest(root);
    manifestCache.set(root, entries);
  }
  return entries;
}

/** The fixtures built for one architecture. */
export function fixtureEntries(arch: Arch, dir?: string): FixtureEntry[] {
  return fixtureManifest(dir).filter((entry) => entry.arch === arch);
}

/**
 * Look a fixture up by SONAME (`libc.so.6`, `shimulator-stub`) or by the path
 * the guest uses (`/lib/x86_64-linux-gnu/libc.so.6`). Returns undefined when
 * there is no such fixture for that architecture.
 */
export function findFixture(arch: Arch, name: string, dir?: string): FixtureEntry | undefined {
  const key = name.startsWith('/') ? 'guestPath' : 'name';
  return fixtureEntries(arch, dir).find((entry) => entry[key] === name);
}

/** Inflate a gzip file with node:zlib (several times faster than pako; fixtures are read in Node only), as a FixtureError. */
function inflate(compressed: Uint8Array, path: string): Uint8Array {
  try {
    const inflated = gunzipSync(compressed);
    // A plain Uint8Array over the same memory, not the Buffer: Buffer's slice() shares memory where
    // Uint8Array's copies, and callers copy fixtures with slice() before changing them.
    return new Uint8Array(inflated.buffer, inflated.byteOffset, inflated.byteLength);
  } catch (error) {
    throw new FixtureError(path, `cannot decompress (${(error as Error).message})`);
  }
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The arrays loadFixture returned: bytes that matched the manifest's size and sha256. */
const verified = new WeakSet<Uint8Array>();

/** Whether `bytes` is a fixture's content as loadFixture verified it (the same array, not a copy). */
export function isVerifiedFixture(bytes: Uint8Array): boolean {
  return verified.has(bytes);
}

/**
 * The uncompressed bytes of a fixture, verified against the manifest's size
 * and sha256. The result is cached per file and shared between callers: treat
 * it as read-only (copy it before modifying).
 * @param dir fixtures directory the entry belongs to; defaults to the bundled one.
 * @param copies where a bundled fixture's uncompressed copy is kept (fixture-cache.ts); `false` for nowhere.
 * @throws FixtureError when the file is missing, not gzip, or does not match.
 */
export function loadFixture(
  entry: Pick<FixtureEntry, 'arch' | 'name' | 'file' | 'size' | 'sha256'>, dir?: string, copies?: CopiesOption,
): Uint8Array {
  const path = join(fixturesDir(dir), entry.file);
  const cacheKey = `${path}\0${entry.sha256}`;
  const cached = contentCache.get(cacheKey);
  if (cached !== undefined) return cached;

  // The bundled fixtures: an uncompressed copy in the cache directory, checked like an inflated file, when there is one.
  const bundled = dir === undefined;
  const copy = bundled ? readUncompressedCopy(entry.size, entry.sha256, copies) : undefined;
  if (copy !== undefined) {
    contentCache.set(cacheKey, copy);
    verified.add(copy);
    return copy;
  }

  let compressed: Uint8Array;
  try {
    compressed = readFileSync(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file is missing' : (error as Error).message;
    throw new FixtureError(path, `cannot read ${entry.arch}/${entry.name} (${reason})`);
  }
  const bytes = inflate(compressed, path);
  if (bytes.length !== entry.size) {
    throw new FixtureError(path, `size is ${bytes.length} bytes after decompression, the manifest says ${entry.size}`);
  }
  const actual = sha256Hex(bytes);
  if (actual !== entry.sha256) {
    throw new FixtureError(path, `sha256 is ${actual}, the manifest says ${entry.sha256} (corrupt or stale file)`);
  }
  contentCache.set(cacheKey, bytes);
  verified.add(bytes);
  if (bundled) saveUncompressedCopy(bytes, entry.sha256, copies);
  return bytes;
}
