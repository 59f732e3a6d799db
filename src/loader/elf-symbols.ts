/**
 * Symbol tables (.dynsym via DT_SYMTAB, .symtab via section headers) and GNU symbol versioning
 * (DT_VERSYM, DT_VERDEF, DT_VERNEED).
 */
import {
  DT_VERDEF, DT_VERDEFNUM, DT_VERNEED, DT_VERNEEDNUM, DT_VERSYM, SHN_UNDEF, SHT_STRTAB, SHT_SYMTAB,
  SYMBOL_BIND_NAMES, SYMBOL_TYPE_NAMES, SYMBOL_VISIBILITY_NAMES, SYM_SIZE, VERDAUX_SIZE, VERDEF_SIZE,
  VERNAUX_SIZE, VERNEED_SIZE, VER_DEF_CURRENT, VER_FLG_BASE, VER_FLG_WEAK, VER_NDX_GLOBAL, VER_NEED_CURRENT,
  VERSYM_HIDDEN, VERSYM_VERSION, hex,
} from './elf-constants.ts';
import { dynamicValue, type DynamicInfo } from './elf-dynamic.ts';
import type { ElfReader } from './elf-reader.ts';
import type { AddressMap } from './elf-segments.ts';
import type { ElfSymbol, SectionHeader, VersionDefinition, VersionNeeded } from './elf-types.ts';

// ---------------------------------------------------------------------------------------------------------------
// Symbol tables
// ---------------------------------------------------------------------------------------------------------------

export interface SymbolTableLocation {
  /** File offsets and sizes; the caller has checked they are inside the file. */
  offset: number;
  count: number;
  entsize: number;
  strOffset: number;
  strSize: number;
  /** '.dynsym' or '.symtab', for error messages. */
  what: string;
}

export function readSymbols(reader: ElfReader, table: SymbolTableLocation): ElfSymbol[] {
  const expected = SYM_SIZE[reader.bits];
  if (table.entsize !== expected) {
    reader.fail(`${table.what}: symbol entry size is ${table.entsize}, expected ${expected} for ELFCLASS${reader.bits}`);
  }
  reader.need(table.offset, table.count * table.entsize, `${table.what} (${table.count} symbols)`);
  const symbols: ElfSymbol[] = new Array<ElfSymbol>(table.count);
  for (let i = 0; i < table.count; i++) symbols[i] = readSymbol(reader, table, i);
  return symbols;
}

/** Symbol `i` of a table whose entry size and extent the caller has checked (readSymbols; a verified file). */
export function readSymbol(reader: ElfReader, table: SymbolTableLocation, i: number): ElfSymbol {
  const at = table.offset + i * table.entsize;
  const raw = reader.bits === 64 ? readSym64(reader, at) : readSym32(reader, at);
  const strEnd = table.strOffset + table.strSize;
  const name = raw.name === 0 ? '' : reader.cString(table.strOffset + raw.name, strEnd, () => `${table.what} symbol ${i} name`);
  const type = raw.info & 0xf;
  const bind = raw.info >> 4;
  return {
    name,
    value: raw.value,
    size: raw.size,
    type: SYMBOL_TYPE_NAMES[type] ?? `TYPE_${type}`,
    bind: SYMBOL_BIND_NAMES[bind] ?? `BIND_${bind}`,
    visibility: SYMBOL_VISIBILITY_NAMES[raw.other & 0x3]!,
    shndx: raw.shndx,
    defined: raw.shndx !== SHN_UNDEF,
  };
}

interface RawSym {
  name: number;
  value: number;
  size: number;
  info: number;
  other: number;
  shndx: number;
}

/** Elf32_Sym: st_name, st_value, st_size, st_info, st_other, st_shndx. */
function readSym32(reader: ElfReader, at: number): RawSym {
  return {
    name: reader.u32(at),
    value: reader.u32(at + 4),
    size: reader.u32(at + 8),
    info: reader.u8(at + 12),
    other: reader.u8(at + 13),
    shndx: reader.u16(at + 14),
  };
}

/** Elf64_Sym: st_name, st_info, st_other, st_shndx, st_value, st_size. */
function readSym64(reader: ElfReader, at: number): RawSym {
  return {
    name: reader.u32(at),
    info: reader.u8(at + 4),
    other: reader.u8(at + 5),
    shndx: reader.u16(at + 6),
    value: reader.u64(at + 8, 'st_value'),
    size: reader.u64(at + 16, 'st_size'),
  };
}

/** The .symtab section and its string table (sh_link), if the file still has them. */
export function symtabLocation(reader: ElfReader, sections: readonly SectionHeader[]): SymbolTableLocation | undefined {
  const index = sections.findIndex((s) => s.type === SHT_SYMTAB);
  if (index < 0) return undefined;
  const symtab = sections[index]!;
  const strtab = sections[symtab.link];
  if (strtab === undefined || strtab.type !== SHT_STRTAB) {
    reader.fail(`symbol table (section ${index}) links to section ${symtab.link}, which is not a string table`);
  }
  if (symtab.entsize === 0) reader.fail(`symbol table (section ${index}) has sh_entsize 0`);
  return {
    offset: symtab.offset,
    count: Math.floor(symtab.size / symtab.entsize),
    entsize: symtab.entsize,
    strOffset: strtab.offset,
    strSize: strtab.size,
    what: symtab.name || '.symtab',
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Versions
// ---------------------------------------------------------------------------------------------------------------

export interface VersionInfo {
  definitions: VersionDefinition[];
  needed: VersionNeeded[];
  /** Version name by .gnu.version index, from both tables. */
  names: Map<number, string>;
}

export function readVersionInfo(reader: ElfReader, dynamic: DynamicInfo, map: AddressMap): VersionInfo {
  const definitions = readVerdef(reader, dynamic, map);
  const needed = readVerneed(reader, dynamic, map);
  const names = new Map<number, string>();
  for (const d of definitions) names.set(d.index, d.name);
  for (const n of needed) for (const v of n.versions) names.set(v.index, v.name);
  return { definitions, needed, names };
}

/** Elf_Verdef chain: vd_version, vd_flags, vd_ndx, vd_cnt, vd_hash, vd_aux, vd_next; Verdaux: vda_name, vda_next. */
function readVerdef(reader: ElfReader, dynamic: DynamicInfo, map: AddressMap): VersionDefinition[] {
  const address = dynamicValue(dynamic.entries, DT_VERDEF);
  if (address === undefined) return [];
  const limit = dynamicValue(dynamic.entries, DT_VERDEFNUM) ?? Math.floor(reader.size / VERDEF_SIZE);
  const definitions: VersionDefinition[] = [];
  let at = map.range(address, VERDEF_SIZE, 'DT_VERDEF');
  for (let i = 0; i < limit; i++) {
    const what = `DT_VERDEF entry ${i}`;
    reader.need(at, VERDEF_SIZE, what);
    const version = reader.u16(at);
    if (version !== VER_DEF_CURRENT) reader.fail(`${what}: unsupported vd_version ${version}`);
    const flags = reader.u16(at + 2);
    const names = readAuxNames(reader, dynamic, at + reader.u32(at + 12), reader.u16(at + 6), what);
    if (names.length === 0) reader.fail(`${what} has no name (vd_cnt is 0)`);
    definitions.push({
      index: reader.u16(at + 4),
      name: names[0]!,
      flags,
      base: (flags & VER_FLG_BASE) !== 0,
      hash: reader.u32(at + 8),
      parents: names.slice(1),
    });
    const next = reader.u32(at + 16);
    if (next === 0) break;
    at += next;
  }
  return definitions;
}

function readAuxNames(reader: ElfReader, dynamic: DynamicInfo, first: number, count: number, what: string): string[] {
  const names: string[] = [];
  let at = first;
  for (let j = 0; j < count; j++) {
    reader.need(at, VERDAUX_SIZE, `${what} Verdaux ${j}`);
    names.push(dynamic.string(reader.u32(at), `${what} name`));
    const next = reader.u32(at + 4);
    if (next === 0) break;
    at += next;
  }
  return names;
}

/** Elf_Verneed chain: vn_version, vn_cnt, vn_file, vn_aux, vn_next; Vernaux: vna_hash, vna_flags, vna_other, vna_name, vna_next. */
function readVerneed(reader: ElfReader, dynamic: DynamicInfo, map: AddressMap): VersionNeeded[] {
  const address = dynamicValue(dynamic.entries, DT_VERNEED);
  if (address === undefined) return [];
  const limit = dynamicValue(dynamic.entries, DT_VERNEEDNUM) ?? Math.floor(reader.size / VERNEED_SIZE);
  const needed: VersionNeeded[] = [];
  let at = map.range(address, VERNEED_SIZE, 'DT_VERNEED');
  for (let i = 0; i < limit; i++) {
    const what = `DT_VERNEED entry ${i}`;
    reader.need(at, VERNEED_SIZE, what);
    const version = reader.u16(at);
    if (version !== VER_NEED_CURRENT) reader.fail(`${what}: unsupported vn_version ${version}`);
    const count = reader.u16(at + 2);
    const file = dynamic.string(reader.u32(at + 4), `${what} file name`);
    const versions: VersionNeeded['versions'] = [];
    let aux = at + reader.u32(at + 8);
    for (let j = 0; j < count; j++) {
      const auxWhat = `${what} (${file}) Vernaux ${j}`;
      reader.need(aux, VERNAUX_SIZE, auxWhat);
      const flags = reader.u16(aux + 4);
      versions.push({
        name: dynamic.string(reader.u32(aux + 8), `${auxWhat} name`),
        index: reader.u16(aux + 6) & VERSYM_VERSION,
        hash: reader.u32(aux),
        flags,
        weak: (flags & VER_FLG_WEAK) !== 0,
      });
      const next = reader.u32(aux + 12);
      if (next === 0) break;
      aux += next;
    }
    needed.push({ file, versions });
    const next = reader.u32(at + 12);
    if (next === 0) break;
    at += next;
  }
  return needed;
}

/** Reads .gnu.version (one Elf_Half per dynamic symbol) and attaches version names to `symbols`. */
export function applyVersions(
  reader: ElfReader, dynamic: DynamicInfo, map: AddressMap, symbols: ElfSymbol[], names: Map<number, string>,
): boolean {
  const address = dynamicValue(dynamic.entries, DT_VERSYM);
  if (address === undefined || symbols.length === 0) return false;
  const offset = map.range(address, symbols.length * 2, 'DT_VERSYM (one entry per dynamic symbol)');
  symbols.forEach((symbol, i) => {
    const version = symbolVersion(reader, offset, i, names, symbol.name);
    if (version) symbol.version = version;
  });
  return true;
}

/**
 * The version of dynamic symbol `i` from .gnu.version at file offset `versym`, or undefined for "local" and
 * "global, unversioned" (or the file's base definition), which have no version name.
 */
export function symbolVersion(
  reader: ElfReader, versym: number, i: number, names: Map<number, string>, name: string,
): { name: string; hidden: boolean } | undefined {
  const entry = reader.u16(versym + i * 2);
  const index = entry & VERSYM_VERSION;
  if (index <= VER_NDX_GLOBAL) return undefined;
  const version = names.get(index);
  if (version === undefined) {
    reader.fail(
      `dynamic symbol ${i} (${name}) has version index ${index} (${hex(entry)}), ` +
        'which no DT_VERDEF or DT_VERNEED entry defines',
    );
  }
  return { name: version, hidden: (entry & VERSYM_HIDDEN) !== 0 };
}
