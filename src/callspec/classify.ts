/**
 * The calling-convention plan for a call: where each argument goes, where the result comes back, how much stack
 * the call needs. `callSpec` dispatches to the AMD64 (psABI §3.2.3) or i386 (i386 psABI §2.2.3) classifier.
 */
import type { Arch } from '../emu/arch.ts';
import { callSpecAmd64 } from './classify-amd64.ts';
import { callSpecI386 } from './classify-i386.ts';
import { callSpecWin64 } from './classify-win64.ts';
import { CallSpecError } from './classify-common.ts';
import { conventionArchProblem } from './conventions.ts';
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
  const convention = proto.convention;
  if (convention) {
    const problem = conventionArchProblem(convention, arch);
    if (problem) throw new CallSpecError(`${proto.name}: ${problem}`);
    if (convention.name === 'ms_abi') return callSpecWin64(proto, variadicTypes);
  }
  const spec = CLASSIFIERS[arch](proto, variadicTypes);
  if (convention?.name === 'sysv_abi') spec.convention = 'sysv_abi';
  return spec;
}
