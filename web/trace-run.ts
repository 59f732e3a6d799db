/**
 * "Run to" in a recorded trace, the way a student uses gdb: to the next (or previous) write of a memory range (a
 * watchpoint), and to the next (or previous) call or return. Pure functions of a session and a position.
 *
 * A watchpoint stops *after* the write, as gdb's does: at the position following the storing instruction, where
 * memory already holds the new bytes. A call stops at the callee's first instruction, a return at the first
 * instruction back in the caller (the positions where the call depth goes up or down).
 */
import type { Session } from './session.ts';
import type { Direction } from './trace-find.ts';

/** A write found by `findWrite`: the storing instruction's step, and the position after it. */
export interface FoundWrite {
  /** The instruction that stored (its step). */
  step: number;
  /** Where to go: `step + 1`. */
  position: number;
  address: number;
  size: number;
}

/**
 * The nearest write overlapping [address, address + size) made by an instruction at or after position `from`
 * (forward: the instruction about to execute counts), or that ended before `from` (backward). Includes what the
 * kernel and the host wrote (recorded at the step of the system call or of the call's last instruction).
 */
export function findWrite(s: Session, from: number, direction: Direction, address: number, size: number): FoundWrite | undefined {
  const writes = s.player.trace.writes;
  const overlaps = (i: number) => {
    const [, at, , bytes] = writes[i]!;
    return at < address + size && at + bytes.length / 2 > address;
  };
  if (direction > 0) {
    for (let i = 0; i < writes.length; i++) {
      if (writes[i]![0] >= from && overlaps(i)) return found(writes[i]!);
    }
  } else {
    for (let i = writes.length - 1; i >= 0; i--) {
      if (writes[i]![0] + 1 < from && overlaps(i)) return found(writes[i]!);
    }
  }
  return undefined;
}

function found([step, address, , bytes]: [number, number, string, string]): FoundWrite {
  return { step, position: step + 1, address, size: bytes.length / 2 };
}

/** The nearest position after (before) `from` where the call depth goes up: the first instruction of a callee. */
export function findCall(s: Session, from: number, direction: Direction): number | undefined {
  return findDepthChange(s, from, direction, 1);
}

/** The nearest position after (before) `from` where the call depth goes down: the caller's instruction after a `ret`. */
export function findReturn(s: Session, from: number, direction: Direction): number | undefined {
  return findDepthChange(s, from, direction, -1);
}

function findDepthChange(s: Session, from: number, direction: Direction, sign: 1 | -1): number | undefined {
  const p = s.player;
  const runStarts = new Set(p.trace.runs.map((r) => r.step));
  for (let q = from + direction; q > 0 && q <= p.length; q += direction) {
    if (runStarts.has(q)) continue; // a new run resets the depth: not a call or a return
    if (Math.sign(p.depth(q) - p.depth(q - 1)) === sign) return q;
  }
  return undefined;
}
