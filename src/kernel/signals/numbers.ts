/**
 * Signal numbers, flags and codes (the same on i386 and amd64: asm/signal.h, asm-generic/signal-defs.h,
 * asm-generic/siginfo.h), signal sets, and what each signal does by default (signal(7)).
 */

export const SIGHUP = 1;
export const SIGINT = 2;
export const SIGQUIT = 3;
export const SIGILL = 4;
export const SIGTRAP = 5;
export const SIGABRT = 6;
export const SIGBUS = 7;
export const SIGFPE = 8;
export const SIGKILL = 9;
export const SIGUSR1 = 10;
export const SIGSEGV = 11;
export const SIGUSR2 = 12;
export const SIGPIPE = 13;
export const SIGALRM = 14;
export const SIGTERM = 15;
export const SIGCHLD = 17;
export const SIGCONT = 18;
export const SIGSTOP = 19;
export const SIGTSTP = 20;
export const SIGTTIN = 21;
export const SIGTTOU = 22;
export const SIGURG = 23;
export const SIGWINCH = 28;
export const SIGSYS = 31;
/** Signals are numbered 1..64 (_NSIG). */
export const NSIG = 64;

/** sa_handler values (asm-generic/signal-defs.h). */
export const SIG_DFL = 0n;
export const SIG_IGN = 1n;

/** sa_flags (asm/signal.h, x86). */
export const SA_SIGINFO = 0x4;
export const SA_ONSTACK = 0x08000000;
export const SA_RESTART = 0x10000000;
export const SA_NODEFER = 0x40000000;
export const SA_RESETHAND = 0x80000000;
export const SA_RESTORER = 0x04000000;

/** rt_sigprocmask `how`. */
export const SIG_BLOCK = 0;
export const SIG_UNBLOCK = 1;
export const SIG_SETMASK = 2;

/** sigaltstack ss_flags (asm-generic/signal-defs.h, linux/signal.h) and the minimum size (asm/signal.h). */
export const SS_ONSTACK = 1;
export const SS_DISABLE = 2;
export const SS_AUTODISARM = 1 << 31;
export const MINSIGSTKSZ = 2048;

/** si_code values (asm-generic/siginfo.h). */
export const SI_USER = 0;
export const SI_KERNEL = 0x80;
export const SI_TKILL = -6;
export const SEGV_MAPERR = 1;
export const SEGV_ACCERR = 2;
export const BUS_ADRALN = 1;
export const FPE_INTDIV = 1;
export const FPE_FLTINV = 7;
export const ILL_ILLOPN = 2;
export const TRAP_BRKPT = 1;

/** The kernel's sigset_t is 64 bits on both architectures: rt_sig* calls demand sigsetsize == 8. */
export const SIGSET_BYTES = 8;

/** A signal set: bit n-1 for signal n. */
export type SigSet = bigint;
export const EMPTY_SET: SigSet = 0n;
export const FULL_SET: SigSet = (1n << BigInt(NSIG)) - 1n;
export const sigbit = (signal: number): SigSet => 1n << BigInt(signal - 1);
export const hasSignal = (set: SigSet, signal: number): boolean => (set & sigbit(signal)) !== 0n;
/** SIGKILL and SIGSTOP can never be blocked (sigprocmask and sa_mask silently drop them). */
export const UNBLOCKABLE: SigSet = sigbit(SIGKILL) | sigbit(SIGSTOP);

export function isValidSignal(signal: number): boolean {
  return Number.isInteger(signal) && signal >= 1 && signal <= NSIG;
}

/** What a signal does under SIG_DFL. 'stop' has no job control here: it is treated as 'ignore' (documented). */
export type DefaultAction = 'terminate' | 'ignore' | 'stop';

const IGNORED_BY_DEFAULT = new Set([SIGCHLD, SIGCONT, SIGURG, SIGWINCH]);
const STOP_BY_DEFAULT = new Set([SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU]);

/** signal(7): everything else — including the real-time signals 32..64 — terminates (with or without a core). */
export function defaultAction(signal: number): DefaultAction {
  if (IGNORED_BY_DEFAULT.has(signal)) return 'ignore';
  if (STOP_BY_DEFAULT.has(signal)) return 'stop';
  return 'terminate';
}

/**
 * Synchronous signals (those a fault raises) are dequeued first, then the lowest number — Linux's next_signal
 * (kernel/signal.c, SYNCHRONOUS_MASK).
 */
const SYNCHRONOUS: SigSet = sigbit(SIGSEGV) | sigbit(SIGBUS) | sigbit(SIGILL) | sigbit(SIGTRAP) | sigbit(SIGFPE) | sigbit(SIGSYS);

export function nextSignal(deliverable: SigSet): number | undefined {
  if (deliverable === 0n) return undefined;
  const set = (deliverable & SYNCHRONOUS) !== 0n ? deliverable & SYNCHRONOUS : deliverable;
  for (let signal = 1; signal <= NSIG; signal++) if (hasSignal(set, signal)) return signal;
  return undefined;
}
