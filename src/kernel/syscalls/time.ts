/**
 * Time: clocks and sleeps on the virtual clock (src/kernel/clock.ts), which the guest's instruction count drives.
 */
import { ERRNO, ErrnoError } from '../errno.ts';
import type { Kernel } from '../kernel.ts';
import { encodeTimespec, encodeWords } from '../structs.ts';
import { BLOCKED, num, s32, type SyscallTable } from '../syscall.ts';

const CLOCK_REALTIME = 0;
const CLOCK_MONOTONIC = 1;
const CLOCK_REALTIME_COARSE = 5;
const TIMER_ABSTIME = 1;

function clockGettime(k: Kernel, clock: number, address: number, wordSize: 4 | 8): number {
  const c = k.options.clock;
  const t = clock === CLOCK_REALTIME || clock === CLOCK_REALTIME_COARSE ? c.realtime() : c.monotonic();
  k.writeGuest(address, encodeTimespec(t, wordSize));
  return 0;
}

/** A timespec in virtual nanoseconds. */
export function readTimespec(k: Kernel, address: number, wordSize: 4 | 8): bigint {
  const raw = k.readGuest(address, wordSize * 2);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const seconds = wordSize === 8 ? view.getBigInt64(0, true) : BigInt(view.getInt32(0, true));
  const nanoseconds = wordSize === 8 ? view.getBigInt64(8, true) : BigInt(view.getInt32(4, true));
  if (seconds < 0n || nanoseconds < 0n || nanoseconds >= 1_000_000_000n) throw new ErrnoError(ERRNO.EINVAL);
  return seconds * 1_000_000_000n + nanoseconds;
}

/** nanosleep / clock_nanosleep on the virtual clock. */
function sleep(k: Kernel, clock: number, flags: number, request: number, wordSize: 4 | 8): number | typeof BLOCKED {
  const t = readTimespec(k, request, wordSize);
  const absolute = (flags & TIMER_ABSTIME) !== 0;
  const deadline = absolute ? (clock === CLOCK_REALTIME ? t - k.options.clock.bootEpochNs() : t) : k.now() + t;
  if (deadline <= k.now()) return 0;
  return k.block({ kind: 'sleep' }, deadline);
}

export const TIME_SYSCALLS: SyscallTable = {
  clock_gettime: (k, a) => clockGettime(k, s32(a[0]!), num(a[1]!), k.pointerSize),
  clock_gettime64: (k, a) => clockGettime(k, s32(a[0]!), num(a[1]!), 8),
  clock_getres: (k, a) => (a[1]! !== 0n && k.writeGuest(num(a[1]!), encodeTimespec({ seconds: 0n, nanoseconds: 1n }, k.pointerSize)), 0),
  clock_getres_time64: (k, a) => (a[1]! !== 0n && k.writeGuest(num(a[1]!), encodeTimespec({ seconds: 0n, nanoseconds: 1n }, 8)), 0),
  gettimeofday: (k, a) => {
    const t = k.options.clock.realtime();
    if (a[0]! !== 0n) k.writeGuest(num(a[0]!), encodeWords([t.seconds, t.nanoseconds / 1000n], k.pointerSize));
    return 0;
  },
  time: (k, a) => {
    const seconds = k.options.clock.realtime().seconds;
    if (a[0]! !== 0n) k.writeGuest(num(a[0]!), encodeWords([seconds], k.pointerSize));
    return seconds;
  },
  nanosleep: (k, a) => sleep(k, CLOCK_MONOTONIC, 0, num(a[0]!), k.pointerSize),
  clock_nanosleep: (k, a) => sleep(k, s32(a[0]!), s32(a[1]!), num(a[2]!), k.pointerSize),
  clock_nanosleep_time64: (k, a) => sleep(k, s32(a[0]!), s32(a[1]!), num(a[2]!), 8),
};
