/**
 * The deterministic scheduler: runs a process's guest threads on its one engine, round robin every `QUANTUM`
 * instructions and whenever a thread blocks, so that every run interleaves identically on any host. It delivers
 * signals before a thread resumes, turns faults into the guest's signal handlers where it has them, runs host
 * callbacks outside the engine's hooks, jumps the virtual clock when every thread waits, and enforces the budget
 * and the time limits (a whole program's, or a host call's wall-clock timeout).
 */
import type { Engine, RunResult } from '../emu/engine.ts';
import { BudgetExceededError, GuestFault } from '../emu/errors.ts';
import type { VirtualClock } from '../kernel/clock.ts';
import { ERRNO } from '../kernel/errno.ts';
import { GuestExit, type Kernel } from '../kernel/kernel.ts';
import { GuestDeadlockError, type GuestThread, QUANTUM, type ThreadTable } from '../kernel/threads.ts';
import { type TimeLimits, TimeLimitError, WALL_CHECK_INSTRUCTIONS, WallTimeoutError, type WallTimeLimit, wallTimeLimit } from './limits.ts';
import { LoaderError } from './loader-error.ts';

const NO_LIMITS: TimeLimits = Object.freeze({});
const MS_PER_SECOND = 1000;
/** A host call runs until it returns to the trap page, not until some condition (no closure per call). */
const NEVER_FINISHED = (): boolean => false;
const ETIMEDOUT = ERRNO.ETIMEDOUT;

/** What the scheduler runs: the process's engine, kernel, threads and clock. */
export interface SchedulerContext {
  engine: Engine;
  kernel: Kernel;
  threads: ThreadTable;
  clock: VirtualClock;
  /** `symbol+0x12 (library)` for a guest address, for errors. */
  describeAddress(address: number): string | undefined;
  /** `instructions` ran on `thread` (the process's count and the schedule hash). */
  executed(thread: GuestThread, instructions: number): void;
}

/** What an interrupt the scheduler owns asks for (see `trap`). */
export type SchedulerTrap = 'callback' | 'park';

export class Scheduler {
  /** Host wall-clock seconds a host call may take (undefined: no limit besides its budget). */
  callTimeoutSeconds: number | undefined;
  /** Runs the callback whose stub trapped at `pc` (the address after its `int 0x81`); false when there is none. */
  onCallbackTrap: ((pc: number) => boolean) | undefined;
  /** Whether `int 0x81` at `pc` is a live callback's stub (else the interrupt is a fault). */
  isCallbackSite: ((pc: number) => boolean) | undefined;
  /**
   * Whether an `int 0x85` at `pc` is one of the host's worker threads parking (its code lives in the host's code
   * arena). The guest's own `int 0x85` is not: it is an unknown interrupt like any other (a fault).
   */
  isParkSite: ((pc: number) => boolean) | undefined;
  /** Time limits in force for the current run (whole programs; host calls: their wall-clock timeout only). */
  private limits: TimeLimits = NO_LIMITS;
  private callLimits: { wall: WallTimeLimit } | undefined;
  /** Whether the engine is inside a run (the virtual clock then adds the run's own instructions). */
  private running = false;
  /** A callback stub trapped: the engine stopped, and the scheduler runs the callback before resuming the thread. */
  private pendingCallback: number | undefined;

  constructor(private readonly p: SchedulerContext) {}

  /** Whether the engine is inside one of the scheduler's runs. */
  get inRun(): boolean {
    return this.running;
  }

  /** Whether the run's wall-clock deadline has passed (the kernel's blocking calls give up then). */
  overdue(): boolean {
    return this.limits.wall !== undefined && Date.now() >= this.limits.wall.deadlineMs;
  }

  /**
   * Runs a host call on the current thread from `begin` until it returns to `until`, scheduling the process's
   * other threads meanwhile. Returns the calling thread's own instructions.
   */
  run(begin: number, until: number, budget: number, lastBlock?: number): RunResult {
    const caller = this.p.threads.current;
    caller.state = 'running';
    return { reason: 'until', instructions: this.schedule(caller, begin, until, budget, NEVER_FINISHED, lastBlock) };
  }

  /** Runs until every thread in `waitFor` waits for the host again; returns each one's instructions meanwhile. */
  runUntilHost(waitFor: GuestThread[], until: number, budget: number): number[] {
    const before = waitFor.map((t) => t.instructions);
    this.schedule(waitFor[0]!, undefined, until, budget, () => waitFor.every((t) => t.state === 'host'));
    return waitFor.map((t, i) => t.instructions - before[i]!);
  }

  /** Runs a whole program from `entry` until it exits, under `limits`; `trapPage` is where nothing may return to. */
  runToExit(entry: number, trapPage: number, budget: number, limits: TimeLimits): { status: number; signal?: number } {
    const main = this.p.threads.current;
    main.state = 'running';
    this.limits = limits;
    try {
      this.schedule(main, entry, trapPage, budget, () => false);
      throw new LoaderError('the program returned into the host trap page instead of exiting');
    } catch (error) {
      if (error instanceof GuestExit) return { status: error.status, signal: error.signal };
      throw error;
    } finally {
      this.limits = NO_LIMITS;
    }
  }

  /**
   * An interrupt at `pc` (the address after the `int`) that is the host's: a callback stub or a worker parking.
   * Stops the engine and returns which, or undefined when the interrupt is not the scheduler's.
   */
  trap(vector: { callback: number; park: number }, intno: number, pc: number): SchedulerTrap | undefined {
    if (intno === vector.callback && this.isCallbackSite?.(pc)) {
      // Stop here and run the callback outside the hook (scheduleWithin): it may call into the guest again, and a
      // nested uc_emu_start would cap the depth at Unicorn 2.0.1's UC_MAX_NESTED_LEVEL (64) and share one
      // instruction counter, budget and stop flag between the levels. A stop after `int` is at a block boundary:
      // counts are unchanged.
      this.pendingCallback = pc;
      this.p.engine.stop();
      return 'callback';
    }
    if (intno === vector.park && this.isParkSite?.(pc)) {
      // A worker thread asks for work: it waits for the host, and the scheduler runs someone else.
      this.p.threads.current.state = 'host';
      this.p.engine.stop();
      return 'park';
    }
    return undefined;
  }

  /** Runs the scheduler; a host call (no run's limits in force) gets its wall-clock timeout for the while. */
  private schedule(
    target: GuestThread, begin: number | undefined, until: number, budget: number, finished: () => boolean, lastBlock?: number,
  ): number {
    if (this.limits.wall !== undefined || this.callTimeoutSeconds === undefined) {
      return this.scheduleWithin(target, begin, until, budget, finished, lastBlock);
    }
    // One limits object per process, its deadline renewed per call (a host call allocates nothing for it).
    this.callLimits ??= { wall: wallTimeLimit(this.callTimeoutSeconds, 'call').wall! };
    this.callLimits.wall.seconds = this.callTimeoutSeconds;
    this.callLimits.wall.deadlineMs = Date.now() + this.callTimeoutSeconds * MS_PER_SECOND;
    this.limits = this.callLimits;
    try {
      return this.scheduleWithin(target, begin, until, budget, finished, lastBlock);
    } finally {
      this.limits = NO_LIMITS;
    }
  }

  /** `lastBlock`: the block of the target thread's code that jumps to `until` (RunOptions.lastBlock), if known. */
  private scheduleWithin(
    target: GuestThread, begin: number | undefined, until: number, budget: number, finished: () => boolean, lastBlock?: number,
  ): number {
    const { engine, kernel, threads } = this.p;
    const before = target.instructions;
    let executed = 0;
    let pc = begin;
    if (pc === undefined) {
      threads.switchTo(threads.current.state === 'running' ? threads.current : this.nextThread());
      pc = engine.pc();
    }
    for (;;) {
      const current = threads.current;
      // Signals are delivered here, before the thread runs on: after a switch, and after a system call that made
      // one deliverable (it stopped the engine), so that e.g. raise() runs the handler before it returns.
      pc = kernel.signals.beforeResume(current, pc);
      if (kernel.exit) throw kernel.exit;
      // A time slice only matters when someone else could run (or wake): single-threaded calls run in one go,
      // unless a wall-clock deadline must be checked now and then.
      const shared = threads.othersRunnable || threads.earliestDeadline() !== undefined;
      const quantum = shared ? QUANTUM : this.limits.wall !== undefined ? WALL_CHECK_INSTRUCTIONS : undefined;
      let result: RunResult;
      try {
        this.running = true;
        this.pendingCallback = undefined;
        result = engine.run(pc, { until, budget: budget - executed, quantum, lastBlock: current === target ? lastBlock : undefined });
        this.running = false;
      } catch (error) {
        this.running = false;
        const ran = engine.instructionsInRun;
        this.p.executed(current, ran);
        // A fault the guest handles (a SIGSEGV handler, Go's nil-pointer panics) continues in its handler.
        if (error instanceof GuestFault && kernel.signals.deliverFault(current, error)) {
          executed += ran;
          pc = engine.pc();
          continue;
        }
        if (kernel.exit) throw kernel.exit;
        if ((error instanceof GuestFault || error instanceof BudgetExceededError) && error.where === undefined) {
          error.locate(this.p.describeAddress(error.pc));
          if (threads.threads.length > 1) error.message += ` (thread ${current.tid})`;
        }
        throw error;
      }
      executed += result.instructions;
      this.p.executed(current, result.instructions);
      if (kernel.exit) throw kernel.exit;
      if (kernel.failure) throw kernel.failure;
      if (this.pendingCallback !== undefined) {
        executed += this.runCallback(current, this.pendingCallback);
        if (executed >= budget) throw new BudgetExceededError(budget, engine.pc(), this.p.describeAddress(engine.pc()));
        pc = engine.pc(); // after the stub's `int 0x81`: the same thread goes on with the callback's result
        continue;
      }
      if (result.reason === 'until') {
        if (current !== target) {
          throw new LoaderError(`thread ${current.tid} returned into the host's trap page, which only host calls return to`);
        }
        current.state = 'host';
        return target.instructions - before;
      }
      if (finished()) return target.instructions - before;
      // Timed waits whose deadline passed while others ran end now (a sleeper must not wait for a busy thread).
      threads.expire(kernel.now(), BigInt(-ETIMEDOUT));
      this.checkTimeLimits();
      threads.switchTo(current.state === 'running' && !threads.othersRunnable ? current : this.nextThread());
      pc = engine.pc();
    }
  }

  /**
   * Runs the callback whose stub trapped, outside the engine's hooks (see `trap`), so that it may call into the
   * guest again. Returns the instructions its nested guest calls ran on `thread`: they count against the budget of
   * the call that is running.
   */
  private runCallback(thread: GuestThread, pc: number): number {
    this.pendingCallback = undefined;
    const before = thread.instructions;
    if (!this.onCallbackTrap?.(pc)) throw new LoaderError(`the callback stub before 0x${pc.toString(16)} was freed while it ran`);
    return thread.instructions - before;
  }

  /** The next thread to run; when all wait, time jumps to the earliest timeout; when none can ever run: deadlock. */
  private nextThread(): GuestThread {
    const { kernel, threads, clock } = this.p;
    for (;;) {
      const next = threads.next();
      if (next) return next;
      if (threads.current.state === 'running') return threads.current;
      const deadline = threads.earliestDeadline();
      if (deadline === undefined) {
        const states = threads.describe().filter((t) => t.state !== 'exited');
        throw new GuestDeadlockError(
          `deadlock: no guest thread can run — ${states.map((t) => `thread ${t.tid} (${t.name}) ${t.state}${t.wait ? ` on ${t.wait}` : ''}${t.state === 'blocked' ? ` in ${this.p.describeAddress(Number(t.pc)) ?? t.pc}` : ''}`).join('; ')}`,
          states,
        );
      }
      const now = kernel.now();
      const limit = this.limits.virtualTimeNs;
      if (limit !== undefined && deadline > limit) clock.advance(limit - now > 0n ? limit - now : 0n);
      else if (deadline > now) clock.advance(deadline - now); // every thread waits: the virtual clock jumps ahead
      this.checkTimeLimits();
      threads.expire(kernel.now(), BigInt(-ETIMEDOUT));
    }
  }

  /** Throws when the run's virtual time or the host's wall-clock time is up. */
  private checkTimeLimits(): void {
    const { virtualTimeNs, wall } = this.limits;
    if (virtualTimeNs !== undefined && this.p.kernel.now() >= virtualTimeNs) {
      const states = this.p.threads.describe().filter((t) => t.state !== 'exited');
      throw new TimeLimitError(
        `the program ran past its time limit of ${Number(virtualTimeNs) / 1e9} s of virtual time without exiting — ` +
          `${states.map((t) => `thread ${t.tid} (${t.name}) ${t.state}${t.wait ? ` on ${t.wait}` : ''}`).join('; ')}; ` +
          'raise it with --time-limit SECONDS if the program is just slow',
        states,
      );
    }
    if (wall !== undefined && Date.now() >= wall.deadlineMs) throw new WallTimeoutError(wall.seconds, wall.what);
  }
}
