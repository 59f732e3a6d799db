/**
 * Signal system calls with Linux's semantics and struct layouts (kernel/signal.c; arch/x86 struct sigaction:
 * {handler, flags, restorer, mask} in pointer-sized words, the mask 8 bytes). State and delivery live in
 * ../signals/; these handlers read and write guest memory and ask the scheduler to deliver (`stopIfDeliverable`)
 * when a call may have made a signal deliverable to the caller.
 */
import { ERRNO, ErrnoError } from '../errno.ts';
import type { Kernel } from '../kernel.ts';
import { type AltStack, altstackFlags, DISABLED_ALTSTACK, onSigStack } from '../signals/frame.ts';
import {
  FULL_SET, isValidSignal, MINSIGSTKSZ, SI_TKILL, SI_USER, SIG_BLOCK, SIG_SETMASK, SIG_UNBLOCK, SIGKILL, SIGSET_BYTES, SIGSTOP,
  type SigSet, SS_AUTODISARM, SS_DISABLE, SS_ONSTACK, UNBLOCKABLE,
} from '../signals/numbers.ts';
import type { SignalAction } from '../signals/state.ts';
import { BLOCKED, num, s32, type SyscallTable } from '../syscall.ts';

export { SIGABRT } from '../signals/numbers.ts';

/** The uid kill/tgkill put in si_uid (identity.ts answers 0 for getuid). */
const UID = 0;

function word(k: Kernel, bytes: Uint8Array, index: number): bigint {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  return k.pointerSize === 8 ? view.getBigUint64(index * 8, true) : BigInt(view.getUint32(index * 4, true));
}

function putWord(k: Kernel, view: DataView, index: number, value: bigint): void {
  if (k.pointerSize === 8) view.setBigUint64(index * 8, BigInt.asUintN(64, value), true);
  else view.setUint32(index * 4, Number(BigInt.asUintN(32, value)), true);
}

function readSigset(k: Kernel, address: number): SigSet {
  return new DataView(k.readGuest(address, SIGSET_BYTES).buffer).getBigUint64(0, true);
}

function writeSigset(k: Kernel, address: number, set: SigSet): void {
  const bytes = new Uint8Array(SIGSET_BYTES);
  new DataView(bytes.buffer).setBigUint64(0, set, true);
  k.writeGuest(address, bytes);
}

function checkSigsetSize(size: bigint): void {
  if (size !== BigInt(SIGSET_BYTES)) throw new ErrnoError(ERRNO.EINVAL);
}

/** struct sigaction (kernel layout): handler, flags, restorer (one word each), then the 8-byte mask. */
const sigactionBytes = (k: Kernel) => 3 * k.pointerSize + SIGSET_BYTES;

function readSigaction(k: Kernel, address: number): SignalAction {
  const bytes = k.readGuest(address, sigactionBytes(k));
  const mask = new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(3 * k.pointerSize, true);
  return { handler: word(k, bytes, 0), flags: Number(word(k, bytes, 1) & 0xffffffffn), restorer: word(k, bytes, 2), mask: mask & ~UNBLOCKABLE };
}

function writeSigaction(k: Kernel, address: number, action: SignalAction): void {
  const bytes = new Uint8Array(sigactionBytes(k));
  const view = new DataView(bytes.buffer);
  putWord(k, view, 0, action.handler);
  putWord(k, view, 1, BigInt(action.flags >>> 0));
  putWord(k, view, 2, action.restorer);
  view.setBigUint64(3 * k.pointerSize, action.mask, true);
  k.writeGuest(address, bytes);
}

function rtSigaction(k: Kernel, signal: number, act: number, oldact: number, sigsetsize: bigint): number {
  checkSigsetSize(sigsetsize);
  if (!isValidSignal(signal) || (act !== 0 && (signal === SIGKILL || signal === SIGSTOP))) throw new ErrnoError(ERRNO.EINVAL);
  const next = act !== 0 ? readSigaction(k, act) : undefined; // read first: act and oldact may be the same struct
  if (oldact !== 0) writeSigaction(k, oldact, k.signals.action(signal));
  if (next) k.signals.setAction(signal, next);
  return 0;
}

function rtSigprocmask(k: Kernel, how: number, set: number, oldset: number, sigsetsize: bigint): number {
  checkSigsetSize(sigsetsize);
  const state = k.signals.current;
  const old = state.blocked;
  if (set !== 0) {
    const change = readSigset(k, set);
    if (how === SIG_BLOCK) state.blocked = old | change;
    else if (how === SIG_UNBLOCK) state.blocked = old & ~change;
    else if (how === SIG_SETMASK) state.blocked = change;
    else throw new ErrnoError(ERRNO.EINVAL);
    state.blocked &= ~UNBLOCKABLE & FULL_SET;
  }
  if (oldset !== 0) writeSigset(k, oldset, old);
  k.signals.stopIfDeliverable();
  return 0;
}

/** stack_t: ss_sp (word), ss_flags (int, padded to a word on amd64), ss_size (word). */
function readStack(k: Kernel, address: number): AltStack {
  const bytes = k.readGuest(address, 3 * k.pointerSize);
  return { sp: word(k, bytes, 0), flags: Number(BigInt.asIntN(32, word(k, bytes, 1) & 0xffffffffn)), size: word(k, bytes, 2) };
}

function writeStack(k: Kernel, address: number, stack: AltStack): void {
  const bytes = new Uint8Array(3 * k.pointerSize);
  const view = new DataView(bytes.buffer);
  putWord(k, view, 0, stack.sp);
  view.setInt32(k.pointerSize, stack.flags, true);
  putWord(k, view, 2, stack.size);
  k.writeGuest(address, bytes);
}

/** do_sigaltstack: EPERM while running on the stack, EINVAL for unknown flags, ENOMEM below MINSIGSTKSZ. */
function sigaltstack(k: Kernel, ss: number, oldss: number): number {
  const state = k.signals.current;
  const sp = k.engine.reg(k.arch === 'amd64' ? 'rsp' : 'esp');
  const old = state.altstack;
  const next = ss !== 0 ? readStack(k, ss) : undefined;
  if (oldss !== 0) writeStack(k, oldss, { sp: old.sp, size: old.size, flags: altstackFlags(sp, old) | (old.flags & SS_AUTODISARM) });
  if (next) {
    if (onSigStack(sp, old)) throw new ErrnoError(ERRNO.EPERM);
    const mode = next.flags & ~SS_AUTODISARM;
    if (mode !== 0 && mode !== SS_DISABLE && mode !== SS_ONSTACK) throw new ErrnoError(ERRNO.EINVAL);
    if (mode === SS_DISABLE) state.altstack = DISABLED_ALTSTACK;
    else {
      if (next.size < BigInt(MINSIGSTKSZ)) throw new ErrnoError(ERRNO.ENOMEM);
      state.altstack = { sp: next.sp, size: next.size, flags: next.flags & SS_AUTODISARM };
    }
  }
  return 0;
}

function killProcess(k: Kernel, pid: number, signal: number): number {
  if (signal !== 0 && !isValidSignal(signal)) throw new ErrnoError(ERRNO.EINVAL);
  // pid 0 (our group), -1 (everyone we may signal) and our own pid all reach only this process.
  if (pid !== 0 && pid !== -1 && pid !== k.options.pid && pid !== -k.options.pid) throw new ErrnoError(ERRNO.ESRCH);
  if (signal !== 0) k.signals.send('process', { signo: signal, code: SI_USER, pid: k.options.pid, uid: UID });
  return 0;
}

function killThread(k: Kernel, tgid: number | undefined, tid: number, signal: number): number {
  if (tid <= 0 || (tgid !== undefined && tgid <= 0)) throw new ErrnoError(ERRNO.EINVAL);
  if (signal !== 0 && !isValidSignal(signal)) throw new ErrnoError(ERRNO.EINVAL);
  const thread = k.threads.byTid(tid);
  if (!thread || thread.state === 'exited' || (tgid !== undefined && tgid !== k.options.pid)) throw new ErrnoError(ERRNO.ESRCH);
  if (signal !== 0) k.signals.send(thread, { signo: signal, code: SI_TKILL, pid: k.options.pid, uid: UID });
  return 0;
}

/** rt_sigsuspend: wait with `mask` blocked until a handler runs; then -EINTR, the old mask back after the handler. */
function rtSigsuspend(k: Kernel, mask: SigSet): number | typeof BLOCKED {
  const state = k.signals.current;
  state.suspendMask = state.blocked;
  state.blocked = mask & ~UNBLOCKABLE;
  k.signals.stopIfDeliverable();
  const deliverable = k.signals.hasDeliverable(k.threads.current);
  if (deliverable) return -ERRNO.EINTR;
  return k.block({ kind: 'sleep' });
}

export const SIGNAL_SYSCALLS: SyscallTable = {
  rt_sigaction: (k, a) => rtSigaction(k, s32(a[0]!), num(a[1]!), num(a[2]!), a[3]!),
  rt_sigprocmask: (k, a) => rtSigprocmask(k, s32(a[0]!), num(a[1]!), num(a[2]!), a[3]!),
  rt_sigpending: (k, a) => {
    checkSigsetSize(a[1]!);
    writeSigset(k, num(a[0]!), k.signals.pendingOf(k.threads.current));
    return 0;
  },
  rt_sigsuspend: (k, a) => {
    checkSigsetSize(a[1]!);
    return rtSigsuspend(k, readSigset(k, num(a[0]!)));
  },
  sigaltstack: (k, a) => sigaltstack(k, num(a[0]!), num(a[1]!)),
  kill: (k, a) => killProcess(k, s32(a[0]!), s32(a[1]!)),
  tkill: (k, a) => killThread(k, undefined, s32(a[0]!), s32(a[1]!)),
  tgkill: (k, a) => killThread(k, s32(a[0]!), s32(a[1]!), s32(a[2]!)),
  rt_sigreturn: (k) => (k.signals.requestSigreturn('rt'), 0),
  /** i386 only: the return path of handlers installed without SA_SIGINFO. */
  sigreturn: (k) => (k.signals.requestSigreturn('legacy'), 0),
};
