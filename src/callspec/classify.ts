/**
 * The calling-convention plan for a call: where each argument goes, where the result comes back, how much stack
 * the call needs. `callSpec` dispatches to the AMD64 (psABI §3.2.3) or i386 (i386 psABI §2.2.3) classifier.
 */
import type { Arch } from '../emu/arch.ts';
import { callSpecAmd64 } from './classify-amd64.ts';
import { callSpecI386 } from './classify-i386.ts';
import type { CallSpec, CType, Prototype } from './types.ts';

export { CallSpecError } from './classify-common.ts';
export { classifyAmd64, mergeClasses, type ArgClass, type Classification } from './classify-amd64.ts';

const CLASSIFIERS: Record<Arch, (proto: Prototype, variadicTypes: CType[]) => CallSpec> = {
  amd64: callSpecAmd64,
  i386: callSpecI386,
};

/**
 * The plan for calling `proto` on `arch`. For a variadic prototype, `variadicTypes` are the types of the
 * arguments passed for `...`, after the default argument promotions (float → double, narrow integers → int);
 * unpromoted types are rejected with a CallSpecError.
 */
export function callSpec(proto: Prototype, arch: Arch, variadicTypes: CType[] = []): CallSpec {
  return CLASSIFIERS[arch](proto, variadicTypes);
}
