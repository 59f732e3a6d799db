/**
 * POST /api/call: a call recorded on a long-lived machine (machines.ts). The answer holds the result, the CallSpec
 * with its teaching notes, the trace and its labels; a call cut at the trace limit answers its recording so far,
 * marked `truncated`, and one whose guest faulted throws CallFailedError carrying its recording up to the fault.
 */
import type { Arch } from '../emu/arch.ts';
import type { HostValue } from '../callspec/values.ts';
import { argumentsFor, resultJson } from '../cli/call.ts';
import { formatError } from '../cli/errors.ts';
import type { GuestThreadHandle, Machine } from '../machine.ts';
import type { Trace } from '../trace/format.ts';
import { recordTrace, TraceLimitError } from '../trace/recorder.ts';
import { annotate } from './explanations.ts';
import { globalsTouched } from './globals.ts';
import { keepsMachine, LIBRARIES, onMachine, type Profile, TEST_LIBRARIES } from './machines.ts';
import { noteRecording } from './recycle.ts';
import { archOf, booleanOf, type Json, object, parsePrototype, PlaygroundError, stringOf, tokensOf } from './request.ts';
import { encodedTrace, hex, partialResponse, type StoppedCall, symbolsFor } from './response.ts';
import { uploadArch, uploadOf } from './upload-store.ts';

/** Instructions one recorded call may execute (a trace of this size takes ~50 MB while recording); past it the
 * call is stopped and the recording so far is answered, marked `truncated`. */
export const MAX_TRACE_STEPS = 400_000;

/** A recording cut at MAX_TRACE_STEPS: carries the answer with the partial trace (thrown so that the machine, stopped
 * in the middle of the call, is discarded; call() answers with `response`). */
class RecordingCut extends Error {
  override name = 'RecordingCut';
  constructor(readonly response: Json) {
    super(String(response.truncated));
  }
}

/**
 * A call whose guest stopped with an error (a fault, a violation that led to one, the budget): the error's message,
 * and the recording up to where it stopped (`partial`, a call answer with `fault` set) for the stepper to show.
 * Thrown so that the machine, stopped in the middle of the call, is discarded.
 */
export class CallFailedError extends Error {
  override name = 'CallFailedError';
  constructor(message: string, readonly partial: Json) {
    super(message);
  }
}

export interface CallRequest {
  arch?: Arch;
  library?: string;
  prototype: string;
  args?: string[];
  decls?: string;
  check?: boolean;
  tls?: boolean;
  /** Run the call on a guest thread started the fakecgo way (Machine.startThread) instead of the main thread. */
  thread?: boolean;
}

/** What a caller learns while a call is under way (the worker pool starts its wall-clock deadline at `onGuestStart`). */
export interface CallHooks {
  /** The machine is booted and the guest is about to run. */
  onGuestStart?(): void;
}

/**
 * What the playground's memory view needs in a trace: every byte the call read (besides what it wrote), and errno
 * (the thread's, at its fixed offset from the thread pointer) even when the call never touches it.
 */
function memoryViewOptions(machine: Machine, thread: GuestThreadHandle | undefined): { reads: true; include: { address: number; size: number }[] } {
  const layout = machine.tlsLayout();
  const threadPointer = thread ? thread.threadPointer : layout.threadPointer;
  return { reads: true, include: [{ address: Number(threadPointer) + (layout.errno - layout.threadPointer), size: 4 }] };
}

export async function call(body: unknown, hooks: CallHooks = {}): Promise<Json> {
  const o = object(body, 'call request');
  const upload = uploadOf(o.upload);
  const arch = upload ? uploadArch(upload, o.arch) : archOf(o.arch);
  const library = stringOf(o.library, 'library');
  const prototype = stringOf(o.prototype, 'prototype', true);
  const tokens = tokensOf(o.args);
  const decls = stringOf(o.decls, 'decls');
  const check = booleanOf(o.check, 'check', true);
  const tls = booleanOf(o.tls, 'tls', true);
  const onThread = booleanOf(o.thread, 'thread', false);
  const proto = parsePrototype(prototype, decls);
  let profile: Profile = 'default';
  if (upload) {
    if (library) throw new PlaygroundError('"library" and "upload" cannot be combined: a call on an uploaded object runs in that object');
    if (onThread) throw new PlaygroundError('"thread": true works for libc and libpcap calls only');
    profile = `upload:${upload.id}`;
  } else if (library !== undefined && library !== '') {
    if ((TEST_LIBRARIES as readonly string[]).includes(library)) profile = 'abi';
    else if (!(LIBRARIES as readonly string[]).includes(library)) {
      throw new PlaygroundError(`unknown library "${library}": the playground has ${[...LIBRARIES, ...TEST_LIBRARIES].join(', ')}`);
    }
  }
  if (onThread) {
    if (profile === 'abi') throw new PlaygroundError('"thread": true works for libc and libpcap calls only');
    profile = 'threads';
  }
  const args = argumentsFor(proto, tokens, {});
  return onMachine(profile, arch, (machine, thread) => {
    hooks.onGuestStart?.();
    machine.checking = check;
    machine.watchTls = tls;
    const lib = upload ? machine.process.mountedLibraries[0] : library || undefined;
    const f = thread ? machine.onThread(thread).fn(lib, proto) : machine.fn(lib, proto);
    const spec = annotate(f.spec(...args)).spec;
    const label = `${proto.text}${thread ? ` on thread ${thread.tid}` : ''} (${arch})`;
    let recorded;
    try {
      recorded = recordTrace(machine, label, () => f(...(args as HostValue[])), { maxSteps: MAX_TRACE_STEPS, ...memoryViewOptions(machine, thread) });
    } catch (error) {
      const call = { arch, proto, spec, callee: f.address };
      if (error instanceof TraceLimitError) throw new RecordingCut(cutResponse(machine, error, call));
      const trace = (error as { trace?: Trace }).trace;
      if (!trace || trace.steps === 0 || keepsMachine(error)) throw error;
      const message = errorMessage(error);
      const response = partialResponse(machine, trace, call, { fault: message });
      // The host printf check's warnings often explain the fault (%s with an int).
      const { formatWarnings } = error as { formatWarnings?: unknown };
      if (formatWarnings) (response.result as Json).formatWarnings = formatWarnings;
      throw new CallFailedError(message, response);
    }
    const { result, trace } = recorded;
    noteRecording(machine, trace);
    const json = resultJson(null, arch, proto, args, result, machine.takeOutput());
    const response: Json = {
      result: json, spec, trace: encodedTrace(trace, label), symbols: symbolsFor(trace, f.address, proto.name),
      globals: globalsTouched(trace, machine.symbols.objects()),
    };
    if (thread) {
      response.thread = { tid: thread.tid, pthread: hex(thread.pthread), threadPointer: hex(thread.threadPointer), mainThreadPointer: hex(machine.tlsLayout().threadPointer) };
    }
    return response;
  }).catch((error: unknown) => {
    if (error instanceof RecordingCut) return error.response;
    throw error;
  });
}

/** The answer for a call stopped at MAX_TRACE_STEPS: the recording up to there, and `truncated` saying why it ends. */
function cutResponse(machine: Machine, error: TraceLimitError, call: StoppedCall): Json {
  const trace = (error as TraceLimitError & { trace?: Trace }).trace;
  if (!trace) throw error;
  const truncated = `the recording was cut at ${MAX_TRACE_STEPS} instructions (the playground's trace limit) and the call stopped there: it had not returned; try a smaller input`;
  return partialResponse(machine, trace, call, { truncated });
}

/** The message for an error answer (guest faults with their registers, violations that led to a fault). */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    if (error instanceof CallFailedError) return error.message;
    if (error.name === 'TraceLimitError') {
      return `the call ran longer than the playground records (${MAX_TRACE_STEPS} instructions, the trace limit); try a smaller input`;
    }
    return formatError(error);
  }
  return String(error);
}
