/**
 * Floating-point unit state: the values Linux gives a new process (fpstate_init), and how to read the x87
 * register stack's depth from the tag word. Unicorn starts with FPCW = 0, MXCSR = 0 and every x87 register tagged
 * in use, which no real process ever sees.
 */
import type { Engine } from './engine.ts';

/** x87 control word after FNINIT: all exceptions masked, 64-bit precision, round to nearest. */
export const X87_CONTROL_WORD_DEFAULT = 0x037f;
/** MXCSR at process start: all SIMD exceptions masked, round to nearest, no flush-to-zero. */
export const MXCSR_DEFAULT = 0x1f80;
/** Full tag word with every register empty (two bits per register, 0b11 = empty). */
export const X87_TAG_ALL_EMPTY = 0xffff;
/** MXCSR bits 0–5 are sticky status flags; bits 6–15 are controls (DAZ, masks, rounding, FZ) a callee must keep. */
export const MXCSR_CONTROL_MASK = 0xffc0;
const X87_REGISTERS = 8;
/**
 * CR4.OSFXSR and CR4.OSXMMEXCPT: the OS supports FXSAVE/FXRSTOR of SSE state and SIMD exceptions — Linux sets both.
 * Without OSFXSR, QEMU's FXSAVE/FXRSTOR skip the XMM registers, and ld.so's lazy-binding trampoline
 * (_dl_runtime_resolve_fxsave) then loses the double arguments of every first call through the PLT.
 */
const CR4_OSFXSR = 1n << 9n;
const CR4_OSXMMEXCPT = 1n << 10n;
const TAG_EMPTY = 0b11;

/** Puts the FPU in the state Linux gives a freshly exec'ed process. */
export function resetFpu(engine: Engine): void {
  engine.setReg('cr4', engine.reg('cr4') | CR4_OSFXSR | CR4_OSXMMEXCPT);
  engine.setReg('fpcw', X87_CONTROL_WORD_DEFAULT);
  engine.setReg('fpsw', 0);
  engine.setReg('fptag', X87_TAG_ALL_EMPTY);
  engine.setReg('mxcsr', MXCSR_DEFAULT);
}

/** How many x87 registers hold a value (the depth of the x87 register stack), from the full tag word. */
export function x87Depth(tagWord: number): number {
  let depth = 0;
  for (let i = 0; i < X87_REGISTERS; i++) if (((tagWord >> (2 * i)) & TAG_EMPTY) !== TAG_EMPTY) depth++;
  return depth;
}
