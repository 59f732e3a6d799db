/**
 * The parser's vocabulary: the keywords it accepts, ignores or refuses, how basic type words combine into types,
 * the built-in typedefs and intrinsic vector types, and the range of an enum's values.
 */
import { typeName, VECTOR_SIZES } from '../layout.ts';
import type { CType, FloatKind, IntKind } from '../types.ts';

/** Basic type-specifier keywords; their combination is looked up in BASIC_TYPES. */
export const TYPE_WORDS = new Set(['void', 'char', 'short', 'int', 'long', 'float', 'double', 'signed', 'unsigned', '_Bool', 'bool', '__int128',
  '_Complex', '__float128', '_Float16']);
/** Alternative spellings of type-specifier keywords. */
export const TYPE_WORD_SPELLINGS: Record<string, string> = {
  __signed: 'signed', __signed__: 'signed', bool: '_Bool', __complex__: '_Complex', _Float128: '__float128',
};
/** Storage classes and function specifiers: accepted and ignored (except `typedef`). */
export const STORAGE_WORDS = new Set([
  'typedef', 'extern', 'static', 'inline', '__inline', '__inline__', 'register', 'auto',
  '__extension__', '_Noreturn', '_Thread_local', '__thread',
]);
/** Qualifiers; `const` is remembered on pointer targets, the others are ignored. */
export const CONST_WORDS = new Set(['const', '__const', '__const__']);
export const QUALIFIER_WORDS = new Set([...CONST_WORDS, 'volatile', '__volatile', '__volatile__', 'restrict', '__restrict', '__restrict__', '_Atomic']);
/** Words followed by a parenthesised argument that is skipped: `__attribute__((...))`, `__asm__("name")`. */
export const PAREN_SKIP_WORDS = new Set(['__attribute__', '__attribute', '__asm__', '__asm', 'asm', '_Alignas', '__declspec']);
/** glibc header macros that commonly survive copy-pasting a prototype; ignored (with their arguments, if any). */
export const IGNORED_MACROS = new Set(['__THROW', '__THROWNL', '__wur', '__nonnull', '__attribute_pure__', '__attribute_const__',
  '__attribute_malloc__', '__attribute_deprecated__', '__BEGIN_DECLS', '__END_DECLS', 'PCAP_API', 'PCAP_AVAILABLE_0_4',
  'PCAP_AVAILABLE_0_8', 'PCAP_AVAILABLE_1_0', 'PCAP_AVAILABLE_1_2', 'PCAP_AVAILABLE_1_5', 'PCAP_AVAILABLE_1_9',
  'PCAP_AVAILABLE_1_10', 'PCAP_DEPRECATED']);

/** Type keywords outside the type model: rejected with a clear message rather than misparsed as names. */
export const UNSUPPORTED_TYPE_WORDS = new Set(['_Imaginary',
  '_Float32', '_Float64', '_Float32x', '_Float64x', '__float80', '__ibm128', '_Decimal32', '_Decimal64', '_Decimal128',
  '__m256', '__m256d', '__m256i', '__m512', '__m512d', '__m512i']);

/**
 * The x86 intrinsic vector types, as <mmintrin.h> / <xmmintrin.h> / <emmintrin.h> define them
 * (`typedef int __m64 __attribute__((__vector_size__(8)))`, `typedef float __m128 …(16)`, …): built in, so that a
 * prototype can use them without the headers.
 */
export const VECTOR_TYPEDEFS: Record<string, CType> = (() => {
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
export function vectorOf(base: CType, size: number): CType | string {
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
export const ENUM_MIN = -(2n ** 31n);
export const ENUM_MAX = 2n ** 32n - 1n;

/** The order in which basic type words are written in a canonical spelling. */
export const TYPE_WORD_ORDER = ['_Complex', 'signed', 'unsigned', 'short', 'long', 'char', 'int', 'float', 'double', 'void', '_Bool', '__int128',
  '__float128', '_Float16'];

/**
 * Canonical spelling of a basic-type keyword combination → the type. `int` is dropped before lookup when
 * `short` or `long` is present (`long int` = `long`), and words are sorted by TYPE_WORD_ORDER.
 */
export const BASIC_TYPES: Record<string, CType> = (() => {
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
export const BUILTIN_TYPEDEFS: Record<string, string> = {
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
