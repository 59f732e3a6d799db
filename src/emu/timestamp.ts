/**
 * Deterministic `rdtsc` / `rdtscp`. Unicorn 2.0.1 cannot hook either instruction (no UC_HOOK_INSN for them; a
 * CR4.TSD trap needs CPL 3, and the guest runs at CPL 0), so guest code would read the host's TSC — glibc's ld.so
 * stores boot timings from it, and Go seeds every thread's random generator from it.
 *
 * Instead the engine rewrites each one, the first time a translated block holding it is about to run, into a
 * same-length software interrupt it can hook: `int 0x82` for rdtsc (0F 31 → CD 82) and, for rdtscp, `int 0x83`
 * with a redundant DS prefix (0F 01 F9 → 3E CD 83). One instruction replaces one instruction, so instruction counts
 * stay exact (CD 83 90 would execute an extra nop), and Unicorn resumes after `int N` without pushing anything.
 * This module finds the instructions; `UnicornEngine` patches them and answers the traps.
 */
import type { Arch } from './arch.ts';
import { instructionLength } from './x86-length.ts';

export type TimestampInstruction = 'rdtsc' | 'rdtscp';

/** Interrupt vectors of the traps (0x80 is i386 Linux's syscall, 0x81 callbacks, 0x85 the worker park trap). */
export const RDTSC_TRAP_VECTOR = 0x82;
export const RDTSCP_TRAP_VECTOR = 0x83;

const TWO_BYTE_ESCAPE = 0x0f;
const RDTSC = Uint8Array.of(0x0f, 0x31);
const RDTSCP = Uint8Array.of(0x0f, 0x01, 0xf9);
const INT_IMM8 = 0xcd;
/** A segment prefix on `int` is ignored: it pads the rdtscp trap to three bytes as one instruction. */
const DS_PREFIX = 0x3e;

export const TIMESTAMP_TRAPS: Record<TimestampInstruction, Uint8Array> = {
  rdtsc: Uint8Array.of(INT_IMM8, RDTSC_TRAP_VECTOR),
  rdtscp: Uint8Array.of(DS_PREFIX, INT_IMM8, RDTSCP_TRAP_VECTOR),
};

/** The instruction a trap vector stands for. */
export function trappedInstruction(vector: number): TimestampInstruction | undefined {
  if (vector === RDTSC_TRAP_VECTOR) return 'rdtsc';
  if (vector === RDTSCP_TRAP_VECTOR) return 'rdtscp';
  return undefined;
}

export interface TimestampSite {
  /** Offset of the instruction in the scanned bytes. */
  offset: number;
  instruction: TimestampInstruction;
}

export interface TimestampScan {
  sites: TimestampSite[];
  /**
   * False when an instruction the length decoder does not know came before a candidate: the candidates after it
   * were left alone (they may be bytes inside another instruction), and read the host's TSC if they are real.
   */
  complete: boolean;
}

/** The last offset where `bytes` hold an rdtsc/rdtscp encoding (at any alignment), or -1: the cheap first pass. */
export function lastTimestampCandidate(bytes: Uint8Array): number {
  for (let i = bytes.length - 2; i >= 0; i--) {
    if (bytes[i] === TWO_BYTE_ESCAPE && (matchesAt(bytes, i, RDTSC) || matchesAt(bytes, i, RDTSCP))) return i;
  }
  return -1;
}

/**
 * The rdtsc/rdtscp instructions in a run of code that starts at an instruction boundary (a translated block):
 * walks the instructions from the start, so bytes 0F 31 inside another instruction's immediate are not taken.
 * Only unprefixed encodings are patched (compilers and assemblers emit no others).
 */
export function findTimestampReads(bytes: Uint8Array, arch: Arch): TimestampScan {
  const last = lastTimestampCandidate(bytes);
  const sites: TimestampSite[] = [];
  let at = 0;
  while (at <= last) {
    const instruction = timestampAt(bytes, at);
    if (instruction) sites.push({ offset: at, instruction });
    const length = instructionLength(bytes, at, arch);
    if (length === undefined) return { sites, complete: false };
    at += length;
  }
  return { sites, complete: true };
}

function timestampAt(bytes: Uint8Array, at: number): TimestampInstruction | undefined {
  if (matchesAt(bytes, at, RDTSC)) return 'rdtsc';
  if (matchesAt(bytes, at, RDTSCP)) return 'rdtscp';
  return undefined;
}

function matchesAt(bytes: Uint8Array, at: number, pattern: Uint8Array): boolean {
  if (at + pattern.length > bytes.length) return false;
  for (let i = 0; i < pattern.length; i++) if (bytes[at + i] !== pattern[i]) return false;
  return true;
}
