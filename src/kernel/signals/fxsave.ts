/**
 * The FPU/SSE state in a signal frame: the 512-byte FXSAVE image (Intel SDM vol. 1 §10.5.1; Linux's
 * struct fxregs_state / struct _fpstate_64), and for i386 the legacy FSAVE header Linux puts in front of it
 * (struct _fpstate_32 in asm/sigcontext.h, magic X86_FXSR_MAGIC). No XSAVE extension is written: the
 * sw_reserved bytes (FP_XSTATE_MAGIC1) stay zero, which tells glibc, Go and the kernel "fxsave only".
 */
export const FXSAVE_BYTES = 512;
/** struct _fpstate_32 = the 112-byte FSAVE header + the FXSAVE image. */
export const FSAVE_HEADER_BYTES = 112;
/** fpu__alloc_mathframe aligns the FXSAVE image to 64 bytes (as XSAVE requires). */
export const FPSTATE_ALIGN = 64;

const FX_FCW = 0;
const FX_FSW = 2;
const FX_FTW = 4;
const FX_MXCSR = 24;
const FX_MXCSR_MASK = 28;
const FX_ST = 32;
const FX_ST_STRIDE = 16;
const FX_XMM = 160;
const XMM_BYTES = 16;
export const X87_REG_BYTES = 10;
/** What MXCSR bits the (virtual) CPU supports, as FXSAVE reports it: all 16, DAZ included. */
const MXCSR_MASK_ALL = 0xffff;
/** _fpstate_32: cw, sw, tag, ipoff, cssel, dataoff, datasel (u32 each), _st[8] (10 bytes each), status, magic. */
const FSAVE_TAG = 8;
const FSAVE_ST = 28;
const FSAVE_STATUS = 108;
const FSAVE_MAGIC = 110;
const X86_FXSR_MAGIC = 0x0000;

export interface FpuState {
  fcw: number;
  fsw: number;
  /** The full x87 tag word (two bits per physical register, 0b11 = empty). */
  ftw: number;
  mxcsr: number;
  /** ST(0)..ST(7), 10 bytes each, in stack order. */
  st: Uint8Array[];
  /** xmm0..xmm15 (amd64) or xmm0..xmm7 (i386), 16 bytes each. */
  xmm: Uint8Array[];
}

/** FXSAVE's abridged tag: one bit per physical register, set when the register is not empty. */
export function abridgedTag(fullTag: number): number {
  let tag = 0;
  for (let i = 0; i < 8; i++) if (((fullTag >> (2 * i)) & 3) !== 3) tag |= 1 << i;
  return tag;
}

/** Back to a full tag word: non-empty registers become "valid" (00) — FXRSTOR recomputes zero/special itself. */
export function fullTag(abridged: number): number {
  let tag = 0;
  for (let i = 0; i < 8; i++) if ((abridged & (1 << i)) === 0) tag |= 3 << (2 * i);
  return tag;
}

export function encodeFxsave(state: FpuState): Uint8Array {
  const bytes = new Uint8Array(FXSAVE_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint16(FX_FCW, state.fcw, true);
  view.setUint16(FX_FSW, state.fsw, true);
  view.setUint8(FX_FTW, abridgedTag(state.ftw));
  view.setUint32(FX_MXCSR, state.mxcsr, true);
  view.setUint32(FX_MXCSR_MASK, MXCSR_MASK_ALL, true);
  state.st.forEach((reg, i) => bytes.set(reg.subarray(0, X87_REG_BYTES), FX_ST + i * FX_ST_STRIDE));
  state.xmm.forEach((reg, i) => bytes.set(reg.subarray(0, XMM_BYTES), FX_XMM + i * XMM_BYTES));
  return bytes;
}

export function decodeFxsave(bytes: Uint8Array, xmmCount: number): FpuState {
  const view = new DataView(bytes.buffer, bytes.byteOffset, FXSAVE_BYTES);
  return {
    fcw: view.getUint16(FX_FCW, true),
    fsw: view.getUint16(FX_FSW, true),
    ftw: fullTag(view.getUint8(FX_FTW)),
    mxcsr: view.getUint32(FX_MXCSR, true),
    st: Array.from({ length: 8 }, (_, i) => bytes.slice(FX_ST + i * FX_ST_STRIDE, FX_ST + i * FX_ST_STRIDE + X87_REG_BYTES)),
    xmm: Array.from({ length: xmmCount }, (_, i) => bytes.slice(FX_XMM + i * XMM_BYTES, FX_XMM + (i + 1) * XMM_BYTES)),
  };
}

/** i386: struct _fpstate_32 — the FSAVE view (what convert_from_fxsr fills) followed by the FXSAVE image. */
export function encodeFpstate32(state: FpuState): Uint8Array {
  const bytes = new Uint8Array(FSAVE_HEADER_BYTES + FXSAVE_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, state.fcw | 0xffff0000, true);
  view.setUint32(4, state.fsw | 0xffff0000, true);
  view.setUint32(FSAVE_TAG, state.ftw | 0xffff0000, true);
  state.st.forEach((reg, i) => bytes.set(reg.subarray(0, X87_REG_BYTES), FSAVE_ST + i * X87_REG_BYTES));
  view.setUint16(FSAVE_STATUS, state.fsw, true);
  view.setUint16(FSAVE_MAGIC, X86_FXSR_MAGIC, true);
  bytes.set(encodeFxsave(state), FSAVE_HEADER_BYTES);
  return bytes;
}
