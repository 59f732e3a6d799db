/**
 * The built-in catalog of libc's and libpcap's public functions: their prototypes, parsed from libc.h and
 * libpcap.h next to this module. Used by the ABI checker (the prototype of an exported function called across
 * objects) and by the playground (a searchable function picker).
 *
 * The .h files are plain C with two kinds of section markers, each a comment alone on its line:
 *   `@types`                a section of typedefs and struct/union/enum definitions, shared by the catalog;
 *   `@header NAME [FLAG…]`  a section of prototypes declared by the system header NAME (e.g. stdio.h).
 * Every prototype has been checked against the real glibc/libpcap headers by scripts/catalog/verify.sh.
 */
import { readFileSync } from 'node:fs';
import { DeclarationError, Declarations } from '../callspec/parse.ts';
import type { Prototype } from '../callspec/types.ts';

export type CatalogLibrary = 'libc.so.6' | 'libpcap.so.0.8';

export interface CatalogEntry {
  name: string;
  library: CatalogLibrary;
  prototype: Prototype;
  /** The header that declares the function, e.g. `stdio.h`, `pcap.h`. */
  header: string;
  /** The prototype as written in the catalog (comments removed, whitespace collapsed), without the `;`. */
  text: string;
}

/** One section of a catalog file. */
export interface CatalogSection {
  library: CatalogLibrary;
  /** The catalog file the section comes from (`libc.h`, `libpcap.h`). */
  file: string;
  kind: 'types' | 'header';
  /** For `header` sections: the header named by the marker. */
  header?: string;
  /** Extra words after the header name in the marker (e.g. `nognu`, used by the verifier). */
  flags: string[];
  /** The section's text, from the line after the marker up to the next marker. */
  text: string;
  /** 1-based line in `file` of the first line of `text`. */
  line: number;
}

/** One top-level declaration of a section (text up to and including its `;`), with its position. */
export interface CatalogStatement {
  text: string;
  /** 1-based line in the catalog file where the statement starts. */
  line: number;
}

/** The catalog files, in parsing order (libpcap.h uses types from libc.h). */
const FILES: ReadonlyArray<{ file: string; library: CatalogLibrary }> = [
  { file: 'libc.h', library: 'libc.so.6' },
  { file: 'libpcap.h', library: 'libpcap.so.0.8' },
];

const TYPES_MARKER = /^\s*\/\*\s*@types\s*\*\/\s*$/;
const HEADER_MARKER = /^\s*\/\*\s*@header\s+(\S+)((?:\s+[\w=:-]+)*)\s*\*\/\s*$/;

/** A problem in the catalog files themselves (a bug in the catalog, reported with file and line). */
export class CatalogError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CatalogError';
  }
}

function readCatalogFile(file: string): string {
  // `../catalog/` rather than `./`: the same path from the CLI bundle (dist/bundle/, see scripts/build.mjs).
  return readFileSync(new URL(`../catalog/${file}`, import.meta.url), 'utf8');
}

/** Split a catalog file into its sections. Text before the first marker (the file's comment) is dropped. */
export function parseSections(source: string, file: string, library: CatalogLibrary): CatalogSection[] {
  const sections: CatalogSection[] = [];
  let current: CatalogSection | undefined;
  const lines = source.split('\n');
  lines.forEach((lineText, index) => {
    const types = TYPES_MARKER.test(lineText);
    const header = HEADER_MARKER.exec(lineText);
    if (types || header) {
      current = {
        library,
        file,
        kind: types ? 'types' : 'header',
        flags: header ? header[2].trim().split(/\s+/).filter(Boolean) : [],
        text: '',
        line: index + 2,
      };
      if (header) current.header = header[1];
      sections.push(current);
    } else if (current) {
      current.text += `${lineText}\n`;
    }
  });
  return sections;
}

/** Replace comments by spaces (keeping newlines, so that offsets and line numbers stay valid). */
function blankComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, (comment) => comment.replace(/[^\n]/g, ' '));
}

/**
 * Split a section into its top-level declarations: text up to each `;` outside braces and parentheses.
 * Comments are removed; empty declarations are dropped.
 */
export function splitStatements(section: Pick<CatalogSection, 'text' | 'line'>): CatalogStatement[] {
  const clean = blankComments(section.text);
  const statements: CatalogStatement[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < clean.length; i++) {
    const c = clean[i];
    if (c === '{' || c === '(') depth++;
    else if (c === '}' || c === ')') depth--;
    else if (c === ';' && depth === 0) {
      pushStatement(clean, start, i + 1, section.line, statements);
      start = i + 1;
    }
  }
  if (clean.slice(start).trim()) {
    const line = section.line + countNewlines(clean.slice(0, start + clean.slice(start).search(/\S/)));
    throw new CatalogError(`line ${line}: declaration without a terminating ";": ${clean.slice(start).trim()}`);
  }
  return statements;
}

function countNewlines(text: string): number {
  let n = 0;
  for (const c of text) if (c === '\n') n++;
  return n;
}

function pushStatement(clean: string, start: number, end: number, firstLine: number, out: CatalogStatement[]): void {
  const raw = clean.slice(start, end);
  const lead = raw.search(/\S/);
  if (lead < 0 || raw.trim() === ';') return;
  out.push({ text: raw.trim(), line: firstLine + countNewlines(clean.slice(0, start + lead)) });
}

let sectionsCache: readonly CatalogSection[] | undefined;

/** All sections of both catalog files, in parsing order. */
export function catalogSections(): readonly CatalogSection[] {
  sectionsCache ??= FILES.flatMap(({ file, library }) => parseSections(readCatalogFile(file), file, library));
  return sectionsCache;
}

function withLocation<T>(file: string, line: number, step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (error instanceof DeclarationError) {
      throw new CatalogError(`${file}:${line + error.line - 1}: ${error.message}\n${error.excerpt}`);
    }
    throw error;
  }
}

function addTypes(decls: Declarations): void {
  for (const section of catalogSections()) {
    if (section.kind === 'types') withLocation(section.file, section.line, () => decls.addDeclarations(section.text));
  }
}

/** A fresh Declarations scope holding the catalog's types (struct tm, pcap_handler, …) to parse more prototypes with. */
export function catalogDeclarations(): Declarations {
  const decls = new Declarations();
  addTypes(decls);
  return decls;
}

let entriesCache: readonly CatalogEntry[] | undefined;
let byName: Map<string, CatalogEntry> | undefined;

function buildCatalog(): CatalogEntry[] {
  const decls = new Declarations();
  const entries: CatalogEntry[] = [];
  const seen = new Map<string, string>();
  for (const section of catalogSections()) {
    if (section.kind === 'types') {
      withLocation(section.file, section.line, () => decls.addDeclarations(section.text));
      continue;
    }
    for (const statement of splitStatements(section)) {
      const where = `${section.file}:${statement.line}`;
      const prototype = withLocation(section.file, statement.line, () => decls.parsePrototype(statement.text));
      const previous = seen.get(prototype.name);
      if (previous) throw new CatalogError(`${where}: ${prototype.name} is already declared at ${previous}`);
      seen.set(prototype.name, where);
      entries.push({ name: prototype.name, library: section.library, prototype, header: section.header!, text: prototype.text });
    }
  }
  return entries;
}

/** Every catalog entry, in catalog order (libc first, then libpcap). Parsed once and cached; do not modify. */
export function catalog(): readonly CatalogEntry[] {
  if (!entriesCache) {
    const entries = buildCatalog();
    for (const entry of entries) Object.freeze(entry);
    entriesCache = Object.freeze(entries);
    byName = new Map(entries.map((entry) => [entry.name, entry]));
  }
  return entriesCache;
}

/** The catalog entry of a function, or undefined when the catalog does not know it. */
export function lookupPrototype(name: string): CatalogEntry | undefined {
  catalog();
  return byName!.get(name);
}

/**
 * Entries whose name contains `query` (case-insensitive), best first: exact name, then names starting with the
 * query, then names where it starts a `_`-separated word (`comp` in `pcap_compile`), then any other substring;
 * within a rank shorter names first, then alphabetically. An empty query lists every entry by name.
 */
export function searchCatalog(query: string, limit = 20): CatalogEntry[] {
  const q = query.trim().toLowerCase();
  const ranked: Array<{ entry: CatalogEntry; rank: number }> = [];
  for (const entry of catalog()) {
    const name = entry.name.toLowerCase();
    const at = name.indexOf(q);
    if (at < 0) continue;
    let rank: number;
    if (name === q) rank = 0;
    else if (at === 0) rank = 1;
    else if (name.split('_').some((word, i, words) => i > 0 && words.slice(i).join('_').startsWith(q))) rank = 2;
    else rank = 3;
    ranked.push({ entry, rank });
  }
  ranked.sort((a, b) => a.rank - b.rank || a.entry.name.length - b.entry.name.length || (a.entry.name < b.entry.name ? -1 : a.entry.name > b.entry.name ? 1 : 0));
  return ranked.slice(0, Math.max(0, limit)).map((r) => r.entry);
}
