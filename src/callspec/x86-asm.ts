/**
 * A tiny x86 assembler: exactly the instruction forms the trampolines and callback stubs need, one named builder
 * per form, encodings from the Intel SDM vol. 2. Memory operands are always `[base + disp32]` (mod = 10), which
 * keeps the encoder small and the generated code easy to read in a disassembler.
 */
import type { Arch } from '../emu/arch.ts';

/** General-purpose register numbers (the ModRM/REX encoding). */
export const GPR = {
  ax: 0, cx: 1, dx: 2, bx: 3, sp: 4, bp: 5, si: 6, di: 7, r8: 8, r9: 9, r10: 10, r11: 11, r12: 12, r13: 13, r14: 14, r15: 15,
} as const;
export type Gpr = (typeof GPR)[keyof typeof GPR];

/** Architectural register name → encoding (rdi/edi → 7, r8 → 8, xmm3 → 3). */
export function registerNumber(name: string): number {
  const xmm = /^xmm(\d+)$/.exec(name);
  if (xmm) return Number(xmm[1]);
  const r = /^r(\d+)$/.exec(name);
  if (r) return Number(r[1]);
  const base = name.replace(/^[re]/, '') as keyof typeof GPR;
  if (!(base in GPR)) throw new RangeError(`unknown register ${name}`);
  return GPR[base];
}

const REX = 0x40;
const REX_W = 0x08;
const REX_R = 0x04;
const REX_B = 0x01;
const MOD_DISP32 = 0b10;
const MOD_REGISTER = 0b11;
const SIB_NO_INDEX_BASE_SP = 0x24;
const OPERAND_SIZE_PREFIX = 0x66;
const REP_PREFIX = 0xf3; // selects movss/movq/movdqu forms
const REPNE_PREFIX = 0xf2; // selects movsd

export class Assembler {
  private readonly bytes: number[] = [];

  constructor(readonly arch: Arch) {}

  get size(): number {
    return this.bytes.length;
  }

  code(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }

  private emit(...values: number[]): void {
    this.bytes.push(...values);
  }

  private imm32(value: number): void {
    const v = value >>> 0;
    this.emit(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }

  /** A REX prefix when one is needed (64-bit operand, or an extended register). Never on i386. */
  private rex(wide: boolean, reg: number, base: number): void {
    if (this.arch === 'i386') {
      if (reg > 7 || base > 7) throw new RangeError('i386 has no registers r8–r15');
      return;
    }
    const rex = REX | (wide ? REX_W : 0) | (reg > 7 ? REX_R : 0) | (base > 7 ? REX_B : 0);
    if (rex !== REX) this.emit(rex);
  }

  /** ModRM (+ SIB) + disp32 for `[base + disp]`. */
  private memory(reg: number, base: number, disp: number): void {
    this.emit((MOD_DISP32 << 6) | ((reg & 7) << 3) | (base & 7));
    if ((base & 7) === GPR.sp) this.emit(SIB_NO_INDEX_BASE_SP);
    this.imm32(disp);
  }

  private get wide(): boolean {
    return this.arch === 'amd64';
  }

  /** push r (native width). */
  push(reg: number): this {
    this.rex(false, 0, reg);
    this.emit(0x50 + (reg & 7));
    return this;
  }

  pop(reg: number): this {
    this.rex(false, 0, reg);
    this.emit(0x58 + (reg & 7));
    return this;
  }

  /** mov dst, src (native width, register to register). */
  movRegReg(dst: number, src: number): this {
    this.rex(this.wide, src, dst);
    this.emit(0x89, (MOD_REGISTER << 6) | ((src & 7) << 3) | (dst & 7));
    return this;
  }

  /** mov reg, [base+disp] with `size` 4 (zero-extends on amd64) or 8 (amd64 only). */
  load(reg: number, base: number, disp: number, size: 4 | 8 = this.wide ? 8 : 4): this {
    this.rex(size === 8, reg, base);
    this.emit(0x8b);
    this.memory(reg, base, disp);
    return this;
  }

  /** mov [base+disp], reg with `size` 4 or 8 (amd64 only). */
  store(base: number, disp: number, reg: number, size: 4 | 8 = this.wide ? 8 : 4): this {
    this.rex(size === 8, reg, base);
    this.emit(0x89);
    this.memory(reg, base, disp);
    return this;
  }

  /** movsx/movzx reg32, byte or word [base+disp]: widen a narrow integer to 32 bits as C callers do. */
  loadExtended(reg: number, base: number, disp: number, size: 1 | 2, signed: boolean): this {
    this.rex(false, reg, base);
    this.emit(0x0f, (signed ? 0xbe : 0xb6) + (size === 2 ? 1 : 0));
    this.memory(reg, base, disp);
    return this;
  }

  /** lea reg, [base+disp]. */
  lea(reg: number, base: number, disp: number): this {
    this.rex(this.wide, reg, base);
    this.emit(0x8d);
    this.memory(reg, base, disp);
    return this;
  }

  /** mov r32, imm32 (zero-extends on amd64). */
  movImm32(reg: number, value: number): this {
    this.rex(false, 0, reg);
    this.emit(0xb8 + (reg & 7));
    this.imm32(value);
    return this;
  }

  /** mov reg, imm (amd64: movabs with a 64-bit immediate; i386: 32-bit). */
  movImmWord(reg: number, value: number): this {
    if (this.arch === 'i386') return this.movImm32(reg, value);
    this.rex(true, 0, reg);
    this.emit(0xb8 + (reg & 7));
    const v = BigInt(value);
    for (let i = 0n; i < 8n; i++) this.emit(Number((v >> (8n * i)) & 0xffn));
    return this;
  }

  /** and sp, -16: align the stack pointer down to 16 bytes. */
  alignStack16(): this {
    this.rex(this.wide, 0, GPR.sp);
    this.emit(0x83, (MOD_REGISTER << 6) | (4 << 3) | GPR.sp, 0xf0);
    return this;
  }

  /** sub sp, imm32. */
  subStack(bytes: number): this {
    this.rex(this.wide, 0, GPR.sp);
    this.emit(0x81, (MOD_REGISTER << 6) | (5 << 3) | GPR.sp);
    this.imm32(bytes);
    return this;
  }

  /** call [base+disp] (an absolute function pointer held in memory). */
  callIndirect(base: number, disp: number): this {
    this.rex(false, 0, base);
    this.emit(0xff);
    this.memory(2, base, disp);
    return this;
  }

  /** Load `size` bytes into the low part of an xmm register (movss 4, movq 8, movdqu 16); the rest is zeroed. */
  loadXmm(xmm: number, base: number, disp: number, size: 4 | 8 | 16): this {
    this.emit(REP_PREFIX);
    this.rex(false, xmm, base);
    this.emit(0x0f, size === 4 ? 0x10 : size === 8 ? 0x7e : 0x6f);
    this.memory(xmm, base, disp);
    return this;
  }

  /** movsd xmm, [m64]: a double into the low lane (kept for symmetry with gcc's output in disassembly). */
  loadDouble(xmm: number, base: number, disp: number): this {
    this.emit(REPNE_PREFIX);
    this.rex(false, xmm, base);
    this.emit(0x0f, 0x10);
    this.memory(xmm, base, disp);
    return this;
  }

  /** Store the low 8 (movq) or all 16 (movdqu) bytes of an xmm register. */
  storeXmm(base: number, disp: number, xmm: number, size: 8 | 16): this {
    this.emit(size === 8 ? OPERAND_SIZE_PREFIX : REP_PREFIX);
    this.rex(false, xmm, base);
    this.emit(0x0f, size === 8 ? 0xd6 : 0x7f);
    this.memory(xmm, base, disp);
    return this;
  }

  /** fstp tword [base+disp]: pop ST0 into memory as 80-bit extended precision. */
  fstpExtended(base: number, disp: number): this {
    this.rex(false, 0, base);
    this.emit(0xdb);
    this.memory(7, base, disp);
    return this;
  }

  /** fld tword [base+disp]: push an 80-bit value onto the x87 stack. */
  fldExtended(base: number, disp: number): this {
    this.rex(false, 0, base);
    this.emit(0xdb);
    this.memory(5, base, disp);
    return this;
  }

  /** int imm8. */
  interrupt(vector: number): this {
    this.emit(0xcd, vector & 0xff);
    return this;
  }

  /** jmp to a position in this code (rel32). */
  jumpTo(position: number): this {
    const JMP_REL32_BYTES = 5;
    this.emit(0xe9);
    this.imm32(position - (this.size + JMP_REL32_BYTES - 1));
    return this;
  }

  /** leave: sp = bp; pop bp. */
  leave(): this {
    this.emit(0xc9);
    return this;
  }

  /** ret, or `ret imm16` when the callee pops its arguments (i386 hidden struct-return pointer). */
  ret(pop = 0): this {
    if (pop === 0) this.emit(0xc3);
    else this.emit(0xc2, pop & 0xff, (pop >>> 8) & 0xff);
    return this;
  }
}
