/**
 * Calling-convention attributes: their names, which architecture each belongs to, and how they combine. Pure;
 * shared by the declaration parser (which reads the attributes) and the classifiers (which apply them).
 *
 * Sources: GCC manual, "x86 Function Attributes" (cdecl, stdcall, fastcall, thiscall, regparm, ms_abi, sysv_abi,
 * callee_pop_aggregate_return); libffi's src/x86/ffi.c ABIs FFI_MS_CDECL, FFI_PASCAL and FFI_REGISTER.
 */
import type { Arch } from '../emu/arch.ts';
import type { Convention, ConventionName } from './types.ts';

export const I386_CONVENTIONS: readonly ConventionName[] = ['cdecl', 'stdcall', 'fastcall', 'thiscall', 'ms_cdecl', 'pascal', 'register'];
export const AMD64_CONVENTIONS: readonly ConventionName[] = ['ms_abi', 'sysv_abi'];
/** GCC: "regparm (number)… the compiler passes arguments number one to number if they are of integral type in registers EAX, EDX, and ECX". */
export const MAX_REGPARM = 3;

/** The convention as written in a plan: `stdcall`, `regparm(3)`, `stdcall, regparm(2)`. */
export function conventionText(c: Convention): string {
  if (c.regparm === undefined) return c.name;
  return c.name === 'cdecl' ? `regparm(${c.regparm})` : `${c.name}, regparm(${c.regparm})`;
}

/** Why `c` cannot be used on `arch` (GCC ignores the i386 ones on x86-64 and rejects ms_abi on i386), or undefined. */
export function conventionArchProblem(c: Convention, arch: Arch): string | undefined {
  if (arch === 'amd64' && I386_CONVENTIONS.includes(c.name)) {
    return `${conventionText(c)} is an i386 calling convention; amd64 has only the System V convention (sysv_abi, the default) and Win64 (ms_abi)`;
  }
  if (arch === 'amd64' && c.regparm !== undefined) return 'regparm is an i386 attribute; amd64 already passes integer arguments in registers';
  if (arch === 'i386' && AMD64_CONVENTIONS.includes(c.name)) {
    return `${c.name} is an amd64 calling convention (GCC: "only available for 64-bit"); i386 conventions are cdecl, stdcall, fastcall, thiscall, regparm(N)`;
  }
  return undefined;
}

/** What one function's attributes said so far: a convention name and/or regparm(N). */
export interface ConventionParts {
  name?: ConventionName;
  regparm?: number;
}

/** Adds one attribute's part to what was said before, or returns why the two cannot go together. */
export function addConventionPart(parts: ConventionParts, part: ConventionParts): ConventionParts | string {
  if (part.name && parts.name && part.name !== parts.name) return `${parts.name} and ${part.name} are different calling conventions; a function has one`;
  if (part.regparm !== undefined && parts.regparm !== undefined && part.regparm !== parts.regparm) return `regparm(${parts.regparm}) and regparm(${part.regparm}) conflict`;
  return { ...parts, ...part };
}

/**
 * The convention the parts name, or why they cannot: GCC accepts regparm with cdecl and stdcall only ("fastcall
 * and regparm attributes are not compatible").
 */
export function conventionOf(parts: ConventionParts): Convention | string {
  const name = parts.name ?? 'cdecl';
  if (parts.regparm !== undefined && name !== 'cdecl' && name !== 'stdcall') return `regparm cannot be combined with ${name} (GCC allows it with cdecl and stdcall only)`;
  return parts.regparm === undefined ? { name } : { name, regparm: parts.regparm };
}
