/**
 * Waiting for files: eventfd, epoll (Go's netpoller) and poll/ppoll, over the readiness each file reports. A wait
 * with nothing ready blocks the thread on the files' channels; a notification restarts the call (with its first
 * deadline kept), a timeout on the virtual clock ends it with 0.
 */
import { EpollInstance, encodeEvents, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD, EPOLL_EVENT_BYTES, epollOps, readiness } from '../epoll.ts';
import { ERRNO, ErrnoError } from '../errno.ts';
import { EFD_SEMAPHORE, EventCounter, eventfdOps } from '../eventfd.ts';
import { MAX_OPEN_FILES } from '../fd-table.ts';
import type { Kernel } from '../kernel.ts';
import { POLLERR, POLLHUP } from '../pipe.ts';
import { BLOCKED, num, s32, type SyscallTable, u32 } from '../syscall.ts';
import { O_CLOEXEC, O_NONBLOCK } from './files.ts';
import { readTimespec } from './time.ts';

const O_RDWR = 2;
/** poll(2)'s answer for a descriptor that is not open (asm-generic/poll.h). */
const POLLNVAL = 0x20;
/** struct pollfd: int fd; short events; short revents. */
const POLLFD_BYTES = 8;
/** epoll_create1's only flag, EPOLL_CLOEXEC = O_CLOEXEC (linux/eventpoll.h). */
const EPOLL_CLOEXEC = O_CLOEXEC;
const NS_PER_MS = 1_000_000n;
/** Linux's EP_MAX_EVENTS: INT_MAX / sizeof(struct epoll_event). */
const EP_MAX_EVENTS = Math.floor(0x7fffffff / EPOLL_EVENT_BYTES);

function eventfd(k: Kernel, initial: number, flags: number): number {
  if ((flags & ~(EFD_SEMAPHORE | O_CLOEXEC | O_NONBLOCK)) !== 0) throw new ErrnoError(ERRNO.EINVAL);
  const counter = new EventCounter(BigInt(initial), (flags & EFD_SEMAPHORE) !== 0);
  const file = { node: k.options.vfs.anonymous('anon_inode:[eventfd]'), ops: eventfdOps(counter), offset: 0, flags: O_RDWR | (flags & O_NONBLOCK) };
  return k.files.allocate(file, 0, (flags & O_CLOEXEC) !== 0);
}

function epollCreate(k: Kernel, flags: number): number {
  if ((flags & ~EPOLL_CLOEXEC) !== 0) throw new ErrnoError(ERRNO.EINVAL);
  const file = { node: k.options.vfs.anonymous('anon_inode:[eventpoll]'), ops: epollOps(new EpollInstance()), offset: 0, flags: O_RDWR };
  return k.files.allocate(file, 0, (flags & EPOLL_CLOEXEC) !== 0);
}

function epollInstance(k: Kernel, epfd: number): EpollInstance {
  const channel = k.files.file(epfd).ops?.channel;
  if (!(channel instanceof EpollInstance)) throw new ErrnoError(ERRNO.EINVAL);
  return channel;
}

function epollCtl(k: Kernel, epfd: number, op: number, fd: number, eventAddress: number): number {
  const instance = epollInstance(k, epfd);
  const file = k.files.file(fd);
  if (fd === epfd) throw new ErrnoError(ERRNO.EINVAL);
  // Regular files and directories cannot be watched: Linux answers EPERM (Go then falls back to blocking I/O).
  if (!file.ops) throw new ErrnoError(ERRNO.EPERM);
  const event = () => {
    const raw = k.readGuest(eventAddress, EPOLL_EVENT_BYTES);
    const view = new DataView(raw.buffer, raw.byteOffset, EPOLL_EVENT_BYTES);
    return { events: view.getUint32(0, true), data: view.getBigUint64(4, true) };
  };
  switch (op) {
    case EPOLL_CTL_ADD: {
      const e = event();
      instance.add(fd, file, e.events, e.data);
      break;
    }
    case EPOLL_CTL_MOD: {
      const e = event();
      instance.modify(fd, e.events, e.data);
      break;
    }
    case EPOLL_CTL_DEL:
      instance.remove(fd);
      break;
    default:
      throw new ErrnoError(ERRNO.EINVAL);
  }
  k.notify(instance); // a waiter re-checks the new interest list
  return 0;
}

/** The absolute deadline of a wait of `timeout` ns from now (undefined: forever); a restarted call keeps its first. */
function deadlineOf(k: Kernel, timeout: bigint | undefined): bigint | undefined {
  if (k.resumed) return k.resumed.deadline;
  return timeout === undefined ? undefined : k.now() + timeout;
}

const millis = (timeout: number): bigint | undefined => (timeout < 0 ? undefined : BigInt(timeout) * NS_PER_MS);

function epollWait(k: Kernel, epfd: number, address: number, max: number, timeout: bigint | undefined): number | typeof BLOCKED {
  if (max <= 0 || max > EP_MAX_EVENTS) throw new ErrnoError(ERRNO.EINVAL);
  const instance = epollInstance(k, epfd);
  const ready = instance.collect(k, max);
  if (ready.length > 0) {
    k.writeGuest(address, encodeEvents(ready));
    return ready.length;
  }
  const deadline = deadlineOf(k, timeout);
  if (timeout === 0n || (deadline !== undefined && deadline <= k.now())) return 0;
  return k.waitFor(instance.channels(instance), deadline);
}

/** poll(2) over struct pollfd[nfds]. */
function poll(k: Kernel, address: number, count: number, timeout: bigint | undefined): number | typeof BLOCKED {
  // Linux: more descriptors than RLIMIT_NOFILE is EINVAL (and bounds what is read from guest memory).
  if (count > MAX_OPEN_FILES) throw new ErrnoError(ERRNO.EINVAL);
  const raw = count > 0 ? k.readGuest(address, count * POLLFD_BYTES) : new Uint8Array(0);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const channels: object[] = [];
  let ready = 0;
  for (let i = 0; i < count; i++) {
    const fd = view.getInt32(i * POLLFD_BYTES, true);
    const events = view.getUint16(i * POLLFD_BYTES + 4, true);
    let revents = 0;
    if (fd >= 0) {
      if (!k.files.isOpen(fd)) revents = POLLNVAL;
      else {
        const file = k.files.file(fd);
        revents = readiness(file) & (events | POLLERR | POLLHUP);
        if (file.ops) channels.push(file.ops.channel);
      }
    }
    view.setUint16(i * POLLFD_BYTES + 6, revents, true);
    if (revents !== 0) ready++;
  }
  const deadline = deadlineOf(k, timeout);
  if (ready > 0 || timeout === 0n || (deadline !== undefined && deadline <= k.now())) {
    if (count > 0) k.writeGuest(address, raw);
    return ready;
  }
  return k.waitFor(channels, deadline);
}

/** ppoll's timespec (NULL: forever). */
function ppollTimeout(k: Kernel, address: bigint, wordSize: 4 | 8): bigint | undefined {
  return address === 0n ? undefined : readTimespec(k, num(address), wordSize);
}

export const POLLING_SYSCALLS: SyscallTable = {
  eventfd: (k, a) => eventfd(k, u32(a[0]!), 0),
  eventfd2: (k, a) => eventfd(k, u32(a[0]!), s32(a[1]!)),
  epoll_create: (k, a) => {
    if (s32(a[0]!) <= 0) throw new ErrnoError(ERRNO.EINVAL);
    return epollCreate(k, 0);
  },
  epoll_create1: (k, a) => epollCreate(k, s32(a[0]!)),
  epoll_ctl: (k, a) => epollCtl(k, s32(a[0]!), s32(a[1]!), s32(a[2]!), num(a[3]!)),
  epoll_wait: (k, a) => epollWait(k, s32(a[0]!), num(a[1]!), s32(a[2]!), millis(s32(a[3]!))),
  // The signal mask is the signal layer's business; no handler runs during the wait here.
  epoll_pwait: (k, a) => epollWait(k, s32(a[0]!), num(a[1]!), s32(a[2]!), millis(s32(a[3]!))),
  poll: (k, a) => poll(k, num(a[0]!), u32(a[1]!), millis(s32(a[2]!))),
  ppoll: (k, a) => poll(k, num(a[0]!), u32(a[1]!), ppollTimeout(k, a[2]!, k.pointerSize)),
  ppoll_time64: (k, a) => poll(k, num(a[0]!), u32(a[1]!), ppollTimeout(k, a[2]!, 8)),
};
