/**
 * Where a lesson step points in its recording: the step number of the instruction its text discusses (the
 * `test al, al` for %al, the store to errno for errno), found in the recorded trace when the lesson is built.
 * The playground opens the step there, highlighted.
 */
import type { Arch } from '../emu/arch.ts';
import { decodeTrace } from '../trace/format.ts';
import { loadDisassembler } from '../trace/disassemble.ts';
import { TracePlayer } from '../trace/player.ts';

/** What a step points at, in its recording. */
export type InstructionPointer =
  /** The first executed instruction whose text matches `insn` (a regular expression), inside function `in`. */
  | { insn: string; in?: string }
  /** The first instruction of the called function, or the first one back in the caller after it returned. */
  | { at: 'entry' | 'return' }
  /** The first instruction that stores to the calling thread's errno. */
  | { write: 'errno' };

export class LessonFocusError extends Error {
  override name = 'LessonFocusError';
}

/** The parts of a POST /api/call answer the search needs. */
export interface Recording {
  trace: string;
  spec: { function: string; arch: Arch };
  symbols?: Record<string, string>;
  result?: { tls?: { layout?: { threadPointer: number; errno: number } } };
  thread?: { threadPointer: string };
}

/** A recording opened for searching: its player, and each executed pc's function. */
export interface OpenRecording {
  player: TracePlayer;
  /** The function an address is in (the nearest symbol at or below it). */
  functionAt(pc: number): string | undefined;
  /** The called function's entry step and the step after it returned, when found. */
  entry?: number;
  returned?: number;
  /** The first step of the run that made the call (a trace may start with helper runs). */
  callStart: number;
}

export async function openRecording(recording: Recording): Promise<OpenRecording> {
  await loadDisassembler();
  const player = new TracePlayer(decodeTrace(Buffer.from(recording.trace, 'base64')));
  const symbols = Object.entries(recording.symbols ?? {}).map(([address, name]) => ({ address: Number(address), name })).sort((a, b) => a.address - b.address);
  const functionAt = (pc: number) => {
    let best: string | undefined;
    for (const s of symbols) if (s.address <= pc) best = s.name;
    return best;
  };
  const callee = symbols.find((s) => s.name === recording.spec.function)?.address;
  const open: OpenRecording = { player, functionAt, callStart: 0 };
  if (callee === undefined) return open;
  for (let step = 0; step < player.length; step++) {
    if (player.trace.pc[step] === callee) {
      open.entry = step;
      break;
    }
  }
  if (open.entry !== undefined) {
    open.callStart = Math.max(0, ...player.trace.runs.map((r) => r.step).filter((step) => step <= open.entry!));
    const depth = player.depth(open.entry);
    for (let step = open.entry + 1; step <= player.length; step++) {
      if (player.depth(step) < depth) {
        open.returned = step;
        break;
      }
    }
  }
  return open;
}

/** The step a pointer names in a recording; a LessonFocusError when the recording has no such instruction. */
export function resolvePointer(open: OpenRecording, recording: Recording, pointer: InstructionPointer): number {
  const { player } = open;
  const missing = (what: string) => new LessonFocusError(`the recording of ${recording.spec.function} (${recording.spec.arch}) has no ${what}`);
  if ('at' in pointer) {
    const step = pointer.at === 'entry' ? open.entry : open.returned;
    if (step === undefined) throw missing(pointer.at === 'entry' ? 'entry' : 'return');
    return step;
  }
  if ('insn' in pointer) {
    const pattern = new RegExp(pointer.insn);
    for (let step = open.callStart; step < player.length; step++) {
      const pc = player.trace.pc[step]!;
      if (pointer.in !== undefined && open.functionAt(pc) !== pointer.in) continue;
      if (pattern.test(player.instruction(step)?.text ?? '')) return step;
    }
    throw missing(`instruction matching /${pointer.insn}/${pointer.in ? ` in ${pointer.in}` : ''}`);
  }
  const errno = errnoAddress(recording);
  if (errno === undefined) throw missing('TLS layout (errno\'s address)');
  for (let step = open.entry ?? 0; step < player.length; step++) {
    if (player.writesAt(step).some((w) => w.address <= errno && errno < w.address + w.new.length)) return step;
  }
  throw missing('store to errno');
}

/** errno's address on the thread the call ran on (its offset from the thread pointer is the same on every thread). */
export function errnoAddress(recording: Recording): number | undefined {
  const layout = recording.result?.tls?.layout;
  if (!layout) return undefined;
  const threadPointer = recording.thread ? Number(recording.thread.threadPointer) : layout.threadPointer;
  return threadPointer + (layout.errno - layout.threadPointer);
}
