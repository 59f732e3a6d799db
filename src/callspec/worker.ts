/**
 * Worker threads, the fakecgo way: a guest thread created by the guest's own pthread_create whose start routine
 * (fakecgo's `threadentry`) waits for work from the host, runs it through a reference trampoline on its own
 * stack and TLS, and waits again.
 *
 *     worker(mailbox):                    ; the pthread start routine; mailbox in rdi / [esp+4]
 *       save rbx; rbx = mailbox; align the stack
 *     wait:
 *       int 0x85                          ; park: the host posts the next call's block and trampoline
 *       call mailbox->trampoline(mailbox->block)
 *       jmp wait
 *
 * Each worker has its own mailbox, and its own copies of the trampolines (theirs keep the block pointer in the
 * worker's mailbox), so workers can run calls concurrently.
 */
import type { Arch } from '../emu/arch.ts';
import { MAILBOX_BYTES } from './trampoline.ts';
import { Assembler, GPR } from './x86-asm.ts';

export const PARK_TRAP = 0x85;

/** Worker mailbox layout: the trampoline's mailbox, then the posted block pointer and trampoline address. */
export const WORKER_MAILBOX = {
  trampolineMailbox: 0,
  block: MAILBOX_BYTES,
  trampoline: MAILBOX_BYTES + 8,
  size: MAILBOX_BYTES + 16,
} as const;

/** The worker's start routine (position-independent: it only uses its mailbox). */
export function generateWorker(arch: Arch): Uint8Array {
  const asm = new Assembler(arch);
  if (arch === 'amd64') {
    // Entry: rsp ≡ 8 (mod 16); one push makes it 16-aligned for the calls below.
    asm.push(GPR.bx).movRegReg(GPR.bx, GPR.di);
    const wait = asm.size;
    asm.interrupt(PARK_TRAP);
    asm.load(GPR.di, GPR.bx, WORKER_MAILBOX.block);
    asm.callIndirect(GPR.bx, WORKER_MAILBOX.trampoline);
    asm.jumpTo(wait);
  } else {
    // Entry: esp ≡ 12 (mod 16). push ebp, push ebx, sub 4 → 16-aligned with room for the block argument.
    asm.push(GPR.bp).movRegReg(GPR.bp, GPR.sp).push(GPR.bx);
    asm.load(GPR.bx, GPR.bp, 8);
    asm.subStack(4);
    const wait = asm.size;
    asm.interrupt(PARK_TRAP);
    asm.load(GPR.ax, GPR.bx, WORKER_MAILBOX.block).store(GPR.sp, 0, GPR.ax);
    asm.callIndirect(GPR.bx, WORKER_MAILBOX.trampoline);
    asm.jumpTo(wait);
  }
  return asm.code();
}
