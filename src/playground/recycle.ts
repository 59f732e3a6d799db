/**
 * When a playground machine is replaced by a fresh one: its memory grows with every recorded call.
 *
 * Why. The trace recorder adds its hooks for each call and removes them after, and every hook change makes Unicorn
 * drop the translated code (emu/unicorn.ts, flushTranslations): the call's code is translated afresh, instrumented,
 * into Unicorn's code buffer. Unicorn 2.0.1 reserves that buffer at 1 GiB per machine and reuses its space only
 * once it is full, so the resident memory of a machine that records calls grows until then (the ≈1 GB per booted
 * machine measured in issue 13). Measured: 190–280 bytes of code buffer per distinct instruction a recording runs
 * (snprintf("%d %f"): 1230 of them, +230 KiB; strlen: 36, +10 KiB). A machine is therefore closed once its
 * recordings have run about RECYCLE_AFTER_CODE distinct instructions, and the next call boots it again (from the
 * boot image cache, once every hundred or so calls).
 */
import type { Machine } from '../machine.ts';
import type { Trace } from '../trace/format.ts';

/** Distinct recorded instructions after which a machine is replaced: ≈ 32 MiB of its code buffer (measured with
 * snprintf on both architectures: a worker then swings between ~+0 and ~+100 MiB, and the fresh boots, from the
 * image cache, cost ~8 % more CPU per call; at half this, ~+60 MiB and ~15 %). */
export const RECYCLE_AFTER_CODE = 128_000;
/** Counted for each recording besides its instructions: the trampoline, the return trap, the warm paths. */
export const CODE_PER_RECORDING = 64;

const recordedCode = new WeakMap<Machine, number>();

/** Counts a finished recording against its machine. */
export function noteRecording(machine: Machine, trace: Trace): void {
  recordedCode.set(machine, (recordedCode.get(machine) ?? 0) + trace.code.length + CODE_PER_RECORDING);
}

/** Whether the machine's recordings have used up its share of code buffer (close it; boot a fresh one). */
export function wornOut(machine: Machine): boolean {
  return (recordedCode.get(machine) ?? 0) >= RECYCLE_AFTER_CODE;
}
