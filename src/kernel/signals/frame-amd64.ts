/**
 * The amd64 signal frame, exactly as Linux builds it (arch/x86/kernel/signal.c: get_sigframe, __setup_rt_frame;
 * arch/x86/include/asm/sigframe.h struct rt_sigframe; uapi/asm/sigcontext.h struct sigcontext_64;
 * uapi/asm-generic/ucontext.h):
 *
 *   rt_sigframe { char *pretcode; struct ucontext uc; struct siginfo info; }  then, 64-byte aligned, the FXSAVE image
 *   ucontext    { u64 uc_flags; ucontext *uc_link; stack_t uc_stack; sigcontext_64 uc_mcontext; sigset_t uc_sigmask; }
 */
import { encodeFxsave, FPSTATE_ALIGN, FXSAVE_BYTES } from './fxsave.ts';
import {
  alignDown, altstackFlags, type BuiltFrame, EFLAGS_CLEARED_FOR_HANDLER, type FrameRequest, type Registers, type RestoredContext,
} from './frame.ts';
import { SA_ONSTACK, type SigSet } from './numbers.ts';
import { encodeSiginfo } from './siginfo.ts';

/** The System V red zone below rsp the frame must not touch. */
const RED_ZONE = 128n;
export const RT_SIGFRAME = { pretcode: 0, uc: 8, info: 312, size: 440 } as const;
/** Offsets inside struct ucontext. */
export const UCONTEXT = { flags: 0, link: 8, stack: 16, mcontext: 40, sigmask: 296, size: 304 } as const;
/** stack_t: void *ss_sp; int ss_flags; size_t ss_size. */
export const STACK_T = { sp: 0, flags: 8, size: 16 } as const;
/** struct sigcontext_64: the general registers in this order, then the selectors, err, trapno, oldmask, cr2, fpstate. */
export const SIGCONTEXT_REGS = [
  'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'rdi', 'rsi', 'rbp', 'rbx', 'rdx', 'rax', 'rcx', 'rsp', 'rip', 'rflags',
] as const;
export const SIGCONTEXT = { cs: 144, gs: 146, fs: 148, ss: 150, err: 152, trapno: 160, oldmask: 168, cr2: 176, fpstate: 184 } as const;
/** uc_flags: UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS (no UC_FP_XSTATE: the FPU state is plain FXSAVE). */
const UC_FLAGS = 0x2n | 0x4n;

export function buildFrameAmd64(req: FrameRequest): BuiltFrame {
  const rsp = req.regs.rsp!;
  let sp = rsp - RED_ZONE;
  if ((req.action.flags & SA_ONSTACK) !== 0 && altstackFlags(sp, req.altstack) === 0) sp = req.altstack.sp + req.altstack.size;
  const fpstate = alignDown(sp - BigInt(FXSAVE_BYTES), BigInt(FPSTATE_ALIGN));
  // align_sigframe: ((rsp + 8) % 16) == 0 at handler entry, as if the handler had been called.
  const frame = alignDown(fpstate - BigInt(RT_SIGFRAME.size), 16n) - 8n;
  const bytes = new Uint8Array(Number(fpstate - frame) + FXSAVE_BYTES);
  const view = new DataView(bytes.buffer);
  const put64 = (offset: number, value: bigint) => view.setBigUint64(offset, BigInt.asUintN(64, value), true);

  put64(RT_SIGFRAME.pretcode, req.action.restorer);
  const uc = RT_SIGFRAME.uc;
  put64(uc + UCONTEXT.flags, UC_FLAGS);
  put64(uc + UCONTEXT.stack + STACK_T.sp, req.altstack.sp);
  view.setInt32(uc + UCONTEXT.stack + STACK_T.flags, req.altstack.flags, true); // __save_altstack: the stored flags
  put64(uc + UCONTEXT.stack + STACK_T.size, req.altstack.size);
  const mc = uc + UCONTEXT.mcontext;
  SIGCONTEXT_REGS.forEach((name, i) => put64(mc + 8 * i, req.regs[name] ?? 0n));
  for (const seg of ['cs', 'gs', 'fs', 'ss'] as const) view.setUint16(mc + SIGCONTEXT[seg], Number(req.regs[seg] ?? 0n), true);
  put64(mc + SIGCONTEXT.err, BigInt(req.fault?.err ?? 0));
  put64(mc + SIGCONTEXT.trapno, BigInt(req.fault?.trapno ?? 0));
  put64(mc + SIGCONTEXT.oldmask, req.savedMask);
  put64(mc + SIGCONTEXT.cr2, req.fault?.cr2 ?? 0n);
  put64(mc + SIGCONTEXT.fpstate, fpstate);
  put64(uc + UCONTEXT.sigmask, req.savedMask);
  bytes.set(encodeSiginfo('amd64', req.info), RT_SIGFRAME.info);
  bytes.set(encodeFxsave(req.fpu), Number(fpstate - frame));

  return {
    address: Number(frame),
    bytes,
    regs: {
      rip: req.action.handler,
      rsp: frame,
      rdi: BigInt(req.signal),
      rsi: frame + BigInt(RT_SIGFRAME.info),
      rdx: frame + BigInt(RT_SIGFRAME.uc),
      rax: 0n, // no vector registers used by a variadic call: as if called through a prototype-less pointer
      rflags: (req.regs.rflags ?? 0n) & ~EFLAGS_CLEARED_FOR_HANDLER,
    },
  };
}

/** rt_sigreturn: the ucontext sits at rsp (the handler's `ret` popped pretcode). */
export const amd64UcontextAddress = (rsp: bigint): bigint => rsp;

/** Reads back a ucontext (UCONTEXT.size bytes) — the registers, mask, FPU state pointer and uc_stack. */
export function parseUcontextAmd64(bytes: Uint8Array): RestoredContext {
  const view = new DataView(bytes.buffer, bytes.byteOffset, UCONTEXT.size);
  const get64 = (offset: number) => view.getBigUint64(offset, true);
  const mc = UCONTEXT.mcontext;
  const regs: Registers = {};
  SIGCONTEXT_REGS.forEach((name, i) => (regs[name] = get64(mc + 8 * i)));
  const mask: SigSet = get64(UCONTEXT.sigmask);
  return {
    regs,
    mask,
    fpstate: Number(get64(mc + SIGCONTEXT.fpstate)),
    altstack: {
      sp: get64(UCONTEXT.stack + STACK_T.sp),
      flags: view.getInt32(UCONTEXT.stack + STACK_T.flags, true),
      size: get64(UCONTEXT.stack + STACK_T.size),
    },
  };
}
