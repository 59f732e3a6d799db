/**
 * Signal state, as Linux keeps it: the actions are per process (struct sighand_struct), the blocked mask, the
 * pending signals and the alternate stack per thread (task_struct), plus the process-wide pending set
 * (signal_struct.shared_pending) that kill() fills. Standard signals do not queue: a second instance while one is
 * pending is merged, keeping the first siginfo (real-time signals are merged the same way here: approximated).
 */
import { type AltStack, DISABLED_ALTSTACK } from './frame.ts';
import { EMPTY_SET, NSIG, SIG_DFL, type SigSet } from './numbers.ts';
import type { SigInfo } from './siginfo.ts';

/** struct k_sigaction: sa_handler (or SIG_DFL / SIG_IGN), sa_flags, sa_restorer, sa_mask. */
export interface SignalAction {
  handler: bigint;
  flags: number;
  restorer: bigint;
  mask: SigSet;
}

export const DEFAULT_ACTION: SignalAction = { handler: SIG_DFL, flags: 0, restorer: 0n, mask: EMPTY_SET };

/** Pending signals with the siginfo of the instance that will be delivered. */
export class PendingSignals {
  private readonly infos = new Map<number, SigInfo>();
  private bits: SigSet = EMPTY_SET;

  get set(): SigSet {
    return this.bits;
  }

  /** The pending instances (snapshots). */
  state(): SigInfo[] {
    return [...this.infos.values()].map((i) => ({ ...i }));
  }

  restoreState(infos: readonly SigInfo[]): void {
    this.infos.clear();
    this.bits = EMPTY_SET;
    for (const info of infos) this.add({ ...info });
  }

  add(info: SigInfo): void {
    if (this.infos.has(info.signo)) return;
    this.infos.set(info.signo, info);
    this.bits |= 1n << BigInt(info.signo - 1);
  }

  take(signal: number): SigInfo | undefined {
    const info = this.infos.get(signal);
    if (info) {
      this.infos.delete(signal);
      this.bits &= ~(1n << BigInt(signal - 1));
    }
    return info;
  }
}

export class ThreadSignals {
  blocked: SigSet = EMPTY_SET;
  readonly pending = new PendingSignals();
  altstack: AltStack = DISABLED_ALTSTACK;
  /** rt_sigsuspend: the mask to restore once a handler returns (the frame's uc_sigmask). */
  suspendMask: SigSet | undefined;
  /** A sigreturn the thread asked for: applied before it resumes (outside the system-call hook). */
  sigreturn: 'rt' | 'legacy' | undefined;
  /** A system call a signal interrupted, to run again if the handler that runs next has SA_RESTART (restart.ts). */
  interruptedNr: number | undefined;
}

export class ProcessSignals {
  readonly actions: SignalAction[] = Array.from({ length: NSIG + 1 }, () => DEFAULT_ACTION);
  readonly shared = new PendingSignals();
}
