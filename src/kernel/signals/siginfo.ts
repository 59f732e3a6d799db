/**
 * siginfo_t as the kernel writes it into a signal frame (asm-generic/siginfo.h): 128 bytes; si_signo, si_errno and
 * si_code, then a union aligned to the pointer size — at 16 on amd64, at 12 on i386 (compat_siginfo).
 */
import type { Arch } from '../../emu/arch.ts';

export const SIGINFO_BYTES = 128;
const SI_SIGNO = 0;
const SI_ERRNO = 4;
const SI_CODE = 8;
const UNION_OFFSET: Record<Arch, number> = { amd64: 16, i386: 12 };

export interface SigInfo {
  signo: number;
  code: number;
  errno?: number;
  /** kill/tkill/tgkill: the sender (_kill: si_pid, si_uid). */
  pid?: number;
  uid?: number;
  /** Faults (_sigfault: si_addr): the bad data address, or the faulting instruction for SIGILL/SIGFPE/SIGTRAP. */
  addr?: bigint;
}

export function encodeSiginfo(arch: Arch, info: SigInfo): Uint8Array {
  const bytes = new Uint8Array(SIGINFO_BYTES);
  const view = new DataView(bytes.buffer);
  view.setInt32(SI_SIGNO, info.signo, true);
  view.setInt32(SI_ERRNO, info.errno ?? 0, true);
  view.setInt32(SI_CODE, info.code, true);
  const union = UNION_OFFSET[arch];
  if (info.addr !== undefined) {
    if (arch === 'amd64') view.setBigUint64(union, BigInt.asUintN(64, info.addr), true);
    else view.setUint32(union, Number(BigInt.asUintN(32, info.addr)), true);
  } else if (info.pid !== undefined) {
    view.setInt32(union, info.pid, true);
    view.setUint32(union + 4, info.uid ?? 0, true);
  }
  return bytes;
}
