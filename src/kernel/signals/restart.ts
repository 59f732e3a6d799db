/**
 * Which interrupted system calls run again after a signal handler (arch/x86/kernel/signal.c handle_signal): a wait
 * that a signal ends returns -ERESTARTSYS, -ERESTARTNOHAND or -ERESTART_RESTARTBLOCK inside the kernel, and when a
 * handler runs only -ERESTARTSYS is restarted, and only if the handler was installed with SA_RESTART (glibc's
 * `signal()` sets it); the others return EINTR. Pure.
 *
 *   -ERESTARTSYS: read/write and their vector forms on pipes and eventfds (pipe_read, pipe_write,
 *                 eventfd_read/write), a futex wait without a timeout (futex_wait).
 *   -ERESTARTNOHAND, -ERESTART_RESTARTBLOCK: poll, select, epoll_wait and their variants, nanosleep,
 *                 clock_nanosleep, rt_sigsuspend, a futex wait with a timeout — EINTR once a handler ran.
 */

/** System calls that wait and end with -ERESTARTSYS when a signal interrupts them (given no timeout for futex). */
const RESTART_SYS = new Set(['read', 'readv', 'write', 'writev', 'pread64', 'pwrite64', 'preadv', 'pwritev']);

/** Whether the system call `name`, waiting (`timed`: with a timeout), is run again after a SA_RESTART handler. */
export function restartsWithSaRestart(name: string, timed: boolean): boolean {
  if (name === 'futex') return !timed;
  return RESTART_SYS.has(name);
}
