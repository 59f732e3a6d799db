/** The plain-data shapes parseElf returns (re-exported by elf.ts, which is what other modules import). */

export interface ProgramHeader {
  type: number;
  /** e.g. 'PT_LOAD', 'PT_GNU_RELRO'; unknown types as 'PT_0x…'. */
  typeName: string;
  /** PF_R | PF_W | PF_X bits. */
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
  align: number;
}

export interface SectionHeader {
  name: string;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
}

export interface ElfSymbol {
  name: string;
  value: number;
  size: number;
  /** 'NOTYPE' | 'OBJECT' | 'FUNC' | 'SECTION' | 'FILE' | 'COMMON' | 'TLS' | 'GNU_IFUNC' | 'TYPE_<n>' */
  type: string;
  /** 'LOCAL' | 'GLOBAL' | 'WEAK' | 'GNU_UNIQUE' | 'BIND_<n>' */
  bind: string;
  /** 'DEFAULT' | 'INTERNAL' | 'HIDDEN' | 'PROTECTED' */
  visibility: string;
  shndx: number;
  /** shndx is not SHN_UNDEF. */
  defined: boolean;
  /** From .gnu.version (dynsym only); absent for local and unversioned-global symbols. */
  version?: { name: string; hidden: boolean };
}

export interface Relocation {
  /** Virtual address (link-time) of the place to patch. */
  offset: number;
  type: number;
  /** e.g. 'R_X86_64_JUMP_SLOT', 'R_386_GLOB_DAT'. */
  typeName: string;
  symbolIndex: number;
  symbolName?: string;
  /** Explicit addend (RELA); undefined for REL and RELR, whose addend is the word already at `offset`. */
  addend?: number;
  /** '.rela.dyn' | '.rela.plt' | '.rel.dyn' | '.rel.plt' | '.relr.dyn' (packed DT_RELR relative relocations). */
  table: string;
}

export interface DynamicEntry {
  tag: number;
  /** e.g. 'DT_NEEDED'; unknown tags as 'DT_0x…'. */
  tagName: string;
  value: number;
}

export interface ElfNote {
  name: string;
  type: number;
  desc: Uint8Array;
}

export interface TlsSegment {
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
  align: number;
}

/** An address range (e.g. DT_INIT_ARRAY + DT_INIT_ARRAYSZ). */
export interface AddressRange {
  vaddr: number;
  size: number;
}

/** DT_FLAGS and DT_FLAGS_1, raw and by name (e.g. ['STATIC_TLS'], ['NOW', 'PIE']). */
export interface DynamicFlags {
  flags: number;
  flags1: number;
  names: string[];
  names1: string[];
}

export interface VersionDefinition {
  /** The index .gnu.version entries use to refer to it. */
  index: number;
  name: string;
  flags: number;
  /** VER_FLG_BASE: the entry naming the file itself (its soname), not a version. */
  base: boolean;
  hash: number;
  /** The names of the versions it inherits from (Verdaux entries after the first). */
  parents: string[];
}

export interface VersionNeeded {
  file: string;
  versions: { name: string; index: number; hash: number; flags: number; weak: boolean }[];
}

export interface GnuProperty {
  type: number;
  data: Uint8Array;
}

export interface GnuProperties {
  /** GNU_PROPERTY_X86_ISA_1_NEEDED: GNU_PROPERTY_X86_ISA_1_BASELINE | _V2 | _V3 | _V4. */
  x86IsaNeeded?: number;
  /** GNU_PROPERTY_X86_ISA_1_USED. */
  x86IsaUsed?: number;
  /** GNU_PROPERTY_X86_FEATURE_1_AND: GNU_PROPERTY_X86_FEATURE_1_IBT | _SHSTK. */
  x86Feature1And?: number;
  /** Every property, in file order. */
  entries: GnuProperty[];
}

export interface AbiTag {
  /** 'Linux', 'Hurd', ... */
  os: string;
  /** Minimum kernel version, e.g. '3.2.0'. */
  version: string;
}
