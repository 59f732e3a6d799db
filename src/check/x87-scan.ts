/**
 * What the code right after a call does to the x87 register stack, for the x87-empty-pop rule: the straight-line
 * instructions at the return address (up to the first branch, at most X87_SCAN_INSTRUCTIONS) disassembled by
 * Capstone and reduced to the x87 ones, each with how many stack registers it reads and how it moves the top.
 * Pure: the checker feeds it Capstone's output and caches the result per return address.
 */
import type { X87Read } from './rules.ts';

/** How far after a return address the scan looks (purego's trampolines store results within a few instructions). */
export const X87_SCAN_INSTRUCTIONS = 16;

export interface DecodedInstruction {
  offset: number;
  mnemonic: string;
  operands: string;
  text: string;
}

type Effect = { needs: number; delta: number } | 'none' | 'stop';

const PUSH_CONSTANT = new Set(['fld1', 'fldz', 'fldpi', 'fldl2e', 'fldl2t', 'fldlg2', 'fldln2']);
const PUSH = new Set(['fild', 'fbld']);
const STORE_POP = new Set(['fstp', 'fistp', 'fisttp', 'fbstp']);
const STORE = new Set(['fst', 'fist']);
const COMPARE = new Set(['fcom', 'fucom', 'fcomi', 'fucomi']);
const COMPARE_POP = new Set(['fcomp', 'fucomp', 'fcomip', 'fucomip', 'fcompi', 'fucompi']);
const ARITHMETIC = new Set(['fadd', 'fsub', 'fsubr', 'fmul', 'fdiv', 'fdivr']);
const ARITHMETIC_POP = new Set(['faddp', 'fsubp', 'fsubrp', 'fmulp', 'fdivp', 'fdivrp']);
const INTEGER_OPERAND = new Set(['fiadd', 'fisub', 'fisubr', 'fimul', 'fidiv', 'fidivr', 'ficom']);
const UNARY = new Set(['fchs', 'fabs', 'fsqrt', 'frndint', 'fsin', 'fcos', 'f2xm1', 'ftst']);
const NO_STACK = new Set([
  'fldcw', 'fnstcw', 'fstcw', 'fnstsw', 'fstsw', 'fnclex', 'fclex', 'fnop', 'fnstenv', 'fstenv', 'fxsave', 'fxsave64',
  'wait', 'fwait', 'fxam', 'fsetpm', 'fdisi', 'feni', 'fndisi', 'fneni',
]);
/** The FPU state is reset or reloaded, or registers are freed or rotated: the scan cannot follow. */
const RELOADS = new Set([
  'fninit', 'finit', 'fldenv', 'frstor', 'fnsave', 'fsave', 'fxrstor', 'fxrstor64', 'xrstor', 'xrstor64', 'xrstors',
  'xrstors64', 'ffree', 'ffreep', 'fincstp', 'fdecstp', 'emms', 'femms',
]);
const BRANCH = /^(?:(?:bnd|notrack) )?(?:j|loop|call|ret|iret|int|syscall|sysenter|sysexit|sysret|hlt|ud)/;
const MMX_REGISTER = /(?:^|[^x])mm\d/;

/** The highest st(i) an instruction names, plus one (0 when it names none). */
function stackOperands(operands: string): number {
  let highest = -1;
  for (const match of operands.matchAll(/st\((\d)\)/g)) highest = Math.max(highest, Number(match[1]));
  return highest + 1;
}

/** One x87 instruction's effect on the register stack (Intel SDM vol. 1 §8.1, vol. 2 instruction pages). */
export function x87Effect(mnemonic: string, operands: string): Effect {
  const named = stackOperands(operands);
  const memory = operands.includes('[');
  if (PUSH_CONSTANT.has(mnemonic) || PUSH.has(mnemonic)) return { needs: 0, delta: 1 };
  if (mnemonic === 'fld') return { needs: named, delta: 1 }; // fld st(i) reads st(i); fld m pushes only
  if (STORE_POP.has(mnemonic)) return { needs: 1, delta: -1 };
  if (STORE.has(mnemonic)) return { needs: 1, delta: 0 };
  if (COMPARE.has(mnemonic)) return { needs: memory ? 1 : Math.max(named, 2), delta: 0 };
  if (COMPARE_POP.has(mnemonic)) return { needs: memory ? 1 : Math.max(named, 2), delta: -1 };
  if (mnemonic === 'fcompp' || mnemonic === 'fucompp') return { needs: 2, delta: -2 };
  if (ARITHMETIC.has(mnemonic)) return { needs: Math.max(named, 1), delta: 0 };
  if (ARITHMETIC_POP.has(mnemonic)) return { needs: Math.max(named, 2), delta: -1 };
  if (INTEGER_OPERAND.has(mnemonic)) return { needs: 1, delta: 0 };
  if (mnemonic === 'ficomp') return { needs: 1, delta: -1 };
  if (UNARY.has(mnemonic)) return { needs: 1, delta: 0 };
  if (mnemonic === 'fscale' || mnemonic === 'fprem' || mnemonic === 'fprem1') return { needs: 2, delta: 0 };
  if (mnemonic === 'fpatan' || mnemonic === 'fyl2x' || mnemonic === 'fyl2xp1') return { needs: 2, delta: -1 };
  if (mnemonic === 'fptan' || mnemonic === 'fsincos' || mnemonic === 'fxtract') return { needs: 1, delta: 1 };
  if (mnemonic === 'fxch') return { needs: Math.max(named, 2), delta: 0 };
  if (mnemonic.startsWith('fcmov')) return { needs: Math.max(named, 1), delta: 0 };
  if (NO_STACK.has(mnemonic)) return 'none';
  return 'stop'; // an x87 instruction this table does not know: no verdict rather than a guess
}

/** The x87 reads in straight-line code after a return address, ending at the first branch or untrackable state. */
export function x87Reads(instructions: readonly DecodedInstruction[]): X87Read[] {
  const reads: X87Read[] = [];
  for (const insn of instructions.slice(0, X87_SCAN_INSTRUCTIONS)) {
    const { mnemonic, operands, offset, text } = insn;
    if (BRANCH.test(mnemonic)) break;
    const x87 = mnemonic.startsWith('f') || mnemonic === 'wait' || RELOADS.has(mnemonic);
    if (!x87) {
      // MMX instructions alias the x87 registers (all tagged valid afterwards): nothing more can be said.
      if (MMX_REGISTER.test(operands)) {
        reads.push({ offset, text, needs: 0, delta: 0, stop: true });
        break;
      }
      continue;
    }
    const effect = RELOADS.has(mnemonic) ? 'stop' : x87Effect(mnemonic, operands);
    if (effect === 'none') continue;
    if (effect === 'stop') {
      reads.push({ offset, text, needs: 0, delta: 0, stop: true });
      break;
    }
    reads.push({ offset, text, ...effect });
    // After a push the stack holds a value of the caller's own: later pops are its business, not the callee's.
    if (effect.delta > 0 && effect.needs === 0) break;
  }
  return reads;
}
