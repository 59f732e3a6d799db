/**
 * The boot image cache: boot is deterministic, so the booted machine is saved once per set of inputs that decide it
 * — architecture, the fixtures' hashes, extra libraries' and files' bytes, seed, the boot options that reach the
 * guest, and this build of shimulator and Unicorn — and later boots restore it instead of running ld.so again.
 *
 * Where: `$XDG_CACHE_HOME/shimulator`, else `~/.cache/shimulator` (BootOptions `cache: { dir }`, CLI `--cache-dir`;
 * `cache: false` / `--no-cache` bypass it). Files are written to a temporary name and renamed into place (readers
 * never see half a file), verified on load (format version, key, checksum), and a missing, stale or corrupt one is
 * silently replaced by a fresh boot's.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Arch } from '../emu/arch.ts';
import { unicornVersion } from '../emu/unicorn-native.ts';
import { findFixture, fixtureEntries } from '../loader/fixtures.ts';
import { defaultCacheDir, keepNewest } from './cache-dir.ts';
import { decodeImage, encodeImage, IMAGE_FORMAT_VERSION } from './image-file.ts';
import type { MachineSnapshot } from './machine-snapshot.ts';

const IMAGE_SUFFIX = '.img';
/** Images kept in a cache directory (~2.5 MiB each), the most recently used ones. */
export const MAX_IMAGES = 32;

/** BootOptions.cache: false to bypass the cache, or where to keep it. */
export type CacheOption = false | { dir?: string };

/** The inputs of a boot that decide its result (host-side options like `decls` or `check` do not). */
export interface BootInputs {
  arch: Arch;
  /** Bundled sonames as given, or host libraries with their bytes. */
  libs: (string | { path: string; bytes: Uint8Array })[];
  files?: Record<string, Uint8Array>;
  seed?: number;
  bootBudget?: number;
  recordSyscalls?: boolean;
  memoryLimit?: number;
  maxEngineRegions?: number;
  outputLimit?: number;
  tmpLimit?: number;
}

export { defaultCacheDir };

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

let buildId: string | undefined;
/** Folders that hold no code of ours (should the code be bundled into one file at the package's root). */
const NOT_SOURCE = new Set(['node_modules', '.git', 'fixtures', 'test', 'docs', 'web', 'scratch']);
/** Written into dist/ by scripts/build.mjs: a hash of every built file. */
const BUILD_ID_FILE = 'build-id';

/**
 * This build of shimulator: the image format, Unicorn's version, and the code. Compiled code (dist/) carries the
 * build's own hash (one small read; stat-ing dist/'s ~300 files cost ~10 ms of every CLI call); the TypeScript
 * sources are identified by every file's path, size and modification time (a changed file gives new images;
 * hashing the sources' bytes on every boot would cost more).
 */
export function currentBuild(): string {
  if (buildId) return buildId;
  const root = dirname(dirname(fileURLToPath(import.meta.url)));
  const parts: string[] = [`format ${IMAGE_FORMAT_VERSION}`, `unicorn ${unicornVersion()}`];
  const built = builtId(root);
  if (built) parts.push(`build ${built}`);
  else walkSources(root, root, parts);
  buildId = sha256(parts.join('\n'));
  return buildId;
}

/** The build's hash when `root` is a built dist/, else undefined. */
function builtId(root: string): string | undefined {
  try {
    const id = readFileSync(join(root, BUILD_ID_FILE), 'utf8').trim();
    return /^[0-9a-f]{64}$/.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}

/** Adds each source file's path, size and modification time under `dir` to `parts`. */
function walkSources(root: string, dir: string, parts: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!NOT_SOURCE.has(entry.name)) walkSources(root, path, parts);
    } else if (/\.(ts|js|mjs|c|h)$/.test(entry.name)) {
      const s = statSync(path);
      parts.push(`${relative(root, path)} ${s.size} ${s.mtimeMs}`);
    }
  }
}

/** The cache key of a boot: a JSON text (stored in the image and compared on load). */
export function bootKey(inputs: BootInputs): string {
  return JSON.stringify({
    build: currentBuild(),
    arch: inputs.arch,
    fixtures: fixtureEntries(inputs.arch).map((e) => `${e.guestPath} ${e.sha256}`),
    // A host library is mounted as /opt/shimulator/lib/<file name>: its folder on the host does not reach the guest.
    libs: inputs.libs.map((lib) => (typeof lib === 'string' ? lib : { name: basename(lib.path), sha256: sha256(lib.bytes) })),
    files: Object.entries(inputs.files ?? {}).map(([path, bytes]) => [path, sha256(bytes)]),
    seed: inputs.seed ?? 0,
    bootBudget: inputs.bootBudget ?? null,
    recordSyscalls: inputs.recordSyscalls ?? false,
    memoryLimit: inputs.memoryLimit ?? null,
    maxEngineRegions: inputs.maxEngineRegions ?? null,
    outputLimit: inputs.outputLimit ?? null,
    tmpLimit: inputs.tmpLimit ?? null,
  });
}

/**
 * The cache and key for a boot, or undefined when it bypasses the cache (`cache: false`), or when its libraries
 * cannot be read (the boot itself then reports that, with its own error).
 */
export function cacheForBoot(
  options: Omit<BootInputs, 'libs'> & { libs: string[]; cache?: CacheOption },
): { cache: BootImageCache; key: string; arch: Arch } | undefined {
  if (options.cache === false) return undefined;
  const arch = options.arch;
  try {
    const libs = options.libs.map((lib) => (findFixture(arch, lib) ? lib : { path: lib, bytes: new Uint8Array(readFileSync(lib)) }));
    return { cache: new BootImageCache(options.cache), key: bootKey({ ...options, libs }), arch };
  } catch {
    return undefined;
  }
}

export class BootImageCache {
  readonly dir: string;

  constructor(option: { dir?: string } = {}) {
    this.dir = option.dir ?? defaultCacheDir();
  }

  /** The image file of a key. */
  path(key: string, arch: Arch): string {
    return join(this.dir, `${arch}-${sha256(key).slice(0, 40)}${IMAGE_SUFFIX}`);
  }

  /** The cached machine for `key`, or undefined when there is none or it is stale or corrupt (it is then removed). */
  load(key: string, arch: Arch, owner: object): MachineSnapshot | undefined {
    const path = this.path(key, arch);
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch {
      return undefined;
    }
    let image: MachineSnapshot;
    try {
      image = decodeImage(bytes, key, owner);
    } catch {
      this.remove(path);
      return undefined;
    }
    try {
      const now = new Date();
      utimesSync(path, now, now); // recently used: eviction keeps it
    } catch {
      // removed meanwhile by another process's eviction: the image read is still whole
    }
    return image;
  }

  /** Forgets a cached image (one that decoded but could not be applied). */
  discard(key: string, arch: Arch): void {
    this.remove(this.path(key, arch));
  }

  /** Writes the image atomically; a cache that cannot be written (read-only, full) is skipped silently. */
  save(key: string, snapshot: MachineSnapshot): void {
    const path = this.path(key, snapshot.arch);
    const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
    try {
      mkdirSync(this.dir, { recursive: true });
      writeFileSync(temporary, encodeImage(snapshot, key));
      renameSync(temporary, path);
      this.evict();
    } catch {
      this.remove(temporary);
    }
  }

  /** Keeps the MAX_IMAGES most recently used images (boots with ever-new libraries must not fill the disk). */
  private evict(): void {
    keepNewest(this.dir, IMAGE_SUFFIX, MAX_IMAGES);
  }

  private remove(path: string): void {
    try {
      unlinkSync(path);
    } catch {
      // already gone (another process replaced it): nothing to do
    }
  }
}
