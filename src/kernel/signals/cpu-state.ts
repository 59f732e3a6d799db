/**
 * Reads the interrupted CPU state into what a frame holds, and writes a restored one back — the only part of
 * signal delivery that talks to the engine's registers. Unicorn exposes st0–st7 in stack order (ST(i)), the full
 * tag word, fpcw/fpsw (TOP included) and mxcsr, which is what FXSAVE holds; the x87 last-instruction pointers
 * (FIP/FDP/FOP) are not exposed and are saved as zero.
 */
import type { Arch } from '../../emu/arch.ts';
import type { Engine, RegName } from '../../emu/engine.ts';
import type { Registers } from './frame.ts';
import { type FpuState, X87_REG_BYTES } from './fxsave.ts';

const CONTEXT_REGS: Record<Arch, RegName[]> = {
  amd64: [
    'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rdi', 'rsi', 'rbp', 'rbx', 'rdx', 'rax', 'rcx', 'rsp', 'rip', 'rflags',
    'cs', 'gs', 'fs', 'ss',
  ],
  i386: ['gs', 'fs', 'es', 'ds', 'edi', 'esi', 'ebp', 'esp', 'ebx', 'edx', 'ecx', 'eax', 'eip', 'cs', 'eflags', 'ss'],
};
/** Segment registers: a write reloads the descriptor, so only changed selectors are written (never on amd64). */
const SEGMENTS = new Set<RegName>(['cs', 'ds', 'es', 'fs', 'gs', 'ss']);
const XMM_COUNT: Record<Arch, number> = { amd64: 16, i386: 8 };
const XMM_BYTES = 16;

export const xmmCount = (arch: Arch): number => XMM_COUNT[arch];

export function readRegisters(engine: Engine): Registers {
  const regs: Registers = {};
  for (const name of CONTEXT_REGS[engine.arch]) regs[name] = engine.reg(name);
  return regs;
}

/** Sets registers; selectors only on i386 and only when they change (sigreturn restoring gs/fs/es/ds/cs/ss). */
export function writeRegisters(engine: Engine, regs: Registers): void {
  for (const [name, value] of Object.entries(regs) as [RegName, bigint][]) {
    if (SEGMENTS.has(name)) {
      if (engine.arch === 'amd64' || engine.reg(name) === value) continue;
    }
    engine.setReg(name, value);
  }
}

export function readFpu(engine: Engine): FpuState {
  return {
    fcw: Number(engine.reg('fpcw') & 0xffffn),
    fsw: Number(engine.reg('fpsw') & 0xffffn),
    ftw: Number(engine.reg('fptag') & 0xffffn),
    mxcsr: Number(engine.reg('mxcsr') & 0xffffffffn),
    st: Array.from({ length: 8 }, (_, i) => engine.regBytes(`st${i}` as RegName, X87_REG_BYTES)),
    xmm: Array.from({ length: XMM_COUNT[engine.arch] }, (_, i) => engine.regBytes(`xmm${i}` as RegName, XMM_BYTES)),
  };
}

/** fpsw first: it carries TOP, and st0–st7 are addressed relative to it. */
export function writeFpu(engine: Engine, state: FpuState): void {
  engine.setReg('fpsw', state.fsw);
  engine.setReg('fpcw', state.fcw);
  state.st.forEach((bytes, i) => engine.setRegBytes(`st${i}` as RegName, bytes));
  engine.setReg('fptag', state.ftw);
  engine.setReg('mxcsr', state.mxcsr);
  state.xmm.forEach((bytes, i) => engine.setRegBytes(`xmm${i}` as RegName, bytes));
}
