/**
 * ELF constants, spelled as in the System V gABI, the x86 psABIs and glibc's <elf.h>, plus name tables for the
 * values we print. Only what an x86 loader and a readelf-like dump need; unknown values get a synthetic name.
 */

// ---------------------------------------------------------------------------------------------------------------
// e_ident
// ---------------------------------------------------------------------------------------------------------------

export const ELFMAG = [0x7f, 0x45, 0x4c, 0x46] as const; // "\x7fELF"
export const EI_CLASS = 4;
export const EI_DATA = 5;
export const EI_VERSION = 6;
export const EI_OSABI = 7;
export const EI_ABIVERSION = 8;
export const EI_NIDENT = 16;

export const ELFCLASS32 = 1;
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const ELFDATA2MSB = 2;
export const EV_CURRENT = 1;

/** Size of the ELF header, of one program header and of one section header, per class. */
export const EHDR_SIZE = { 32: 52, 64: 64 } as const;
export const PHDR_SIZE = { 32: 32, 64: 56 } as const;
export const SHDR_SIZE = { 32: 40, 64: 64 } as const;

// ---------------------------------------------------------------------------------------------------------------
// e_type, e_machine
// ---------------------------------------------------------------------------------------------------------------

export const ET_NONE = 0;
export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;
export const ET_CORE = 4;

export const ELF_TYPE_NAMES: Readonly<Record<number, string>> = {
  [ET_NONE]: 'NONE', [ET_REL]: 'REL', [ET_EXEC]: 'EXEC', [ET_DYN]: 'DYN', [ET_CORE]: 'CORE',
};

export const EM_386 = 3;
export const EM_X86_64 = 62;

/** Machines we may meet on a Linux box, so that a wrong-architecture file gets a readable error. */
export const MACHINE_NAMES: Readonly<Record<number, string>> = {
  0: 'EM_NONE', 1: 'EM_M32', 2: 'EM_SPARC', [EM_386]: 'EM_386', 4: 'EM_68K', 8: 'EM_MIPS', 20: 'EM_PPC',
  21: 'EM_PPC64', 22: 'EM_S390', 40: 'EM_ARM', 42: 'EM_SH', 43: 'EM_SPARCV9', 50: 'EM_IA_64',
  [EM_X86_64]: 'EM_X86_64', 183: 'EM_AARCH64', 243: 'EM_RISCV', 258: 'EM_LOONGARCH', 0x9026: 'EM_ALPHA',
};

// ---------------------------------------------------------------------------------------------------------------
// Extended numbering (gABI "Extended Section Header Numbering")
// ---------------------------------------------------------------------------------------------------------------

/** e_phnum value meaning "the real count is in section header 0's sh_info". */
export const PN_XNUM = 0xffff;

export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const SHN_XINDEX = 0xffff;

// ---------------------------------------------------------------------------------------------------------------
// Program headers
// ---------------------------------------------------------------------------------------------------------------

export const PT_NULL = 0;
export const PT_LOAD = 1;
export const PT_DYNAMIC = 2;
export const PT_INTERP = 3;
export const PT_NOTE = 4;
export const PT_SHLIB = 5;
export const PT_PHDR = 6;
export const PT_TLS = 7;
export const PT_GNU_EH_FRAME = 0x6474e550;
export const PT_GNU_STACK = 0x6474e551;
export const PT_GNU_RELRO = 0x6474e552;
export const PT_GNU_PROPERTY = 0x6474e553;
export const PT_GNU_SFRAME = 0x6474e554;

export const PROGRAM_TYPE_NAMES: Readonly<Record<number, string>> = {
  [PT_NULL]: 'PT_NULL', [PT_LOAD]: 'PT_LOAD', [PT_DYNAMIC]: 'PT_DYNAMIC', [PT_INTERP]: 'PT_INTERP',
  [PT_NOTE]: 'PT_NOTE', [PT_SHLIB]: 'PT_SHLIB', [PT_PHDR]: 'PT_PHDR', [PT_TLS]: 'PT_TLS',
  [PT_GNU_EH_FRAME]: 'PT_GNU_EH_FRAME', [PT_GNU_STACK]: 'PT_GNU_STACK', [PT_GNU_RELRO]: 'PT_GNU_RELRO',
  [PT_GNU_PROPERTY]: 'PT_GNU_PROPERTY', [PT_GNU_SFRAME]: 'PT_GNU_SFRAME',
};

export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

// ---------------------------------------------------------------------------------------------------------------
// Section headers
// ---------------------------------------------------------------------------------------------------------------

export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_HASH = 5;
export const SHT_DYNAMIC = 6;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_DYNSYM = 11;
export const SHT_INIT_ARRAY = 14;
export const SHT_FINI_ARRAY = 15;
export const SHT_PREINIT_ARRAY = 16;
export const SHT_GROUP = 17;
export const SHT_SYMTAB_SHNDX = 18;
export const SHT_RELR = 19;
export const SHT_GNU_HASH = 0x6ffffff6;
export const SHT_GNU_VERDEF = 0x6ffffffd;
export const SHT_GNU_VERNEED = 0x6ffffffe;
export const SHT_GNU_VERSYM = 0x6fffffff;

// ---------------------------------------------------------------------------------------------------------------
// Dynamic section
// ---------------------------------------------------------------------------------------------------------------

export const DT_NULL = 0;
export const DT_NEEDED = 1;
export const DT_PLTRELSZ = 2;
export const DT_PLTGOT = 3;
export const DT_HASH = 4;
export const DT_STRTAB = 5;
export const DT_SYMTAB = 6;
export const DT_RELA = 7;
export const DT_RELASZ = 8;
export const DT_RELAENT = 9;
export const DT_STRSZ = 10;
export const DT_SYMENT = 11;
export const DT_INIT = 12;
export const DT_FINI = 13;
export const DT_SONAME = 14;
export const DT_RPATH = 15;
export const DT_SYMBOLIC = 16;
export const DT_REL = 17;
export const DT_RELSZ = 18;
export const DT_RELENT = 19;
export const DT_PLTREL = 20;
export const DT_DEBUG = 21;
export const DT_TEXTREL = 22;
export const DT_JMPREL = 23;
export const DT_BIND_NOW = 24;
export const DT_INIT_ARRAY = 25;
export const DT_FINI_ARRAY = 26;
export const DT_INIT_ARRAYSZ = 27;
export const DT_FINI_ARRAYSZ = 28;
export const DT_RUNPATH = 29;
export const DT_FLAGS = 30;
export const DT_PREINIT_ARRAY = 32;
export const DT_PREINIT_ARRAYSZ = 33;
export const DT_SYMTAB_SHNDX = 34;
export const DT_RELRSZ = 35;
export const DT_RELR = 36;
export const DT_RELRENT = 37;
export const DT_GNU_PRELINKED = 0x6ffffdf5;
export const DT_GNU_CONFLICTSZ = 0x6ffffdf6;
export const DT_GNU_LIBLISTSZ = 0x6ffffdf7;
export const DT_CHECKSUM = 0x6ffffdf8;
export const DT_PLTPADSZ = 0x6ffffdf9;
export const DT_MOVEENT = 0x6ffffdfa;
export const DT_MOVESZ = 0x6ffffdfb;
export const DT_FEATURE_1 = 0x6ffffdfc;
export const DT_POSFLAG_1 = 0x6ffffdfd;
export const DT_SYMINSZ = 0x6ffffdfe;
export const DT_SYMINENT = 0x6ffffdff;
export const DT_GNU_HASH = 0x6ffffef5;
export const DT_TLSDESC_PLT = 0x6ffffef6;
export const DT_TLSDESC_GOT = 0x6ffffef7;
export const DT_GNU_CONFLICT = 0x6ffffef8;
export const DT_GNU_LIBLIST = 0x6ffffef9;
export const DT_CONFIG = 0x6ffffefa;
export const DT_DEPAUDIT = 0x6ffffefb;
export const DT_AUDIT = 0x6ffffefc;
export const DT_PLTPAD = 0x6ffffefd;
export const DT_MOVETAB = 0x6ffffefe;
export const DT_SYMINFO = 0x6ffffeff;
export const DT_VERSYM = 0x6ffffff0;
export const DT_RELACOUNT = 0x6ffffff9;
export const DT_RELCOUNT = 0x6ffffffa;
export const DT_FLAGS_1 = 0x6ffffffb;
export const DT_VERDEF = 0x6ffffffc;
export const DT_VERDEFNUM = 0x6ffffffd;
export const DT_VERNEED = 0x6ffffffe;
export const DT_VERNEEDNUM = 0x6fffffff;
export const DT_AUXILIARY = 0x7ffffffd;
export const DT_FILTER = 0x7fffffff;

export const DYNAMIC_TAG_NAMES: Readonly<Record<number, string>> = {
  [DT_NULL]: 'DT_NULL', [DT_NEEDED]: 'DT_NEEDED', [DT_PLTRELSZ]: 'DT_PLTRELSZ', [DT_PLTGOT]: 'DT_PLTGOT',
  [DT_HASH]: 'DT_HASH', [DT_STRTAB]: 'DT_STRTAB', [DT_SYMTAB]: 'DT_SYMTAB', [DT_RELA]: 'DT_RELA',
  [DT_RELASZ]: 'DT_RELASZ', [DT_RELAENT]: 'DT_RELAENT', [DT_STRSZ]: 'DT_STRSZ', [DT_SYMENT]: 'DT_SYMENT',
  [DT_INIT]: 'DT_INIT', [DT_FINI]: 'DT_FINI', [DT_SONAME]: 'DT_SONAME', [DT_RPATH]: 'DT_RPATH',
  [DT_SYMBOLIC]: 'DT_SYMBOLIC', [DT_REL]: 'DT_REL', [DT_RELSZ]: 'DT_RELSZ', [DT_RELENT]: 'DT_RELENT',
  [DT_PLTREL]: 'DT_PLTREL', [DT_DEBUG]: 'DT_DEBUG', [DT_TEXTREL]: 'DT_TEXTREL', [DT_JMPREL]: 'DT_JMPREL',
  [DT_BIND_NOW]: 'DT_BIND_NOW', [DT_INIT_ARRAY]: 'DT_INIT_ARRAY', [DT_FINI_ARRAY]: 'DT_FINI_ARRAY',
  [DT_INIT_ARRAYSZ]: 'DT_INIT_ARRAYSZ', [DT_FINI_ARRAYSZ]: 'DT_FINI_ARRAYSZ', [DT_RUNPATH]: 'DT_RUNPATH',
  [DT_FLAGS]: 'DT_FLAGS', [DT_PREINIT_ARRAY]: 'DT_PREINIT_ARRAY', [DT_PREINIT_ARRAYSZ]: 'DT_PREINIT_ARRAYSZ',
  [DT_SYMTAB_SHNDX]: 'DT_SYMTAB_SHNDX', [DT_RELRSZ]: 'DT_RELRSZ', [DT_RELR]: 'DT_RELR',
  [DT_RELRENT]: 'DT_RELRENT', [DT_GNU_PRELINKED]: 'DT_GNU_PRELINKED', [DT_GNU_CONFLICTSZ]: 'DT_GNU_CONFLICTSZ',
  [DT_GNU_LIBLISTSZ]: 'DT_GNU_LIBLISTSZ', [DT_CHECKSUM]: 'DT_CHECKSUM', [DT_PLTPADSZ]: 'DT_PLTPADSZ',
  [DT_MOVEENT]: 'DT_MOVEENT', [DT_MOVESZ]: 'DT_MOVESZ', [DT_FEATURE_1]: 'DT_FEATURE_1',
  [DT_POSFLAG_1]: 'DT_POSFLAG_1', [DT_SYMINSZ]: 'DT_SYMINSZ', [DT_SYMINENT]: 'DT_SYMINENT',
  [DT_GNU_HASH]: 'DT_GNU_HASH', [DT_TLSDESC_PLT]: 'DT_TLSDESC_PLT', [DT_TLSDESC_GOT]: 'DT_TLSDESC_GOT',
  [DT_GNU_CONFLICT]: 'DT_GNU_CONFLICT', [DT_GNU_LIBLIST]: 'DT_GNU_LIBLIST', [DT_CONFIG]: 'DT_CONFIG',
  [DT_DEPAUDIT]: 'DT_DEPAUDIT', [DT_AUDIT]: 'DT_AUDIT', [DT_PLTPAD]: 'DT_PLTPAD', [DT_MOVETAB]: 'DT_MOVETAB',
  [DT_SYMINFO]: 'DT_SYMINFO', [DT_VERSYM]: 'DT_VERSYM', [DT_RELACOUNT]: 'DT_RELACOUNT',
  [DT_RELCOUNT]: 'DT_RELCOUNT', [DT_FLAGS_1]: 'DT_FLAGS_1', [DT_VERDEF]: 'DT_VERDEF',
  [DT_VERDEFNUM]: 'DT_VERDEFNUM', [DT_VERNEED]: 'DT_VERNEED', [DT_VERNEEDNUM]: 'DT_VERNEEDNUM',
  [DT_AUXILIARY]: 'DT_AUXILIARY', [DT_FILTER]: 'DT_FILTER',
};

/** DT_FLAGS bits. */
export const DF_ORIGIN = 0x1;
export const DF_SYMBOLIC = 0x2;
export const DF_TEXTREL = 0x4;
export const DF_BIND_NOW = 0x8;
export const DF_STATIC_TLS = 0x10;

export const DF_NAMES: Readonly<Record<number, string>> = {
  [DF_ORIGIN]: 'ORIGIN', [DF_SYMBOLIC]: 'SYMBOLIC', [DF_TEXTREL]: 'TEXTREL', [DF_BIND_NOW]: 'BIND_NOW',
  [DF_STATIC_TLS]: 'STATIC_TLS',
};

/** DT_FLAGS_1 bits. */
export const DF_1_NOW = 0x1;
export const DF_1_GLOBAL = 0x2;
export const DF_1_GROUP = 0x4;
export const DF_1_NODELETE = 0x8;
export const DF_1_LOADFLTR = 0x10;
export const DF_1_INITFIRST = 0x20;
export const DF_1_NOOPEN = 0x40;
export const DF_1_ORIGIN = 0x80;
export const DF_1_DIRECT = 0x100;
export const DF_1_INTERPOSE = 0x400;
export const DF_1_NODEFLIB = 0x800;
export const DF_1_NODUMP = 0x1000;
export const DF_1_PIE = 0x08000000;

export const DF_1_NAMES: Readonly<Record<number, string>> = {
  [DF_1_NOW]: 'NOW', [DF_1_GLOBAL]: 'GLOBAL', [DF_1_GROUP]: 'GROUP', [DF_1_NODELETE]: 'NODELETE',
  [DF_1_LOADFLTR]: 'LOADFLTR', [DF_1_INITFIRST]: 'INITFIRST', [DF_1_NOOPEN]: 'NOOPEN', [DF_1_ORIGIN]: 'ORIGIN',
  [DF_1_DIRECT]: 'DIRECT', [DF_1_INTERPOSE]: 'INTERPOSE', [DF_1_NODEFLIB]: 'NODEFLIB', [DF_1_NODUMP]: 'NODUMP',
  [DF_1_PIE]: 'PIE',
};

// ---------------------------------------------------------------------------------------------------------------
// Symbols
// ---------------------------------------------------------------------------------------------------------------

export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;
export const STB_GNU_UNIQUE = 10;

export const SYMBOL_BIND_NAMES: Readonly<Record<number, string>> = {
  [STB_LOCAL]: 'LOCAL', [STB_GLOBAL]: 'GLOBAL', [STB_WEAK]: 'WEAK', [STB_GNU_UNIQUE]: 'GNU_UNIQUE',
};

export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;
export const STT_COMMON = 5;
export const STT_TLS = 6;
export const STT_GNU_IFUNC = 10;

export const SYMBOL_TYPE_NAMES: Readonly<Record<number, string>> = {
  [STT_NOTYPE]: 'NOTYPE', [STT_OBJECT]: 'OBJECT', [STT_FUNC]: 'FUNC', [STT_SECTION]: 'SECTION',
  [STT_FILE]: 'FILE', [STT_COMMON]: 'COMMON', [STT_TLS]: 'TLS', [STT_GNU_IFUNC]: 'GNU_IFUNC',
};

export const STV_DEFAULT = 0;
export const STV_INTERNAL = 1;
export const STV_HIDDEN = 2;
export const STV_PROTECTED = 3;

export const SYMBOL_VISIBILITY_NAMES: Readonly<Record<number, string>> = {
  [STV_DEFAULT]: 'DEFAULT', [STV_INTERNAL]: 'INTERNAL', [STV_HIDDEN]: 'HIDDEN', [STV_PROTECTED]: 'PROTECTED',
};

/** Size of one symbol table entry per class (Elf32_Sym, Elf64_Sym). */
export const SYM_SIZE = { 32: 16, 64: 24 } as const;

// ---------------------------------------------------------------------------------------------------------------
// Symbol versioning (GNU extension, documented in the LSB)
// ---------------------------------------------------------------------------------------------------------------

/** .gnu.version values: 0 is "local", 1 is "global, unversioned"; bit 15 hides a non-default version. */
export const VER_NDX_LOCAL = 0;
export const VER_NDX_GLOBAL = 1;
export const VERSYM_HIDDEN = 0x8000;
export const VERSYM_VERSION = 0x7fff;

export const VER_DEF_CURRENT = 1;
export const VER_NEED_CURRENT = 1;
export const VER_FLG_BASE = 0x1;
export const VER_FLG_WEAK = 0x2;

/** Elf_Verdef, Elf_Verdaux, Elf_Verneed, Elf_Vernaux sizes: the same for both classes. */
export const VERDEF_SIZE = 20;
export const VERDAUX_SIZE = 8;
export const VERNEED_SIZE = 16;
export const VERNAUX_SIZE = 16;

// ---------------------------------------------------------------------------------------------------------------
// Relocations
// ---------------------------------------------------------------------------------------------------------------

/** Elf32_Rel, Elf32_Rela, Elf64_Rel, Elf64_Rela sizes. */
export const REL_SIZE = { 32: 8, 64: 16 } as const;
export const RELA_SIZE = { 32: 12, 64: 24 } as const;

export const R_X86_64_NONE = 0;
export const R_X86_64_64 = 1;
export const R_X86_64_PC32 = 2;
export const R_X86_64_GOT32 = 3;
export const R_X86_64_PLT32 = 4;
export const R_X86_64_COPY = 5;
export const R_X86_64_GLOB_DAT = 6;
export const R_X86_64_JUMP_SLOT = 7;
export const R_X86_64_RELATIVE = 8;
export const R_X86_64_GOTPCREL = 9;
export const R_X86_64_32 = 10;
export const R_X86_64_32S = 11;
export const R_X86_64_16 = 12;
export const R_X86_64_PC16 = 13;
export const R_X86_64_8 = 14;
export const R_X86_64_PC8 = 15;
export const R_X86_64_DTPMOD64 = 16;
export const R_X86_64_DTPOFF64 = 17;
export const R_X86_64_TPOFF64 = 18;
export const R_X86_64_TLSGD = 19;
export const R_X86_64_TLSLD = 20;
export const R_X86_64_DTPOFF32 = 21;
export const R_X86_64_GOTTPOFF = 22;
export const R_X86_64_TPOFF32 = 23;
export const R_X86_64_PC64 = 24;
export const R_X86_64_GOTOFF64 = 25;
export const R_X86_64_GOTPC32 = 26;
export const R_X86_64_GOT64 = 27;
export const R_X86_64_GOTPCREL64 = 28;
export const R_X86_64_GOTPC64 = 29;
export const R_X86_64_GOTPLT64 = 30;
export const R_X86_64_PLTOFF64 = 31;
export const R_X86_64_SIZE32 = 32;
export const R_X86_64_SIZE64 = 33;
export const R_X86_64_GOTPC32_TLSDESC = 34;
export const R_X86_64_TLSDESC_CALL = 35;
export const R_X86_64_TLSDESC = 36;
export const R_X86_64_IRELATIVE = 37;
export const R_X86_64_RELATIVE64 = 38;
/** 39 and 40 were the MPX "BND" variants; retired, but old objects still carry them. */
export const R_X86_64_PC32_BND = 39;
export const R_X86_64_PLT32_BND = 40;
export const R_X86_64_GOTPCRELX = 41;
export const R_X86_64_REX_GOTPCRELX = 42;

export const X86_64_RELOCATION_NAMES: Readonly<Record<number, string>> = {
  [R_X86_64_NONE]: 'R_X86_64_NONE', [R_X86_64_64]: 'R_X86_64_64', [R_X86_64_PC32]: 'R_X86_64_PC32',
  [R_X86_64_GOT32]: 'R_X86_64_GOT32', [R_X86_64_PLT32]: 'R_X86_64_PLT32', [R_X86_64_COPY]: 'R_X86_64_COPY',
  [R_X86_64_GLOB_DAT]: 'R_X86_64_GLOB_DAT', [R_X86_64_JUMP_SLOT]: 'R_X86_64_JUMP_SLOT',
  [R_X86_64_RELATIVE]: 'R_X86_64_RELATIVE', [R_X86_64_GOTPCREL]: 'R_X86_64_GOTPCREL',
  [R_X86_64_32]: 'R_X86_64_32', [R_X86_64_32S]: 'R_X86_64_32S', [R_X86_64_16]: 'R_X86_64_16',
  [R_X86_64_PC16]: 'R_X86_64_PC16', [R_X86_64_8]: 'R_X86_64_8', [R_X86_64_PC8]: 'R_X86_64_PC8',
  [R_X86_64_DTPMOD64]: 'R_X86_64_DTPMOD64', [R_X86_64_DTPOFF64]: 'R_X86_64_DTPOFF64',
  [R_X86_64_TPOFF64]: 'R_X86_64_TPOFF64', [R_X86_64_TLSGD]: 'R_X86_64_TLSGD', [R_X86_64_TLSLD]: 'R_X86_64_TLSLD',
  [R_X86_64_DTPOFF32]: 'R_X86_64_DTPOFF32', [R_X86_64_GOTTPOFF]: 'R_X86_64_GOTTPOFF',
  [R_X86_64_TPOFF32]: 'R_X86_64_TPOFF32', [R_X86_64_PC64]: 'R_X86_64_PC64', [R_X86_64_GOTOFF64]: 'R_X86_64_GOTOFF64',
  [R_X86_64_GOTPC32]: 'R_X86_64_GOTPC32', [R_X86_64_GOT64]: 'R_X86_64_GOT64',
  [R_X86_64_GOTPCREL64]: 'R_X86_64_GOTPCREL64', [R_X86_64_GOTPC64]: 'R_X86_64_GOTPC64',
  [R_X86_64_GOTPLT64]: 'R_X86_64_GOTPLT64', [R_X86_64_PLTOFF64]: 'R_X86_64_PLTOFF64',
  [R_X86_64_SIZE32]: 'R_X86_64_SIZE32', [R_X86_64_SIZE64]: 'R_X86_64_SIZE64',
  [R_X86_64_GOTPC32_TLSDESC]: 'R_X86_64_GOTPC32_TLSDESC', [R_X86_64_TLSDESC_CALL]: 'R_X86_64_TLSDESC_CALL',
  [R_X86_64_TLSDESC]: 'R_X86_64_TLSDESC', [R_X86_64_IRELATIVE]: 'R_X86_64_IRELATIVE',
  [R_X86_64_RELATIVE64]: 'R_X86_64_RELATIVE64', [R_X86_64_PC32_BND]: 'R_X86_64_PC32_BND',
  [R_X86_64_PLT32_BND]: 'R_X86_64_PLT32_BND', [R_X86_64_GOTPCRELX]: 'R_X86_64_GOTPCRELX',
  [R_X86_64_REX_GOTPCRELX]: 'R_X86_64_REX_GOTPCRELX',
};

export const R_386_NONE = 0;
export const R_386_32 = 1;
export const R_386_PC32 = 2;
export const R_386_GOT32 = 3;
export const R_386_PLT32 = 4;
export const R_386_COPY = 5;
export const R_386_GLOB_DAT = 6;
/** <elf.h> spells it R_386_JMP_SLOT; the psABI and readelf say R_386_JUMP_SLOT. */
export const R_386_JUMP_SLOT = 7;
export const R_386_RELATIVE = 8;
export const R_386_GOTOFF = 9;
export const R_386_GOTPC = 10;
export const R_386_32PLT = 11;
export const R_386_TLS_TPOFF = 14;
export const R_386_TLS_IE = 15;
export const R_386_TLS_GOTIE = 16;
export const R_386_TLS_LE = 17;
export const R_386_TLS_GD = 18;
export const R_386_TLS_LDM = 19;
export const R_386_16 = 20;
export const R_386_PC16 = 21;
export const R_386_8 = 22;
export const R_386_PC8 = 23;
export const R_386_TLS_GD_32 = 24;
export const R_386_TLS_GD_PUSH = 25;
export const R_386_TLS_GD_CALL = 26;
export const R_386_TLS_GD_POP = 27;
export const R_386_TLS_LDM_32 = 28;
export const R_386_TLS_LDM_PUSH = 29;
export const R_386_TLS_LDM_CALL = 30;
export const R_386_TLS_LDM_POP = 31;
export const R_386_TLS_LDO_32 = 32;
export const R_386_TLS_IE_32 = 33;
export const R_386_TLS_LE_32 = 34;
export const R_386_TLS_DTPMOD32 = 35;
export const R_386_TLS_DTPOFF32 = 36;
export const R_386_TLS_TPOFF32 = 37;
export const R_386_SIZE32 = 38;
export const R_386_TLS_GOTDESC = 39;
export const R_386_TLS_DESC_CALL = 40;
export const R_386_TLS_DESC = 41;
export const R_386_IRELATIVE = 42;
export const R_386_GOT32X = 43;

export const I386_RELOCATION_NAMES: Readonly<Record<number, string>> = {
  [R_386_NONE]: 'R_386_NONE', [R_386_32]: 'R_386_32', [R_386_PC32]: 'R_386_PC32', [R_386_GOT32]: 'R_386_GOT32',
  [R_386_PLT32]: 'R_386_PLT32', [R_386_COPY]: 'R_386_COPY', [R_386_GLOB_DAT]: 'R_386_GLOB_DAT',
  [R_386_JUMP_SLOT]: 'R_386_JUMP_SLOT', [R_386_RELATIVE]: 'R_386_RELATIVE', [R_386_GOTOFF]: 'R_386_GOTOFF',
  [R_386_GOTPC]: 'R_386_GOTPC', [R_386_32PLT]: 'R_386_32PLT', [R_386_TLS_TPOFF]: 'R_386_TLS_TPOFF',
  [R_386_TLS_IE]: 'R_386_TLS_IE', [R_386_TLS_GOTIE]: 'R_386_TLS_GOTIE', [R_386_TLS_LE]: 'R_386_TLS_LE',
  [R_386_TLS_GD]: 'R_386_TLS_GD', [R_386_TLS_LDM]: 'R_386_TLS_LDM', [R_386_16]: 'R_386_16',
  [R_386_PC16]: 'R_386_PC16', [R_386_8]: 'R_386_8', [R_386_PC8]: 'R_386_PC8', [R_386_TLS_GD_32]: 'R_386_TLS_GD_32',
  [R_386_TLS_GD_PUSH]: 'R_386_TLS_GD_PUSH', [R_386_TLS_GD_CALL]: 'R_386_TLS_GD_CALL',
  [R_386_TLS_GD_POP]: 'R_386_TLS_GD_POP', [R_386_TLS_LDM_32]: 'R_386_TLS_LDM_32',
  [R_386_TLS_LDM_PUSH]: 'R_386_TLS_LDM_PUSH', [R_386_TLS_LDM_CALL]: 'R_386_TLS_LDM_CALL',
  [R_386_TLS_LDM_POP]: 'R_386_TLS_LDM_POP', [R_386_TLS_LDO_32]: 'R_386_TLS_LDO_32',
  [R_386_TLS_IE_32]: 'R_386_TLS_IE_32', [R_386_TLS_LE_32]: 'R_386_TLS_LE_32',
  [R_386_TLS_DTPMOD32]: 'R_386_TLS_DTPMOD32', [R_386_TLS_DTPOFF32]: 'R_386_TLS_DTPOFF32',
  [R_386_TLS_TPOFF32]: 'R_386_TLS_TPOFF32', [R_386_SIZE32]: 'R_386_SIZE32',
  [R_386_TLS_GOTDESC]: 'R_386_TLS_GOTDESC', [R_386_TLS_DESC_CALL]: 'R_386_TLS_DESC_CALL',
  [R_386_TLS_DESC]: 'R_386_TLS_DESC', [R_386_IRELATIVE]: 'R_386_IRELATIVE', [R_386_GOT32X]: 'R_386_GOT32X',
};

// ---------------------------------------------------------------------------------------------------------------
// Notes
// ---------------------------------------------------------------------------------------------------------------

export const ELF_NOTE_GNU = 'GNU';
export const NT_GNU_ABI_TAG = 1;
export const NT_GNU_HWCAP = 2;
export const NT_GNU_BUILD_ID = 3;
export const NT_GNU_GOLD_VERSION = 4;
export const NT_GNU_PROPERTY_TYPE_0 = 5;

/** Operating systems of an NT_GNU_ABI_TAG note (first word of its descriptor). */
export const ELF_NOTE_OS_LINUX = 0;
export const ELF_NOTE_OS_GNU = 1;
export const ELF_NOTE_OS_SOLARIS2 = 2;
export const ELF_NOTE_OS_FREEBSD = 3;

export const ABI_TAG_OS_NAMES: Readonly<Record<number, string>> = {
  [ELF_NOTE_OS_LINUX]: 'Linux', [ELF_NOTE_OS_GNU]: 'Hurd', [ELF_NOTE_OS_SOLARIS2]: 'Solaris',
  [ELF_NOTE_OS_FREEBSD]: 'FreeBSD',
};

export const GNU_PROPERTY_STACK_SIZE = 1;
export const GNU_PROPERTY_NO_COPY_ON_PROTECTED = 2;
export const GNU_PROPERTY_1_NEEDED = 0xb0008000;
export const GNU_PROPERTY_X86_FEATURE_1_AND = 0xc0000002;
export const GNU_PROPERTY_X86_FEATURE_2_NEEDED = 0xc0008001;
export const GNU_PROPERTY_X86_ISA_1_NEEDED = 0xc0008002;
export const GNU_PROPERTY_X86_FEATURE_2_USED = 0xc0010001;
export const GNU_PROPERTY_X86_ISA_1_USED = 0xc0010002;

export const GNU_PROPERTY_X86_ISA_1_BASELINE = 1 << 0;
export const GNU_PROPERTY_X86_ISA_1_V2 = 1 << 1;
export const GNU_PROPERTY_X86_ISA_1_V3 = 1 << 2;
export const GNU_PROPERTY_X86_ISA_1_V4 = 1 << 3;
export const GNU_PROPERTY_X86_FEATURE_1_IBT = 1 << 0;
export const GNU_PROPERTY_X86_FEATURE_1_SHSTK = 1 << 1;

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

/** The page size both x86 kernels use; PT_LOAD spans are reported rounded to it. */
export const PAGE_SIZE = 0x1000;

export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/** `table[value]`, or a synthetic name such as `PT_0x6474e554` that still shows the number. */
export function nameOf(table: Readonly<Record<number, string>>, value: number, unknownPrefix: string): string {
  return table[value] ?? `${unknownPrefix}${hex(value)}`;
}

/** Names of the bits set in `flags`, in bit order; unknown bits as hex. */
export function flagNames(table: Readonly<Record<number, string>>, flags: number): string[] {
  const names: string[] = [];
  for (let bit = 0; bit < 32; bit++) {
    const mask = 2 ** bit;
    if (Math.floor(flags / mask) % 2 === 1) names.push(table[mask] ?? hex(mask));
  }
  return names;
}
