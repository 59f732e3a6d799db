/**
 * Signal generation and delivery at deterministic points. A signal is made pending by kill/tkill/tgkill (or a
 * fault); a thread blocked in a wait is woken with -EINTR when it can take the signal; and the scheduler calls
 * `beforeResume` each time it puts a thread back on the CPU — after a switch, and after a system call that stopped
 * the engine because a signal became deliverable (raise() runs its handler before it returns). There the pending
 * sigreturn is applied and every deliverable signal is taken: ignored, terminating the process (kernel.terminate
 * with 128 + N), or run through a handler by pushing a frame (frame-amd64.ts, frame-i386.ts), as Linux's
 * exit-to-user path does.
 */
import type { GuestFault } from '../../emu/errors.ts';
import type { RegName } from '../../emu/engine.ts';
import { resetFpu } from '../../emu/fpu.ts';
import type { Kernel } from '../kernel.ts';
import { type GuestThread, SYSCALL_INSTRUCTION_BYTES } from '../threads.ts';
import { ERRNO } from '../errno.ts';
import { readFpu, readRegisters, writeFpu, writeRegisters, xmmCount } from './cpu-state.ts';
import { faultSignal } from './faults.ts';
import { amd64UcontextAddress, buildFrameAmd64, parseUcontextAmd64, UCONTEXT } from './frame-amd64.ts';
import {
  buildFrameI386, i386FrameAddress, i386FxsaveAddress, i386RtFrameAddress, parseFrameI386, parseRtFrameI386, RT_SIGFRAME_32, SIGFRAME_32,
} from './frame-i386.ts';
import { type AltStack, DISABLED_ALTSTACK, FIX_EFLAGS, type FaultContext, onSigStack, type RestoredContext } from './frame.ts';
import { decodeFxsave, FXSAVE_BYTES } from './fxsave.ts';
import {
  defaultAction, EMPTY_SET, hasSignal, nextSignal, SA_NODEFER, SA_RESETHAND, SA_RESTART, SIG_DFL, SIG_IGN, SIGBUS, SIGKILL, SIGSEGV, sigbit, type SigSet,
  SS_AUTODISARM, UNBLOCKABLE,
} from './numbers.ts';
import type { SigInfo } from './siginfo.ts';
import { DEFAULT_ACTION, ProcessSignals, type SignalAction, ThreadSignals } from './state.ts';

/** Memory faults raise these; their handlers see the pc (Go's sigpanic pushes it as a return address). */
const PRECISE_PC_SIGNALS = new Set([SIGSEGV, SIGBUS]);

export class Signals {
  readonly process = new ProcessSignals();
  private readonly perThread = new WeakMap<GuestThread, ThreadSignals>();
  private readonly pcReg: RegName;
  private readonly spReg: RegName;
  private readonly flagsReg: RegName;

  constructor(private readonly k: Kernel) {
    this.pcReg = k.arch === 'amd64' ? 'rip' : 'eip';
    this.spReg = k.arch === 'amd64' ? 'rsp' : 'esp';
    this.flagsReg = k.arch === 'amd64' ? 'rflags' : 'eflags';
  }

  of(thread: GuestThread): ThreadSignals {
    let state = this.perThread.get(thread);
    if (!state) {
      state = new ThreadSignals();
      this.perThread.set(thread, state);
    }
    return state;
  }

  get current(): ThreadSignals {
    return this.of(this.k.threads.current);
  }

  action(signal: number): SignalAction {
    return this.process.actions[signal]!;
  }

  /** sigaction: a handler set to ignore discards the pending instances (POSIX; kernel/signal.c do_sigaction). */
  setAction(signal: number, action: SignalAction): void {
    this.process.actions[signal] = action;
    if (PRECISE_PC_SIGNALS.has(signal) && action.handler !== SIG_DFL && action.handler !== SIG_IGN) this.k.engine.enablePreciseFaults();
    if (this.ignores(signal)) {
      this.process.shared.take(signal);
      for (const t of this.k.threads.threads) this.of(t).pending.take(signal);
    }
  }

  /** Puts every action back (snapshots); a handler for a fault signal makes fault addresses exact, as setAction does. */
  restoreActions(actions: readonly SignalAction[]): void {
    actions.forEach((a, signal) => {
      this.process.actions[signal] = { ...a };
      if (PRECISE_PC_SIGNALS.has(signal) && a.handler !== SIG_DFL && a.handler !== SIG_IGN) this.k.engine.enablePreciseFaults();
    });
  }

  /** A new thread inherits the blocked mask; clone(CLONE_VM) clears the alternate stack (copy_process). */
  onClone(parent: GuestThread, child: GuestThread): void {
    this.of(child).blocked = this.of(parent).blocked;
    this.of(child).altstack = DISABLED_ALTSTACK;
  }

  private ignores(signal: number): boolean {
    const handler = this.action(signal).handler;
    return handler === SIG_IGN || (handler === SIG_DFL && defaultAction(signal) !== 'terminate');
  }

  /** Signals the thread would take now: its own and the process's pending ones that it does not block. */
  private deliverable(state: ThreadSignals): SigSet {
    return (state.pending.set | this.process.shared.set) & ~state.blocked;
  }

  /**
   * Sends a signal to one thread (tkill/tgkill) or to the process (kill). Ignored unblocked signals are dropped
   * (sig_ignored); SIGKILL ends the process at once; a thread waiting that can take the signal wakes with -EINTR.
   */
  send(target: GuestThread | 'process', info: SigInfo): void {
    const signal = info.signo;
    if (signal === SIGKILL) {
      this.k.terminate(128 + SIGKILL, SIGKILL);
      return;
    }
    const thread = target === 'process' ? this.chooseThread(signal) : target;
    if (thread && !hasSignal(this.of(thread).blocked, signal) && this.ignores(signal)) return;
    if (target === 'process') this.process.shared.add(info);
    else this.of(target).pending.add(info);
    if (thread && !hasSignal(this.of(thread).blocked, signal)) {
      if (thread.state === 'blocked') this.interrupt(thread);
    }
    this.stopIfDeliverable();
  }

  /**
   * signal_wake_up on a waiting thread: its system call ends with EINTR — or with the bytes a write already moved —
   * unless the handler that runs for it has SA_RESTART and the call is one Linux then restarts (restart.ts).
   */
  private interrupt(thread: GuestThread): void {
    const progress = thread.restart?.progress ?? 0;
    this.of(thread).interruptedNr = progress === 0 ? thread.restartNr : undefined;
    this.k.threads.resume(thread, progress > 0 ? BigInt(progress) : BigInt(-ERRNO.EINTR));
  }

  /** complete_signal: the calling thread when it can take the signal, else the first thread (in creation order) that can. */
  private chooseThread(signal: number): GuestThread | undefined {
    const threads = this.k.threads;
    const takes = (t: GuestThread) => t.state !== 'exited' && !hasSignal(this.of(t).blocked, signal);
    return takes(threads.current) ? threads.current : threads.threads.find(takes);
  }

  hasDeliverable(thread: GuestThread): boolean {
    return this.deliverable(this.of(thread)) !== EMPTY_SET;
  }

  /** rt_sigpending: the pending signals the thread blocks (its own and the process's). */
  pendingOf(thread: GuestThread): SigSet {
    const state = this.of(thread);
    return (state.pending.set | this.process.shared.set) & state.blocked;
  }

  /** Called by system calls that may have made a signal deliverable to the caller: stop so it runs first. */
  stopIfDeliverable(): void {
    if (this.deliverable(this.current) !== EMPTY_SET) this.k.engine.stop();
  }

  /** rt_sigreturn / sigreturn: applied when the thread next resumes (writing rip inside the syscall hook would not stick). */
  requestSigreturn(kind: 'rt' | 'legacy'): void {
    this.current.sigreturn = kind;
    this.k.engine.stop();
  }

  /**
   * The scheduler's delivery step, before `thread` runs from `pc`: applies a pending sigreturn, then delivers.
   * Returns the pc to run from (a handler's, or `pc` unchanged).
   */
  beforeResume(thread: GuestThread, pc: number): number {
    const state = this.of(thread);
    // The common case, before every run: nothing pending anywhere (decided without a BigInt operation).
    if (state.sigreturn === undefined && state.suspendMask === undefined && state.pending.set === EMPTY_SET && this.process.shared.set === EMPTY_SET) return pc;
    if (state.sigreturn === undefined && this.deliverable(state) === EMPTY_SET && state.suspendMask === undefined) return pc;
    this.k.engine.setReg(this.pcReg, pc);
    if (state.sigreturn !== undefined) this.sigreturn(state);
    this.deliverAll(state);
    // No handler took the interruption (another thread took a process-wide signal first): the call stays EINTR.
    state.interruptedNr = undefined;
    if (state.suspendMask !== undefined && this.deliverable(state) === EMPTY_SET && thread.state !== 'blocked') {
      state.blocked = state.suspendMask; // sigsuspend returned without running a handler
      state.suspendMask = undefined;
    }
    return Number(this.k.engine.reg(this.pcReg));
  }

  private deliverAll(state: ThreadSignals): void {
    for (;;) {
      const signal = nextSignal(this.deliverable(state));
      if (signal === undefined || this.k.exit) return;
      const info = state.pending.take(signal) ?? this.process.shared.take(signal)!;
      const action = this.action(signal);
      if (action.handler === SIG_IGN) continue;
      if (action.handler === SIG_DFL) {
        if (defaultAction(signal) === 'terminate') this.k.terminate(128 + signal, signal);
        continue;
      }
      this.runHandler(state, signal, info, action);
    }
  }

  /**
   * A fault the thread can handle becomes a signal frame at the faulting instruction; returns false when it
   * cannot (no handler, the signal blocked — a fault inside its own handler — or ignored): Linux then kills the
   * process (force_sig_info_to_task), and the caller reports the GuestFault as before.
   */
  deliverFault(thread: GuestThread, fault: GuestFault): boolean {
    const raised = faultSignal(fault);
    if (!raised || this.k.exit) return false;
    const state = this.of(thread);
    const action = this.action(raised.signal);
    if (hasSignal(state.blocked, raised.signal) || action.handler === SIG_DFL || action.handler === SIG_IGN) return false;
    this.k.engine.setReg(this.pcReg, fault.pc);
    this.runHandler(state, raised.signal, raised.info, action, raised.context);
    this.deliverAll(state);
    return !this.k.exit;
  }

  /** setup_rt_frame + signal_setup_done: push the frame, block sa_mask (and the signal), enter the handler. */
  private runHandler(state: ThreadSignals, signal: number, info: SigInfo, action: SignalAction, fault?: FaultContext): void {
    const engine = this.k.engine;
    if (state.interruptedNr !== undefined && (action.flags & SA_RESTART) !== 0) this.restartSyscall(state.interruptedNr);
    state.interruptedNr = undefined;
    const regs = readRegisters(engine);
    const request = {
      signal, info, action, regs, fault, fpu: readFpu(engine), savedMask: state.suspendMask ?? state.blocked, altstack: state.altstack,
    };
    const frame = this.k.arch === 'amd64' ? buildFrameAmd64(request) : buildFrameI386(request);
    if (!this.k.options.space.isMapped(frame.address, frame.bytes.length)) {
      // force_sigsegv: the frame does not fit (stack overflow, bad altstack).
      this.k.terminate(128 + SIGSEGV, SIGSEGV);
      return;
    }
    engine.write(frame.address, frame.bytes);
    writeRegisters(engine, frame.regs);
    resetFpu(engine); // fpu__clear_user_states: the handler starts with a clean FPU control state
    state.suspendMask = undefined;
    state.blocked = (state.blocked | action.mask | ((action.flags & SA_NODEFER) !== 0 ? 0n : sigbit(signal))) & ~UNBLOCKABLE;
    if ((action.flags & SA_RESETHAND) !== 0) this.process.actions[signal] = DEFAULT_ACTION;
    if ((state.altstack.flags & SS_AUTODISARM) !== 0 && onSigStack(frame.regs[this.spReg]!, state.altstack)) state.altstack = DISABLED_ALTSTACK;
  }

  /**
   * handle_signal's -ERESTARTSYS with SA_RESTART: the frame saves the state from before the system call (its number
   * back in the result register, the pc on the `syscall` / `int $0x80`), so that sigreturn runs the call again.
   */
  private restartSyscall(nr: number): void {
    const engine = this.k.engine;
    engine.setReg(this.k.arch === 'amd64' ? 'rax' : 'eax', BigInt(nr));
    engine.setReg(this.pcReg, engine.reg(this.pcReg) - BigInt(SYSCALL_INSTRUCTION_BYTES));
  }

  /** restore_sigcontext + fpu__restore_sig + set_current_blocked + restore_altstack. */
  private sigreturn(state: ThreadSignals): void {
    const kind = state.sigreturn;
    state.sigreturn = undefined;
    const engine = this.k.engine;
    const sp = engine.reg(this.spReg);
    let restored: RestoredContext;
    let fxsave: number;
    try {
      if (this.k.arch === 'amd64') {
        restored = parseUcontextAmd64(this.k.readGuest(Number(amd64UcontextAddress(sp)), UCONTEXT.size));
        fxsave = restored.fpstate;
      } else if (kind === 'rt') {
        restored = parseRtFrameI386(this.k.readGuest(Number(i386RtFrameAddress(sp)), RT_SIGFRAME_32.size));
        fxsave = restored.fpstate && i386FxsaveAddress(restored.fpstate);
      } else {
        restored = parseFrameI386(this.k.readGuest(Number(i386FrameAddress(sp)), SIGFRAME_32.size));
        fxsave = restored.fpstate && i386FxsaveAddress(restored.fpstate);
      }
      const flags = engine.reg(this.flagsReg);
      const regs = { ...restored.regs };
      regs[this.flagsReg] = (flags & ~FIX_EFLAGS) | ((regs[this.flagsReg] ?? 0n) & FIX_EFLAGS);
      writeRegisters(engine, regs);
      if (fxsave !== 0) writeFpu(engine, decodeFxsave(this.k.readGuest(fxsave, FXSAVE_BYTES), xmmCount(this.k.arch)));
    } catch {
      // A frame the handler destroyed: Linux sends SIGSEGV (signal_fault), which ends the process.
      this.k.terminate(128 + SIGSEGV, SIGSEGV);
      return;
    }
    state.blocked = restored.mask & ~UNBLOCKABLE;
    if (restored.altstack) this.restoreAltstack(state, restored.altstack, restored.regs[this.spReg]!);
  }

  /** restore_altstack: errors (e.g. EPERM while on the stack) are ignored, as Linux does. */
  private restoreAltstack(state: ThreadSignals, saved: AltStack, sp: bigint): void {
    if (onSigStack(sp, state.altstack)) return;
    state.altstack = saved.size === 0n ? DISABLED_ALTSTACK : saved;
  }
}
