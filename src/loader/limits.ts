/**
 * Limits on how long a guest may run, beyond the instruction budget: virtual time (a program that only sleeps —
 * Go's sysmon wakes every 10 ms forever — makes no progress the budget would notice) and host wall-clock time (the
 * host's own protection: a guest must never hold the host's CPU longer than the user allowed).
 */
import type { GuestDeadlockError } from '../kernel/threads.ts';

export interface TimeLimits {
  /** Virtual nanoseconds since boot (the guest's CLOCK_MONOTONIC) after which the run stops. */
  virtualTimeNs?: bigint;
  /** Host wall-clock time (Date.now() milliseconds) after which the run stops. */
  wallDeadlineMs?: number;
}

/** How many instructions a lone thread runs between wall-clock checks (only when a wall deadline is set). */
export const WALL_CHECK_INSTRUCTIONS = 2_000_000;

/** The guest's virtual time passed `--time-limit`. */
export class TimeLimitError extends Error {
  override name = 'TimeLimitError';
  constructor(
    message: string,
    readonly threads: GuestDeadlockError['threads'],
  ) {
    super(message);
  }
}

/** The host's wall-clock limit (`--timeout`) ran out. */
export class WallTimeoutError extends Error {
  override name = 'WallTimeoutError';
}
