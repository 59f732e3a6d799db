/**
 * Instruction counting per translation block, and the stops it makes: the budget (a runaway guest) and the
 * scheduler's quantum (before the block that would cross the slice, which then runs first when the thread resumes).
 *
 * Two implementations with the same arithmetic (JavaScript numbers; C doubles): `NativeBlockCounter`
 * (native-counter.ts), a block hook in the project's own C helper that crosses into JavaScript only on a block's
 * first sight or while observers watch; and `JsBlockCounter` here, a JavaScript block hook — one crossing per block
 * (~0.2 µs), the fallback where the helper cannot be built or loaded. Both give the same counts, stops and schedules.
 */

/** Where block counting runs. */
export type CountingMode = 'native' | 'js';

/** 'auto': native when the helper loads, else JavaScript; 'native' insists (NativeCounterUnavailableError). */
export type CountingChoice = CountingMode | 'auto';

/** Which counter an engine uses, and why (shown by `shimulator bench`, `Machine.counting` and `engine.counting`). */
export interface CountingInfo {
  mode: CountingMode;
  /** Why the JavaScript counter is in use (absent for native). */
  fallback?: string;
}

export type StopReason = 'stopped' | 'budget' | 'quantum';

/** What the engine supplies to a counter. */
export interface CounterHost {
  /**
   * The first sight of a block: its instruction count, or undefined when it must not run yet (the host stopped
   * the engine to patch it first: it is neither counted nor remembered, and is seen afresh when it runs).
   */
  firstSight(address: number, size: number): number | undefined;
  /** Calls the block observers (while `observing`, and for blocks starting in a watched set). */
  observe(address: number, size: number): void;
  /** Stops the engine (uc_emu_stop). */
  stopEngine(): void;
}

/** How a counter's block hook is installed: a JavaScript function, or a native function with its user data. */
export type BlockHook =
  | { kind: 'js'; onBlock: (address: number, size: number) => void }
  | { kind: 'native'; callback: unknown; userData: unknown };

/**
 * A set of block start addresses held where the counter filters (C memory for the native counter). Plain
 * membership: the engine's AddressSet (address-set.ts) counts repeated adds and calls these only at 0 ↔ 1.
 */
export interface CounterSet {
  /** False when the set could not grow (out of memory): the address is not watched. */
  add(address: number): boolean;
  delete(address: number): void;
}

export interface BlockCounter {
  readonly mode: CountingMode;
  readonly hook: BlockHook;
  /** Starts a run: count 0, no stop reason, these limits (Infinity: none). */
  begin(budget: number, quantum: number): void;
  /** Instructions counted in the current (or last) run. */
  readonly instructions: number;
  readonly reason: StopReason | undefined;
  /**
   * The start address of the last block that ran (was counted) — in this run or an earlier one. A run that ends
   * with no stop reason ended at its `until` address exactly when its last block is the one known to jump there
   * (RunOptions.lastBlock), which spares reading the program counter.
   */
  readonly lastBlock: number;
  /** Marks the run as stopped by the host (the first reason wins); the caller stops the engine. */
  stop(): void;
  /** Forgets the counts of blocks starting in [low, high) (code there changed or is translated again). */
  forget(low: number, high: number): void;
  /** Whether `observe` is called for every block that runs. */
  observing: boolean;
  /** A new, empty set (freed with the counter). */
  newSet(): CounterSet;
  /**
   * Calls `observe` for the blocks starting at an address in `set` too (on), or no more (off). False when the
   * counter cannot watch one more set (TooManyAddressSetsError in the engine).
   */
  watch(set: CounterSet, on: boolean): boolean;
  /** Blocks with a remembered count. */
  readonly blocks: number;
  close(): void;
}

/** MAX_WATCHED_SETS in native/shimcount.c: both counters accept the same number of filtering sets. */
export const MAX_WATCHED_SETS = 16;

class JsCounterSet implements CounterSet {
  readonly members = new Set<number>();
  add(address: number): boolean {
    this.members.add(address);
    return true;
  }
  delete(address: number): void {
    this.members.delete(address);
  }
}

export class JsBlockCounter implements BlockCounter {
  readonly mode = 'js';
  readonly hook: BlockHook;
  instructions = 0;
  reason: StopReason | undefined;
  lastBlock = -1;
  observing = false;
  private watched: Set<number>[] = [];
  private budget = Infinity;
  private quantum = Infinity;
  /** Instruction count per translation-block start address. */
  private readonly sizes = new Map<number, number>();

  constructor(private readonly host: CounterHost) {
    this.hook = { kind: 'js', onBlock: (address, size) => this.onBlock(address, size) };
  }

  /** The same steps as shim_count_block in native/shimcount.c. */
  private onBlock(address: number, size: number): void {
    let count = this.sizes.get(address);
    if (count === undefined) {
      count = this.host.firstSight(address, size);
      if (count === undefined) return;
      this.sizes.set(address, count);
    }
    this.instructions += count;
    this.lastBlock = address;
    if (this.reason === undefined) {
      if (this.instructions > this.budget) {
        this.reason = 'budget';
        this.host.stopEngine();
      } else if (this.instructions > this.quantum) {
        this.instructions -= count;
        this.reason = 'quantum';
        this.host.stopEngine();
      }
    }
    if (this.observing || (this.watched.length > 0 && this.isWatched(address))) this.host.observe(address, size);
  }

  private isWatched(address: number): boolean {
    for (const set of this.watched) if (set.has(address)) return true;
    return false;
  }

  newSet(): CounterSet {
    return new JsCounterSet();
  }

  watch(set: CounterSet, on: boolean): boolean {
    const members = (set as JsCounterSet).members;
    const index = this.watched.indexOf(members);
    if (!on) {
      if (index >= 0) this.watched.splice(index, 1);
    } else if (index < 0) {
      if (this.watched.length === MAX_WATCHED_SETS) return false;
      this.watched.push(members);
    }
    return true;
  }

  begin(budget: number, quantum: number): void {
    this.instructions = 0;
    this.budget = budget;
    this.quantum = quantum;
    this.reason = undefined;
  }

  stop(): void {
    this.reason ??= 'stopped';
  }

  forget(low: number, high: number): void {
    for (const start of this.sizes.keys()) if (start >= low && start < high) this.sizes.delete(start);
  }

  get blocks(): number {
    return this.sizes.size;
  }

  close(): void {
    this.sizes.clear();
  }
}
