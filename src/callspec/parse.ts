/**
 * A parser for C declarations: prototypes, type names and header-like files (typedefs, struct/union/enum
 * definitions). It understands what is needed to compute a calling convention, not all of C: there is no
 * preprocessor (`#` lines are skipped), no expressions beyond integer constant expressions, and no function bodies.
 *
 * Types are produced as plain `CType` values (types.ts). Tagged structs are stored by tag inside a `Declarations`
 * scope and expanded ("materialised") only when a type leaves the parser, so a struct defined after a typedef
 * that names it is still complete when used, and self-referential structs stay acyclic.
 */
import type { Arch } from '../emu/arch.ts';
import { CONVENTION_KEYWORDS, readAttributes } from './attributes.ts';
import { addConventionPart, conventionArchProblem, conventionOf, type ConventionParts } from './conventions.ts';
import { typeName, VECTOR_SIZES } from './layout.ts';
import type { CField, CParam, CType, FloatKind, IntKind, Prototype } from './types.ts';

// ---------------------------------------------------------------------------------------------------------------
// Errors

/** A declaration that cannot be parsed; `position` is a 0-based offset into `source`. */
export class DeclarationError extends Error {
  readonly position: number;
  readonly source: string;
  /** 1-based line and column of `position`. */
  readonly line: number;
  readonly column: number;

  constructor(source: string, position: number, problem: string) {
    const { line, column } = lineAndColumn(source, position);
    const where = source.includes('\n') ? `at line ${line}, column ${column}` : `at column ${column}`;
    super(`${where}: ${problem}`);
    this.name = 'DeclarationError';
    this.source = source;
    this.position = position;
    this.line = line;
    this.column = column;
  }

  /** The offending source line with a caret under the error position. */
  get excerpt(): string {
    const lines = this.source.split('\n');
    const text = lines[this.line - 1] ?? '';
    return `${text}\n${' '.repeat(this.column - 1)}^`;
  }
}

function lineAndColumn(source: string, position: number): { line: number; column: number } {
  const before = source.slice(0, position);
  const line = before.split('\n').length;
  const column = position - (before.lastIndexOf('\n') + 1) + 1;
  return { line, column };
}

// ---------------------------------------------------------------------------------------------------------------
// Lexer

type TokenKind = 'ident' | 'number' | 'punct' | 'string' | 'eof';

interface Token {
  kind: TokenKind;
  text: string;
  /** Offset of the first character in the source. */
  pos: number;
  /** Offset just past the last character. */
  end: number;
  /** Numeric value of number and character-literal tokens. */
  value?: bigint;
}

/** Punctuators, longest first so that `...` wins over `.` and `<<` over `<`. */
const PUNCTUATORS = [
  '...', '<<', '>>', '<=', '>=', '==', '!=', '&&', '||',
  '(', ')', '[', ']', '{', '}', ';', ',', '*', '=', ':', '+', '-', '/', '%', '&', '|', '^', '~', '!', '?', '<', '>', '.',
];

const CHAR_ESCAPES: Record<string, number> = { n: 10, t: 9, r: 13, '0': 0, '\\': 92, "'": 39, '"': 34, a: 7, b: 8, f: 12, v: 11 };

/**
 * Blank out comments and preprocessor lines, keeping every other character at its offset (so token positions
 * still index the caller's text, and slices of the cleaned text read like the source without comments).
 */
function blankComments(source: string): string {
  let out = '';
  let i = 0;
  let lineStart = true;
  const blank = (text: string) => text.replace(/[^\n]/g, ' ');
  while (i < source.length) {
    const c = source[i];
    if (source.startsWith('//', i)) {
      const end = source.indexOf('\n', i);
      const stop = end < 0 ? source.length : end;
      out += blank(source.slice(i, stop));
      i = stop;
    } else if (source.startsWith('/*', i)) {
      const end = source.indexOf('*/', i + 2);
      const stop = end < 0 ? source.length : end + 2;
      out += blank(source.slice(i, stop));
      i = stop;
    } else if (c === '#' && lineStart) {
      // A preprocessor line, with backslash continuations.
      let stop = i;
      while (stop < source.length && source[stop] !== '\n') stop += source[stop] === '\\' ? 2 : 1;
      out += blank(source.slice(i, stop));
      i = stop;
    } else if (c === '"' || c === "'") {
      let stop = i + 1;
      while (stop < source.length && source[stop] !== c && source[stop] !== '\n') stop += source[stop] === '\\' ? 2 : 1;
      out += source.slice(i, stop + 1);
      i = stop + 1;
      lineStart = false;
    } else {
      out += c;
      if (c === '\n') lineStart = true;
      else if (c !== ' ' && c !== '\t' && c !== '\r') lineStart = false;
      i++;
    }
  }
  return out;
}

function tokenize(source: string, clean: string): Token[] {
  const tokens: Token[] = [];
  const fail = (pos: number, problem: string): never => {
    throw new DeclarationError(source, pos, problem);
  };
  let i = 0;
  while (i < clean.length) {
    const c = clean[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (/[A-Za-z_$]/.test(c)) {
      while (i < clean.length && /[A-Za-z0-9_$]/.test(clean[i])) i++;
      tokens.push({ kind: 'ident', text: clean.slice(start, i), pos: start, end: i });
    } else if (/[0-9]/.test(c)) {
      const match = /^(0[xX][0-9a-fA-F]+|0[bB][01]+|[0-9]+)([uUlL]*)/.exec(clean.slice(i))!;
      i += match[0].length;
      if (/[A-Za-z0-9_.]/.test(clean[i] ?? '')) fail(start, `unsupported number "${clean.slice(start, i + 1)}": only integer constants are allowed`);
      const digits = match[1];
      const value = /^0[0-7]+$/.test(digits) ? BigInt('0o' + digits.slice(1)) : BigInt(digits);
      tokens.push({ kind: 'number', text: match[0], pos: start, end: i, value });
    } else if (c === "'") {
      const match = /^'(\\.|[^\\'])'/.exec(clean.slice(i));
      if (!match) fail(start, 'unsupported character constant');
      const body = match![1];
      const code = body.length === 1 ? body.charCodeAt(0) : CHAR_ESCAPES[body[1]];
      if (code === undefined) fail(start, `unsupported escape "${body}"`);
      i += match![0].length;
      tokens.push({ kind: 'number', text: match![0], pos: start, end: i, value: BigInt(code) });
    } else if (c === '"') {
      let stop = i + 1;
      while (stop < clean.length && clean[stop] !== '"') stop += clean[stop] === '\\' ? 2 : 1;
      i = stop + 1;
      tokens.push({ kind: 'string', text: clean.slice(start, i), pos: start, end: i });
    } else {
      const punct = PUNCTUATORS.find((p) => clean.startsWith(p, i));
      if (!punct) fail(start, `unexpected character "${c}"`);
      i += punct!.length;
      tokens.push({ kind: 'punct', text: punct!, pos: start, end: i });
    }
  }
  tokens.push({ kind: 'eof', text: '', pos: clean.length, end: clean.length });
  return tokens;
}

// ---------------------------------------------------------------------------------------------------------------
// Keywords

/** Basic type-specifier keywords; their combination is looked up in BASIC_TYPES. */
/**
 * How deeply a declaration may nest: parentheses, brackets, struct bodies, pointer levels and operators of a
 * constant expression all count. Real headers stay far below it; without it, a pathological declaration would
 * exhaust the host's stack (here and in every recursive pass over the type afterwards).
 */
export const MAX_DECLARATION_NESTING = 256;

const TYPE_WORDS = new Set(['void', 'char', 'short', 'int', 'long', 'float', 'double', 'signed', 'unsigned', '_Bool', 'bool', '__int128',
  '_Complex', '__float128', '_Float16']);
/** Alternative spellings of type-specifier keywords. */
const TYPE_WORD_SPELLINGS: Record<string, string> = {
  __signed: 'signed', __signed__: 'signed', bool: '_Bool', __complex__: '_Complex', _Float128: '__float128',
};
/** Storage classes and function specifiers: accepted and ignored (except `typedef`). */
const STORAGE_WORDS = new Set([
  'typedef', 'extern', 'static', 'inline', '__inline', '__inline__', 'register', 'auto',
  '__extension__', '_Noreturn', '_Thread_local', '__thread',
]);
/** Qualifiers; `const` is remembered on pointer targets, the others are ignored. */
const CONST_WORDS = new Set(['const', '__const', '__const__']);
const QUALIFIER_WORDS = new Set([...CONST_WORDS, 'volatile', '__volatile', '__volatile__', 'restrict', '__restrict', '__restrict__', '_Atomic']);
/** Words followed by a parenthesised argument that is skipped: `__attribute__((...))`, `__asm__("name")`. */
const PAREN_SKIP_WORDS = new Set(['__attribute__', '__attribute', '__asm__', '__asm', 'asm', '_Alignas', '__declspec']);
/** glibc header macros that commonly survive copy-pasting a prototype; ignored (with their arguments, if any). */
const IGNORED_MACROS = new Set(['__THROW', '__THROWNL', '__wur', '__nonnull', '__attribute_pure__', '__attribute_const__',
  '__attribute_malloc__', '__attribute_deprecated__', '__BEGIN_DECLS', '__END_DECLS', 'PCAP_API', 'PCAP_AVAILABLE_0_4',
  'PCAP_AVAILABLE_0_8', 'PCAP_AVAILABLE_1_0', 'PCAP_AVAILABLE_1_2', 'PCAP_AVAILABLE_1_5', 'PCAP_AVAILABLE_1_9',
  'PCAP_AVAILABLE_1_10', 'PCAP_DEPRECATED']);

/** Type keywords outside the type model: rejected with a clear message rather than misparsed as names. */
const UNSUPPORTED_TYPE_WORDS = new Set(['_Imaginary',
  '_Float32', '_Float64', '_Float32x', '_Float64x', '__float80', '__ibm128', '_Decimal32', '_Decimal64', '_Decimal128',
  '__m256', '__m256d', '__m256i', '__m512', '__m512d', '__m512i']);

/**
 * The x86 intrinsic vector types, as <mmintrin.h> / <xmmintrin.h> / <emmintrin.h> define them
 * (`typedef int __m64 __attribute__((__vector_size__(8)))`, `typedef float __m128 …(16)`, …): built in, so that a
 * prototype can use them without the headers.
 */
const VECTOR_TYPEDEFS: Record<string, CType> = (() => {
  const vector = (name: string, of: CType, size: number): CType => ({ kind: 'vector', of, size, name });
  return {
    __m64: vector('__m64', { kind: 'int', name: 'int' }, 8),
    __m128: vector('__m128', { kind: 'float', name: 'float' }, 16),
    __m128d: vector('__m128d', { kind: 'float', name: 'double' }, 16),
    __m128i: vector('__m128i', { kind: 'int', name: 'long long' }, 16),
  };
})();

/**
 * `T __attribute__((vector_size(N)))`: GCC requires a power-of-two multiple of an integer or real element type;
 * the two sizes the x86 ABIs pass in one vector register (8: MMX / one SSE eightbyte, 16: one XMM register) are
 * modelled. Returns the vector, or a sentence saying why not.
 */
function vectorOf(base: CType, size: number): CType | string {
  if ((base.kind !== 'int' && base.kind !== 'float') || base.name === '_Bool') {
    return `vector_size applies to an integer or floating-point element type, not to ${typeName(base)}`;
  }
  if (base.name === 'long double' || base.name === '__float128' || base.name === '__int128' || base.name === 'unsigned __int128') {
    return `vectors of ${base.name} are not supported: GCC makes a one-element vector of it, an ABI case shimulator has no rule for`;
  }
  if (!VECTOR_SIZES.includes(size as 8 | 16)) {
    return `vector_size(${size}) is not supported: shimulator models the 8- and 16-byte vectors (MMX and SSE sizes; __m64, __m128)`;
  }
  return { kind: 'vector', of: base, size };
}

/** The range of enumerator values GCC gives a 4-byte enum (beyond it the enum grows to 8 bytes). */
const ENUM_MIN = -(2n ** 31n);
const ENUM_MAX = 2n ** 32n - 1n;

/** The order in which basic type words are written in a canonical spelling. */
const TYPE_WORD_ORDER = ['_Complex', 'signed', 'unsigned', 'short', 'long', 'char', 'int', 'float', 'double', 'void', '_Bool', '__int128',
  '__float128', '_Float16'];

/**
 * Canonical spelling of a basic-type keyword combination → the type. `int` is dropped before lookup when
 * `short` or `long` is present (`long int` = `long`), and words are sorted by TYPE_WORD_ORDER.
 */
const BASIC_TYPES: Record<string, CType> = (() => {
  const int = (name: IntKind): CType => ({ kind: 'int', name });
  const float = (name: FloatKind): CType => ({ kind: 'float', name });
  return {
    void: { kind: 'void' },
    _Bool: int('_Bool'),
    char: int('char'), 'signed char': int('signed char'), 'unsigned char': int('unsigned char'),
    short: int('short'), 'signed short': int('short'), 'unsigned short': int('unsigned short'),
    int: int('int'), signed: int('int'), 'signed int': int('int'), unsigned: int('unsigned int'), 'unsigned int': int('unsigned int'),
    long: int('long'), 'signed long': int('long'), 'unsigned long': int('unsigned long'),
    'long long': int('long long'), 'signed long long': int('long long'), 'unsigned long long': int('unsigned long long'),
    float: float('float'), double: float('double'), 'long double': float('long double'),
    __int128: int('__int128'), 'signed __int128': int('__int128'), 'unsigned __int128': int('unsigned __int128'),
    __float128: float('__float128'), _Float16: float('_Float16'),
    // GCC accepts a bare `_Complex` as `_Complex double` (with a pedantic warning).
    _Complex: { kind: 'complex', of: 'double' },
    '_Complex float': { kind: 'complex', of: 'float' }, '_Complex double': { kind: 'complex', of: 'double' },
    '_Complex long double': { kind: 'complex', of: 'long double' },
  };
})();

/**
 * Built-in typedefs. Sizes that differ per architecture (`long`, `size_t`) resolve to the C type with the same
 * size on both, and layout.ts decides the size: `size_t` is `unsigned long` (4 bytes on i386, 8 on amd64).
 */
const BUILTIN_TYPEDEFS: Record<string, string> = {
  size_t: 'unsigned long', ssize_t: 'long', ptrdiff_t: 'long', intptr_t: 'long', uintptr_t: 'unsigned long',
  int8_t: 'signed char', uint8_t: 'unsigned char', int16_t: 'short', uint16_t: 'unsigned short',
  int32_t: 'int', uint32_t: 'unsigned int', int64_t: 'long long', uint64_t: 'unsigned long long',
  intmax_t: 'long long', uintmax_t: 'unsigned long long', __int128_t: '__int128', __uint128_t: 'unsigned __int128',
  off_t: 'long', off64_t: 'long long', pid_t: 'int', uid_t: 'unsigned int', gid_t: 'unsigned int',
  mode_t: 'unsigned int', time_t: 'long', clock_t: 'long', suseconds_t: 'long', useconds_t: 'unsigned int',
  socklen_t: 'unsigned int', wchar_t: 'int', wint_t: 'unsigned int', ino_t: 'unsigned long', dev_t: 'unsigned long long',
  nlink_t: 'unsigned long', blksize_t: 'long', blkcnt_t: 'long', sig_atomic_t: 'int',
  u_char: 'unsigned char', u_short: 'unsigned short', u_int: 'unsigned int', u_long: 'unsigned long',
  u_int8_t: 'unsigned char', u_int16_t: 'unsigned short', u_int32_t: 'unsigned int', u_int64_t: 'unsigned long long',
  bpf_u_int32: 'unsigned int', bpf_int32: 'int',
  // va_list is passed as a pointer on both ABIs (amd64: an array of one __va_list_tag, which decays; i386: char *).
  va_list: 'void *', __gnuc_va_list: 'void *',
  // Opaque library types: incomplete structs, usable only through pointers.
  FILE: 'struct _IO_FILE', DIR: 'struct __dirstream', pcap_t: 'struct pcap', pcap_dumper_t: 'struct pcap_dumper',
};

// ---------------------------------------------------------------------------------------------------------------
// Scope

/** A type together with the qualifier that matters for explanations. */
interface QualType {
  type: CType;
  const: boolean;
}

interface TagDefinition {
  kind: 'struct' | 'union' | 'enum';
  /** Undefined while incomplete (declared but not defined). */
  fields?: CField[];
  packed?: boolean;
  align?: number;
  defined: boolean;
}

/**
 * A scope of C declarations: typedef names, struct/union/enum tags, enum constants and function prototypes.
 * Starts with the built-in typedefs (`size_t`, `uint32_t`, `FILE`, `pcap_t`, ...).
 */
export class Declarations {
  private readonly typedefs = new Map<string, QualType>();
  private readonly tags = new Map<string, TagDefinition>();
  private readonly constants = new Map<string, bigint>();
  private readonly prototypes = new Map<string, Prototype>();

  /** When set, calling conventions of the other architecture are refused while parsing (with their position). */
  readonly arch: Arch | undefined;

  constructor(options: { builtins?: boolean; arch?: Arch } = {}) {
    this.arch = options.arch;
    if (options.builtins !== false) {
      const source = Object.entries(BUILTIN_TYPEDEFS).map(([name, type]) => `typedef ${type} ${name};`).join('\n');
      this.addDeclarations(source);
    }
  }

  /** Parse a prototype: `int snprintf(char *buf, unsigned long n, const char *fmt, ...)` (a trailing `;` is allowed). */
  parsePrototype(text: string): Prototype {
    const parser = new Parser(this, text);
    const proto = parser.prototype();
    parser.expectEnd();
    return proto;
  }

  /** Parse a type name: `double`, `struct pt`, `int (*)(const void *, const void *)`. */
  parseType(text: string): CType {
    const parser = new Parser(this, text);
    const type = parser.typeName();
    parser.expectEnd();
    return this.materialize(type);
  }

  /**
   * Add the declarations of a header-like text: typedefs, struct/union/enum definitions, function prototypes
   * (retrievable with `prototype(name)`). Comments and `#` lines are ignored; variables are ignored.
   */
  addDeclarations(source: string): void {
    new Parser(this, source).translationUnit();
  }

  /** A prototype declared by `addDeclarations`, or undefined. */
  prototype(name: string): Prototype | undefined {
    return this.prototypes.get(name);
  }

  /** Names of the prototypes declared by `addDeclarations`. */
  prototypeNames(): string[] {
    return [...this.prototypes.keys()];
  }

  /** The type a typedef name stands for, or undefined. */
  typedef(name: string): CType | undefined {
    const entry = this.typedefs.get(name);
    return entry && this.materialize(entry.type);
  }

  /** The current definition of `struct tag` / `union tag` / `enum tag` (incomplete when only declared). */
  tag(kind: 'struct' | 'union' | 'enum', tag: string): CType | undefined {
    const def = this.tags.get(tag);
    if (!def || def.kind !== kind) return undefined;
    return this.materialize({ kind, tag } as CType);
  }

  /** The value of an enum constant, or undefined. */
  enumConstant(name: string): number | undefined {
    const value = this.constants.get(name);
    return value === undefined ? undefined : Number(value);
  }

  // --- used by the parser ---

  /** @internal */
  lookupTypedef(name: string): QualType | undefined {
    return this.typedefs.get(name);
  }

  /** @internal */
  lookupConstant(name: string): bigint | undefined {
    return this.constants.get(name);
  }

  /** @internal */
  lookupTag(tag: string): TagDefinition | undefined {
    return this.tags.get(tag);
  }

  /** @internal */
  defineTypedef(name: string, type: QualType): void {
    this.typedefs.set(name, type);
  }

  /** @internal */
  defineConstant(name: string, value: bigint): void {
    this.constants.set(name, value);
  }

  /** @internal */
  defineTag(tag: string, def: TagDefinition): void {
    this.tags.set(tag, def);
  }

  /** @internal */
  definePrototype(proto: Prototype): void {
    this.prototypes.set(proto.name, proto);
  }

  /**
   * Expand tagged struct/union references into full definitions. Each tag is expanded once per call and the
   * expansion shared; a tag reached again inside its own expansion (through a pointer) stays a bare reference.
   */
  materialize(type: CType, cache = new Map<string, CType>(), expanding = new Set<string>()): CType {
    const again = (t: CType) => this.materialize(t, cache, expanding);
    switch (type.kind) {
      case 'pointer':
        return { ...type, to: again(type.to) };
      case 'array':
        return { ...type, of: again(type.of) };
      case 'function':
        return {
          ...type,
          ret: again(type.ret),
          params: type.params.map((p) => ({ ...p, type: again(p.type) })),
        };
      case 'struct':
      case 'union': {
        if (type.tag === undefined) return { ...type, fields: type.fields?.map((f) => ({ ...f, type: again(f.type) })) };
        const def = this.tags.get(type.tag);
        if (!def?.fields || expanding.has(type.tag)) return { kind: type.kind, tag: type.tag };
        const cached = cache.get(type.tag);
        if (cached) return cached;
        expanding.add(type.tag);
        const fields = def.fields.map((f) => ({ ...f, type: again(f.type) }));
        expanding.delete(type.tag);
        const full: CType = { kind: type.kind, tag: type.tag, fields };
        if (def.packed) full.packed = true;
        if (def.align !== undefined) full.align = def.align;
        cache.set(type.tag, full);
        return full;
      }
      default:
        return type;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Parser

/** Declaration specifiers: the base type and the storage class. */
interface Specifiers {
  base: QualType;
  typedef: boolean;
  /** Position of the first specifier token. */
  pos: number;
  /** True when the specifiers defined a struct/union/enum body (so `struct X {...};` alone is meaningful). */
  definesTag: boolean;
  /** Calling-convention attributes among the specifiers (`__stdcall`, `__attribute__((stdcall)) int`). */
  convention?: ConventionParts;
  conventionAt?: number;
  /** `__attribute__((vector_size(N)))` among the specifiers: the base type becomes a vector. */
  vectorSize?: number;
  vectorAt?: number;
}

/** What `skipDecorations` found: a calling convention and a `vector_size`, with where they were written. */
interface Decorations {
  convention?: ConventionParts;
  at?: number;
  vectorSize?: number;
  vectorAt?: number;
}

/** One suffix of a direct declarator: `[N]` or `(params)`. */
type Suffix =
  | { kind: 'array'; length: number; flexible: boolean }
  | { kind: 'function'; params: CParam[]; variadic: boolean };

/**
 * A parsed declarator, kept as a recipe: applying it to the base type builds the declared type inside-out
 * (pointers bind looser than suffixes; a parenthesised inner declarator applies last).
 */
interface Declarator {
  name?: string;
  namePos: number;
  /** One entry per `*`: whether that pointer itself is const (`* const`). */
  pointers: boolean[];
  inner?: Declarator;
  suffixes: Suffix[];
  /** Position just past the declarator. */
  end: number;
  /** Calling-convention attributes written at this level (`(__stdcall *p)`, `int __stdcall f(int)`). */
  convention?: ConventionParts;
  conventionAt?: number;
}

/** Reports a problem at a source position (the parser's `fail`). */
type Fail = (pos: number, problem: string) => never;

/**
 * Builds the declared type. A calling convention written at a level applies to that level's function suffix
 * (`int __stdcall f(int)`), or else to the function type the level's pointers point to (`int (__stdcall *p)(int)`).
 */
function applyDeclarator(d: Declarator, base: QualType, fail: Fail, arch?: Arch): QualType {
  let q = base;
  const withConvention = (type: CType): CType => {
    if (!d.convention) return type;
    if (type.kind !== 'function') fail(d.conventionAt!, 'a calling-convention attribute applies to a function or a pointer to one');
    const convention = conventionOf(d.convention);
    if (typeof convention === 'string') fail(d.conventionAt!, convention);
    const problem = arch && conventionArchProblem(convention, arch);
    if (problem) fail(d.conventionAt!, problem);
    return { ...type, convention };
  };
  const ownFunction = d.suffixes[0]?.kind === 'function';
  if (!ownFunction && d.convention) q = { ...q, type: withConvention(q.type) };
  for (const pointerIsConst of d.pointers) {
    const pointer: CType = { kind: 'pointer', to: q.type };
    if (q.const) pointer.const = true;
    q = { type: pointer, const: pointerIsConst };
  }
  for (const suffix of [...d.suffixes].reverse()) {
    if (suffix.kind === 'array') {
      const array: CType = { kind: 'array', of: q.type, length: suffix.length };
      if (suffix.flexible) array.flexible = true;
      q = { type: array, const: q.const };
    } else {
      const fn: CType = { kind: 'function', ret: q.type, params: suffix.params, variadic: suffix.variadic };
      q = { type: suffix === d.suffixes[0] ? withConvention(fn) : fn, const: false };
    }
  }
  return d.inner ? applyDeclarator(d.inner, q, fail, arch) : q;
}

/** Attributes written outside a declarator (in the specifiers, after it) belong to its innermost level, the name's. */
function addConventionToName(d: Declarator, parts: ConventionParts | undefined, at: number | undefined, fail: Fail): void {
  if (!parts || (parts.name === undefined && parts.regparm === undefined)) return;
  let level = d;
  while (level.inner) level = level.inner;
  const combined = addConventionPart(level.convention ?? {}, parts);
  if (typeof combined === 'string') fail(at!, combined);
  level.convention = combined;
  level.conventionAt ??= at;
}

/** The declared name, wherever it sits in nested declarators (`(*signal(int))(int)` declares `signal`). */
function declaredName(d: Declarator): string | undefined {
  return d.inner ? declaredName(d.inner) : d.name;
}

/** Parameters of array and function type are adjusted to pointers (C11 §6.7.6.3p7–8). */
function adjustParameterType(q: QualType): CType {
  if (q.type.kind === 'array') {
    const pointer: CType = { kind: 'pointer', to: q.type.of };
    if (q.const) pointer.const = true;
    return pointer;
  }
  if (q.type.kind === 'function') return { kind: 'pointer', to: q.type };
  return q.type;
}

/** Binary operators of integer constant expressions, by precedence level (loosest first). */
const BINARY_LEVELS: Array<Record<string, (a: bigint, b: bigint) => bigint>> = [
  { '||': (a, b) => BigInt(a !== 0n || b !== 0n) },
  { '&&': (a, b) => BigInt(a !== 0n && b !== 0n) },
  { '|': (a, b) => a | b },
  { '^': (a, b) => a ^ b },
  { '&': (a, b) => a & b },
  { '==': (a, b) => BigInt(a === b), '!=': (a, b) => BigInt(a !== b) },
  { '<': (a, b) => BigInt(a < b), '>': (a, b) => BigInt(a > b), '<=': (a, b) => BigInt(a <= b), '>=': (a, b) => BigInt(a >= b) },
  { '<<': (a, b) => a << b, '>>': (a, b) => a >> b },
  { '+': (a, b) => a + b, '-': (a, b) => a - b },
  { '*': (a, b) => a * b, '/': (a, b) => a / b, '%': (a, b) => a % b },
];

const UNARY_OPERATORS: Record<string, (a: bigint) => bigint> = {
  '-': (a) => -a,
  '+': (a) => a,
  '~': (a) => ~a,
  '!': (a) => BigInt(a === 0n),
};

class Parser {
  private readonly tokens: Token[];
  private readonly clean: string;
  private index = 0;
  /** Current nesting (see MAX_DECLARATION_NESTING). */
  private depth = 0;

  constructor(
    private readonly scope: Declarations,
    private readonly source: string,
  ) {
    this.clean = blankComments(source);
    this.tokens = tokenize(source, this.clean);
  }

  // --- token helpers ---

  private get token(): Token {
    return this.tokens[this.index];
  }

  private peek(ahead = 1): Token {
    return this.tokens[Math.min(this.index + ahead, this.tokens.length - 1)];
  }

  private next(): Token {
    const token = this.token;
    if (token.kind !== 'eof') this.index++;
    return token;
  }

  private is(text: string): boolean {
    return this.token.kind !== 'eof' && this.token.kind !== 'string' && this.token.text === text;
  }

  private accept(text: string): boolean {
    if (!this.is(text)) return false;
    this.index++;
    return true;
  }

  private fail(token: Token, problem: string): never {
    throw new DeclarationError(this.source, token.pos, problem);
  }

  private readonly failAt: Fail = (pos, problem) => {
    throw new DeclarationError(this.source, pos, problem);
  };

  private apply(d: Declarator, base: QualType): QualType {
    return applyDeclarator(d, base, this.failAt, this.scope.arch);
  }

  /** Runs `body` `levels` nesting levels deeper than now; beyond MAX_DECLARATION_NESTING the declaration is refused. */
  private nested<T>(at: Token, body: () => T, levels = 1): T {
    this.depth += levels;
    try {
      if (this.depth > MAX_DECLARATION_NESTING) {
        this.fail(at, `the declaration nests deeper than the parser's limit of ${MAX_DECLARATION_NESTING} levels (parentheses, brackets, braces, pointers)`);
      }
      return body();
    } finally {
      this.depth -= levels;
    }
  }

  private describe(token: Token): string {
    return token.kind === 'eof' ? 'the end of the text' : `"${token.text}"`;
  }

  private expect(text: string, what = `"${text}"`): Token {
    if (!this.is(text)) this.fail(this.token, `expected ${what}, found ${this.describe(this.token)}`);
    return this.next();
  }

  private atEnd(): boolean {
    return this.token.kind === 'eof';
  }

  expectEnd(): void {
    this.accept(';');
    if (this.token.kind !== 'eof') this.fail(this.token, `expected the end of the declaration, found ${this.describe(this.token)}`);
  }

  /** Source text between two offsets, without comments, whitespace collapsed. */
  private textBetween(start: number, end: number): string {
    return this.clean.slice(start, end).replace(/\s+/g, ' ').trim();
  }

  /**
   * Skip `word(...)` with balanced parentheses (asm labels), glibc decoration macros and attributes, returning the
   * calling convention the attributes and MSVC keywords (`__stdcall`) name. Unknown attributes are refused.
   */
  private skipDecorations(): Decorations {
    let convention: ConventionParts | undefined;
    let at: number | undefined;
    const vector: Pick<Decorations, 'vectorSize' | 'vectorAt'> = {};
    const add = (part: ConventionParts, pos: number) => {
      const combined = addConventionPart(convention ?? {}, part);
      if (typeof combined === 'string') this.failAt(pos, combined);
      convention = combined;
      at ??= pos;
    };
    for (;;) {
      const t = this.token;
      if (t.kind !== 'ident') return { convention, at, ...vector };
      if (t.text === '__attribute__' || t.text === '__attribute') {
        this.next();
        const reading = readAttributes(this.skipBalanced(), this.failAt);
        if (reading.conventionAt !== undefined) add(reading.convention, reading.conventionAt);
        if (reading.vectorSize !== undefined) Object.assign(vector, { vectorSize: reading.vectorSize, vectorAt: reading.vectorAt });
      } else if (PAREN_SKIP_WORDS.has(t.text)) {
        this.next();
        this.skipBalanced();
      } else if (CONVENTION_KEYWORDS[t.text]) {
        this.next();
        add({ name: CONVENTION_KEYWORDS[t.text] }, t.pos);
      } else if (IGNORED_MACROS.has(t.text)) {
        this.next();
        if (this.is('(')) this.skipBalanced();
      } else return { convention, at, ...vector };
    }
  }

  /**
   * `vector_size` written among the specifiers or after the declarator applies to the base type (GCC builds the
   * vector from the type the declarator's pointers and arrays derive from: `int v __attribute__((vector_size(16)))`).
   */
  private applyVectorSize(specs: Specifiers, after: Decorations): void {
    const size = after.vectorSize ?? specs.vectorSize;
    if (size === undefined) return;
    const vector = vectorOf(specs.base.type, size);
    if (typeof vector === 'string') this.failAt((after.vectorAt ?? specs.vectorAt)!, vector);
    specs.base = { ...specs.base, type: vector };
  }

  /** A `vector_size` where it cannot apply (inside a declarator, after a struct member). */
  private refuseVectorSize(found: Decorations, where: string): void {
    if (found.vectorAt !== undefined) this.failAt(found.vectorAt, `vector_size cannot stand ${where}; write it after the type or after the declared name`);
  }

  /** Decorations where no calling convention may stand (between declarations, inside a struct's attributes). */
  private skipNeutralDecorations(what: string): void {
    const found = this.skipDecorations();
    this.refuseVectorSize(found, what);
    const { at } = found;
    if (at !== undefined) this.failAt(at, `a calling-convention attribute cannot stand ${what}; write it on a function declaration or a function pointer`);
  }

  /** Skip a parenthesised group, returning its tokens (without the outer parentheses). */
  private skipBalanced(): Token[] {
    const open = this.expect('(');
    const inside: Token[] = [];
    let depth = 1;
    for (;;) {
      const t = this.next();
      if (t.kind === 'eof') this.fail(open, 'unbalanced "("');
      if (t.kind === 'punct' && t.text === '(') depth++;
      if (t.kind === 'punct' && t.text === ')' && --depth === 0) return inside;
      inside.push(t);
    }
  }

  // --- entry points ---

  translationUnit(): void {
    while (this.token.kind !== 'eof') {
      if (this.accept(';')) continue;
      // Bare macros (`__BEGIN_DECLS`); attributes stay for the declaration's specifiers.
      while (this.token.kind === 'ident' && IGNORED_MACROS.has(this.token.text)) {
        this.next();
        if (this.is('(')) this.skipBalanced();
      }
      if (this.atEnd()) break;
      this.externalDeclaration();
    }
  }

  prototype(): Prototype {
    const start = this.token.pos;
    const specs = this.specifiers();
    if (specs.typedef) this.fail(this.tokens[this.index - 1], 'expected a prototype, found a typedef');
    const d = this.declarator('named');
    const after = this.skipDecorations();
    addConventionToName(d, specs.convention, specs.conventionAt, this.failAt);
    addConventionToName(d, after.convention, after.at, this.failAt);
    this.applyVectorSize(specs, after);
    return this.toPrototype(specs, d, start);
  }

  typeName(): CType {
    const specs = this.specifiers();
    const d = this.declarator('abstract');
    addConventionToName(d, specs.convention, specs.conventionAt, this.failAt);
    this.applyVectorSize(specs, {});
    return this.apply(d, specs.base).type;
  }

  // --- declarations ---

  private externalDeclaration(): void {
    const start = this.token.pos;
    const specs = this.specifiers();
    if (this.accept(';')) return; // `struct X {...};`, `enum {A, B};`, or a useless `int;`
    const base = specs.base;
    for (;;) {
      const d = this.declarator('named');
      const after = this.skipDecorations();
      addConventionToName(d, specs.convention, specs.conventionAt, this.failAt);
      addConventionToName(d, after.convention, after.at, this.failAt);
      specs.base = base;
      this.applyVectorSize(specs, after);
      const q = this.apply(d, specs.base);
      if (specs.typedef) {
        this.scope.defineTypedef(declaredName(d)!, q);
      } else if (q.type.kind === 'function' && isFunctionDeclarator(d)) {
        this.scope.definePrototype(this.toPrototype(specs, d, start));
      }
      if (this.is('{')) this.fail(this.token, 'function bodies are not supported: declare the prototype only');
      if (this.accept('=')) this.fail(this.tokens[this.index - 1], 'initialisers are not supported');
      if (this.accept(';')) return;
      this.expect(',', '"," or ";"');
    }
  }

  private toPrototype(specs: Specifiers, d: Declarator, start: number): Prototype {
    const q = this.apply(d, specs.base);
    if (q.type.kind !== 'function' || !isFunctionDeclarator(d)) {
      this.fail(this.tokens[this.index - 1], `"${declaredName(d)}" is not declared as a function: expected "(" and its parameters`);
    }
    const fn = this.scope.materialize(q.type);
    if (fn.kind !== 'function') throw new Error('unreachable');
    const proto: Prototype = {
      name: declaredName(d)!,
      ret: fn.ret,
      params: fn.params,
      variadic: fn.variadic,
      text: this.textBetween(start, d.end),
    };
    if (fn.convention) proto.convention = fn.convention;
    return proto;
  }

  /** Declaration specifiers: storage class, qualifiers and exactly one type (C11 §6.7). */
  private specifiers(): Specifiers {
    const pos = this.token.pos;
    const words: Token[] = [];
    let base: QualType | undefined;
    let isConst = false;
    let typedef = false;
    let definesTag = false;
    let convention: ConventionParts | undefined;
    let conventionAt: number | undefined;
    const vector: Pick<Specifiers, 'vectorSize' | 'vectorAt'> = {};
    for (;;) {
      const t = this.token;
      if (t.kind !== 'ident') break;
      const word = TYPE_WORD_SPELLINGS[t.text] ?? t.text;
      if (UNSUPPORTED_TYPE_WORDS.has(word)) {
        this.fail(t, `${t.text} types are not supported (shimulator models _Complex float/double/long double, _Float16, __float128 and the 8- and 16-byte vectors, not ${t.text})`);
      } else if (VECTOR_TYPEDEFS[word] && !base && !words.length && !this.scope.lookupTypedef(word)) {
        base = { type: VECTOR_TYPEDEFS[word], const: false };
        this.next();
      } else if (STORAGE_WORDS.has(word)) {
        typedef ||= word === 'typedef';
        this.next();
      } else if (QUALIFIER_WORDS.has(word)) {
        isConst ||= CONST_WORDS.has(word);
        this.next();
        if (word === '_Atomic' && this.is('(')) this.fail(t, '_Atomic(type) is not supported');
      } else if (PAREN_SKIP_WORDS.has(word) || IGNORED_MACROS.has(word) || CONVENTION_KEYWORDS[word]) {
        const found = this.skipDecorations();
        if (found.vectorSize !== undefined) Object.assign(vector, { vectorSize: found.vectorSize, vectorAt: found.vectorAt });
        if (found.convention) {
          const combined = addConventionPart(convention ?? {}, found.convention);
          if (typeof combined === 'string') this.failAt(found.at!, combined);
          convention = combined;
          conventionAt ??= found.at;
        }
      } else if (TYPE_WORDS.has(word)) {
        if (base) this.fail(t, `"${t.text}" cannot be combined with the type before it`);
        words.push({ ...t, text: word });
        this.next();
      } else if (word === 'struct' || word === 'union' || word === 'enum') {
        if (base || words.length) this.fail(t, `"${t.text}" cannot be combined with the type before it`);
        const spec = word === 'enum' ? this.enumSpecifier() : this.recordSpecifier(word);
        base = { type: spec.type, const: false };
        definesTag ||= spec.defines;
      } else if (!base && !words.length && this.scope.lookupTypedef(word)) {
        base = { ...this.scope.lookupTypedef(word)! };
        this.next();
      } else break;
    }
    if (!base) {
      if (!words.length) {
        const t = this.token;
        if (t.kind === 'ident') this.fail(t, `expected a type name, found "${t.text}" (declare it with --decls)`);
        this.fail(t, `expected a type name, found ${this.describe(t)}`);
      }
      base = { type: this.basicType(words), const: false };
    }
    if (isConst) base = { ...base, const: true };
    const specs: Specifiers = { base, typedef, pos, definesTag, ...vector };
    if (convention) {
      specs.convention = convention;
      specs.conventionAt = conventionAt;
    }
    return specs;
  }

  /** Resolve a combination of basic type keywords (`unsigned long int`) through BASIC_TYPES. */
  private basicType(words: Token[]): CType {
    const names = words.map((w) => w.text);
    const keep = names.includes('short') || names.includes('long') ? names.filter((n) => n !== 'int') : names;
    const canonical = [...keep].sort((a, b) => TYPE_WORD_ORDER.indexOf(a) - TYPE_WORD_ORDER.indexOf(b)).join(' ');
    const type = BASIC_TYPES[canonical];
    if (!type && names.includes('_Complex')) {
      this.fail(words[0], `"${names.join(' ')}" is not supported: _Complex takes float, double or long double (GCC's complex integers are not modelled)`);
    }
    if (!type) this.fail(words[0], `"${names.join(' ')}" is not a valid type`);
    if (type.kind === 'float' && type.name === '_Float16' && this.scope.arch === 'i386') {
      this.fail(words[0], '_Float16 is not supported on i386: GCC 12 refuses it without SSE2 ("\'_Float16\' is not supported on this target"), and Debian\'s i386 baseline has no SSE2; it exists on amd64');
    }
    return type;
  }

  /** `struct|union [tag] [{ members }]` (C11 §6.7.2.1), with `packed` / `aligned(N)` attributes. */
  private recordSpecifier(kind: 'struct' | 'union'): { type: CType; defines: boolean } {
    this.next();
    const attrs = this.attributes();
    let tagToken: Token | undefined;
    if (this.token.kind === 'ident' && !this.is('{')) tagToken = this.next();
    const tag = tagToken?.text;
    if (!this.is('{')) {
      if (!tag) this.fail(this.token, `expected a ${kind} tag or "{", found ${this.describe(this.token)}`);
      this.declareTag(tagToken!, kind);
      return { type: { kind, tag }, defines: false };
    }
    if (tag) this.declareTag(tagToken!, kind);
    const open = this.expect('{');
    const fields: CField[] = [];
    this.nested(open, () => {
      while (!this.accept('}')) fields.push(...this.memberDeclaration());
    });
    const after = this.attributes();
    const packed = attrs.packed || after.packed;
    const align = after.align ?? attrs.align;
    if (!tag) {
      const type: CType = { kind, fields };
      if (packed) type.packed = true;
      if (align !== undefined) type.align = align;
      return { type, defines: true };
    }
    const existing = this.scope.lookupTag(tag)!;
    if (existing.defined && JSON.stringify(existing.fields) !== JSON.stringify(fields)) {
      this.fail(tagToken!, `${kind} ${tag} is already defined differently`);
    }
    this.scope.defineTag(tag, { kind, fields, packed: packed || undefined, align, defined: true });
    return { type: { kind, tag }, defines: true };
  }

  /** Make sure `tag` is known as a `kind` tag, declaring it incomplete if new. */
  private declareTag(tagToken: Token, kind: 'struct' | 'union' | 'enum'): void {
    const existing = this.scope.lookupTag(tagToken.text);
    if (!existing) this.scope.defineTag(tagToken.text, { kind, defined: false });
    else if (existing.kind !== kind) this.fail(tagToken, `"${tagToken.text}" was declared as ${existing.kind} ${tagToken.text}, not ${kind}`);
  }

  /** `__attribute__((packed, aligned(8)))`, repeated: the two attributes that change a layout. */
  private attributes(): { packed: boolean; align?: number } {
    let packed = false;
    let align: number | undefined;
    while (this.token.kind === 'ident' && (this.token.text === '__attribute__' || this.token.text === '__attribute')) {
      this.next();
      const reading = readAttributes(this.skipBalanced(), this.failAt);
      if (reading.conventionAt !== undefined) this.failAt(reading.conventionAt, 'a calling-convention attribute applies to a function, not to a struct, union or enum');
      packed ||= reading.packed;
      align = reading.align ?? align;
    }
    return { packed, align };
  }

  /** One member declaration: `int a, *b;`, `unsigned flag : 1;`, `union { ... };` (anonymous member). */
  private memberDeclaration(): CField[] {
    const specs = this.specifiers();
    if (specs.typedef) this.fail(this.tokens[this.index - 1], 'typedef is not allowed inside a struct');
    if (this.accept(';')) {
      const t = specs.base.type;
      if ((t.kind === 'struct' || t.kind === 'union') && t.tag === undefined) return [{ type: t }];
      return []; // a declaration that declares nothing, e.g. `struct other;`
    }
    const fields: CField[] = [];
    for (;;) {
      const field: CField = { type: specs.base.type };
      if (!this.is(':')) {
        const d = this.declarator('named');
        field.name = declaredName(d)!;
        addConventionToName(d, specs.convention, specs.conventionAt, this.failAt);
        this.applyVectorSize(specs, {});
        field.type = this.apply(d, specs.base).type;
      }
      if (this.accept(':')) {
        const widthToken = this.token;
        const bits = this.constantExpression();
        if (bits < 0) this.fail(widthToken, 'a bit-field width cannot be negative');
        if (field.type.kind !== 'int' && field.type.kind !== 'enum') {
          this.fail(widthToken, 'bit-fields must have an integer or enum type');
        }
        if (bits === 0 && field.name !== undefined) this.fail(widthToken, `a zero-width bit-field cannot have a name ("${field.name}")`);
        field.bits = bits;
      }
      this.skipNeutralDecorations('after a struct member');
      fields.push(field);
      if (this.accept(';')) return fields;
      this.expect(',', '"," or ";"');
    }
  }

  /** `enum [tag] [{ A, B = 3 }]` (C11 §6.7.2.2). Constants are added to the scope. */
  private enumSpecifier(): { type: CType; defines: boolean } {
    this.next();
    this.attributes();
    let tagToken: Token | undefined;
    if (this.token.kind === 'ident' && !this.is('{')) tagToken = this.next();
    const tag = tagToken?.text;
    if (tagToken) this.declareTag(tagToken, 'enum');
    const type: CType = tag === undefined ? { kind: 'enum' } : { kind: 'enum', tag };
    if (!this.accept('{')) {
      if (!tag) this.fail(this.token, `expected an enum tag or "{", found ${this.describe(this.token)}`);
      return { type, defines: false };
    }
    let value = 0n;
    while (!this.accept('}')) {
      const name = this.token;
      if (name.kind !== 'ident') this.fail(name, `expected an enumerator name, found ${this.describe(name)}`);
      this.next();
      if (this.accept('=')) value = BigInt(this.constantExpression());
      if (value < ENUM_MIN || value > ENUM_MAX) this.fail(name, `enumerator ${name.text} = ${value} does not fit in 32 bits; enums wider than int are not supported`);
      this.scope.defineConstant(name.text, value);
      value++;
      if (!this.is('}')) this.expect(',', '"," or "}"');
    }
    this.attributes();
    if (tag) this.scope.defineTag(tag, { kind: 'enum', defined: true });
    return { type, defines: true };
  }

  /**
   * A declarator (C11 §6.7.6). `mode` says whether a name is required (`named`), forbidden (`abstract`), or
   * optional (`either`, in parameter lists).
   */
  /**
   * `parameter`: this is a parameter's outermost declarator, whose first array dimension only decays to a pointer
   * (C11 §6.7.6.3p7) — so it may hold qualifiers, `static` and any expression (`int pmatch[nmatch]`).
   */
  private declarator(mode: 'named' | 'abstract' | 'either', parameter = false): Declarator {
    const pointers: boolean[] = [];
    const d: Declarator = { namePos: this.token.pos, pointers, suffixes: [], end: this.token.pos };
    const noteConvention = (found: Decorations) => {
      this.refuseVectorSize(found, 'inside a declarator');
      if (!found.convention) return;
      const combined = addConventionPart(d.convention ?? {}, found.convention);
      if (typeof combined === 'string') this.failAt(found.at!, combined);
      d.convention = combined;
      d.conventionAt ??= found.at;
    };
    noteConvention(this.skipDecorations());
    while (this.accept('*')) {
      let pointerIsConst = false;
      for (;;) {
        const word = this.token.text;
        if (this.token.kind === 'ident' && QUALIFIER_WORDS.has(word)) {
          pointerIsConst ||= CONST_WORDS.has(word);
          this.next();
        } else if (this.token.kind === 'ident' && (PAREN_SKIP_WORDS.has(word) || IGNORED_MACROS.has(word) || CONVENTION_KEYWORDS[word])) {
          noteConvention(this.skipDecorations());
        } else break;
      }
      pointers.push(pointerIsConst);
    }
    // Each pointer level is one more level of the type that every later pass walks recursively.
    return this.nested(this.token, () => this.directDeclarator(d, mode, parameter), pointers.length);
  }

  /** The part of a declarator after its pointers: the name or a nested declarator, then array and function suffixes. */
  private directDeclarator(d: Declarator, mode: 'named' | 'abstract' | 'either', parameter: boolean): Declarator {
    const t = this.token;
    if (t.kind === 'ident' && !this.isKeyword(t) && mode !== 'abstract') {
      // A typedef name is accepted here too: after the specifiers it can only be the declared name
      // (`typedef unsigned int u_int;` redeclaring a built-in).
      d.name = t.text;
      d.namePos = t.pos;
      this.next();
    } else if (this.is('(') && this.isNestedDeclarator()) {
      this.next();
      d.inner = this.nested(t, () => this.declarator(mode));
      this.expect(')');
    } else if (mode === 'named') {
      if (t.kind === 'ident') this.fail(t, `"${t.text}" is a type name, expected a name for the declaration`);
      this.fail(t, `expected a name, found ${this.describe(t)}`);
    }
    for (;;) {
      if (parameter && d.suffixes.length === 0 && this.is('[')) {
        this.next();
        this.skipToClosingBracket();
        d.suffixes.push({ kind: 'array', length: 0, flexible: true });
        continue;
      }
      if (this.accept('[')) {
        if (this.accept(']')) {
          d.suffixes.push({ kind: 'array', length: 0, flexible: true });
          continue;
        }
        const lengthToken = this.token;
        const length = this.nested(lengthToken, () => this.constantExpression());
        if (length < 0) this.fail(lengthToken, 'an array length cannot be negative');
        this.expect(']');
        d.suffixes.push({ kind: 'array', length, flexible: false });
      } else if (this.is('(')) {
        const open = this.next();
        d.suffixes.push({ kind: 'function', ...this.nested(open, () => this.parameterList()) });
      } else break;
    }
    d.end = this.tokens[this.index - 1]?.end ?? d.end;
    return d;
  }

  /** After a declarator's `(`: a nested declarator (`(*fp)`) rather than a parameter list (`(int)`, `()`)? */
  private isNestedDeclarator(): boolean {
    const after = this.peek();
    if (after.kind === 'punct') return after.text === '*' || after.text === '(' || after.text === '[';
    if (after.kind === 'ident') return !this.startsType(after) || PAREN_SKIP_WORDS.has(after.text);
    return false;
  }

  /** Whether an identifier is a keyword that can begin declaration specifiers. */
  private isKeyword(t: Token): boolean {
    const word = TYPE_WORD_SPELLINGS[t.text] ?? t.text;
    return TYPE_WORDS.has(word) || STORAGE_WORDS.has(word) || QUALIFIER_WORDS.has(word) ||
      word === 'struct' || word === 'union' || word === 'enum';
  }

  /** Whether an identifier begins declaration specifiers (keyword or typedef name). */
  private startsType(t: Token): boolean {
    const word = TYPE_WORD_SPELLINGS[t.text] ?? t.text;
    return this.isKeyword(t) || this.scope.lookupTypedef(word) !== undefined || VECTOR_TYPEDEFS[word] !== undefined;
  }

  /** Skips a parameter's decaying array dimension up to and including its `]` (nested brackets balanced). */
  private skipToClosingBracket(): void {
    let depth = 0;
    for (;;) {
      const t = this.token;
      if (t.kind === 'eof') this.fail(t, 'expected "]"');
      this.next();
      if (t.kind === 'punct' && t.text === '[') depth++;
      if (t.kind === 'punct' && t.text === ']') {
        if (depth === 0) return;
        depth--;
      }
    }
  }

  /** `(void)`, `()`, `(int a, ...)` — after the `(`; consumes the `)` (C11 §6.7.6.3). */
  private parameterList(): { params: CParam[]; variadic: boolean } {
    const params: CParam[] = [];
    let variadic = false;
    if (this.accept(')')) return { params, variadic }; // `f()`: treated as `f(void)`
    for (;;) {
      if (this.is('...')) {
        if (!params.length) this.fail(this.token, '"..." needs at least one named parameter before it');
        this.next();
        variadic = true;
        this.expect(')');
        return { params, variadic };
      }
      const startToken = this.token;
      const specs = this.specifiers();
      const d = this.declarator('either', true);
      const after = this.skipDecorations();
      addConventionToName(d, specs.convention, specs.conventionAt, this.failAt);
      addConventionToName(d, after.convention, after.at, this.failAt);
      this.applyVectorSize(specs, after);
      const q = this.apply(d, specs.base);
      const text = this.textBetween(startToken.pos, this.tokens[this.index - 1].end);
      if (q.type.kind === 'void') {
        if (declaredName(d) !== undefined || params.length || !this.is(')')) this.fail(startToken, 'a parameter cannot have type void');
        this.next();
        return { params, variadic };
      }
      const name = declaredName(d);
      const param: CParam = name === undefined ? { type: adjustParameterType(q), text } : { name, type: adjustParameterType(q), text };
      params.push(param);
      if (this.accept(')')) return { params, variadic };
      this.expect(',', '"," or ")"');
    }
  }

  // --- integer constant expressions (C11 §6.6), for array lengths, bit-field widths and enum values ---

  private constantExpression(): number {
    const start = this.token;
    const value = this.conditional();
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) this.fail(start, 'constant is too large');
    return Number(value);
  }

  private conditional(): bigint {
    const condition = this.binary(0);
    if (!this.accept('?')) return condition;
    const question = this.tokens[this.index - 1];
    const yes = this.nested(question, () => this.conditional());
    this.expect(':');
    const no = this.nested(question, () => this.conditional());
    return condition !== 0n ? yes : no;
  }

  private binary(level: number): bigint {
    if (level === BINARY_LEVELS.length) return this.unary();
    const operators = BINARY_LEVELS[level];
    let left = this.binary(level + 1);
    for (;;) {
      const t = this.token;
      const op = t.kind === 'punct' ? operators[t.text] : undefined;
      if (!op) return left;
      this.next();
      const right = this.binary(level + 1);
      if ((t.text === '/' || t.text === '%') && right === 0n) this.fail(t, 'division by zero in a constant expression');
      left = op(left, right);
    }
  }

  private unary(): bigint {
    const t = this.token;
    if (t.kind === 'punct' && UNARY_OPERATORS[t.text]) {
      this.next();
      return UNARY_OPERATORS[t.text](this.nested(t, () => this.unary()));
    }
    if (t.kind === 'number') {
      this.next();
      return t.value!;
    }
    if (this.accept('(')) {
      const value = this.nested(t, () => this.conditional());
      this.expect(')');
      return value;
    }
    if (t.kind === 'ident') {
      if (t.text === 'sizeof' || t.text === '_Alignof' || t.text === '__alignof__') {
        this.fail(t, `${t.text} is not supported in constant expressions (sizes depend on the architecture)`);
      }
      const value = this.scope.lookupConstant(t.text);
      if (value === undefined) this.fail(t, `"${t.text}" is not a known constant`);
      this.next();
      return value;
    }
    this.fail(t, `expected a constant, found ${this.describe(t)}`);
  }
}

/**
 * Whether the name's nearest derivation is a function: `f(...)` and `*f(...)` (suffixes bind tighter than `*`)
 * declare functions, `(*f)(...)` declares a pointer. Walks from the innermost declarator (the one with the name)
 * outwards until a suffix or a pointer is found.
 */
function isFunctionDeclarator(d: Declarator): boolean {
  const chain: Declarator[] = [];
  for (let level: Declarator | undefined = d; level; level = level.inner) chain.unshift(level);
  for (const level of chain) {
    if (level.suffixes.length) return level.suffixes[0].kind === 'function';
    if (level.pointers.length) return false;
  }
  return false;
}
