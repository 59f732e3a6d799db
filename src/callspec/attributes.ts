/**
 * GCC attributes (`__attribute__((stdcall, nonnull(1)))`) and MSVC convention keywords (`__stdcall`): which ones
 * change a call, and which do not. An attribute shimulator does not know is refused rather than ignored: ignoring
 * `sseregparm` or `vector_size` would plan the call wrongly without a word.
 */
import type { ConventionName } from './types.ts';
import { addConventionPart, type ConventionParts, MAX_REGPARM } from './conventions.ts';

/** The tokens the parser hands over (a subset of its own Token). */
export interface AttributeToken {
  kind: string;
  text: string;
  pos: number;
  value?: bigint;
}

export interface AttributeReading {
  convention: ConventionParts;
  /** Where the first convention attribute was written (for errors about its placement). */
  conventionAt?: number;
  packed: boolean;
  align?: number;
  /** `vector_size(N)`: the declared base type becomes a vector of N bytes. */
  vectorSize?: number;
  vectorAt?: number;
}

/** MSVC-style keywords (also accepted with one underscore, as MSVC does). */
export const CONVENTION_KEYWORDS: Record<string, ConventionName> = {
  __cdecl: 'cdecl', _cdecl: 'cdecl', __stdcall: 'stdcall', _stdcall: 'stdcall',
  __fastcall: 'fastcall', _fastcall: 'fastcall', __thiscall: 'thiscall', _thiscall: 'thiscall',
};

/**
 * Convention attributes: GCC's (cdecl, stdcall, fastcall, thiscall, ms_abi, sysv_abi) and, for libffi's ABIs
 * that GCC cannot name, shimulator's own spellings (ms_cdecl, pascal, register).
 */
const CONVENTION_ATTRIBUTES: Record<string, ConventionName> = {
  cdecl: 'cdecl', stdcall: 'stdcall', fastcall: 'fastcall', thiscall: 'thiscall', ms_abi: 'ms_abi', sysv_abi: 'sysv_abi',
  ms_cdecl: 'ms_cdecl', pascal: 'pascal', register: 'register',
};

/** Attributes that leave the call and the layout of every type as they are: accepted and ignored. */
const NEUTRAL_ATTRIBUTES = new Set([
  'access', 'alias', 'alloc_align', 'alloc_size', 'always_inline', 'artificial', 'cold', 'const', 'constructor',
  'copy', 'deprecated', 'designated_init', 'destructor', 'error', 'externally_visible', 'fd_arg', 'fd_arg_read',
  'fd_arg_write', 'flatten', 'force_align_arg_pointer', 'format', 'format_arg', 'gnu_inline', 'hot', 'ifunc', 'leaf',
  'malloc', 'may_alias', 'no_instrument_function', 'no_reorder', 'no_sanitize', 'no_sanitize_address',
  'no_sanitize_undefined', 'no_split_stack', 'no_stack_protector', 'noclone', 'nocf_check', 'nocommon', 'noinline',
  'noipa', 'nonnull', 'nonstring', 'noplt', 'noreturn', 'nothrow', 'null_terminated_string_arg', 'optimize',
  'patchable_function_entry', 'pure', 'retain', 'returns_nonnull', 'returns_twice', 'section', 'sentinel',
  'stack_protect', 'symver', 'target', 'target_clones', 'unavailable', 'unused', 'used', 'visibility',
  'warn_unused_result', 'warning', 'weak', 'weakref', 'zero_call_used_regs', 'packed', 'aligned', 'common',
  'tls_model', 'cleanup',
]);

/** Attributes known to change a call or a type in ways shimulator does not model: refused with the reason. */
const UNSUPPORTED_ATTRIBUTES: Record<string, string> = {
  sseregparm: 'it passes float and double arguments in SSE registers, which shimulator does not model',
  mode: 'it changes the type\'s machine mode, which shimulator does not model',
  transparent_union: 'transparent unions are not supported',
  ms_struct: 'the Microsoft struct layout is not supported',
  gcc_struct: 'it selects a struct layout shimulator does not model',
  scalar_storage_order: 'byte-swapped structs are not supported',
  interrupt: 'interrupt handlers are not called like functions',
  naked: 'a naked function has no calling convention',
  no_caller_saved_registers: 'it changes which registers the callee saves, which shimulator does not model',
  vectorcall: 'the vectorcall convention is not supported',
  regcall: 'the regcall convention is not supported',
  preserve_most: 'it changes which registers the callee saves',
  preserve_all: 'it changes which registers the callee saves',
};

/** `__nonnull__` → `nonnull`. */
export function attributeName(text: string): string {
  return text.replace(/^__(.*)__$/, '$1');
}

/** Splits `name, name(args), …` at top-level commas: one entry per attribute, with its argument tokens. */
function items(list: AttributeToken[]): { name: AttributeToken; args?: AttributeToken[] }[] {
  const out: { name: AttributeToken; args?: AttributeToken[] }[] = [];
  let i = 0;
  while (i < list.length) {
    const name = list[i++]!;
    let args: AttributeToken[] | undefined;
    if (list[i]?.text === '(') {
      args = [];
      let depth = 1;
      for (i++; i < list.length; i++) {
        const t = list[i]!;
        if (t.text === '(') depth++;
        if (t.text === ')' && --depth === 0) break;
        args.push(t);
      }
      i++;
    }
    out.push(args ? { name, args } : { name });
    if (list[i]?.text === ',') i++;
  }
  return out;
}

/**
 * Reads the tokens inside `__attribute__( … )` (the outer parentheses already removed: `( stdcall, nonnull(1) )`).
 * `fail` reports an error at a token position.
 */
export function readAttributes(inside: AttributeToken[], fail: (pos: number, problem: string) => never): AttributeReading {
  const reading: AttributeReading = { convention: {}, packed: false };
  if (inside[0]?.text !== '(' || inside[inside.length - 1]?.text !== ')') {
    fail(inside[0]?.pos ?? 0, 'expected __attribute__((…)) with double parentheses');
  }
  const add = (token: AttributeToken, part: ConventionParts) => {
    const combined = addConventionPart(reading.convention, part);
    if (typeof combined === 'string') fail(token.pos, combined);
    reading.convention = combined;
    reading.conventionAt ??= token.pos;
  };
  for (const { name: token, args } of items(inside.slice(1, -1))) {
    if (token.kind !== 'ident') fail(token.pos, `expected an attribute name, found "${token.text}"`);
    const name = attributeName(token.text);
    const convention = CONVENTION_ATTRIBUTES[name];
    if (convention) {
      if (args) fail(token.pos, `${name} takes no arguments`);
      add(token, { name: convention });
    } else if (name === 'regparm') {
      const n = args?.length === 1 && args[0]!.kind === 'number' ? Number(args[0]!.value) : NaN;
      if (!(n >= 0 && n <= MAX_REGPARM)) fail(token.pos, `regparm takes a number of registers from 0 to ${MAX_REGPARM}, as in regparm(3)`);
      add(token, { regparm: n });
    } else if (name === 'callee_pop_aggregate_return') {
      const n = args?.length === 1 && args[0]!.kind === 'number' ? Number(args[0]!.value) : NaN;
      if (n !== 0 && n !== 1) fail(token.pos, 'callee_pop_aggregate_return takes 0 (the caller pops the hidden struct-return pointer) or 1 (the callee does)');
      if (n === 0) add(token, { name: 'ms_cdecl' });
    } else if (name === 'vector_size') {
      const n = args?.length === 1 && args[0]!.kind === 'number' ? Number(args[0]!.value) : NaN;
      if (!Number.isInteger(n) || n <= 0) fail(token.pos, 'vector_size takes a size in bytes, as in vector_size(16)');
      reading.vectorSize = n;
      reading.vectorAt = token.pos;
    } else if (name === 'packed') {
      reading.packed = true;
    } else if (name === 'aligned') {
      if (args?.[0]?.kind === 'number') reading.align = Number(args[0].value);
    } else if (UNSUPPORTED_ATTRIBUTES[name]) {
      fail(token.pos, `attribute ${name} is not supported: ${UNSUPPORTED_ATTRIBUTES[name]}`);
    } else if (!NEUTRAL_ATTRIBUTES.has(name)) {
      fail(token.pos, `unknown attribute "${token.text}": shimulator cannot tell whether it changes the call. It knows the calling conventions (cdecl, stdcall, fastcall, thiscall, regparm(N), ms_abi, sysv_abi, callee_pop_aggregate_return(0); ms_cdecl, pascal, register for libffi's ABIs) and attributes that leave a call unchanged (nonnull, format, noreturn, visibility, …)`);
    }
  }
  return reading;
}
