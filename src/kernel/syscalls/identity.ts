/**
 * The process and its world: ids, uname, resource limits, randomness, prctl, and the sockets it may not have.
 */
import { ERRNO, ErrnoError } from '../errno.ts';
import { MAX_OPEN_FILES } from '../fd-table.ts';
import type { Kernel } from '../kernel.ts';
import { encodeUtsname, encodeWords } from '../structs.ts';
import { num, s32, type SyscallTable } from '../syscall.ts';

const RLIM_INFINITY = 0xffffffffffffffffn;
const RLIMIT_STACK = 3;
const RLIMIT_NOFILE = 7;
const STACK_RLIMIT = 8 * 1024 * 1024;
/** prctl options (linux/prctl.h) the guest's libraries use. */
const PR_SET_NAME = 15;
const PR_GET_NAME = 16;
const PR_CAPBSET_READ = 23;
/** CAP_LAST_CAP of Linux 6.1: libcap's constructor probes the bounding set to find it. */
const CAP_LAST_CAP = 40;
const TASK_COMM_LEN = 16;

function rlimit(resource: number): [bigint, bigint] {
  if (resource === RLIMIT_STACK) return [BigInt(STACK_RLIMIT), RLIM_INFINITY];
  if (resource === RLIMIT_NOFILE) return [BigInt(MAX_OPEN_FILES), BigInt(MAX_OPEN_FILES)];
  return [RLIM_INFINITY, RLIM_INFINITY];
}

function prctl(k: Kernel, a: bigint[]): number {
  switch (s32(a[0]!)) {
    case PR_CAPBSET_READ:
      if (s32(a[1]!) < 0 || s32(a[1]!) > CAP_LAST_CAP) throw new ErrnoError(ERRNO.EINVAL);
      return 1; // every capability is in the bounding set, as for root
    case PR_SET_NAME:
      k.threadName = k.readString(num(a[1]!), TASK_COMM_LEN).slice(0, TASK_COMM_LEN - 1);
      return 0;
    case PR_GET_NAME: {
      const name = new Uint8Array(TASK_COMM_LEN);
      name.set(new TextEncoder().encode(k.threadName).subarray(0, TASK_COMM_LEN - 1));
      k.writeGuest(num(a[1]!), name);
      return 0;
    }
    default:
      throw new ErrnoError(ERRNO.EINVAL);
  }
}

const refuse = (errno: number) => () => {
  throw new ErrnoError(errno);
};

/**
 * Every socket system call, under its amd64 and i386 names (i386 has both `socketcall` and, since Linux 4.3,
 * direct calls). All are refused alike, so that a guest sees the same answer whichever way its libc goes.
 */
const SOCKET_SYSCALLS = [
  'socket', 'socketpair', 'socketcall', 'connect', 'bind', 'listen', 'accept', 'accept4', 'sendto', 'recvfrom',
  'sendmsg', 'recvmsg', 'sendmmsg', 'recvmmsg', 'recvmmsg_time64', 'shutdown', 'getsockname', 'getpeername',
  'setsockopt', 'getsockopt',
] as const;

/** The guest has no network: sockets are refused by policy, the way a sandbox would (not "unimplemented"). */
const REFUSED_SOCKETS: SyscallTable = Object.fromEntries(SOCKET_SYSCALLS.map((name) => [name, refuse(ERRNO.EACCES)]));

export const IDENTITY_SYSCALLS: SyscallTable = {
  getpid: (k) => k.options.pid,
  getppid: () => 1,
  getuid: () => 0, geteuid: () => 0, getgid: () => 0, getegid: () => 0,
  getuid32: () => 0, geteuid32: () => 0, getgid32: () => 0, getegid32: () => 0,
  uname: (k, a) => {
    const machine = k.arch === 'amd64' ? 'x86_64' : 'i686';
    k.writeGuest(num(a[0]!), encodeUtsname(['Linux', 'shimulator', '6.1.0-shimulator', '#1 SMP', machine, '(none)']));
    return 0;
  },
  prlimit64: (k, a) => {
    if (a[3]! !== 0n) k.writeGuest(num(a[3]!), encodeWords(rlimit(s32(a[1]!)), 8));
    return 0;
  },
  getrlimit: (k, a) => (k.writeGuest(num(a[1]!), encodeWords(rlimit(s32(a[0]!)), k.pointerSize)), 0),
  ugetrlimit: (k, a) => (k.writeGuest(num(a[1]!), encodeWords(rlimit(s32(a[0]!)), 4)), 0),
  getrandom: (k, a) => getrandom(k, num(a[0]!), num(a[1]!)),
  prctl,
  ...REFUSED_SOCKETS,
  rseq: refuse(ERRNO.ENOSYS), // glibc works without restartable sequences
};

/** Random bytes generated and copied at a time: a gigabyte asked for must not be a gigabyte of host memory. */
const GETRANDOM_CHUNK = 1 << 20;

/** Fills the buffer a chunk at a time, as Linux does: a fault after some chunks returns the bytes before it. */
function getrandom(k: Kernel, address: number, length: number): number {
  let done = 0;
  while (done < length) {
    const size = Math.min(GETRANDOM_CHUNK, length - done);
    try {
      k.writeGuest(address + done, k.options.random.bytes(size));
    } catch (error) {
      if (done > 0 && error instanceof ErrnoError) return done;
      throw error;
    }
    done += size;
  }
  return done;
}
