/**
 * Signals. Today: the answers glibc's start-up and pthread_create need (no handler is ever run), and signals a
 * process sends itself (abort, raise) end it.
 */
import type { Kernel } from '../kernel.ts';
import { num, s32, type SyscallTable } from '../syscall.ts';

export const SIGABRT = 6;

export const SIGNAL_SYSCALLS: SyscallTable = {
  rt_sigaction: (k, a) => {
    if (a[2]! !== 0n) k.writeGuest(num(a[2]!), new Uint8Array(k.pointerSize === 8 ? 32 : 20));
    return 0;
  },
  rt_sigprocmask: (k, a) => {
    if (a[2]! !== 0n) k.writeGuest(num(a[2]!), new Uint8Array(8));
    return 0;
  },
  sigaltstack: () => 0,
  tgkill: (k: Kernel, a) => k.terminate(128 + s32(a[2]!), s32(a[2]!)),
  kill: (k: Kernel, a) => (s32(a[1]!) === 0 ? 0 : k.terminate(128 + s32(a[1]!), s32(a[1]!))),
};
