/**
 * What the caller's code does to the stack pointer right after a call, for the caller-cleanup rule: the first
 * straight-line instruction at the return address that moves esp, when it removes a constant number of bytes
 * (`add esp, 0x10`, `lea esp, [esp + 0x10]`). Anything else that moves esp (push, pop, leave, mov esp, a branch)
 * ends the scan without a verdict. Pure: fed with Capstone's output (the x87 scan's disassembly).
 */
import type { StackCleanup } from './rules.ts';
import type { DecodedInstruction } from './x87-scan.ts';

const BRANCH = /^(?:(?:bnd|notrack) )?(?:j|loop|call|ret|iret|int|syscall|sysenter|sysexit|sysret|hlt|ud)/;
/** Instructions that move the stack pointer implicitly. */
const IMPLICIT_SP = /^(?:push|pop|leave|enter)/;

function immediate(text: string): number | undefined {
  const m = /^(-?)(0x[0-9a-f]+|\d+)$/.exec(text.trim());
  return m ? (m[1] ? -1 : 1) * Number(m[2]) : undefined;
}

export function stackCleanup(instructions: readonly DecodedInstruction[]): StackCleanup | undefined {
  for (const insn of instructions) {
    if (BRANCH.test(insn.mnemonic) || IMPLICIT_SP.test(insn.mnemonic)) return undefined;
    const [destination, ...rest] = insn.operands.split(',');
    if (!/^\s*[re]?sp\s*$/.test(destination ?? '')) continue;
    const source = rest.join(',').trim();
    let bytes: number | undefined;
    if (insn.mnemonic === 'add') bytes = immediate(source);
    else if (insn.mnemonic === 'sub') bytes = -(immediate(source) ?? NaN);
    else if (insn.mnemonic === 'lea') {
      const m = /^(?:dword ptr |qword ptr )?\[\s*[re]sp\s*([+-])\s*(0x[0-9a-f]+|\d+)\s*\]$/.exec(source);
      if (m) bytes = (m[1] === '-' ? -1 : 1) * Number(m[2]);
    }
    return bytes === undefined || Number.isNaN(bytes) ? undefined : { offset: insn.offset, text: insn.text, bytes };
  }
  return undefined;
}
