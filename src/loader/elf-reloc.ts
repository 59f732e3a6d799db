/**
 * Dynamic relocation tables, located through the dynamic section:
 *   DT_RELA/DT_RELASZ/DT_RELAENT  → '.rela.dyn'     DT_REL/DT_RELSZ/DT_RELENT → '.rel.dyn'
 *   DT_JMPREL/DT_PLTRELSZ/DT_PLTREL → '.rela.plt' or '.rel.plt'
 *   DT_RELR/DT_RELRSZ/DT_RELRENT  → '.relr.dyn' (packed relative relocations; Debian 12's glibc uses them for all
 *                                   of its R_*_RELATIVE relocations)
 */
import type { Arch } from '../emu/arch.ts';
import {
  DT_JMPREL, DT_PLTREL, DT_PLTRELSZ, DT_REL, DT_RELA, DT_RELAENT, DT_RELASZ, DT_RELENT, DT_RELR, DT_RELRENT,
  DT_RELRSZ, DT_RELSZ, I386_RELOCATION_NAMES, RELA_SIZE, REL_SIZE, R_386_RELATIVE, R_X86_64_RELATIVE,
  X86_64_RELOCATION_NAMES, hex, nameOf,
} from './elf-constants.ts';
import { dynamicValue, type DynamicInfo } from './elf-dynamic.ts';
import type { ElfReader } from './elf-reader.ts';
import type { AddressMap } from './elf-segments.ts';
import type { ElfSymbol, Relocation } from './elf-types.ts';

export function relocationTypeName(arch: Arch, type: number): string {
  return arch === 'amd64'
    ? nameOf(X86_64_RELOCATION_NAMES, type, 'R_X86_64_')
    : nameOf(I386_RELOCATION_NAMES, type, 'R_386_');
}

interface Table {
  name: string;
  address: number;
  size: number;
  explicitAddend: boolean;
}

/**
 * All dynamic relocations, in table order (.rela.dyn/.rel.dyn, then the PLT table, then .relr.dyn). Symbol names
 * are attached later by nameRelocations, because the relocations help size the dynamic symbol table.
 */
export function readRelocations(reader: ElfReader, arch: Arch, dynamic: DynamicInfo, map: AddressMap): Relocation[] {
  const relocations: Relocation[] = [];
  for (const table of relocationTables(reader, dynamic)) {
    if (table.size === 0) continue;
    readTable(reader, arch, map, table, relocations);
  }
  readRelr(reader, arch, dynamic, map, relocations);
  return relocations;
}

/** Sets symbolName from the dynamic symbol table, checking each index is inside it. */
export function nameRelocations(reader: ElfReader, relocations: Relocation[], dynsym: readonly ElfSymbol[]): void {
  const positions = new Map<string, number>();
  for (const relocation of relocations) {
    const position = positions.get(relocation.table) ?? 0;
    positions.set(relocation.table, position + 1);
    if (relocation.symbolIndex === 0) continue;
    const symbol = dynsym[relocation.symbolIndex];
    if (symbol === undefined) {
      reader.fail(
        `${relocation.table} relocation ${position} refers to symbol ${relocation.symbolIndex}, ` +
          `but .dynsym has ${dynsym.length}`,
      );
    }
    relocation.symbolName = symbol.name;
  }
}

function relocationTables(reader: ElfReader, dynamic: DynamicInfo): Table[] {
  const value = (tag: number): number | undefined => dynamicValue(dynamic.entries, tag);
  checkEntrySize(reader, value(DT_RELAENT), RELA_SIZE[reader.bits], 'DT_RELAENT');
  checkEntrySize(reader, value(DT_RELENT), REL_SIZE[reader.bits], 'DT_RELENT');

  const tables: Table[] = [];
  const rela = value(DT_RELA);
  if (rela !== undefined) tables.push({ name: '.rela.dyn', address: rela, size: value(DT_RELASZ) ?? 0, explicitAddend: true });
  const rel = value(DT_REL);
  if (rel !== undefined) tables.push({ name: '.rel.dyn', address: rel, size: value(DT_RELSZ) ?? 0, explicitAddend: false });

  const jmprel = value(DT_JMPREL);
  if (jmprel !== undefined) {
    const kind = value(DT_PLTREL);
    if (kind !== DT_RELA && kind !== DT_REL) {
      reader.fail(`DT_PLTREL is ${kind === undefined ? 'missing' : kind}; expected DT_RELA (7) or DT_REL (17)`);
    }
    const plt: Table = {
      name: kind === DT_RELA ? '.rela.plt' : '.rel.plt',
      address: jmprel,
      size: value(DT_PLTRELSZ) ?? 0,
      explicitAddend: kind === DT_RELA,
    };
    // Some linkers make DT_RELASZ/DT_RELSZ cover .rela.plt too when it follows .rela.dyn; ld.so then skips the
    // overlap, and so do we, so that PLT relocations are not listed twice.
    for (const t of tables) {
      if (t.explicitAddend === plt.explicitAddend && t.address + t.size === plt.address + plt.size && plt.address >= t.address) {
        t.size = plt.address - t.address;
      }
    }
    tables.push(plt);
  }
  return tables;
}

function checkEntrySize(reader: ElfReader, actual: number | undefined, expected: number, tag: string): void {
  if (actual !== undefined && actual !== expected) {
    reader.fail(`${tag} is ${actual}, expected ${expected} for ELFCLASS${reader.bits}`);
  }
}

function readTable(reader: ElfReader, arch: Arch, map: AddressMap, table: Table, out: Relocation[]): void {
  const entrySize = (table.explicitAddend ? RELA_SIZE : REL_SIZE)[reader.bits];
  if (table.size % entrySize !== 0) {
    reader.fail(`${table.name}: size ${hex(table.size)} is not a multiple of the entry size ${entrySize}`);
  }
  const offset = map.range(table.address, table.size, `${table.name} relocation table`);
  const count = table.size / entrySize;
  for (let i = 0; i < count; i++) {
    const at = offset + i * entrySize;
    const where = reader.word(at, 'r_offset');
    // r_info: ELF64 puts the symbol in the high 32 bits and the type in the low 32; ELF32 uses 24 + 8 bits.
    const symbolIndex = reader.bits === 64 ? reader.u32(at + 12) : reader.u32(at + 4) >>> 8;
    const type = reader.bits === 64 ? reader.u32(at + 8) : reader.u8(at + 4);
    const relocation: Relocation = {
      offset: where,
      type,
      typeName: relocationTypeName(arch, type),
      symbolIndex,
      table: table.name,
    };
    if (table.explicitAddend) relocation.addend = reader.sword(at + reader.wordSize * 2, 'r_addend');
    out.push(relocation);
  }
}

/**
 * DT_RELR: a sequence of words. An even word is an address to relocate (and the next address is word-size
 * past it); an odd word is a bitmap whose bits 1..N-1 (N = bits in a word) mark which of the next N-1 words
 * after the current address need relocating. Each is an R_*_RELATIVE with the addend stored in place.
 */
function readRelr(reader: ElfReader, arch: Arch, dynamic: DynamicInfo, map: AddressMap, out: Relocation[]): void {
  const address = dynamicValue(dynamic.entries, DT_RELR);
  if (address === undefined) return;
  const size = dynamicValue(dynamic.entries, DT_RELRSZ) ?? 0;
  const wordSize = reader.wordSize;
  checkEntrySize(reader, dynamicValue(dynamic.entries, DT_RELRENT), wordSize, 'DT_RELRENT');
  if (size === 0) return;
  if (size % wordSize !== 0) reader.fail(`.relr.dyn: size ${hex(size)} is not a multiple of ${wordSize}`);
  const offset = map.range(address, size, '.relr.dyn relocation table');

  const type = arch === 'amd64' ? R_X86_64_RELATIVE : R_386_RELATIVE;
  const typeName = relocationTypeName(arch, type);
  const push = (where: number): void => {
    if (!Number.isSafeInteger(where)) reader.fail('.relr.dyn: relocated address does not fit in 53 bits');
    out.push({ offset: where, type, typeName, symbolIndex: 0, table: '.relr.dyn' });
  };
  const bitmapBits = wordSize * 8 - 1;
  let next: number | undefined;
  for (let at = offset; at < offset + size; at += wordSize) {
    const low = reader.u32(at);
    if ((low & 1) === 0) {
      const where = reader.word(at, '.relr.dyn address');
      push(where);
      next = where + wordSize;
      continue;
    }
    if (next === undefined) reader.fail(`.relr.dyn: bitmap entry at file offset ${hex(at)} before any address entry`);
    const high = wordSize === 8 ? reader.u32(at + 4) : 0;
    for (let bit = 1; bit <= bitmapBits; bit++) {
      const set = bit < 32 ? (low >>> bit) & 1 : (high >>> (bit - 32)) & 1;
      if (set) push(next + (bit - 1) * wordSize);
    }
    next += bitmapBits * wordSize;
  }
}
