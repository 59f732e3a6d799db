/**
 * Deterministic time and randomness. The guest's clock is driven by the number of instructions it has executed,
 * so the same call sees the same time on every host; random bytes come from a seeded generator.
 */

/** Guest wall-clock time at boot: 2026-01-01T00:00:00Z, fixed so that runs are reproducible. */
export const BOOT_EPOCH_SECONDS = 1767225600n;
/** Virtual nanoseconds per guest instruction (a 1 GHz, one-instruction-per-cycle machine). */
export const NANOSECONDS_PER_INSTRUCTION = 1n;
const NS_PER_SECOND = 1_000_000_000n;
/**
 * TSC ticks per virtual nanosecond: an invariant TSC at the virtual CPU's 1 GHz, so guest rdtsc/rdtscp count the
 * same time as CLOCK_MONOTONIC (runtimes that calibrate the TSC against clock_gettime, like Go's, agree).
 */
export const TSC_TICKS_PER_NANOSECOND = 1n;

export interface Timespec {
  seconds: bigint;
  nanoseconds: bigint;
}

export class VirtualClock {
  /** Time spent with every thread waiting (the clock jumps to the next timeout instead of spinning). */
  private idle = 0n;

  /** @param instructions returns the guest instructions executed since boot */
  constructor(private readonly instructions: () => number) {}

  /** Nanoseconds since boot (CLOCK_MONOTONIC). */
  monotonicNs(): bigint {
    return BigInt(this.instructions()) * NANOSECONDS_PER_INSTRUCTION + this.idle;
  }

  /** The time-stamp counter guest rdtsc/rdtscp read: 0 at boot, ticking with the monotonic clock. */
  timestampCounter(): bigint {
    return this.monotonicNs() * TSC_TICKS_PER_NANOSECOND;
  }

  /** Virtual nanoseconds spent with every thread waiting (snapshots carry it). */
  get idleNs(): bigint {
    return this.idle;
  }

  set idleNs(value: bigint) {
    this.idle = value;
  }

  /** Moves time forward while no thread runs (all wait for timeouts). */
  advance(nanoseconds: bigint): void {
    this.idle += nanoseconds;
  }

  monotonic(): Timespec {
    return split(this.monotonicNs());
  }

  realtime(): Timespec {
    return split(this.bootEpochNs() + this.monotonicNs());
  }

  /** CLOCK_REALTIME at boot, in nanoseconds (realtime = boot epoch + monotonic). */
  bootEpochNs(): bigint {
    return BOOT_EPOCH_SECONDS * NS_PER_SECOND;
  }
}

function split(ns: bigint): Timespec {
  return { seconds: ns / NS_PER_SECOND, nanoseconds: ns % NS_PER_SECOND };
}

/**
 * A small seeded generator (SplitMix64): fast, well distributed, and fully determined by its seed. Not for
 * cryptography; the guest's AT_RANDOM and getrandom only need reproducible bytes.
 */
export class SeededRandom {
  private state: bigint;

  constructor(seed: number | bigint) {
    this.state = BigInt.asUintN(64, BigInt(seed));
  }

  /** The generator's whole state (snapshots carry it). */
  get stateValue(): bigint {
    return this.state;
  }

  set stateValue(value: bigint) {
    this.state = BigInt.asUintN(64, value);
  }

  next64(): bigint {
    this.state = BigInt.asUintN(64, this.state + 0x9e3779b97f4a7c15n);
    let z = this.state;
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
    return z ^ (z >> 31n);
  }

  bytes(count: number): Uint8Array {
    const out = new Uint8Array(count);
    const view = new DataView(out.buffer);
    let i = 0;
    for (; i + 8 <= count; i += 8) view.setBigUint64(i, this.next64(), true);
    if (i < count) {
      const last = this.next64();
      for (let j = 0; i < count; i++, j++) out[i] = Number((last >> BigInt(8 * j)) & 0xffn);
    }
    return out;
  }
}
