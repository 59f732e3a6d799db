/**
 * Which signal a CPU fault raises, with the siginfo and sigcontext fields Linux fills (arch/x86/mm/fault.c for
 * page faults: si_addr = the address, SEGV_MAPERR / SEGV_ACCERR, trapno 14, err = the page-fault error code,
 * cr2; arch/x86/kernel/traps.c for the exceptions). Pure: GuestFault fields in, a description out.
 */
import type { FaultContext } from './frame.ts';
import {
  BUS_ADRALN, FPE_FLTINV, FPE_INTDIV, ILL_ILLOPN, SEGV_ACCERR, SEGV_MAPERR, SI_KERNEL, SIGBUS, SIGFPE, SIGILL, SIGSEGV,
  SIGTRAP, TRAP_BRKPT,
} from './numbers.ts';
import type { SigInfo } from './siginfo.ts';

export interface FaultSignal {
  signal: number;
  info: SigInfo;
  context: FaultContext;
}

/** The fields of a GuestFault this needs (Unicorn's error kind, the pc, the data address, the exception vector). */
export interface FaultFacts {
  kind: string;
  pc: number;
  address: number | undefined;
  vector: number | undefined;
}

const PAGE_FAULT = 14;
/** x86 page-fault error code bits (arch/x86/include/asm/trap_pf.h). */
const PF_PROT = 1;
const PF_WRITE = 2;
const PF_USER = 4;
const PF_INSTR = 16;
const INVALID_OPCODE = 6;

/** Exception vector → signal and si_code (traps.c: do_error_trap / DO_ERROR table, exc_int3, exc_general_protection). */
const EXCEPTIONS: Record<number, { signal: number; code: number; addrIsPc: boolean }> = {
  0: { signal: SIGFPE, code: FPE_INTDIV, addrIsPc: true },
  1: { signal: SIGTRAP, code: TRAP_BRKPT, addrIsPc: true },
  3: { signal: SIGTRAP, code: SI_KERNEL, addrIsPc: false },
  4: { signal: SIGSEGV, code: SI_KERNEL, addrIsPc: false },
  5: { signal: SIGSEGV, code: SI_KERNEL, addrIsPc: false },
  6: { signal: SIGILL, code: ILL_ILLOPN, addrIsPc: true },
  13: { signal: SIGSEGV, code: SI_KERNEL, addrIsPc: false },
  16: { signal: SIGFPE, code: FPE_FLTINV, addrIsPc: true },
  17: { signal: SIGBUS, code: BUS_ADRALN, addrIsPc: false },
  19: { signal: SIGFPE, code: FPE_FLTINV, addrIsPc: true },
};

function memoryFault(facts: FaultFacts): FaultSignal | undefined {
  const match = /^(READ|WRITE|FETCH)_(UNMAPPED|PROT)$/.exec(facts.kind);
  if (!match) return undefined;
  const [, access, why] = match;
  const address = BigInt(facts.address ?? facts.pc);
  const err = PF_USER | (why === 'PROT' ? PF_PROT : 0) | (access === 'WRITE' ? PF_WRITE : 0) | (access === 'FETCH' ? PF_INSTR : 0);
  return {
    signal: SIGSEGV,
    info: { signo: SIGSEGV, code: why === 'PROT' ? SEGV_ACCERR : SEGV_MAPERR, addr: address },
    context: { trapno: PAGE_FAULT, err, cr2: address },
  };
}

/** The signal a fault raises, or undefined when it is not one a process could catch (e.g. the host's `hlt`). */
export function faultSignal(facts: FaultFacts): FaultSignal | undefined {
  if (facts.kind === 'INSN_INVALID') {
    return { signal: SIGILL, info: { signo: SIGILL, code: ILL_ILLOPN, addr: BigInt(facts.pc) }, context: { trapno: INVALID_OPCODE, err: 0, cr2: 0n } };
  }
  if (facts.kind === 'EXCEPTION' && facts.vector !== undefined) {
    const e = EXCEPTIONS[facts.vector];
    if (!e) return undefined;
    return {
      signal: e.signal,
      info: { signo: e.signal, code: e.code, addr: e.addrIsPc ? BigInt(facts.pc) : 0n },
      context: { trapno: facts.vector, err: 0, cr2: 0n },
    };
  }
  return memoryFault(facts);
}
