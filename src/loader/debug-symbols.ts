/**
 * Names for glibc's internal functions. The bundled libraries are stripped: their dynamic symbols name only what
 * they export, so most of what `snprintf` executes (`__vfprintf_internal`, `__printf_fp_l`, `__strchrnul_avx2`…)
 * would have no name. Debian's libc6-dbg ships the full symbol tables in detached debug files, found by GNU build
 * id; scripts/fixtures/debug-symbols.sh keeps only their function symbols, one table per object
 * (fixtures/debug/<arch>/<soname>.syms.gz, listed under `debugSymbols` in fixtures/manifest.json).
 *
 * A table is used for a loaded file only when the file's NT_GNU_BUILD_ID is the table's: any other build (a
 * user's own libc given with --lib) keeps its own symbols.
 */
import type { Arch } from '../emu/arch.ts';
import { containing } from './containing.ts';
import { FixtureError, loadFixture, manifestDocument } from './fixtures.ts';

/** First line of a table (pack-symbols.mjs writes it). */
const TABLE_HEADER = '# shimulator function symbols v1';
const BUILD_ID_HEX = /^[0-9a-f]{2,128}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;
const STRING_FIELDS = ['name', 'file', 'buildId', 'package', 'version', 'debPath'] as const;

/** One `debugSymbols` entry of fixtures/manifest.json. */
export interface DebugSymbolsEntry {
  arch: Arch;
  /** SONAME of the object the table describes (`libc.so.6`). */
  name: string;
  /** The gzip-compressed table, relative to the fixtures directory. */
  file: string;
  /** NT_GNU_BUILD_ID (hex) of the object and of the debug file the table was taken from. */
  buildId: string;
  /** Debian package and version of the debug file (`libc6-dbg`). */
  package: string;
  version: string;
  /** The debug file's path inside the package (`/usr/lib/debug/.build-id/xx/yyyy.debug`). */
  debPath: string;
  /** Number of functions in the table. */
  functions: number;
  /** Uncompressed size and sha256 of the table. */
  size: number;
  sha256: string;
}

/** A function of an object: its start (a virtual address of the object, as in its symbol table) and size. */
export interface FunctionSymbol {
  name: string;
  start: number;
  size: number;
}

/** The functions of one object, sorted by start, one name per start. */
export class FunctionTable {
  private readonly maxSize: number;

  constructor(readonly functions: readonly FunctionSymbol[]) {
    this.maxSize = functions.reduce((max, f) => Math.max(max, f.size), 0);
  }

  /** The function containing `vaddr` (the innermost one where functions nest), with the offset into it. */
  at(vaddr: number): { symbol: FunctionSymbol; offset: number } | undefined {
    const symbol = containing(this.functions, vaddr, (f) => f.start, (f) => f.size, this.maxSize);
    return symbol && { symbol, offset: vaddr - symbol.start };
  }
}

/** The `debugSymbols` list of the manifest (empty when it has none), validated. */
export function debugSymbolEntries(dir?: string): DebugSymbolsEntry[] {
  const raw = manifestDocument(dir).debugSymbols;
  if (raw === undefined) return [];
  const where = 'fixtures/manifest.json';
  if (!Array.isArray(raw)) throw new FixtureError(where, '"debugSymbols" is not an array');
  return raw.map((item: unknown, index) => {
    const what = `debugSymbols entry ${index}`;
    const o = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
    if (o.arch !== 'amd64' && o.arch !== 'i386') throw new FixtureError(where, `${what} has unknown arch ${JSON.stringify(o.arch)}`);
    for (const field of STRING_FIELDS) {
      if (typeof o[field] !== 'string' || o[field] === '') throw new FixtureError(where, `${what} has no "${field}" string`);
    }
    if (!BUILD_ID_HEX.test(o.buildId as string)) throw new FixtureError(where, `${what} has an invalid "buildId"`);
    for (const field of ['functions', 'size'] as const) {
      if (!Number.isSafeInteger(o[field]) || (o[field] as number) < 0) throw new FixtureError(where, `${what} has an invalid "${field}"`);
    }
    if (typeof o.sha256 !== 'string' || !SHA256_HEX.test(o.sha256)) throw new FixtureError(where, `${what} has an invalid "sha256"`);
    return o as unknown as DebugSymbolsEntry;
  });
}

/** Parses a table's text; throws FixtureError naming the file for anything malformed. */
export function parseFunctionTable(text: string, entry: Pick<DebugSymbolsEntry, 'file' | 'buildId' | 'functions'>): FunctionTable {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const header = lines.shift() ?? '';
  if (!header.startsWith(TABLE_HEADER) || !header.endsWith(` build-id ${entry.buildId}`)) {
    throw new FixtureError(entry.file, `not a function table for build id ${entry.buildId} (first line: ${JSON.stringify(header.slice(0, 120))})`);
  }
  const functions = lines.map((line, i): FunctionSymbol => {
    const [start, size, name] = line.split(' ');
    if (start === undefined || size === undefined || !name) throw new FixtureError(entry.file, `line ${i + 2} is not "start size name"`);
    return { name, start: parseInt(start, 16), size: parseInt(size, 16) };
  });
  if (functions.length !== entry.functions) {
    throw new FixtureError(entry.file, `holds ${functions.length} functions, the manifest says ${entry.functions}`);
  }
  return new FunctionTable(functions);
}

const tables = new Map<string, FunctionTable | null>();

/**
 * The bundled function table of the object with this build id, or undefined when none is bundled (a user's own
 * library, a fixture without debug symbols). Loaded, verified (size, sha256) and parsed on first use, then cached.
 */
export function bundledFunctions(arch: Arch, buildId: string | undefined, dir?: string): FunctionTable | undefined {
  if (buildId === undefined) return undefined;
  const key = `${dir ?? ''}\0${arch}\0${buildId}`;
  const cached = tables.get(key);
  if (cached !== undefined) return cached ?? undefined;
  const entry = debugSymbolEntries(dir).find((e) => e.arch === arch && e.buildId === buildId);
  const table = entry ? parseFunctionTable(new TextDecoder().decode(loadFixture(entry, dir)), entry) : null;
  tables.set(key, table);
  return table ?? undefined;
}
