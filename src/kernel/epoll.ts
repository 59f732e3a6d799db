/**
 * epoll(7): an interest list of (descriptor, open file, events, data) and the readiness it reports — level
 * triggered by default, once per change with EPOLLET (what Go's netpoller registers: EPOLLIN|EPOLLOUT|EPOLLRDHUP|
 * EPOLLET), disabled after one report with EPOLLONESHOT. Readiness comes from each file's FileOps.poll; a "change"
 * is a kernel.notify of the file's channel (every write into a pipe is one, as Linux wakes the wait queue).
 */
import { ERRNO, ErrnoError } from './errno.ts';
import type { FileOps, OpenFile } from './fd-table.ts';
import type { Kernel } from './kernel.ts';
import { POLLERR, POLLHUP, POLLIN, POLLOUT } from './pipe.ts';

/** linux/eventpoll.h */
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;
export const EPOLLONESHOT = 1 << 30;
export const EPOLLET = 2 ** 31;
/** struct epoll_event: u32 events, u64 data — 12 bytes on amd64 (packed) and on i386 (4-byte alignment of u64). */
export const EPOLL_EVENT_BYTES = 12;

interface Interest {
  fd: number;
  file: OpenFile;
  events: number;
  data: bigint;
  /** EPOLLET: the channel generation last reported. */
  reported: number;
}

export interface ReadyEvent {
  events: number;
  data: bigint;
}

/** Readiness of any open file: special files ask their FileOps; regular files and directories are always ready. */
export function readiness(file: OpenFile): number {
  return file.ops ? file.ops.poll(file) : POLLIN | POLLOUT;
}

export class EpollInstance {
  /** Keyed by descriptor number, in the order added (level-triggered reports rotate to the back, like Linux). */
  private readonly interest = new Map<number, Interest>();

  add(fd: number, file: OpenFile, events: number, data: bigint): void {
    if (this.interest.has(fd)) throw new ErrnoError(ERRNO.EEXIST);
    this.interest.set(fd, { fd, file, events, data, reported: -1 });
  }

  modify(fd: number, events: number, data: bigint): void {
    const entry = this.require(fd);
    entry.events = events;
    entry.data = data;
    entry.reported = -1;
  }

  remove(fd: number): void {
    this.require(fd);
    this.interest.delete(fd);
  }

  /** The channels whose notification can change what `collect` returns. */
  channels(self: object): object[] {
    return [self, ...[...this.interest.values()].flatMap((e) => (e.file.ops ? [e.file.ops.channel] : []))];
  }

  /** Up to `max` ready events, consuming edge-triggered and one-shot reports. */
  collect(k: Kernel, max: number): ReadyEvent[] {
    const ready: ReadyEvent[] = [];
    for (const entry of [...this.interest.values()]) {
      if (ready.length >= max) break;
      // A description closed everywhere leaves every interest list (Linux's eventpoll_release).
      if (entry.file.refs === 0) {
        this.interest.delete(entry.fd);
        continue;
      }
      const events = readiness(entry.file) & (entry.events | POLLERR | POLLHUP);
      if (events === 0) continue;
      const ops = entry.file.ops;
      if ((entry.events & EPOLLET) !== 0) {
        const generation = ops ? k.generation(ops.channel) : 0;
        if (generation === entry.reported) continue;
        entry.reported = generation;
      }
      if ((entry.events & EPOLLONESHOT) !== 0) entry.events = 0;
      ready.push({ events, data: entry.data });
      // Rotate: the next wait reports the others first.
      this.interest.delete(entry.fd);
      this.interest.set(entry.fd, entry);
    }
    return ready;
  }

  private require(fd: number): Interest {
    const entry = this.interest.get(fd);
    if (!entry) throw new ErrnoError(ERRNO.ENOENT);
    return entry;
  }
}

/** The epoll file itself: readable while some event is ready (poll/epoll on an epoll descriptor). */
export function epollOps(instance: EpollInstance): FileOps {
  return {
    channel: instance,
    poll: () => 0, // nesting epoll descriptors is not supported: an epoll fd never reports ready
  };
}

export function encodeEvents(events: ReadyEvent[]): Uint8Array {
  const bytes = new Uint8Array(events.length * EPOLL_EVENT_BYTES);
  const view = new DataView(bytes.buffer);
  events.forEach((e, i) => {
    view.setUint32(i * EPOLL_EVENT_BYTES, e.events >>> 0, true);
    view.setBigUint64(i * EPOLL_EVENT_BYTES + 4, e.data, true);
  });
  return bytes;
}
