/**
 * The ELF header, program headers and section headers, parsed with elfy and converted to our typed structures.
 *
 * elfy is used only after we have checked that the tables it will read lie inside the file, because it has no
 * bounds checks of its own. Where elfy loses or misreads information we read the raw field ourselves:
 *  - e_type, e_machine, p_type and sh_type: elfy maps them through name tables and returns undefined for values
 *    it does not know (PT_GNU_PROPERTY, EM_AARCH64's neighbours, ...);
 *  - sh_addralign and sh_entsize of ELFCLASS64 files: elfy reads them at offsets 46 and 54 instead of 48 and 56;
 *  - section names: elfy's resolveBody crashes on section-stripped files (e_shnum = 0) and asserts on
 *    e_shstrndx = SHN_UNDEF, so we call its parse steps one by one and resolve names here;
 *  - extended numbering (PN_XNUM, e_shnum = 0 with a section 0, SHN_XINDEX), which elfy ignores.
 * elfy's 64-bit reads combine two 32-bit halves into a double, which is exact below 2^53; above that we refuse
 * the file (Number.isSafeInteger), as no user-space address is that large.
 *
 * Strict where ld.so is strict, lenient where it does not look: the identification, e_machine, e_version,
 * e_phentsize, the program header table and the PT_LOAD segments are checked and refused when wrong; e_entry,
 * e_shoff, the section headers and their names, p_align, and the fields of every segment but PT_LOAD and
 * PT_DYNAMIC (PT_TLS, PT_NOTE, PT_INTERP of a library...) are read when sane and otherwise ignored with a warning
 * (`reader.warnings`), because glibc's dlopen loads such files.
 */
// @ts-expect-error elfy is CommonJS without types: ElfyModule below describes what we use of it
import elfyModule from 'elfy';
import type { Arch } from '../emu/arch.ts';
import {
  EHDR_SIZE, EI_CLASS, EI_DATA, EI_NIDENT, EI_OSABI, EI_ABIVERSION, EI_VERSION, ELFCLASS32, ELFCLASS64, ELFDATA2LSB,
  ELFDATA2MSB, ELFMAG, ELF_TYPE_NAMES, EM_386, EM_X86_64, EV_CURRENT, MACHINE_NAMES, PHDR_SIZE, PN_XNUM,
  PROGRAM_TYPE_NAMES, PT_DYNAMIC, PT_LOAD, PT_NULL, SHDR_SIZE, SHN_UNDEF, SHN_XINDEX, SHT_NOBITS, SHT_NULL,
  SHT_STRTAB, hex, nameOf,
} from './elf-constants.ts';
import { ElfError, ElfReader } from './elf-reader.ts';
import type { ProgramHeader, SectionHeader } from './elf-types.ts';

// ---------------------------------------------------------------------------------------------------------------
// elfy's shape (it ships no type declarations)
// ---------------------------------------------------------------------------------------------------------------

interface ElfyHeader {
  class: string;
  endian: string;
  entry: number;
  phoff: number;
  shoff: number;
  flags: number;
  ehsize: number;
  phentsize: number;
  phnum: number;
  shentsize: number;
  shnum: number;
  shstrndx: number;
}

/** elfy turns flag words into `{ r: true, x: true }`, with unknown bits keyed by their numeric value. */
type ElfyFlags = Record<string, boolean>;

interface ElfyProgram {
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
  flags: ElfyFlags;
  align: number;
}

interface ElfySection {
  name: number;
  flags: ElfyFlags;
  addr: number;
  off: number;
  size: number;
  link: number;
  info: number;
}

interface ElfyParser {
  parseHeader(buf: Buffer): ElfyHeader;
  parsePrograms(buf: Buffer, header: ElfyHeader): ElfyProgram[];
  parseSections(buf: Buffer, header: ElfyHeader): ElfySection[];
}

interface ElfyModule {
  Parser: new () => ElfyParser;
  constants: { entryFlags: Record<string, string>; sectFlags: Record<string, string> };
}

// A plain import (not createRequire) so that the CLI bundle carries elfy instead of loading it through Node's
// CommonJS loader at every start.
const elfy = elfyModule as ElfyModule;

// ---------------------------------------------------------------------------------------------------------------
// Result
// ---------------------------------------------------------------------------------------------------------------

export interface ElfHeader {
  bits: 32 | 64;
  arch: Arch;
  osabi: number;
  abiversion: number;
  type: number;
  typeName: string;
  machine: number;
  entry: number;
  phoff: number;
  shoff: number;
  flags: number;
  ehsize: number;
  phentsize: number;
  /** The real counts and string table index, after extended numbering. */
  phnum: number;
  shentsize: number;
  shnum: number;
  shstrndx: number;
}

export interface ElfLayout {
  reader: ElfReader;
  header: ElfHeader;
  programHeaders: ProgramHeader[];
  sections: SectionHeader[];
}

export function readLayout(bytes: Uint8Array, file: string): ElfLayout {
  const bits = checkIdent(bytes, file);
  const reader = new ElfReader(bytes, file, bits);
  reader.need(0, EHDR_SIZE[bits], `ELF header (${EHDR_SIZE[bits]} bytes for ELFCLASS${bits})`);

  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parser = new elfy.Parser();
  const elfyHeader = viaElfy(file, 'ELF header', () => parser.parseHeader(buf));
  const header = convertHeader(reader, elfyHeader);

  const programHeaders = readProgramHeaders(reader, header, elfyHeader, parser, buf);
  const sections = readSectionHeaders(reader, header, elfyHeader, parser, buf);
  return { reader, header, programHeaders, sections };
}

// ---------------------------------------------------------------------------------------------------------------
// Identification and header
// ---------------------------------------------------------------------------------------------------------------

/** Checks e_ident before anyone else reads the file; returns the class. */
function checkIdent(bytes: Uint8Array, file: string): 32 | 64 {
  const fail = (message: string): never => {
    throw new ElfError(message, file);
  };
  const magicLength = Math.min(bytes.length, ELFMAG.length);
  for (let i = 0; i < magicLength; i++) if (bytes[i] !== ELFMAG[i]) fail('not an ELF file (bad magic)');
  if (bytes.length < EI_NIDENT) {
    fail(`truncated: ELF identification needs ${EI_NIDENT} bytes, file has ${bytes.length}`);
  }

  const elfClass = bytes[EI_CLASS]!;
  if (elfClass !== ELFCLASS32 && elfClass !== ELFCLASS64) {
    fail(`invalid ELF class ${elfClass} (e_ident[EI_CLASS] must be 1 = ELFCLASS32 or 2 = ELFCLASS64)`);
  }
  const data = bytes[EI_DATA]!;
  if (data === ELFDATA2MSB) fail('big-endian ELF is not supported (shimulator runs little-endian x86 objects)');
  if (data !== ELFDATA2LSB) fail(`invalid ELF data encoding ${data} (e_ident[EI_DATA] must be 1 = ELFDATA2LSB)`);
  const version = bytes[EI_VERSION]!;
  if (version !== EV_CURRENT) fail(`unsupported ELF version ${version} in e_ident[EI_VERSION] (expected 1)`);
  return elfClass === ELFCLASS64 ? 64 : 32;
}

function convertHeader(reader: ElfReader, h: ElfyHeader): ElfHeader {
  const bits = reader.bits;
  // Raw reads: elfy maps these through tables that drop unknown values.
  const type = reader.u16(16);
  const machine = reader.u16(18);
  const version = reader.u32(20);
  const arch = archOf(reader, machine);
  if (version !== EV_CURRENT) reader.fail(`unsupported e_version ${version} (expected 1 = EV_CURRENT)`);

  const header: ElfHeader = {
    bits,
    arch,
    osabi: reader.u8(EI_OSABI),
    abiversion: reader.u8(EI_ABIVERSION),
    type,
    typeName: ELF_TYPE_NAMES[type] ?? `ET_${hex(type)}`,
    machine,
    // ld.so never reads a library's e_entry, nor anyone's e_shoff: 0 stands for a value we cannot represent.
    entry: reader.lenient(() => safe(reader, h.entry, 'e_entry'), 0),
    phoff: safe(reader, h.phoff, 'e_phoff'),
    shoff: reader.lenient(() => safe(reader, h.shoff, 'e_shoff'), 0),
    flags: h.flags,
    ehsize: h.ehsize,
    phentsize: h.phentsize,
    phnum: h.phnum,
    shentsize: h.shentsize,
    shnum: h.shnum,
    shstrndx: h.shstrndx,
  };
  applyExtendedNumbering(reader, header);
  return header;
}

function archOf(reader: ElfReader, machine: number): Arch {
  const bits = reader.bits;
  if (machine === EM_X86_64 && bits === 64) return 'amd64';
  if (machine === EM_386 && bits === 32) return 'i386';
  if (machine === EM_X86_64) {
    reader.fail('x32 objects (ELFCLASS32 with EM_X86_64) are not supported: shimulator runs i386 and amd64 objects');
  }
  if (machine === EM_386) reader.fail('inconsistent header: ELFCLASS64 with machine EM_386 (3)');
  const name = MACHINE_NAMES[machine];
  const described = name === undefined ? `${machine}` : `${name} (${machine})`;
  return reader.fail(`unsupported machine ${described}: shimulator runs i386 and amd64 objects`);
}

/**
 * gABI extended numbering: with more than 0xfeff sections (or 0xfffe program headers) the real counts and the
 * string table index live in section header 0.
 */
function applyExtendedNumbering(reader: ElfReader, header: ElfHeader): void {
  const needsSection0 =
    header.phnum === PN_XNUM || header.shstrndx === SHN_XINDEX || (header.shnum === 0 && header.shoff !== 0);
  if (!needsSection0) return;
  const read = (): Section0 => readSection0(reader, header.shoff);
  // The program header count is needed to load the file; the section counts are optional metadata.
  const section0 = header.phnum === PN_XNUM ? read() : reader.lenient<Section0 | undefined>(read, undefined);
  if (section0 === undefined) {
    header.shnum = 0;
    header.shstrndx = SHN_UNDEF;
    return;
  }
  if (header.phnum === PN_XNUM) header.phnum = section0.info;
  if (header.shnum === 0) header.shnum = section0.size;
  if (header.shstrndx === SHN_XINDEX) header.shstrndx = section0.link;
}

interface Section0 {
  size: number;
  link: number;
  info: number;
}

function readSection0(reader: ElfReader, shoff: number): Section0 {
  if (shoff === 0) reader.fail('extended numbering is used but there is no section header 0 (e_shoff = 0)');
  const bits = reader.bits;
  reader.need(shoff, SHDR_SIZE[bits], 'section header 0 (extended numbering)');
  return {
    size: bits === 64 ? reader.u64(shoff + 32, 'section 0 sh_size') : reader.u32(shoff + 20),
    link: reader.u32(shoff + (bits === 64 ? 40 : 24)),
    info: reader.u32(shoff + (bits === 64 ? 44 : 28)),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Program headers
// ---------------------------------------------------------------------------------------------------------------

function readProgramHeaders(
  reader: ElfReader, header: ElfHeader, elfyHeader: ElfyHeader, parser: ElfyParser, buf: Buffer,
): ProgramHeader[] {
  const { bits, phnum, phoff, phentsize } = header;
  if (phnum === 0) return [];
  if (phoff === 0) reader.fail(`e_phoff is 0 but e_phnum is ${phnum}`);
  if (phentsize !== PHDR_SIZE[bits]) {
    reader.fail(`program header entry size e_phentsize is ${phentsize}, expected ${PHDR_SIZE[bits]} for ELFCLASS${bits}`);
  }
  checkTable(reader, phoff, phnum, phentsize, 'program header');

  const raw = viaElfy(reader.file, 'program headers', () => parser.parsePrograms(buf, { ...elfyHeader, phnum }));
  const flagBits = reverseNames(elfy.constants.entryFlags);
  return raw.map((p, index) => {
    const at = phoff + index * phentsize;
    const type = reader.u32(at);
    const typeName = nameOf(PROGRAM_TYPE_NAMES, type, 'PT_');
    const where = `${typeName} (program header ${index})`;
    const addressed = ADDRESSED_SEGMENTS.has(type);
    // A field of any other segment may be junk (0 stands for what does not fit in 53 bits), and so may p_align.
    const field = (value: number, name: string): number => {
      const read = (): number => safe(reader, value, `${where} ${name}`);
      return addressed && name !== 'p_align' ? read() : reader.lenient(read, 0);
    };
    const ph: ProgramHeader = {
      type,
      typeName,
      flags: flagsFromElfy(p.flags, flagBits),
      offset: field(p.offset, 'p_offset'),
      vaddr: field(p.vaddr, 'p_vaddr'),
      filesz: field(p.filesz, 'p_filesz'),
      memsz: field(p.memsz, 'p_memsz'),
      align: field(p.align, 'p_align'),
    };
    checkProgramHeader(reader, ph, where);
    return ph;
  });
}

/**
 * Segments whose fields must be exact: the ones mapped from the file, and the dynamic section that this reader
 * and ld.so read through them. ld.so reads the others (PT_TLS's image, PT_NOTE, PT_GNU_PROPERTY...) in memory if
 * at all, never through their file offsets, and dlopen succeeds whatever they say.
 */
const ADDRESSED_SEGMENTS = new Set([PT_LOAD, PT_DYNAMIC]);

function checkProgramHeader(reader: ElfReader, ph: ProgramHeader, where: string): void {
  if (ph.type === PT_NULL) return;
  if (ph.filesz > 0 && ph.type === PT_LOAD) reader.need(ph.offset, ph.filesz, `${where} segment`);
  if (!Number.isSafeInteger(ph.vaddr + ph.memsz)) {
    const message = `${where}: p_vaddr + p_memsz does not fit in 53 bits`;
    if (ADDRESSED_SEGMENTS.has(ph.type)) reader.fail(message);
    reader.warnings.push(message);
  }
  if (ph.type === PT_LOAD && ph.filesz > ph.memsz) {
    reader.fail(`${where}: p_filesz ${hex(ph.filesz)} is larger than p_memsz ${hex(ph.memsz)}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Section headers
// ---------------------------------------------------------------------------------------------------------------

/**
 * ld.so never reads section headers, so a broken table is dropped (with a warning) rather than refused, and a
 * single broken entry becomes an all-zero SHT_NULL placeholder that keeps the other entries' indices.
 */
function readSectionHeaders(
  reader: ElfReader, header: ElfHeader, elfyHeader: ElfyHeader, parser: ElfyParser, buf: Buffer,
): SectionHeader[] {
  return reader.lenient(() => readSectionTable(reader, header, elfyHeader, parser, buf), []);
}

function readSectionTable(
  reader: ElfReader, header: ElfHeader, elfyHeader: ElfyHeader, parser: ElfyParser, buf: Buffer,
): SectionHeader[] {
  const { bits, shnum, shoff, shentsize } = header;
  if (shnum === 0 || shoff === 0) return [];
  if (shentsize !== SHDR_SIZE[bits]) {
    reader.fail(`section header entry size e_shentsize is ${shentsize}, expected ${SHDR_SIZE[bits]} for ELFCLASS${bits}`);
  }
  checkTable(reader, shoff, shnum, shentsize, 'section header');

  const raw = viaElfy(reader.file, 'section headers', () => parser.parseSections(buf, { ...elfyHeader, shnum }));
  const flagBits = reverseNames(elfy.constants.sectFlags);
  const sections = raw.map((s, index): SectionHeader => reader.lenient(() => {
    const at = shoff + index * shentsize;
    const where = `section ${index}`;
    return {
      name: '',
      type: reader.u32(at + 4),
      flags: flagsFromElfy(s.flags, flagBits),
      addr: safe(reader, s.addr, `${where} sh_addr`),
      offset: safe(reader, s.off, `${where} sh_offset`),
      size: safe(reader, s.size, `${where} sh_size`),
      link: s.link,
      info: s.info,
      // elfy reads ELFCLASS64 sh_addralign and sh_entsize at the wrong offsets; see the file comment.
      addralign: bits === 64 ? reader.u64(at + 48, `${where} sh_addralign`) : reader.u32(at + 32),
      entsize: bits === 64 ? reader.u64(at + 56, `${where} sh_entsize`) : reader.u32(at + 36),
    };
  }, nullSection()));
  reader.lenient(() => nameSections(reader, header, sections, raw), undefined);
  // Contents outside the file are reported, not refused: readers of a section's contents check their range.
  sections.forEach((s, index) => {
    if (s.type !== SHT_NULL && s.type !== SHT_NOBITS && s.size > 0) {
      reader.lenient(() => reader.need(s.offset, s.size, `section ${index} (${s.name || 'unnamed'})`), undefined);
    }
  });
  return sections;
}

function nullSection(): SectionHeader {
  return { name: '', type: SHT_NULL, flags: 0, addr: 0, offset: 0, size: 0, link: 0, info: 0, addralign: 0, entsize: 0 };
}

function nameSections(reader: ElfReader, header: ElfHeader, sections: SectionHeader[], raw: ElfySection[]): void {
  const index = header.shstrndx;
  if (index === SHN_UNDEF) return; // no section names: legal, if unusual
  const strtab = sections[index];
  if (strtab === undefined) {
    reader.fail(`e_shstrndx ${index} is not a section (there are ${sections.length})`);
  }
  if (strtab.type !== SHT_STRTAB) reader.fail(`section name table (section ${index}) is not SHT_STRTAB`);
  reader.need(strtab.offset, strtab.size, `section name table (section ${index})`);
  const end = strtab.offset + strtab.size;
  raw.forEach((s, i) => {
    sections[i]!.name = reader.lenient(() => reader.cString(strtab.offset + s.name, end, `name of section ${i}`), '');
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

/** Checks that `count` entries of `entsize` bytes at `offset` are in the file, naming the first one that is not. */
function checkTable(reader: ElfReader, offset: number, count: number, entsize: number, what: string): void {
  if (offset >= reader.size) {
    reader.fail(`${what} table offset ${hex(offset)} is past end of file (file size ${hex(reader.size)})`);
  }
  if (offset + count * entsize <= reader.size) return;
  const first = Math.floor((reader.size - offset) / entsize);
  reader.fail(
    `truncated: ${what} ${first} extends past end of file (offset ${hex(offset + first * entsize)}, ` +
      `file size ${hex(reader.size)})`,
  );
}

/** Runs an elfy step, turning its exceptions (assertions, RangeErrors from Buffer reads) into ElfErrors. */
function viaElfy<T>(file: string, what: string, step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (error instanceof ElfError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new ElfError(`cannot parse ${what}: ${message}`, file);
  }
}

function safe(reader: ElfReader, value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) reader.fail(`${what} (${value}) does not fit in 53 bits`);
  return value;
}

function reverseNames(names: Record<string, string>): Map<string, number> {
  const bits = new Map<string, number>();
  for (const [bit, name] of Object.entries(names)) bits.set(name, Number(bit));
  return bits;
}

/** Inverts elfy's flag objects; bits it has no name for are keyed by their (int32) value. */
function flagsFromElfy(flags: ElfyFlags, bitsByName: Map<string, number>): number {
  let value = 0;
  for (const [key, set] of Object.entries(flags)) {
    if (!set) continue;
    const bit = bitsByName.get(key) ?? Number(key);
    if (Number.isInteger(bit)) value |= bit;
  }
  return value >>> 0;
}
