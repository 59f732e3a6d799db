/**
 * A strict reader for little-endian i386 and x86-64 ELF files: headers (via elfy), the dynamic section, dynamic
 * and static symbols with GNU versions, the GNU/SysV hash tables, dynamic relocations (including DT_RELR), notes,
 * and the address helpers a loader needs.
 *
 * What ld.so needs to load the file (identification, program headers, PT_LOAD, the dynamic section and the tables
 * it points to) is strict: malformed input ends in an ElfError whose message starts with the file name and says
 * what is wrong. What ld.so ignores (section headers, notes, e_entry, PT_INTERP of a library, .symtab) is
 * lenient: read when sane, otherwise left out and described in `warnings`, so a file glibc loads is never refused
 * for it. The file is parsed eagerly (so that parseElf is where errors surface), except for .symtab and the
 * nearest-symbol index, which are built on first use.
 */
import type { Arch } from '../emu/arch.ts';
import {
  DT_FINI, DT_GNU_HASH, DT_HASH, DT_INIT, DT_PLTGOT, DT_SYMENT, DT_SYMTAB, DT_VERSYM, PF_X, PT_GNU_RELRO, PT_GNU_STACK,
  PT_INTERP, PT_LOAD, PT_TLS, SHN_ABS, SHT_DYNSYM, SYM_SIZE,
} from './elf-constants.ts';
import { dynamicValue, readDynamic, type DynamicInfo } from './elf-dynamic.ts';
import { GnuHashTable, SysvHashTable, type SymbolHashTable } from './elf-hash.ts';
import { readLayout } from './elf-header.ts';
import { lastAtOrBelow } from './containing.ts';
import { abiTagOf, buildIdOf, gnuPropertiesOf, readNotes } from './elf-notes.ts';
import { ElfError, type ElfReader } from './elf-reader.ts';
import { nameRelocations, readRelocations } from './elf-reloc.ts';
import { AddressMap, loadSpanOf } from './elf-segments.ts';
import { applyVersions, readSymbol, readSymbols, readVersionInfo, symbolVersion, symtabLocation, type VersionInfo } from './elf-symbols.ts';
import type {
  AbiTag, AddressRange, DynamicEntry, DynamicFlags, ElfNote, ElfSymbol, GnuProperties, ProgramHeader, Relocation,
  SectionHeader, TlsSegment, VersionDefinition, VersionNeeded,
} from './elf-types.ts';

export { ElfError } from './elf-reader.ts';
export { gnuHash, sysvHash } from './elf-hash.ts';
export { relocationTypeName } from './elf-reloc.ts';
export type { ElfHeader } from './elf-header.ts';
export type {
  AbiTag, AddressRange, DynamicEntry, DynamicFlags, ElfNote, ElfSymbol, GnuProperties, GnuProperty, ProgramHeader,
  Relocation, SectionHeader, TlsSegment, VersionDefinition, VersionNeeded,
} from './elf-types.ts';

export interface ElfFile {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly arch: Arch;
  readonly bits: 32 | 64;
  readonly type: 'EXEC' | 'DYN' | 'REL' | 'CORE' | string;
  readonly entry: number;
  readonly phoff: number;
  readonly phentsize: number;
  readonly phnum: number;
  readonly programHeaders: ProgramHeader[];
  readonly sections: SectionHeader[];
  readonly interp?: string;
  readonly soname?: string;
  readonly needed: string[];
  readonly dynamic: DynamicEntry[];
  readonly dynsym: ElfSymbol[];
  readonly symtab: ElfSymbol[];
  readonly relocations: Relocation[];
  readonly tls?: TlsSegment;
  readonly notes: ElfNote[];
  readonly buildId?: string;
  /** Version names this file defines (DT_VERDEF), without the base entry that names the file itself. */
  readonly versionDefinitions: string[];
  readonly versionsNeeded: { file: string; versions: string[] }[];
  /**
   * The defined, non-local dynamic symbol called `name`: with `version`, the one of that version (hidden or
   * not); without, the default (`name@@VERSION`) or unversioned one. Uses DT_GNU_HASH (else DT_HASH).
   */
  lookup(name: string, version?: string): ElfSymbol | undefined;
  /** The function/object symbol containing `vaddr`, else the closest one before it in the same segment. */
  nearestSymbol(vaddr: number): { symbol: ElfSymbol; offset: number } | undefined;
  vaddrToOffset(vaddr: number): number | undefined;
  /** lowest PT_LOAD vaddr (page-aligned down) and highest end (page-aligned up) */
  readonly loadSpan: { start: number; end: number };

  // ---- additions beyond the agreed API ----
  /** e_flags (always 0 on x86). */
  readonly headerFlags: number;
  readonly shoff: number;
  readonly rpath?: string;
  readonly runpath?: string;
  readonly dynamicFlags: DynamicFlags;
  /** DT_INIT / DT_FINI function addresses. */
  readonly init?: number;
  readonly fini?: number;
  readonly initArray?: AddressRange;
  readonly finiArray?: AddressRange;
  readonly preinitArray?: AddressRange;
  readonly pltgot?: number;
  /** PT_GNU_STACK: whether the stack must be executable (it is, if the header is absent). */
  readonly gnuStack?: { flags: number; executable: boolean };
  readonly relro?: { vaddr: number; memsz: number };
  readonly abiTag?: AbiTag;
  readonly gnuProperties: GnuProperties;
  readonly versionDefinitionEntries: VersionDefinition[];
  readonly versionNeededEntries: VersionNeeded[];
  /** Which hash table `lookup` uses. */
  readonly hashTable?: 'gnu' | 'sysv';
  /** The first value of a dynamic tag (DT_PLTGOT, DT_FLAGS_1, ...). */
  dynamicValue(tag: number): number | undefined;
  /** The NUL-terminated string at a file offset. */
  readCString(offset: number): string;
  /** Broken metadata that ld.so ignores and so did we (a bad section header table, an overrunning note...). */
  readonly warnings: readonly string[];
}

export interface ParseOptions {
  /**
   * For files already known to parse (the bundled fixtures, checked against the manifest's sha256, which
   * test/elf.test.ts parses whole): the relocations, dynamic symbols and versions are read on first use, and
   * `lookup` reads just the symbols on the name's hash chain until then (~20 ms less for libc in a one-call CLI
   * process). Any other file is read whole by parseElf, where its errors surface.
   */
  deferTables?: boolean;
}

export function parseElf(bytes: Uint8Array, name = 'ELF image', options: ParseOptions = {}): ElfFile {
  return guard(name, () => new ParsedElf(bytes, name, options.deferTables === true));
}

/** What parseElf reads from the dynamic section's relocation, symbol and version tables. */
interface SymbolTables {
  relocations: Relocation[];
  dynsym: ElfSymbol[];
  hasVersym: boolean;
  versions: VersionInfo;
  versionDefinitions: string[];
  versionsNeeded: { file: string; versions: string[] }[];
}

/**
 * The safety net behind the explicit checks: an unexpected exception (a RangeError from a read we failed to
 * bound, say) still becomes an ElfError naming the file.
 */
function guard<T>(name: string, step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (error instanceof ElfError) throw error;
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new ElfError(`malformed ELF file (${detail})`, name);
  }
}

/** Symbol types whose value is a code or data address that nearestSymbol may report. */
const ADDRESS_SYMBOL_TYPES = new Set(['FUNC', 'OBJECT', 'GNU_IFUNC']);

class ParsedElf implements ElfFile {
  readonly arch: Arch;
  readonly bits: 32 | 64;
  readonly type: string;
  readonly entry: number;
  readonly phoff: number;
  readonly phentsize: number;
  readonly phnum: number;
  readonly shoff: number;
  readonly headerFlags: number;
  readonly programHeaders: ProgramHeader[];
  readonly sections: SectionHeader[];
  readonly loadSpan: { start: number; end: number };
  readonly interp?: string;
  readonly tls?: TlsSegment;
  readonly gnuStack?: { flags: number; executable: boolean };
  readonly relro?: { vaddr: number; memsz: number };

  readonly dynamic: DynamicEntry[];
  readonly soname?: string;
  readonly needed: string[];
  readonly rpath?: string;
  readonly runpath?: string;
  readonly dynamicFlags: DynamicFlags;
  readonly init?: number;
  readonly fini?: number;
  readonly initArray?: AddressRange;
  readonly finiArray?: AddressRange;
  readonly preinitArray?: AddressRange;
  readonly pltgot?: number;

  readonly hashTable?: 'gnu' | 'sysv';

  readonly notes: ElfNote[];
  readonly buildId?: string;
  readonly abiTag?: AbiTag;
  readonly gnuProperties: GnuProperties;

  private readonly reader: ElfReader;
  private readonly map: AddressMap;
  readonly warnings: readonly string[];
  private readonly hash?: SymbolHashTable;
  private readonly dynamicInfo?: DynamicInfo;
  private tablesCache?: SymbolTables;
  /** Symbols `lookup` read one by one before the tables were read (deferTables), by index. */
  private readonly symbolsRead = new Map<number, ElfSymbol>();
  private versionNames?: Map<number, string>;
  private symtabCache?: ElfSymbol[];
  private addressIndex?: { sorted: ElfSymbol[]; maxSize: number };

  constructor(readonly bytes: Uint8Array, readonly name: string, deferTables = false) {
    const { reader, header, programHeaders, sections } = readLayout(bytes, name);
    this.reader = reader;
    this.warnings = reader.warnings;
    this.arch = header.arch;
    this.bits = header.bits;
    this.type = header.typeName;
    this.entry = header.entry;
    this.phoff = header.phoff;
    this.phentsize = header.phentsize;
    this.phnum = header.phnum;
    this.shoff = header.shoff;
    this.headerFlags = header.flags;
    this.programHeaders = programHeaders;
    this.sections = sections;
    this.map = new AddressMap(reader, programHeaders);
    this.loadSpan = loadSpanOf(programHeaders);
    this.interp = this.readInterp();
    this.tls = this.readTls();
    const stack = programHeaders.find((ph) => ph.type === PT_GNU_STACK);
    if (stack) this.gnuStack = { flags: stack.flags, executable: (stack.flags & PF_X) !== 0 };
    const relro = programHeaders.find((ph) => ph.type === PT_GNU_RELRO);
    if (relro) this.relro = { vaddr: relro.vaddr, memsz: relro.memsz };

    const dynamic = readDynamic(reader, programHeaders, this.map);
    this.dynamic = dynamic?.entries ?? [];
    this.soname = dynamic?.soname;
    this.needed = dynamic?.needed ?? [];
    this.rpath = dynamic?.rpath;
    this.runpath = dynamic?.runpath;
    this.dynamicFlags = dynamic?.flags ?? { flags: 0, flags1: 0, names: [], names1: [] };
    this.init = this.dynamicValue(DT_INIT);
    this.fini = this.dynamicValue(DT_FINI);
    this.pltgot = this.dynamicValue(DT_PLTGOT);
    this.initArray = dynamic?.initArray;
    this.finiArray = dynamic?.finiArray;
    this.preinitArray = dynamic?.preinitArray;

    this.hash = dynamic && this.readHashTable();
    this.hashTable = this.hash?.kind;
    this.dynamicInfo = dynamic;
    if (!deferTables) this.tables();

    this.notes = readNotes(reader, programHeaders, sections);
    this.buildId = buildIdOf(this.notes);
    this.abiTag = abiTagOf(reader, this.notes);
    this.gnuProperties = gnuPropertiesOf(reader, this.notes);
  }

  /** The relocation, symbol and version tables (read in the constructor unless deferred). */
  private tables(): SymbolTables {
    if (this.tablesCache) return this.tablesCache;
    const dynamic = this.dynamicInfo;
    const relocations = dynamic ? readRelocations(this.reader, this.arch, dynamic, this.map) : [];
    const dynsym = dynamic ? this.readDynsym(dynamic, relocations) : [];
    nameRelocations(this.reader, relocations, dynsym);
    const versions: VersionInfo = dynamic
      ? readVersionInfo(this.reader, dynamic, this.map)
      : { definitions: [], needed: [], names: new Map() };
    const hasVersym = dynamic !== undefined && applyVersions(this.reader, dynamic, this.map, dynsym, versions.names);
    // The symbols `lookup` returned before stay the ones callers see (they are equal: read the same way).
    for (const [index, symbol] of this.symbolsRead) if (index < dynsym.length) dynsym[index] = symbol;
    this.tablesCache = {
      relocations,
      dynsym,
      hasVersym,
      versions,
      versionDefinitions: versions.definitions.filter((d) => !d.base).map((d) => d.name),
      versionsNeeded: versions.needed.map((n) => ({ file: n.file, versions: n.versions.map((v) => v.name) })),
    };
    return this.tablesCache;
  }

  get relocations(): Relocation[] {
    return this.tables().relocations;
  }

  get dynsym(): ElfSymbol[] {
    return this.tables().dynsym;
  }

  get versionDefinitionEntries(): VersionDefinition[] {
    return this.tables().versions.definitions;
  }

  get versionNeededEntries(): VersionNeeded[] {
    return this.tables().versions.needed;
  }

  get versionDefinitions(): string[] {
    return this.tables().versionDefinitions;
  }

  get versionsNeeded(): { file: string; versions: string[] }[] {
    return this.tables().versionsNeeded;
  }

  get symtab(): ElfSymbol[] {
    // .symtab is found through section headers, which ld.so never reads: a broken one is no symbols.
    this.symtabCache ??= guard(this.name, () => this.reader.lenient(() => {
      const location = symtabLocation(this.reader, this.sections);
      return location === undefined ? [] : readSymbols(this.reader, location);
    }, []));
    return this.symtabCache;
  }

  dynamicValue(tag: number): number | undefined {
    return dynamicValue(this.dynamic, tag);
  }

  vaddrToOffset(vaddr: number): number | undefined {
    return this.map.toOffset(vaddr);
  }

  readCString(offset: number): string {
    return this.reader.cString(offset, this.reader.size, 'readCString');
  }

  lookup(name: string, version?: string): ElfSymbol | undefined {
    const accepts = (s: ElfSymbol | undefined): s is ElfSymbol =>
      s !== undefined && s.name === name && s.defined && s.bind !== 'LOCAL' && this.versionMatches(s, version);
    if (this.hash === undefined) return this.dynsym.find(accepts);
    for (const index of this.hash.candidates(name)) {
      const symbol = this.tablesCache ? this.tablesCache.dynsym[index] : this.dynamicSymbolAt(index);
      if (accepts(symbol)) return symbol;
    }
    return undefined;
  }

  /** Dynamic symbol `index` with its version, read alone (deferTables: a file known to parse whole). */
  private dynamicSymbolAt(index: number): ElfSymbol | undefined {
    const known = this.symbolsRead.get(index);
    if (known !== undefined) return known;
    const dynamic = this.dynamicInfo;
    const address = this.dynamicValue(DT_SYMTAB);
    if (dynamic?.strtab === undefined || address === undefined) return undefined;
    const entsize = SYM_SIZE[this.bits];
    const offset = this.map.range(address, (index + 1) * entsize, 'DT_SYMTAB');
    const { offset: strOffset, size: strSize } = dynamic.strtab;
    const table = { offset, count: index + 1, entsize, strOffset, strSize, what: '.dynsym' };
    const symbol = readSymbol(this.reader, table, index);
    const versym = this.dynamicValue(DT_VERSYM);
    if (versym !== undefined) {
      this.versionNames ??= readVersionInfo(this.reader, dynamic, this.map).names;
      const versymOffset = this.map.range(versym, (index + 1) * 2, 'DT_VERSYM');
      const version = symbolVersion(this.reader, versymOffset, index, this.versionNames, symbol.name);
      if (version) symbol.version = version;
    }
    this.symbolsRead.set(index, symbol);
    return symbol;
  }

  /** Without a version: the default one (`@@`) or an unversioned symbol. With one: exactly that version. */
  private versionMatches(symbol: ElfSymbol, version: string | undefined): boolean {
    if (version === undefined) return symbol.version?.hidden !== true;
    // A file without .gnu.version satisfies any versioned reference, as ld.so allows.
    if (!(this.tablesCache ? this.tablesCache.hasVersym : this.dynamicValue(DT_VERSYM) !== undefined)) return true;
    return symbol.version?.name === version;
  }

  nearestSymbol(vaddr: number): { symbol: ElfSymbol; offset: number } | undefined {
    const { sorted, maxSize } = this.symbolsByAddress();
    const last = lastAtOrBelow(sorted, vaddr, (s) => s.value);
    if (last < 0) return undefined;

    // A symbol containing vaddr may start before a closer, smaller one; none starts more than maxSize back.
    let best: ElfSymbol | undefined;
    for (let i = last; i >= 0 && sorted[i]!.value + maxSize > vaddr; i--) {
      const s = sorted[i]!;
      if (best !== undefined && s.value < best.value) break;
      if (vaddr < s.value + s.size && (best === undefined || rank(s) < rank(best))) best = s;
    }
    if (best === undefined) {
      const preceding = sorted[last]!;
      if (this.map.hasLoads && !this.sameSegment(preceding.value, vaddr)) return undefined;
      best = preceding;
      for (let i = last - 1; i >= 0 && sorted[i]!.value === preceding.value; i--) {
        if (rank(sorted[i]!) < rank(best)) best = sorted[i]!;
      }
    }
    return { symbol: best, offset: vaddr - best.value };
  }

  private sameSegment(a: number, b: number): boolean {
    return this.programHeaders.some(
      (ph) => ph.type === PT_LOAD && a >= ph.vaddr && b >= ph.vaddr && a < ph.vaddr + ph.memsz && b < ph.vaddr + ph.memsz,
    );
  }

  private symbolsByAddress(): { sorted: ElfSymbol[]; maxSize: number } {
    if (this.addressIndex === undefined) {
      const candidates = [...this.dynsym, ...this.symtab].filter(
        (s) => s.defined && s.shndx !== SHN_ABS && ADDRESS_SYMBOL_TYPES.has(s.type),
      );
      candidates.sort((a, b) => a.value - b.value);
      const maxSize = candidates.reduce((max, s) => Math.max(max, s.size), 0);
      this.addressIndex = { sorted: candidates, maxSize };
    }
    return this.addressIndex;
  }

  /**
   * Lenient because ld.so ignores a library's PT_INTERP (libc.so.6 has one); an executable with a broken one is
   * read as static, where Linux would refuse to exec it.
   */
  private readInterp(): string | undefined {
    const index = this.programHeaders.findIndex((ph) => ph.type === PT_INTERP);
    if (index < 0) return undefined;
    const ph = this.programHeaders[index]!;
    const what = `PT_INTERP (program header ${index})`;
    return this.reader.lenient<string | undefined>(() => {
      this.reader.need(ph.offset, ph.filesz, `${what} segment`);
      return this.reader.cString(ph.offset, ph.offset + ph.filesz, what);
    }, undefined);
  }

  private readTls(): TlsSegment | undefined {
    const ph = this.programHeaders.find((p) => p.type === PT_TLS);
    if (ph === undefined) return undefined;
    return { offset: ph.offset, vaddr: ph.vaddr, filesz: ph.filesz, memsz: ph.memsz, align: ph.align };
  }

  /** glibc prefers DT_GNU_HASH and falls back to DT_HASH; so do we. */
  private readHashTable(): SymbolHashTable | undefined {
    const gnu = this.dynamicValue(DT_GNU_HASH);
    if (gnu !== undefined) return GnuHashTable.read(this.reader, this.map, gnu);
    const sysv = this.dynamicValue(DT_HASH);
    if (sysv !== undefined) return SysvHashTable.read(this.reader, this.map, sysv);
    return undefined;
  }

  /**
   * The dynamic symbol table has no size of its own. The hash table gives it (DT_HASH's nchain; DT_GNU_HASH's
   * last chain), except that a GNU hash table hashing no symbol says nothing about the unhashed ones; then the
   * section header (if not stripped) and the highest symbol a relocation uses are the best bounds we have.
   */
  private readDynsym(dynamic: DynamicInfo, relocations: readonly Relocation[]): ElfSymbol[] {
    const address = this.dynamicValue(DT_SYMTAB);
    if (address === undefined) return [];
    if (dynamic.strtab === undefined) this.reader.fail('DT_SYMTAB is set but there is no DT_STRTAB');
    // ld.so never reads DT_SYMENT: symbols are sizeof(ElfW(Sym)) whatever it says.
    const entsize = SYM_SIZE[this.bits];
    const declared = this.dynamicValue(DT_SYMENT);
    if (declared !== undefined && declared !== entsize) {
      this.reader.warnings.push(`DT_SYMENT ${declared} ignored (symbols are ${entsize} bytes)`);
    }
    let count = this.hash?.symbolCount ?? 0;
    if (this.hash?.exactCount !== true) {
      for (const r of relocations) count = Math.max(count, r.symbolIndex + 1);
      // Section headers are only a hint (ld.so never reads them): a size that does not fit the segment is junk.
      const section = this.sections.find((s) => s.type === SHT_DYNSYM && s.addr === address && s.entsize > 0);
      const sectionCount = section ? Math.floor(section.size / section.entsize) : 0;
      if (sectionCount > count && this.map.covers(address, sectionCount * entsize)) count = sectionCount;
    }
    const offset = this.map.range(address, count * entsize, `DT_SYMTAB (${count} symbols of ${entsize} bytes)`);
    return readSymbols(this.reader, {
      offset,
      count,
      entsize,
      strOffset: dynamic.strtab.offset,
      strSize: dynamic.strtab.size,
      what: '.dynsym',
    });
  }
}

/**
 * Which of several symbols at one address to report, lowest first: glibc defines public names (snprintf, WEAK)
 * as aliases of internal ones (__snprintf, GLOBAL@GLIBC_PRIVATE), and a trace should show the public name.
 */
function rank(s: ElfSymbol): number {
  const local = s.bind === 'LOCAL' ? 1 : 0;
  const underscore = s.name.startsWith('_') ? 1 : 0;
  const hidden = s.version?.hidden === true ? 1 : 0;
  const weak = s.bind === 'WEAK' ? 1 : 0;
  return local * 8 + underscore * 4 + hidden * 2 + weak;
}
