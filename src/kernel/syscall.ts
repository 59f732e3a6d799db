/**
 * What every system-call handler shares: the handler signature, the BLOCKED marker, and the conversions of raw
 * argument registers (always read as unsigned 64-bit) into the C types the kernel's prototypes use.
 */
import type { Kernel } from './kernel.ts';

/** Returned by a handler whose calling thread now waits: the scheduler switches; the result comes at wake-up. */
export const BLOCKED: unique symbol = Symbol('blocked');

/** One system call: raw arguments in, result (or -errno via ErrnoError) out. */
export type Handler = (k: Kernel, a: bigint[]) => number | bigint | typeof BLOCKED;

/** Handlers by system-call name (names from the kernel's syscall tables; some exist on one architecture only). */
export type SyscallTable = Record<string, Handler>;

/** An `int` argument. */
export const s32 = (v: bigint): number => Number(BigInt.asIntN(32, v));
/** An `unsigned int` argument. */
export const u32 = (v: bigint): number => Number(BigInt.asUintN(32, v));
/** A pointer or size argument. */
export const num = (v: bigint): number => Number(v);
