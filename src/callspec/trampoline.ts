/**
 * Reference trampolines: x86 machine code generated from a CallSpec that performs the call exactly as the spec
 * says — nocgo's `asmcall`, done right. The host fills an argument block in guest memory and calls the trampoline
 * like a C function (`void trampoline(struct block *)`); the trampoline
 *
 *   1. builds a normal frame, keeps the block pointer in rbx/ebx and records the block pointer and its own stack
 *      pointer in the machine's mailbox (a fixed guest address),
 *   2. aligns the stack to 16 bytes and reserves the outgoing argument area,
 *   3. copies stack arguments, loads SSE and integer registers (widening narrow integers to 32 bits), passes the
 *      address of by-reference arguments (Win64) and the hidden return pointer, sets %al for variadic calls —
 *      whatever the calling convention (i386 ecx/edx for fastcall, eax/edx/ecx for regparm; Win64 rcx/rdx/r8/r9
 *      above 32 bytes of shadow space) the spec describes,
 *   4. calls the target through the block, and
 *   5. reloads the block pointer from the mailbox — not from rbx: a broken callee may have clobbered it, and the
 *      reference must survive the callees it diagnoses — stores rax/rdx/xmm0/xmm1/st0 (whatever the spec says
 *      carries the result) and the stack pointer after the call, then restores its own stack from the mailbox.
 *
 * Block layout (all offsets from the block start; see `blockLayout`):
 *   target function pointer | rax after the call | sp after the call | return area | argument images…
 * Mailbox layout: block pointer | trampoline stack pointer (after the prologue's pushes).
 */
import type { Arch } from '../emu/arch.ts';
import { Assembler, GPR, registerNumber } from './x86-asm.ts';
import type { ArgSpec, CallSpec, Location } from './types.ts';

const WORD: Record<Arch, 4 | 8> = { amd64: 8, i386: 4 };
const BLOCK_ALIGN = 16;
/** Room after every image so that whole-word copies of odd-sized pieces never leave the block. */
const IMAGE_SLACK = 16;
/** Bytes reserved for the return value at least: two eightbytes, or one x87 value (10 bytes). */
const MIN_RETURN_AREA = 16;

export interface BlockLayout {
  size: number;
  targetOffset: number;
  /** rax/eax after the call (amd64 returns the hidden pointer here; also handy for checks). */
  raxOffset: number;
  /** The stack pointer right after the call instruction returned (shows whether the callee popped bytes). */
  spAfterOffset: number;
  returnOffset: number;
  returnSize: number;
  argOffsets: number[];
}

const roundUp = (value: number, multiple: number) => Math.ceil(value / multiple) * multiple;

/** Where everything goes in the argument block for `spec`. Pure. */
export function blockLayout(spec: CallSpec): BlockLayout {
  const word = WORD[spec.arch];
  const targetOffset = 0;
  const raxOffset = word;
  const spAfterOffset = 2 * word;
  const returnOffset = roundUp(spAfterOffset + word, BLOCK_ALIGN); // after the three header words
  const returnSize = roundUp(Math.max(spec.ret.size, MIN_RETURN_AREA), BLOCK_ALIGN) + IMAGE_SLACK;
  let cursor = returnOffset + returnSize;
  const argOffsets = spec.args.map((arg) => {
    const offset = cursor;
    cursor = roundUp(cursor + arg.size + IMAGE_SLACK, BLOCK_ALIGN);
    return offset;
  });
  return { size: cursor, targetOffset, raxOffset, spAfterOffset, returnOffset, returnSize, argOffsets };
}

const BLOCK = GPR.bx; // holds the block pointer while the arguments are placed
const SCRATCH = GPR.ax;
/** After the call: a caller-saved register that carries no return value (amd64 r11, i386 ecx). */
const AFTER_CALL: Record<Arch, number> = { amd64: GPR.r11, i386: GPR.cx };
export const MAILBOX_BYTES = 16;

function isXmm(reg: string): boolean {
  return reg.startsWith('xmm');
}

/** Copies one stack piece from the block into the outgoing argument area (rsp-relative). */
function copyStackPiece(asm: Assembler, arg: ArgSpec, location: Location & { kind: 'stack' }, source: number, word: 4 | 8): void {
  if (arg.extension !== 'none' && location.size < 4) {
    // Narrow integers are widened in their slot too, as gcc and clang callers do.
    asm.loadExtended(SCRATCH, BLOCK, source, location.size as 1 | 2, arg.extension === 'sign');
    asm.store(GPR.sp, location.stackOffset, SCRATCH, 4);
    return;
  }
  for (let done = 0; done < location.size; done += word) {
    asm.load(SCRATCH, BLOCK, source + done, word);
    asm.store(GPR.sp, location.stackOffset + done, SCRATCH, word);
  }
}

/** Loads one register piece: integers widened per the spec's extension, SSE pieces by size. */
function loadRegisterPiece(asm: Assembler, arg: ArgSpec, location: Location & { kind: 'reg' }, source: number, word: 4 | 8): void {
  const reg = registerNumber(location.reg);
  if (isXmm(location.reg)) {
    if (location.size === 8 && arg.type.kind === 'float' && arg.type.name === 'double') asm.loadDouble(reg, BLOCK, source);
    else asm.loadXmm(reg, BLOCK, source, location.size <= 4 ? 4 : location.size <= 8 ? 8 : 16);
    return;
  }
  if (location.size < 4 && arg.extension !== 'none') {
    asm.loadExtended(reg, BLOCK, source, location.size as 1 | 2, arg.extension === 'sign');
  } else if (location.size <= 4 && arg.extension !== 'none') {
    asm.load(reg, BLOCK, source, 4); // a 32-bit load zero-extends into the 64-bit register
  } else {
    asm.load(reg, BLOCK, source, word); // pointers, 64-bit integers, struct eightbytes (odd sizes: padded block)
  }
}

/**
 * Generates the trampoline for `spec`. `mailbox` is the guest address of MAILBOX_BYTES the machine reserves for
 * it. Otherwise position-independent: it addresses memory through the block pointer.
 */
export function generateTrampoline(spec: CallSpec, mailbox: number): Uint8Array {
  return assembleTrampoline(spec, mailbox).code;
}

/**
 * Where the trampoline's epilogue starts (the instruction after the call; its code does not depend on the mailbox's
 * address): one translation block that ends with the `ret` to the host's trap page, so a run whose last block
 * starts there returned (RunOptions.lastBlock).
 */
export function trampolineReturnSite(spec: CallSpec): number {
  return assembleTrampoline(spec, 0).returnSite;
}

function assembleTrampoline(spec: CallSpec, mailbox: number): { code: Uint8Array; returnSite: number } {
  const arch = spec.arch;
  const word = WORD[arch];
  const layout = blockLayout(spec);
  const asm = new Assembler(arch);
  const after = AFTER_CALL[arch];

  // Prologue: a normal frame, the block pointer in rbx/ebx and, with our stack pointer, in the mailbox.
  asm.push(GPR.bp).movRegReg(GPR.bp, GPR.sp).push(BLOCK);
  if (arch === 'amd64') asm.movRegReg(BLOCK, GPR.di);
  else asm.load(BLOCK, GPR.bp, 2 * word); // first stack argument, above the saved ebp and the return address
  asm.movImmWord(after, mailbox).store(after, 0, BLOCK).store(after, word, GPR.sp);
  asm.alignStack16();
  if (spec.stackSize > 0) asm.subStack(spec.stackSize);

  // Stack arguments first: they use the scratch register, which is free until %al is set.
  spec.args.forEach((arg, i) => {
    for (const location of arg.locations) {
      if (location.kind !== 'stack') continue;
      // Win64 by-reference arguments: the block's image is the caller's copy; the slot gets its address.
      if (arg.indirect) asm.lea(SCRATCH, BLOCK, layout.argOffsets[i]!).store(GPR.sp, location.stackOffset, SCRATCH);
      else copyStackPiece(asm, arg, location, layout.argOffsets[i]! + location.offset, word);
    }
  });
  if (spec.hiddenPointer?.kind === 'stack') {
    asm.lea(SCRATCH, BLOCK, layout.returnOffset).store(GPR.sp, spec.hiddenPointer.stackOffset, SCRATCH);
  }
  spec.args.forEach((arg, i) => {
    for (const location of arg.locations) {
      if (location.kind !== 'reg') continue;
      if (arg.indirect) asm.lea(registerNumber(location.reg), BLOCK, layout.argOffsets[i]!);
      else loadRegisterPiece(asm, arg, location, layout.argOffsets[i]! + location.offset, word);
    }
  });
  if (spec.hiddenPointer?.kind === 'reg') asm.lea(registerNumber(spec.hiddenPointer.reg), BLOCK, layout.returnOffset);
  if (spec.al !== undefined) asm.movImm32(GPR.ax, spec.al); // psABI §3.2.3: %al bounds the vector registers used

  asm.callIndirect(BLOCK, layout.targetOffset);
  const returnSite = asm.size;

  // Results back into the block, found again through the mailbox (rbx may not have survived a broken callee).
  asm.movImmWord(after, mailbox).load(after, after, 0);
  asm.store(after, layout.spAfterOffset, GPR.sp).store(after, layout.raxOffset, GPR.ax);
  // st0 first (each fstp pops, so st1 — a COMPLEX_X87 result's imaginary part — is then st0).
  if (spec.ret.kind === 'x87') for (const location of spec.ret.locations) asm.fstpExtended(after, layout.returnOffset + location.offset);
  if (spec.ret.kind === 'reg') {
    for (const location of spec.ret.locations) {
      if (location.kind !== 'reg') continue;
      const target = layout.returnOffset + location.offset;
      if (isXmm(location.reg)) asm.storeXmm(after, target, registerNumber(location.reg), location.size > 8 ? 16 : 8);
      else asm.store(after, target, registerNumber(location.reg), word);
    }
  }

  // Epilogue: our stack pointer from the mailbox (the callee may have moved it), then the caller's rbx and rbp.
  asm.movImmWord(after, mailbox).load(GPR.sp, after, word).pop(BLOCK).pop(GPR.bp).ret();
  return { code: asm.code(), returnSite };
}
