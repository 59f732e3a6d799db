/**
 * Host calls into one booted process: where a call's arguments go (the arena), the trampolines that place them, the
 * call frame, errno — and each call's instrumentation (the ABI checker, the TLS watch, the host printf check).
 * A call made from inside a callback is nested: it runs on the thread whose callback makes it. `Machine.fn` /
 * `call` and the threads started the fakecgo way (guest-threads.ts) share it.
 */
import type { Arch } from '../emu/arch.ts';
import type { SavedContext } from '../emu/engine.ts';
import { GuestExit } from '../kernel/kernel.ts';
import { OutputLimitError } from '../kernel/output.ts';
import type { GuestThread } from '../kernel/threads.ts';
import type { Process } from '../loader/process.ts';
import type { AbiChecker } from '../check/checker.ts';
import type { PrintfHostCheck } from '../check/printf-host-check.ts';
import type { AbiReport, Violation } from '../check/rules.ts';
import { type TlsLayout, type TlsReport, TlsWatch } from '../check/tls-watch.ts';
import { threadTlsLayout } from '../check/tls-layout.ts';
import type { HostCallState } from '../snapshot/machine-snapshot.ts';
import type { CodeArena, GuestArena } from './arena.ts';
import type { CallbackRegistry } from './callback.ts';
import {
  CALL_FRAME_BYTES, callCpuStarter, type CallEnvironment, executeCall, type PreparedBlock, type RawCallResult, writeBlock,
} from './call.ts';
import type { GuestThreadHandle } from './guest-threads.ts';
import { type DirectAccess, GuestWindow } from './guest-window.ts';
import { enterNestedCall } from './nested-call.ts';
import type { CallPlan, PlanCache } from './plan.ts';
import { generateTrampoline } from './trampoline.ts';
import type { DecodedValue, HostValue } from './values.ts';
import { ArgumentError } from './values.ts';
import { WORKER_MAILBOX } from './worker.ts';

export interface CallResult {
  /** The return value: number (bigint beyond 2^53), an object for structs, undefined for void. */
  value: DecodedValue;
  /** errno after the call (set to 0 before it), read through the guest's own __errno_location. */
  errno: number;
  /** Contents of out-buffer arguments after the call, by argument index. */
  out: Record<number, Uint8Array>;
  /** For `char *` returns: the C string at the returned pointer (undefined for NULL). */
  string?: string;
  /** Guest instructions the call executed (with those of the nested guest calls its callbacks made). */
  instructions: number;
  /** The return value's memory image as the callee produced it (its C size; long double: the x87 bytes). */
  returnBytes: Uint8Array;
  /** With checking on: the ABI violations found in this call and in the cross-object calls it made. */
  abi?: AbiReport;
  /** With the TLS watch on: the thread's TLS layout and the TLS words the call read and wrote. */
  tls?: TlsReport;
  /**
   * printf-family calls (snprintf, printf, fprintf, …): where the format and the typed variadic arguments disagree
   * (`%f` with `vararg.int`, a missing argument, `%ld` with an int on amd64). Checked on every host call, checking
   * on or not; with checking on they are in `abi` too. A call that faults carries them on the error.
   */
  formatWarnings?: Violation[];
}

/**
 * The guest process ended (exit, abort, a fatal signal, the output limit) during an earlier call: nothing can run
 * in it any more. `machine.reset()` boots a fresh one.
 */
export class MachineExitedError extends Error {
  override name = 'MachineExitedError';
  constructor(readonly ending: Error) {
    super(`the guest process ${howItEnded(ending)} during an earlier call; call m.reset() for a fresh machine`, { cause: ending });
  }
}

function howItEnded(ending: Error): string {
  if (ending instanceof GuestExit) {
    return ending.signal === undefined ? `exited (exit(${ending.status}))` : `was killed by signal ${ending.signal}`;
  }
  if (ending instanceof OutputLimitError) return `was stopped at its output limit (${ending.message})`;
  return `ended (${ending.message})`;
}

export function report(violations: Violation[]): AbiReport {
  return { ok: violations.every((v) => v.severity !== 'error'), violations };
}

/** What host calls need from the booted process and the machine (its switches are read at every call). */
export interface HostCallContext {
  arch: Arch;
  process: Process;
  /** The CPU captured after boot with the stack pointer at a host call's entry, and that stack pointer. */
  callCpu: SavedContext;
  stackTop: number;
  arena: GuestArena;
  code: CodeArena;
  /** Where trampolines keep the block pointer and their stack pointer across the call. */
  mailbox: number;
  direct: DirectAccess;
  checker: AbiChecker;
  /** The live callbacks: the process traps into them (and host calls they make are nested). */
  callbacks: CallbackRegistry;
  printf: PrintfHostCheck;
  checking(): boolean;
  watchTls(): boolean;
  /** The main thread's TLS layout (it makes guest calls of its own). */
  tlsLayout(): TlsLayout;
  readCString(address: number, max?: number): string;
}

/** The host's call set-up and bookkeeping in a snapshot (the rest of HostCallState is the threads' and the machine's). */
export type HostCallerState = Omit<HostCallState, 'workerCode' | 'threadRegion' | 'outputTaken'>;

export class HostCaller {
  readonly env: CallEnvironment;
  readonly arena: GuestArena;
  readonly code: CodeArena;
  readonly mailbox: number;
  readonly checker: AbiChecker;
  /** Callbacks running now: a host call made meanwhile is nested in the call that runs them. */
  inCallback = 0;
  /** errno of the main thread, through a live window (see guest-window.ts). */
  private errnoAt = 0;
  private errnoWindow: GuestWindow | undefined;
  /** Trampolines by mailbox and the placement they implement (many prototypes share one)… */
  private trampolines = new Map<string, number>();
  /** …and by mailbox and plan, for the calls themselves: no key to build per call. */
  private planTrampolines = new Map<number, WeakMap<CallPlan, number>>();
  /** Threads from `startThread`, for nested calls from callbacks that run on them. */
  readonly threadHandles = new WeakMap<GuestThread, GuestThreadHandle>();
  /** Threads the guest started itself, adopted when a callback on one first calls into the guest (see `adopt`). */
  private adopted = new WeakMap<GuestThread, GuestThreadHandle>();
  /** Makes a handle for a thread the guest started itself (GuestThreads.adopt); set once the threads layer exists. */
  adopt: ((thread: GuestThread) => GuestThreadHandle) | undefined;
  private readonly process: Process;

  constructor(private readonly context: HostCallContext) {
    const { arch, process, arena, stackTop } = context;
    const engine = process.engine;
    this.process = process;
    this.arena = arena;
    this.code = context.code;
    this.mailbox = context.mailbox;
    this.checker = context.checker;
    this.env = {
      engine,
      arch,
      startCpu: callCpuStarter(engine, arch, context.callCpu),
      stackTop,
      frame: new GuestWindow(process.space, engine, stackTop - CALL_FRAME_BYTES, CALL_FRAME_BYTES, context.direct),
      returnAddress: process.layout.trapPage,
      memory: arena,
      trampoline: (plan) => this.trampolineFor(plan),
      run: (begin, until, budget, lastBlock) => process.run(begin, until, budget, lastBlock),
    };
    const { code, callbacks } = context;
    process.scheduler.isParkSite = (pc) => code.contains(pc);
    process.scheduler.isCallbackSite = (pc) => callbacks.isStub(pc);
    process.scheduler.onCallbackTrap = (pc) => {
      this.inCallback++;
      try {
        return callbacks.dispatch(pc);
      } finally {
        this.inCallback--;
      }
    };
  }

  /** Where the main thread's errno is (0 until known). */
  get errnoAddress(): number {
    return this.errnoAt;
  }

  set errnoAddress(address: number) {
    this.errnoAt = address;
    this.errnoWindow = address ? this.window(address, 4) : undefined;
  }

  state(): HostCallerState {
    return {
      callCpu: this.process.engine.exportContext(this.context.callCpu),
      stackTop: this.env.stackTop,
      arenaBase: this.arena.base,
      arena: this.arena.state(),
      code: this.code.state(),
      x87Slot: this.context.callbacks.x87Slot,
      mailbox: this.mailbox,
      errnoAddress: this.errnoAt,
      trampolines: [...this.trampolines],
    };
  }

  /** Back to `state` (its callbacks are restored with the registry's own state). */
  restoreState(state: HostCallerState): void {
    this.arena.restoreState(state.arena);
    this.code.restoreState(state.code);
    this.trampolines = new Map(state.trampolines);
    this.planTrampolines = new Map(); // plans' trampolines made after the snapshot are gone with its code arena
    // Adopted threads' mailboxes made after the snapshot lie in memory it gives back: adopt them again on use.
    this.adopted = new WeakMap();
    this.errnoAddress = state.errnoAddress;
  }

  private get mainThread(): GuestThread {
    return this.process.threads.threads[0]!;
  }

  /** `instrument`: apply the ABI checker and TLS watch when they are on (internal helper calls are never checked). */
  invoke(address: number, plans: PlanCache, args: readonly HostValue[], budget: number, instrument: boolean): CallResult {
    const plan = plans.planFor(args);
    const tlsLayout = this.prepareInstrumentation(instrument);
    const formatWarnings = instrument && plans.proto.variadic ? this.context.printf.warnings(plan, args) : undefined;
    // A nested call (from a callback) must keep the outer call's arguments: its own are released when it ends.
    const outer = this.inCallback > 0 ? this.arena.state() : undefined;
    if (!outer) this.arena.reset();
    try {
      const block = writeBlock(this.env, plan, address, args);
      const result = this.execute(address, plan, block, budget, instrument, tlsLayout);
      if (formatWarnings) {
        result.formatWarnings = formatWarnings;
        result.abi?.violations.unshift(...formatWarnings);
      }
      return result;
    } catch (error) {
      // %s with an int faults inside printf: the warning explains the fault.
      if (formatWarnings && error instanceof Error) {
        Object.assign(error, { formatWarnings });
        (error as { abi?: AbiReport }).abi?.violations.unshift(...formatWarnings);
      }
      throw error;
    } finally {
      if (outer) this.arena.restoreState(outer);
    }
  }

  /** Work that needs guest calls of its own must happen before a call's arguments are placed in the arena. */
  prepareInstrumentation(instrument: boolean): TlsLayout | undefined {
    // The checker's table of watched functions may need IFUNC resolver calls (host calls that reuse the arena).
    if (instrument && (this.context.checking() || this.checker.onCall)) this.checker.refresh();
    return instrument && this.context.watchTls() ? this.context.tlsLayout() : undefined;
  }

  execute(
    address: number, plan: CallPlan, block: PreparedBlock, budget: number, instrument: boolean, tlsLayout?: TlsLayout,
  ): CallResult {
    this.requireLiveProcess();
    const check = instrument && this.context.checking();
    const watch = check || (instrument && this.checker.onCall !== undefined);
    if (this.inCallback > 0) return this.executeNested(address, plan, block, budget, instrument, check, watch, tlsLayout);
    // The main thread's call, the warm path: no closures or per-call objects beyond the result.
    const tls = instrument && tlsLayout ? new TlsWatch(this.process, tlsLayout) : undefined;
    tls?.start();
    this.process.activate(this.mainThread);
    const errno = this.errnoWindow;
    errno?.zero(errno.start, 4);
    if (watch) this.checker.beginHostCall(address, plan.spec);
    let raw: RawCallResult;
    try {
      raw = executeCall(this.env, plan, block, budget);
    } catch (error) {
      // A fault or runaway after a violation is often caused by it: keep the report with the error.
      const report = watch ? this.checker.endHostCall() : undefined;
      if (check && error instanceof Error) Object.assign(error, { abi: report });
      tls?.stop();
      throw error;
    }
    const report = watch ? this.checker.endHostCall() : undefined;
    return this.result(plan, raw, errno, check ? report : undefined, tls?.stop());
  }

  /** A call made from inside a callback: on the callback's thread, below its stack pointer (see nested-call.ts). */
  private executeNested(
    address: number, plan: CallPlan, block: PreparedBlock, budget: number, instrument: boolean, check: boolean, watch: boolean,
    tlsLayout?: TlsLayout,
  ): CallResult {
    const spec = plan.spec;
    const site = this.nestedCallSite();
    const layout = tlsLayout && site.handle ? threadTlsLayout(tlsLayout, site.handle, this.process) : tlsLayout;
    const tls = instrument && layout ? new TlsWatch(this.process, layout) : undefined;
    tls?.start();
    const errno = site.errno;
    const outerErrno = errno?.readInt32(errno.start);
    errno?.zero(errno.start, 4);
    // A nested call joins the outer call's watch (its frames above the outer's open calls).
    const joined = watch && this.checker.watching ? this.checker.beginNestedHostCall(address, spec) : undefined;
    if (watch && !joined) this.checker.beginHostCall(address, spec);
    const endWatch = () => (joined ? this.checker.endNestedHostCall(joined) : watch ? this.checker.endHostCall() : undefined);
    const frame = enterNestedCall(
      { ...this.env, trampoline: (p) => this.trampolineFor(p, site.mailbox) }, site.mailbox, (start, size) => this.window(start, size),
    );
    try {
      let raw: RawCallResult;
      try {
        raw = executeCall(frame.env, plan, block, budget);
      } catch (error) {
        // A fault or runaway after a violation is often caused by it: keep the report with the error.
        const report = endWatch();
        if (check && error instanceof Error) Object.assign(error, { abi: report });
        tls?.stop();
        throw error;
      }
      const report = endWatch();
      const abi = check ? report : undefined;
      const tlsReport = tls?.stop();
      return this.result(plan, raw, errno, abi, tlsReport);
    } finally {
      // The thread is still inside the outer call (the nested one's return left it waiting for the host).
      site.thread.state = 'running';
      frame.leave();
      if (outerErrno !== undefined) errno!.writeWord(errno!.start, outerErrno >>> 0, 4);
    }
  }

  /** Throws MachineExitedError once the guest process has ended: every later call would fail the same way. */
  requireLiveProcess(): void {
    const ending = this.process.kernel.exit ?? this.process.kernel.failure;
    if (ending) throw new MachineExitedError(ending);
  }

  /** A live-memory window on guest bytes (see guest-window.ts). */
  window(start: number, size: number): GuestWindow {
    return new GuestWindow(this.process.space, this.process.engine, start, size, this.context.direct);
  }

  /**
   * Where a nested call runs: on the thread whose callback makes it (as a cgo callback's C calls run on its M), with
   * that thread's trampoline mailbox and errno — the main thread's, a `startThread` thread's, or, for a thread the
   * guest started itself, those it is given the first time (as cgo gives a C-created thread an M on its first
   * callback: `needm`).
   */
  private nestedCallSite(): { thread: GuestThread; mailbox: number; errno: GuestWindow | undefined; handle?: GuestThreadHandle } {
    const thread = this.process.threads.current;
    if (thread === this.mainThread) return { thread, mailbox: this.mailbox, errno: this.errnoWindow };
    let handle = this.threadHandles.get(thread) ?? this.adopted.get(thread);
    if (!handle) {
      if (!this.adopt) throw new ArgumentError(`thread ${thread.tid} cannot make guest calls yet`);
      // Registered before its own first calls (its errno and thread pointer), which are nested calls on it too.
      handle = this.adopt(thread);
    }
    const errno = handle.errnoAddress ? this.window(handle.errnoAddress, 4) : undefined;
    return { thread, mailbox: handle.mailbox + WORKER_MAILBOX.trampolineMailbox, errno, handle };
  }

  /** Records the handle `adopt` made for a guest-started thread (before the calls that complete it). */
  registerAdopted(thread: GuestThread, handle: GuestThreadHandle): void {
    this.adopted.set(thread, handle);
  }

  /** `errno`: where the calling thread's errno is (none before it is known). */
  result(plan: CallPlan, raw: RawCallResult, errno: GuestWindow | undefined, abi?: AbiReport, tls?: TlsReport): CallResult {
    const value = plan.decodeReturn(raw.ret);
    const out: Record<number, Uint8Array> = {};
    for (const o of raw.outs) out[o.index] = this.arena.read(o.address, o.size);
    const result: CallResult = {
      value,
      errno: errno ? errno.readInt32(errno.start) : 0,
      out,
      instructions: raw.instructions,
      returnBytes: raw.ret,
    };
    if (abi) result.abi = abi;
    if (tls) result.tls = tls;
    if (plan.returnsString && typeof value === 'number' && value !== 0) result.string = this.context.readCString(value);
    return result;
  }

  /** The reference trampoline for a plan: generated once per distinct placement and kept in the code arena. */
  trampolineFor(plan: CallPlan, mailbox = this.mailbox): number {
    let byPlan = this.planTrampolines.get(mailbox);
    if (!byPlan) this.planTrampolines.set(mailbox, (byPlan = new WeakMap()));
    let address = byPlan.get(plan);
    if (address !== undefined) return address;
    const key = `${mailbox}:${plan.placementKey}`;
    address = this.trampolines.get(key);
    if (address === undefined) {
      address = this.code.place(generateTrampoline(plan.spec, mailbox));
      this.trampolines.set(key, address);
    }
    byPlan.set(plan, address);
    return address;
  }
}
