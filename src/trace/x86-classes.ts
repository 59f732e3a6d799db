/**
 * A minimal x86 opcode classifier (prefixes + opcode, no operands): which register groups an instruction can
 * change besides the general-purpose registers and flags, and whether it is a call or a return. The recorder uses
 * it to read the expensive register groups (xmm, x87, segment bases) only after instructions that can change them;
 * the player uses it for call depth ("run to return"). It needs no disassembler, so recording stays fast.
 *
 * The rule (conservative: a false "may change" costs a few register reads, a false "cannot change" would lose a
 * change, and the tests compare every step of real calls against the engine's full register state):
 *
 * - VECTOR (xmm0–15/xmm0–7, mxcsr): any VEX/EVEX-encoded instruction; the two-byte opcodes 0F 10–17, 0F 28–2F,
 *   0F 50–7F, 0F C2–C6, 0F D0–FF and the three-byte maps 0F 38 / 0F 3A (SSE…SSE4, MMX); 0F AE (ldmxcsr, fxrstor,
 *   xrstor and friends).
 * - X87 (st0–7, fpcw, fpsw, fptag): the x87 escapes D8–DF and fwait (9B); MMX forms — the SSE-range opcodes above
 *   without a 66/F2/F3 prefix that operate on mm registers (0F 2A/2C/2D, 0F 38, 0F 3A, 0F 60–7F, 0F C4/C5,
 *   0F D0–FF), F2/F3 0F D6 (movdq2q/movq2dq) — because MMX aliases the x87 registers and resets the x87 tag word;
 *   emms/femms/3DNow! (0F 77, 0F 0E, 0F 0F); 0F AE.
 * - SEGMENT (selectors, fs/gs bases): mov to a segment register (8E), pop es/ss/ds/fs/gs, les/lds/lss/lfs/lgs,
 *   far call/jmp/ret, 0F AE (wrfsbase/wrgsbase).
 * - ALL: software interrupts (int n, int3, into, int1), syscall/sysenter/sysret/sysexit, iret: the kernel or the
 *   host (callbacks) may change anything. (The recorder also reads everything after any host-side register write.)
 */
import type { Arch } from '../emu/arch.ts';

export const MAY_CHANGE_VECTOR = 1;
export const MAY_CHANGE_X87 = 2;
export const MAY_CHANGE_SEGMENT = 4;
export const MAY_CHANGE_ALL = MAY_CHANGE_VECTOR | MAY_CHANGE_X87 | MAY_CHANGE_SEGMENT;
/** A near or far call (E8, FF /2, FF /3, 9A). */
export const IS_CALL = 8;
/** A near or far return (C3, C2, CB, CA, CF). */
export const IS_RETURN = 16;

const SEGMENT_PREFIXES = new Set([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65]);

/** MMX forms among the 0F opcodes (when there is no 66/F2/F3 prefix). */
function isMmxOpcode(op2: number): boolean {
  return (
    op2 === 0x2a || op2 === 0x2c || op2 === 0x2d || op2 === 0x38 || op2 === 0x3a ||
    (op2 >= 0x60 && op2 <= 0x7f) || op2 === 0xc4 || op2 === 0xc5 || op2 >= 0xd0
  );
}

function isSseOpcode(op2: number): boolean {
  return (
    (op2 >= 0x10 && op2 <= 0x17) || (op2 >= 0x28 && op2 <= 0x2f) || (op2 >= 0x50 && op2 <= 0x7f) ||
    (op2 >= 0xc2 && op2 <= 0xc6) || op2 >= 0xd0 || op2 === 0x38 || op2 === 0x3a
  );
}

/** The effect bits (MAY_CHANGE_*, IS_CALL, IS_RETURN) of the instruction encoded at the start of `bytes`. */
export function instructionEffects(bytes: Uint8Array, arch: Arch): number {
  const long = arch === 'amd64';
  let i = 0;
  let mandatory = false; // a 66, F2 or F3 prefix (SSE forms rather than MMX forms)
  let repeat = false; // F2 or F3
  for (; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0x66) mandatory = true;
    else if (b === 0xf2 || b === 0xf3) mandatory = repeat = true;
    else if (b === 0xf0 || b === 0x67 || SEGMENT_PREFIXES.has(b)) continue;
    else if (long && b >= 0x40 && b <= 0x4f) continue; // REX
    else break;
  }
  const op = bytes[i];
  if (op === undefined) return MAY_CHANGE_ALL;
  const next = bytes[i + 1] ?? 0;
  const modrmReg = (next >> 3) & 7;
  switch (op) {
    case 0xc4: // VEX3 (always in 64-bit mode; in 32-bit mode only with mod = 11, else LES)
    case 0xc5: // VEX2 / LDS
      return long || (next & 0xc0) === 0xc0 ? MAY_CHANGE_VECTOR : MAY_CHANGE_SEGMENT;
    case 0x62: // EVEX (64-bit mode, or mod = 11 in 32-bit mode; else BOUND)
      return long || (next & 0xc0) === 0xc0 ? MAY_CHANGE_VECTOR : 0;
    case 0x9b: // fwait
      return MAY_CHANGE_X87;
    case 0xe8:
      return IS_CALL;
    case 0x9a: // far call (32-bit mode)
      return IS_CALL | MAY_CHANGE_SEGMENT;
    case 0xff:
      if (modrmReg === 2) return IS_CALL;
      if (modrmReg === 3) return IS_CALL | MAY_CHANGE_SEGMENT;
      if (modrmReg === 5) return MAY_CHANGE_SEGMENT; // far jmp
      return 0;
    case 0xc2:
    case 0xc3:
      return IS_RETURN;
    case 0xca:
    case 0xcb:
      return IS_RETURN | MAY_CHANGE_SEGMENT;
    case 0xcf: // iret
      return IS_RETURN | MAY_CHANGE_ALL;
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xf1:
      return MAY_CHANGE_ALL;
    case 0x8e: // mov Sreg, r/m
    case 0xea: // far jmp
      return MAY_CHANGE_SEGMENT;
    case 0x07:
    case 0x17:
    case 0x1f: // pop es/ss/ds (32-bit mode)
      return long ? 0 : MAY_CHANGE_SEGMENT;
    case 0x0f:
      return twoByteEffects(next, mandatory, repeat);
    default:
      return op >= 0xd8 && op <= 0xdf ? MAY_CHANGE_X87 : 0;
  }
}

function twoByteEffects(op2: number, mandatory: boolean, repeat: boolean): number {
  switch (op2) {
    case 0x05: // syscall
    case 0x07: // sysret
    case 0x34: // sysenter
    case 0x35: // sysexit
      return MAY_CHANGE_ALL;
    case 0xa1:
    case 0xa9: // pop fs/gs
    case 0xb2:
    case 0xb4:
    case 0xb5: // lss/lfs/lgs
      return MAY_CHANGE_SEGMENT;
    case 0xae: // fxsave/fxrstor/ldmxcsr/stmxcsr/xsave/xrstor/rd|wr fs|gs base/fences
      return MAY_CHANGE_ALL;
    case 0x0e: // femms
    case 0x0f: // 3DNow!
    case 0x77: // emms
      return MAY_CHANGE_X87;
    default:
      if (!isSseOpcode(op2)) return 0;
      if (!mandatory && isMmxOpcode(op2)) return MAY_CHANGE_VECTOR | MAY_CHANGE_X87;
      if (repeat && op2 === 0xd6) return MAY_CHANGE_VECTOR | MAY_CHANGE_X87; // movdq2q / movq2dq
      return MAY_CHANGE_VECTOR;
  }
}
