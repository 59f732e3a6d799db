/**
 * Nested host calls: a callback (C → host) that calls into the guest again, e.g. a qsort comparator calling the
 * guest's strcmp. The callback runs while its stub is stopped at `int 0x81` (see Process.onInterrupt), so the
 * nested call is an ordinary run of the engine; what must not be lost is the state of the call it interrupts:
 *
 *   - the CPU of the callback's thread (the stub's pc, the caller's registers): saved and restored whole; the nested
 *     call starts from it (that thread's TLS base and FPU modes), only its stack pointer and block pointer set;
 *   - the caller's stack: the nested frame goes below the current stack pointer, past the amd64 red zone (psABI
 *     amd64 §3.2.2: "The 128-byte area beyond the location pointed to by %rsp is considered to be reserved"), on
 *     a 16-byte boundary (psABI §3.2.2 / i386 psABI 2.1.2.2: the stack is 16-byte aligned at a call);
 *   - the trampoline's mailbox (the outer trampoline keeps its block pointer and stack pointer there; each thread
 *     the host calls on has its own);
 *   - errno (the guest code around the callback may look at it): the nested call clears and reads its own.
 */
import type { Arch } from '../emu/arch.ts';
import type { RegName } from '../emu/engine.ts';
import { type CallEnvironment, callFrame, CALL_FRAME_BYTES } from './call.ts';
import type { GuestWindow } from './guest-window.ts';
import { MAILBOX_BYTES } from './trampoline.ts';

/** Bytes below the stack pointer that the interrupted code may still use (leaf functions' red zone). */
export const RED_ZONE_BYTES: Record<Arch, number> = { amd64: 128, i386: 0 };
const STACK_ALIGN = 16;
const STACK_POINTER: Record<Arch, RegName> = { amd64: 'rsp', i386: 'esp' };

/** Where a nested call's frame starts, given the interrupted code's stack pointer. Pure. */
export function nestedStackTop(arch: Arch, sp: number): number {
  return Math.floor((sp - RED_ZONE_BYTES[arch]) / STACK_ALIGN) * STACK_ALIGN;
}

export interface NestedFrame {
  /** The environment for the nested call: the same machine, a stack top below the interrupted code's. */
  readonly env: CallEnvironment;
  /** Puts back the interrupted call's CPU and mailbox (call once, also after a failed nested call). */
  leave(): void;
}

/**
 * Saves what the nested call would overwrite and gives its environment. `window` makes the frame's window at a
 * given start (the machine's live-memory windows).
 */
export function enterNestedCall(env: CallEnvironment, mailbox: number, window: (start: number, size: number) => GuestWindow): NestedFrame {
  const { engine, arch } = env;
  const sp = STACK_POINTER[arch];
  const top = nestedStackTop(arch, Number(engine.reg(sp)));
  const interrupted = engine.saveContext();
  const mailboxBytes = engine.read(mailbox, MAILBOX_BYTES);
  const { entrySp } = callFrame(arch, top);
  return {
    env: {
      ...env,
      stackTop: top,
      frame: window(top - CALL_FRAME_BYTES, CALL_FRAME_BYTES),
      // The thread's own CPU as the callback found it (its TLS base, its rounding modes: what a C call from the
      // callback would see), on the stack below the interrupted code; amd64 passes the block in rdi (i386: on the
      // stack, written by executeCall).
      startCpu: (block) => {
        engine.setReg(sp, entrySp);
        if (arch === 'amd64') engine.setReg('rdi', block);
      },
    },
    leave: () => {
      engine.write(mailbox, mailboxBytes);
      engine.restoreContext(interrupted);
      interrupted.free();
    },
  };
}
