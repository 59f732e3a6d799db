/**
 * Limits on how long a guest may run, beyond the instruction budget: virtual time (a program that only sleeps —
 * Go's sysmon wakes every 10 ms forever — makes no progress the budget would notice) and host wall-clock time (the
 * host's own protection: a guest must never hold the host's CPU longer than the user allowed).
 */
import type { GuestDeadlockError } from '../kernel/threads.ts';

export interface TimeLimits {
  /** Virtual nanoseconds since boot (the guest's CLOCK_MONOTONIC) after which the run stops. */
  virtualTimeNs?: bigint;
  /** Host wall-clock time (Date.now() milliseconds) after which the run stops, the timeout it came from, and what it bounds. */
  wall?: WallTimeLimit;
}

export interface WallTimeLimit {
  deadlineMs: number;
  seconds: number;
  what: 'run' | 'call';
}

/** Host wall-clock seconds a whole-program run may take by default (`run --timeout`). */
export const DEFAULT_RUN_TIMEOUT_SECONDS = 600;
/**
 * Host wall-clock seconds one host call may take by default (`call --timeout`, BootOptions.callTimeoutSeconds):
 * the same as a run's. The instruction budget ends an endless loop long before; this bounds host work the budget
 * does not count (system calls) and calls given a huge budget.
 */
export const DEFAULT_CALL_TIMEOUT_SECONDS = DEFAULT_RUN_TIMEOUT_SECONDS;

/** The limits that stop a run or call `seconds` of wall-clock time from now. */
export function wallTimeLimit(seconds: number, what: 'run' | 'call'): TimeLimits {
  return { wall: { deadlineMs: Date.now() + seconds * 1000, seconds, what } };
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
  constructor(readonly seconds: number, readonly what: 'run' | 'call') {
    super(
      `the ${what} took longer than its wall-clock timeout of ${seconds} s and was stopped; ` +
        `raise it with --timeout SECONDS (${what === 'run' ? 'timeoutSeconds' : 'BootOptions.callTimeoutSeconds'}) if it is just slow`,
    );
  }
}
