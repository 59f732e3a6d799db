/**
 * eventfd(2): a 64-bit counter as a file. A write adds to it (waiting while it would overflow); a read returns it
 * and resets it to 0 — or, with EFD_SEMAPHORE, returns 1 and decrements it — waiting while it is 0. Go's netpoller
 * wakes epoll_wait with one.
 */
import { ERRNO, ErrnoError } from './errno.ts';
import { type FileOps, type OpenFile, WOULD_BLOCK } from './fd-table.ts';
import type { Kernel } from './kernel.ts';
import { POLLIN, POLLOUT } from './pipe.ts';

/** eventfd flags (linux/eventfd.h). */
export const EFD_SEMAPHORE = 1;
/** The counter's maximum: 2^64 - 2 (a write of 2^64 - 1 is invalid). */
const EVENTFD_MAX = 0xfffffffffffffffen;
const COUNTER_BYTES = 8;

export class EventCounter {
  constructor(
    public value: bigint,
    readonly semaphore: boolean,
  ) {}
}

function encodeCounter(value: bigint): Uint8Array {
  const bytes = new Uint8Array(COUNTER_BYTES);
  new DataView(bytes.buffer).setBigUint64(0, value, true);
  return bytes;
}

export function eventfdOps(counter: EventCounter): FileOps {
  return {
    channel: counter,
    read(k: Kernel, _file: OpenFile, count: number) {
      if (count < COUNTER_BYTES) throw new ErrnoError(ERRNO.EINVAL);
      if (counter.value === 0n) return WOULD_BLOCK;
      const taken = counter.semaphore ? 1n : counter.value;
      counter.value -= taken;
      k.notify(counter);
      return encodeCounter(taken);
    },
    write(k: Kernel, _file: OpenFile, bytes: Uint8Array) {
      if (bytes.length < COUNTER_BYTES) throw new ErrnoError(ERRNO.EINVAL);
      const add = new DataView(bytes.buffer, bytes.byteOffset, COUNTER_BYTES).getBigUint64(0, true);
      if (add > EVENTFD_MAX) throw new ErrnoError(ERRNO.EINVAL);
      if (add === 0n) return COUNTER_BYTES;
      if (EVENTFD_MAX - counter.value < add) return WOULD_BLOCK;
      counter.value += add;
      k.notify(counter);
      return COUNTER_BYTES;
    },
    poll: () => (counter.value > 0n ? POLLIN : 0) | (counter.value < EVENTFD_MAX ? POLLOUT : 0),
  };
}
