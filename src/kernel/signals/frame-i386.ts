/**
 * The i386 signal frames, exactly as Linux builds them (arch/x86/kernel/signal_32.c __setup_frame /
 * __setup_rt_frame, arch/x86/include/asm/sigframe.h struct sigframe_ia32 / rt_sigframe_ia32, uapi/asm/sigcontext.h
 * struct sigcontext_32 and struct _fpstate_32):
 *
 *   rt_sigframe { u32 pretcode; int sig; u32 pinfo; u32 puc; siginfo info; ucontext uc; char retcode[8]; }
 *   sigframe    { u32 pretcode; int sig; sigcontext_32 sc; _fpstate_32 fpstate_unused; u32 extramask; char retcode[8]; }
 *
 * then the FPU state (the FXSAVE image 64-byte aligned, its 112-byte FSAVE header right below it). A handler
 * installed without SA_SIGINFO gets the old `sigframe` and returns through `sigreturn`.
 */
import { encodeFpstate32, FPSTATE_ALIGN, FSAVE_HEADER_BYTES, FXSAVE_BYTES } from './fxsave.ts';
import {
  alignDown, altstackFlags, type BuiltFrame, EFLAGS_CLEARED_FOR_HANDLER, type FrameRequest, type Registers, type RestoredContext,
} from './frame.ts';
import { SA_ONSTACK, SA_RESTORER, SA_SIGINFO } from './numbers.ts';
import { encodeSiginfo, SIGINFO_BYTES } from './siginfo.ts';

export const RT_SIGFRAME_32 = { pretcode: 0, sig: 4, pinfo: 8, puc: 12, info: 16, uc: 16 + SIGINFO_BYTES, retcode: 260, size: 268 } as const;
export const SIGFRAME_32 = { pretcode: 0, sig: 4, sc: 8, extramask: 720, retcode: 724, size: 732 } as const;
/** struct ucontext (ia32): uc_flags, uc_link, stack_t uc_stack {ss_sp, ss_flags, ss_size}, uc_mcontext, uc_sigmask. */
export const UCONTEXT_32 = { flags: 0, link: 4, stack: 8, mcontext: 20, sigmask: 108, size: 116 } as const;
/** struct sigcontext_32, one 32-bit slot each (selectors in the low half). */
export const SIGCONTEXT_32_SLOTS = [
  'gs', 'fs', 'es', 'ds', 'edi', 'esi', 'ebp', 'esp', 'ebx', 'edx', 'ecx', 'eax', 'trapno', 'err', 'eip', 'cs', 'eflags',
  'esp_at_signal', 'ss', 'fpstate', 'oldmask', 'cr2',
] as const;
export const SIGCONTEXT_32_BYTES = SIGCONTEXT_32_SLOTS.length * 4;
const slot = (name: (typeof SIGCONTEXT_32_SLOTS)[number]) => SIGCONTEXT_32_SLOTS.indexOf(name) * 4;
/** The registers sigreturn restores (COPY/COPY_SEG in restore_sigcontext; esp_at_signal is ignored). */
const RESTORED = ['gs', 'fs', 'es', 'ds', 'edi', 'esi', 'ebp', 'esp', 'ebx', 'edx', 'ecx', 'eax', 'eip', 'cs', 'eflags', 'ss'] as const;
/** uc_flags: UC_SIGCONTEXT_SS (not 64-bit mode, so no UC_STRICT_RESTORE_SS). */
const UC_FLAGS_32 = 0x2;
const NR_SIGRETURN = 119;
const NR_RT_SIGRETURN = 173;

/** `movl $__NR_rt_sigreturn, %eax; int $0x80` (padded) and `popl %eax; movl $__NR_sigreturn, %eax; int $0x80`. */
function retcode(rt: boolean): Uint8Array {
  const nr = rt ? NR_RT_SIGRETURN : NR_SIGRETURN;
  const mov = [0xb8, nr & 0xff, nr >> 8, 0, 0];
  return Uint8Array.from(rt ? [...mov, 0xcd, 0x80, 0] : [0x58, ...mov, 0xcd, 0x80]);
}

function writeSigcontext(view: DataView, at: number, req: FrameRequest, fpstate: bigint): void {
  const put = (name: (typeof SIGCONTEXT_32_SLOTS)[number], value: bigint | number) =>
    view.setUint32(at + slot(name), Number(BigInt.asUintN(32, BigInt(value))), true);
  for (const name of RESTORED) put(name, req.regs[name] ?? 0n);
  put('esp_at_signal', req.regs.esp ?? 0n);
  put('trapno', req.fault?.trapno ?? 0);
  put('err', req.fault?.err ?? 0);
  put('cr2', req.fault?.cr2 ?? 0n);
  put('fpstate', fpstate);
  put('oldmask', req.savedMask & 0xffffffffn);
}

export function buildFrameI386(req: FrameRequest): BuiltFrame {
  const rt = (req.action.flags & SA_SIGINFO) !== 0;
  const layout = rt ? RT_SIGFRAME_32 : SIGFRAME_32;
  let sp = req.regs.esp!;
  if ((req.action.flags & SA_ONSTACK) !== 0 && altstackFlags(sp, req.altstack) === 0) sp = req.altstack.sp + req.altstack.size;
  const fxsave = alignDown(sp - BigInt(FXSAVE_BYTES), BigInt(FPSTATE_ALIGN));
  const fpstate = fxsave - BigInt(FSAVE_HEADER_BYTES);
  // align_sigframe: ((esp + 4) % 16) == 0 at handler entry.
  const frame = alignDown(fpstate - BigInt(layout.size) + 4n, 16n) - 4n;
  const bytes = new Uint8Array(Number(fxsave - frame) + FXSAVE_BYTES);
  const view = new DataView(bytes.buffer);
  const put32 = (offset: number, value: bigint | number) => view.setUint32(offset, Number(BigInt.asUintN(32, BigInt(value))), true);
  const restorer = (req.action.flags & SA_RESTORER) !== 0 ? req.action.restorer : frame + BigInt(layout.retcode);

  put32(layout.pretcode, restorer);
  put32(layout.sig, req.signal);
  bytes.set(retcode(rt), layout.retcode);
  let regs: Registers;
  if (rt) {
    const uc = RT_SIGFRAME_32.uc;
    put32(RT_SIGFRAME_32.pinfo, frame + BigInt(RT_SIGFRAME_32.info));
    put32(RT_SIGFRAME_32.puc, frame + BigInt(uc));
    bytes.set(encodeSiginfo('i386', req.info), RT_SIGFRAME_32.info);
    put32(uc + UCONTEXT_32.flags, UC_FLAGS_32);
    put32(uc + UCONTEXT_32.stack, req.altstack.sp);
    put32(uc + UCONTEXT_32.stack + 4, req.altstack.flags);
    put32(uc + UCONTEXT_32.stack + 8, req.altstack.size);
    writeSigcontext(view, uc + UCONTEXT_32.mcontext, req, fpstate);
    put32(uc + UCONTEXT_32.sigmask, req.savedMask & 0xffffffffn);
    put32(uc + UCONTEXT_32.sigmask + 4, req.savedMask >> 32n);
    // Linux passes the arguments on the stack and, for -mregparm=3 handlers, in eax/edx/ecx too.
    regs = { eax: BigInt(req.signal), edx: frame + BigInt(RT_SIGFRAME_32.info), ecx: frame + BigInt(uc) };
  } else {
    writeSigcontext(view, SIGFRAME_32.sc, req, fpstate);
    put32(SIGFRAME_32.extramask, req.savedMask >> 32n);
    regs = { eax: BigInt(req.signal), edx: 0n, ecx: 0n };
  }
  bytes.set(encodeFpstate32(req.fpu), Number(fpstate - frame));
  return {
    address: Number(frame),
    bytes,
    regs: { ...regs, eip: req.action.handler, esp: frame, eflags: (req.regs.eflags ?? 0n) & ~EFLAGS_CLEARED_FOR_HANDLER },
  };
}

/** rt_sigreturn: the handler's `ret` popped pretcode, so the frame is at esp - 4; sigreturn's restorer also popped sig. */
export const i386RtFrameAddress = (esp: bigint): bigint => esp - 4n;
export const i386FrameAddress = (esp: bigint): bigint => esp - 8n;

function readSigcontext(view: DataView, at: number): { regs: Registers; fpstate: number; oldmask: bigint } {
  const regs: Registers = {};
  for (const name of RESTORED) regs[name] = BigInt(view.getUint32(at + slot(name), true));
  return { regs, fpstate: view.getUint32(at + slot('fpstate'), true), oldmask: BigInt(view.getUint32(at + slot('oldmask'), true)) };
}

/** Reads back an rt_sigframe (RT_SIGFRAME_32.size bytes from the frame's start). */
export function parseRtFrameI386(bytes: Uint8Array): RestoredContext {
  const view = new DataView(bytes.buffer, bytes.byteOffset, RT_SIGFRAME_32.size);
  const uc = RT_SIGFRAME_32.uc;
  const sc = readSigcontext(view, uc + UCONTEXT_32.mcontext);
  const low = BigInt(view.getUint32(uc + UCONTEXT_32.sigmask, true));
  const high = BigInt(view.getUint32(uc + UCONTEXT_32.sigmask + 4, true));
  return {
    regs: sc.regs,
    mask: (high << 32n) | low,
    fpstate: sc.fpstate,
    altstack: {
      sp: BigInt(view.getUint32(uc + UCONTEXT_32.stack, true)),
      flags: view.getInt32(uc + UCONTEXT_32.stack + 4, true),
      size: BigInt(view.getUint32(uc + UCONTEXT_32.stack + 8, true)),
    },
  };
}

/** Reads back an old-style sigframe (SIGFRAME_32.size bytes): the mask is sc.oldmask plus extramask. */
export function parseFrameI386(bytes: Uint8Array): RestoredContext {
  const view = new DataView(bytes.buffer, bytes.byteOffset, SIGFRAME_32.size);
  const sc = readSigcontext(view, SIGFRAME_32.sc);
  const high = BigInt(view.getUint32(SIGFRAME_32.extramask, true));
  return { regs: sc.regs, mask: (high << 32n) | sc.oldmask, fpstate: sc.fpstate };
}

/** The FXSAVE image inside an i386 fpstate (after the FSAVE header). */
export const i386FxsaveAddress = (fpstate: number): number => fpstate + FSAVE_HEADER_BYTES;
