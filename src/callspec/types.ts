/**
 * The C type model and the CallSpec value: the contract between the declaration parser, the ABI classifiers and
 * the code that executes a call. Everything here is plain data (JSON-serialisable), independent of the engine.
 */
import type { Arch } from '../emu/arch.ts';

/** Integer kinds, by their C spelling after aliases are resolved. */
export type IntKind =
  | '_Bool'
  | 'char' | 'signed char' | 'unsigned char'
  | 'short' | 'unsigned short'
  | 'int' | 'unsigned int'
  | 'long' | 'unsigned long'
  | 'long long' | 'unsigned long long'
  /** amd64 only (GCC: "__int128 is not supported on this target" for i386). */
  | '__int128' | 'unsigned __int128';

/**
 * `_Float16` (amd64 only: GCC 12 refuses it on i386 without SSE2, Debian's i386 baseline) and `__float128`
 * (`_Float128`): IEEE binary16 and binary128.
 */
export type FloatKind = 'float' | 'double' | 'long double' | '_Float16' | '__float128';

/** The real types a `_Complex` type can be built on (GCC's complex integer extension is not modelled). */
export type ComplexPart = 'float' | 'double' | 'long double';

/**
 * A calling convention named by an attribute (`__attribute__((stdcall))`, `__stdcall`, `__attribute__((ms_abi))`).
 * Absent on a prototype: the platform's default (i386 cdecl, amd64 System V). i386: `cdecl`, `stdcall`,
 * `fastcall`, `thiscall` (GCC's attributes), `ms_cdecl` (cdecl whose callee leaves the hidden struct-return
 * pointer to the caller: GCC's `callee_pop_aggregate_return(0)`, libffi's FFI_MS_CDECL), `pascal` and `register`
 * (libffi's FFI_PASCAL and FFI_REGISTER); amd64: `ms_abi` (Win64) and `sysv_abi`.
 */
export type ConventionName = 'cdecl' | 'stdcall' | 'fastcall' | 'thiscall' | 'ms_cdecl' | 'pascal' | 'register' | 'ms_abi' | 'sysv_abi';

export interface Convention {
  name: ConventionName;
  /** GCC `regparm(N)` (i386): the first N integer arguments in eax, edx, ecx; combines with cdecl and stdcall. */
  regparm?: number;
}

export type CType =
  | { kind: 'void' }
  | { kind: 'int'; name: IntKind }
  | { kind: 'float'; name: FloatKind }
  /** `_Complex float` / `double` / `long double`: the real part then the imaginary part, like a two-element array. */
  | { kind: 'complex'; of: ComplexPart }
  /**
   * A GCC vector (`__attribute__((vector_size(N)))`, `__m64`, `__m128`, `__m128d`, `__m128i`): `size` bytes of
   * `of` elements. `name` is the intrinsic typedef it came from, for messages.
   */
  | { kind: 'vector'; of: CType; size: number; name?: string }
  /** `const: true` when the pointed-to object is const-qualified (`const char *`); absent otherwise. */
  | { kind: 'pointer'; to: CType; const?: boolean }
  /** `flexible: true` for `T name[]` (length 0): a flexible array member, which has no size of its own. */
  | { kind: 'array'; of: CType; length: number; flexible?: boolean }
  | { kind: 'function'; ret: CType; params: CParam[]; variadic: boolean; convention?: Convention }
  /**
   * `packed` / `align` come from `__attribute__((packed))` / `__attribute__((aligned(N)))` on the definition.
   * A struct reached again through a pointer inside its own definition (`struct node *next`) is given without
   * `fields`, so that the value stays acyclic; look the tag up when the pointee's layout is needed.
   */
  | {
      kind: 'struct' | 'union';
      tag?: string;
      fields?: CField[] /* undefined: incomplete */;
      packed?: boolean;
      align?: number;
    }
  | { kind: 'enum'; tag?: string };

/** A qualified use of a type: `const char *` is a pointer to a const char. */
export interface CParam {
  name?: string;
  type: CType;
  /** The parameter's spelling in the source, e.g. `const char *fmt`, for explanations. */
  text?: string;
}

export interface CField {
  name?: string;
  type: CType;
  /** Bit-field width, when the field is one. */
  bits?: number;
}

/** A parsed prototype: `int snprintf(char *buf, unsigned long n, const char *fmt, ...)`. */
export interface Prototype {
  name: string;
  ret: CType;
  params: CParam[];
  variadic: boolean;
  text: string;
  /** The calling convention its attributes name; absent for the platform's default. */
  convention?: Convention;
}

/** Where a value (or a piece of it) lives. Register names are lowercase: `rdi`, `xmm1`, `eax`, `st0`. */
export type Location =
  | {
      kind: 'reg';
      reg: string;
      /** Byte offset of this piece within the value's memory image. */
      offset: number;
      /** Bytes of the value carried by the register (the rest of the register is extension or don't-care). */
      size: number;
    }
  | {
      kind: 'stack';
      /** Offset from the stack pointer just before the `call` (so at entry the slot is at sp + ptrsize + offset). */
      stackOffset: number;
      offset: number;
      size: number;
    };

/** How a narrow integer is widened in its register or stack slot. */
export type Extension = 'sign' | 'zero' | 'none';

export interface ArgSpec {
  index: number;
  /** The parameter as written (`double x`), or `...` position text for variadic ones (`variadic #1 double`). */
  text: string;
  type: CType;
  size: number;
  align: number;
  variadic: boolean;
  locations: Location[];
  extension: Extension;
  /** amd64: the eightbyte classes (INTEGER, SSE, ...); i386: empty. */
  classes: string[];
  /** One sentence saying why the argument goes where it goes (the rule applied). */
  reason: string;
  /**
   * Passed by reference (Win64: aggregates not of 1, 2, 4 or 8 bytes, and long double): the caller copies the
   * value to memory and the location holds the copy's address.
   */
  indirect?: boolean;
}

export interface ReturnSpec {
  type: CType;
  size: number;
  /** void, in registers (`locations`), on the x87 stack (st0), or in memory through a hidden pointer. */
  kind: 'void' | 'reg' | 'x87' | 'memory';
  locations: Location[];
  classes: string[];
  reason: string;
}

export interface CallSpec {
  arch: Arch;
  prototype: string;
  function: string;
  args: ArgSpec[];
  ret: ReturnSpec;
  /** Where the hidden return-buffer pointer is passed (amd64: rdi; i386: first stack slot), when there is one. */
  hiddenPointer?: Location;
  /** Bytes of outgoing stack arguments (a multiple of the stack alignment). */
  stackSize: number;
  /** Stack alignment required at the call instruction. */
  stackAlign: number;
  /** amd64 variadic calls: the value %al must hold (upper bound of vector registers used). */
  al?: number;
  /** Bytes the callee pops on return (i386 hidden pointer: 4; stdcall, fastcall, thiscall: its stack arguments). */
  calleePops: number;
  /** The calling convention, when the prototype names one (`stdcall`, `regparm(3)`, `ms_abi`, …). */
  convention?: string;
  /** Win64: the 32 bytes of "home" (shadow) space the caller reserves above the return address for the callee. */
  shadowSpace?: number;
}
