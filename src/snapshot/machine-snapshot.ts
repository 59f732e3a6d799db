/**
 * What `Machine.snapshot()` returns: the process's state (process-state.ts) and the host's bookkeeping of calls into
 * it (arenas, trampolines, callbacks). Opaque to users: `restore` and `fork` take it; the boot image cache
 * (image-cache.ts) writes it to disk.
 */
import type { Arch } from '../emu/arch.ts';
import type { CodeArenaState } from '../callspec/arena.ts';
import type { CallbackRegistryState } from '../callspec/callback.ts';
import { type PreparedSnapshot, prepare, type ProcessSnapshot } from './process-state.ts';

/** The host side of calls: where arguments, trampolines and the call frame live, and what they cost so far. */
export interface HostCallState {
  /** The CPU at `shimulator_ready`, the stack pointer at the call frame's entry: every host call starts from it. */
  callCpu: Uint8Array;
  stackTop: number;
  arenaBase: number;
  arena: { used: number; kept: number };
  code: CodeArenaState;
  x87Slot: number;
  mailbox: number;
  errnoAddress: number;
  trampolines: [string, number][];
  workerCode: number | undefined;
  threadRegion: { base: number; used: number } | undefined;
  outputTaken: { stdout: number; stderr: number };
}

export class MachineSnapshot {
  /** @internal */
  readonly process: PreparedSnapshot;

  /** @internal — made by `Machine.snapshot()` and the boot image cache. */
  constructor(
    process: ProcessSnapshot,
    /** @internal */
    readonly host: HostCallState,
    /** @internal */
    readonly callbacks: CallbackRegistryState,
    /** @internal The BootOptions object of the machine it came from: restores go only into machines booted alike. */
    readonly owner: object | undefined,
  ) {
    this.process = prepare(process);
  }

  get arch(): Arch {
    return this.process.state.arch;
  }

  /** Bytes of non-zero guest pages the snapshot holds. */
  get memoryBytes(): number {
    return this.process.state.memory.pages.reduce((n, p) => n + p.bytes.length, 0);
  }
}
