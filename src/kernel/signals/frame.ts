/**
 * What the frame builders share: a frame request (the interrupted context, the action, the signal), the built
 * frame (bytes to write at an address, registers to set for the handler), the context a sigreturn restores, and
 * the alternate-stack rules (kernel/signal.c on_sig_stack, sas_ss_flags). The builders are pure functions: the
 * engine plumbing (delivery.ts) reads the CPU into a request and applies the result.
 */
import type { RegName } from '../../emu/engine.ts';
import type { FpuState } from './fxsave.ts';
import { SS_DISABLE, SS_ONSTACK, type SigSet } from './numbers.ts';
import type { SigInfo } from './siginfo.ts';

/** Register values by engine register name. */
export type Registers = Partial<Record<RegName, bigint>>;

/** stack_t: the thread's alternate signal stack (ss_flags holds only SS_DISABLE / SS_AUTODISARM here). */
export interface AltStack {
  sp: bigint;
  size: bigint;
  flags: number;
}

export const DISABLED_ALTSTACK: AltStack = { sp: 0n, size: 0n, flags: SS_DISABLE };

export interface SignalActionView {
  handler: bigint;
  flags: number;
  restorer: bigint;
}

/** The fault details the kernel puts in sigcontext (trapno, err = the page-fault error code, cr2 = the address). */
export interface FaultContext {
  trapno: number;
  err: number;
  cr2: bigint;
}

export interface FrameRequest {
  signal: number;
  info: SigInfo;
  action: SignalActionView;
  /** The interrupted context: general registers, flags, segment selectors, pc and sp. */
  regs: Registers;
  fpu: FpuState;
  /** uc_sigmask: the blocked set sigreturn restores (the mask before delivery, or sigsuspend's saved mask). */
  savedMask: SigSet;
  altstack: AltStack;
  fault?: FaultContext;
}

export interface BuiltFrame {
  /** Where the frame starts: the handler's stack pointer. */
  address: number;
  /** The frame and its FPU state, contiguous from `address`. */
  bytes: Uint8Array;
  /** Registers to set before running the handler (pc, sp, arguments, flags). */
  regs: Registers;
}

/** What rt_sigreturn / sigreturn read back from the (possibly handler-edited) frame. */
export interface RestoredContext {
  regs: Registers;
  mask: SigSet;
  /** Where the FXSAVE image lies (0: none was saved). */
  fpstate: number;
  /** uc_stack (rt frames only). */
  altstack?: AltStack;
}

/** on_sig_stack: is `sp` inside the alternate stack (which grows down from sp + size)? */
export function onSigStack(sp: bigint, alt: AltStack): boolean {
  return alt.size !== 0n && sp > alt.sp && sp - alt.sp <= alt.size;
}

/** sas_ss_flags: SS_DISABLE without an alternate stack, SS_ONSTACK while running on it, else 0. */
export function altstackFlags(sp: bigint, alt: AltStack): number {
  if (alt.size === 0n || (alt.flags & SS_DISABLE) !== 0) return SS_DISABLE;
  return onSigStack(sp, alt) ? SS_ONSTACK : 0;
}

/** x86 eflags the kernel clears for the handler (DF, TF, RF) and the ones sigreturn takes from the frame (FIX_EFLAGS). */
export const EFLAGS_CLEARED_FOR_HANDLER = 0x400n | 0x100n | 0x10000n;
export const FIX_EFLAGS = 0x50dd5n;

export const alignDown = (value: bigint, alignment: bigint): bigint => value - (((value % alignment) + alignment) % alignment);
