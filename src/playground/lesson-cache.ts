/**
 * Lesson recordings on disk: a lesson's answer (GET /api/lessons/<id>, gzip-compressed JSON) is recorded once and
 * kept beside the boot images (image-cache.ts: `$XDG_CACHE_HOME/shimulator`, `--cache-dir`, `--no-cache`), so a
 * restarted server serves it without running a single guest call.
 *
 * The key holds everything that decides a recording: the lesson's definition, the fixtures' hashes (glibc and
 * libpcap per architecture, the ABI test objects), the architectures its steps run on, and this build of
 * shimulator (its version and sources, as for boot images). A file is written to a temporary name and renamed into
 * place, and verified on load (format, key, length, sha256 of the payload); a stale or corrupt one is removed and
 * the lesson recorded again.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ARCHES } from '../emu/arch.ts';
import { fixtureEntries } from '../loader/fixtures.ts';
import { currentBuild, defaultCacheDir } from '../snapshot/image-cache.ts';
import type { LessonDefinition } from './lessons.ts';

/** Bumped when the file layout or the lesson answer's shape changes. */
export const LESSON_FORMAT_VERSION = 1;
const SUFFIX = '.lesson';
const PREFIX = 'lesson-';
const NEWLINE = 0x0a;
/** Hex digits of the key's hash in a file name: enough that two keys never share a file in practice. */
const NAME_HASH_DIGITS = 32;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

let fixturesId: string | undefined;
/** The fixtures every lesson may run on: the bundled libraries of both architectures and the ABI test objects. */
function fixturesIdentity(): string {
  if (fixturesId) return fixturesId;
  const parts = ARCHES.flatMap((arch) => fixtureEntries(arch).map((e) => `${arch} ${e.guestPath} ${e.sha256}`));
  const abiDir = join(ROOT, 'fixtures', 'abi');
  try {
    // Subfolders too: the conventions lessons call fixtures/abi/lessons/liblessons-<arch>.so.
    const names = readdirSync(abiDir, { recursive: true, encoding: 'utf8' });
    for (const name of names.filter((n) => n.endsWith('.so') || n === 'manifest.json').sort()) {
      parts.push(`abi ${name} ${sha256(readFileSync(join(abiDir, name)))}`);
    }
  } catch {
    parts.push('abi none'); // not installed: the lessons that need them fail with their own error, and are not cached
  }
  fixturesId = sha256(parts.join('\n'));
  return fixturesId;
}

let version: string | undefined;
function shimulatorVersion(): string {
  version ??= (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  return version;
}

/** The cache key of a lesson's recording (a JSON text, stored in the file and compared on load). */
export function lessonKey(definition: LessonDefinition): string {
  return JSON.stringify({
    format: LESSON_FORMAT_VERSION,
    version: shimulatorVersion(),
    build: currentBuild(),
    lesson: definition.id,
    definition: sha256(JSON.stringify(definition)),
    arches: [...new Set(definition.steps.map((step) => step.arch))].sort(),
    fixtures: fixturesIdentity(),
  });
}

/** The first line of a file: what the payload after it must be. */
interface Header {
  key: string;
  bytes: number;
  sha256: string;
}

export class LessonCache {
  readonly dir: string;

  constructor(option: { dir?: string } = {}) {
    this.dir = option.dir ?? defaultCacheDir();
  }

  /** The file of a lesson's key. */
  path(id: string, key: string): string {
    return join(this.dir, `${PREFIX}${id}-${sha256(key).slice(0, NAME_HASH_DIGITS)}${SUFFIX}`);
  }

  /** The cached answer (gzip-compressed JSON) for `key`, or undefined when there is none or it is stale or corrupt
   * (then it is removed). */
  load(id: string, key: string): Buffer | undefined {
    const path = this.path(id, key);
    let bytes: Buffer;
    try {
      bytes = readFileSync(path);
    } catch {
      return undefined;
    }
    const payload = verified(bytes, key);
    if (!payload) remove(path);
    return payload;
  }

  /** Writes the answer atomically and drops the lesson's older recordings; an unwritable cache is skipped silently. */
  save(id: string, key: string, gzip: Buffer): void {
    const path = this.path(id, key);
    const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
    const header: Header = { key, bytes: gzip.length, sha256: sha256(gzip) };
    try {
      mkdirSync(this.dir, { recursive: true });
      writeFileSync(temporary, Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), gzip]));
      renameSync(temporary, path);
      const current = path.slice(this.dir.length + 1);
      for (const name of readdirSync(this.dir)) {
        if (name.startsWith(`${PREFIX}${id}-`) && name.endsWith(SUFFIX) && name !== current) remove(join(this.dir, name));
      }
    } catch {
      remove(temporary);
    }
  }
}

/** The payload of a cache file when its header matches `key` and the payload its length and hash. */
function verified(bytes: Buffer, key: string): Buffer | undefined {
  const end = bytes.indexOf(NEWLINE);
  if (end < 0) return undefined;
  let header: Partial<Header>;
  try {
    header = JSON.parse(bytes.subarray(0, end).toString('utf8')) as Partial<Header>;
  } catch {
    return undefined;
  }
  const payload = bytes.subarray(end + 1);
  if (header.key !== key || header.bytes !== payload.length || header.sha256 !== sha256(payload)) return undefined;
  return payload;
}

function remove(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone (another server replaced it)
  }
}
