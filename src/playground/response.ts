/**
 * The parts of a recorded call's answer besides its result: the trace (encoded, base64, bounded), the labels for
 * its addresses, the globals it touched; and the whole answer for a call that stopped before returning.
 */
import type { Arch } from '../emu/arch.ts';
import type { CallSpec, Prototype } from '../callspec/types.ts';
import type { Machine } from '../machine.ts';
import { encodeTrace, type Trace } from '../trace/format.ts';
import { globalsTouched } from './globals.ts';
import { type Json, PlaygroundError } from './request.ts';

/** Largest encoded trace an answer carries (before base64): the browser must hold and decode it. */
export const MAX_TRACE_BYTES = 16 << 20;

/** An encoded trace larger than MAX_TRACE_BYTES. */
export class TraceTooLargeError extends PlaygroundError {
  override name = 'TraceTooLargeError';
}

export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/**
 * Labels for the trace: the callee, the trampoline, the host's return trap, and the start of every function the
 * steps are in (`trace.functions`: glibc's internal ones named from the bundled debug symbols), also those entered
 * only by returning into them.
 */
export function symbolsFor(trace: Trace, callee: number, name: string): Record<string, string> {
  const symbols: Record<string, string> = {};
  for (const f of trace.functions ?? []) symbols[hex(f.address)] = f.name;
  const begin = trace.runs[0]?.begin;
  if (begin !== undefined) symbols[hex(begin)] = 'trampoline';
  const until = trace.runs[0]?.until;
  if (until !== undefined) symbols[hex(until)] = 'host (return trap)';
  symbols[hex(callee)] = name;
  return symbols;
}

/** The trace in base64, refused when its encoding is larger than the browser is asked to hold. */
export function encodedTrace(trace: Trace, label: string): string {
  const bytes = encodeTrace(trace);
  if (bytes.length > MAX_TRACE_BYTES) {
    throw new TraceTooLargeError(`the recording of ${label} is ${bytes.length} bytes encoded, more than the playground sends (${MAX_TRACE_BYTES}); try a smaller input`);
  }
  return Buffer.from(bytes).toString('base64');
}

export interface StoppedCall { arch: Arch; proto: Prototype; spec: CallSpec; callee: number }

/** The answer for a call that did not return: the recording up to where it stopped, and why (`truncated` or `fault`). */
export function partialResponse(machine: Machine, trace: Trace, call: StoppedCall, why: { truncated: string } | { fault: string }): Json {
  const output = machine.takeOutput();
  return {
    result: { function: call.proto.name, arch: call.arch, instructions: trace.steps, stdout: output.stdout, stderr: output.stderr },
    spec: call.spec,
    trace: encodedTrace(trace, `${call.proto.text} (${call.arch})`),
    symbols: symbolsFor(trace, call.callee, call.proto.name),
    globals: globalsTouched(trace, machine.symbols.objects()),
    ...why,
  };
}
