/**
 * The ABI invariants shimulator checks, one pure function per rule, each citing the part of the ABI it enforces
 * (System V AMD64 psABI 1.0; i386 System V ABI with the Linux 16-byte stack alignment). Every violation carries a
 * message that teaches: what the rule is, what was found, and where.
 */
import type { Arch } from '../emu/arch.ts';
import { typeName } from '../callspec/layout.ts';
import type { CallSpec } from '../callspec/types.ts';

export type RuleId =
  | 'stack-alignment'
  | 'varargs-al'
  | 'callee-saved'
  | 'direction-flag'
  | 'x87-stack'
  | 'control-words'
  | 'narrow-int-extension'
  | 'sret-return'
  | 'x87-empty-pop'
  | 'callee-pop'
  | 'caller-cleanup'
  | 'shadow-space'
  | 'printf-format';

export type Severity = 'error' | 'warning';

export interface Violation {
  rule: RuleId;
  severity: Severity;
  /** The function whose call broke the rule. */
  function: string;
  /** Who called it: `shim_snprintf_al0+0x1c (/opt/shimulator/lib/libabi-shims.so)`, or the host. */
  caller: string;
  arch: Arch;
  /** Whether it was found when the function was entered or when it returned. */
  at: 'entry' | 'return';
  expected: string;
  actual: string;
  message: string;
  /** The guest thread (tid) it happened on. */
  thread?: number;
  /** The checked call it was found in: a sequence number shared by that call's entry and return violations. */
  call?: number;
  /** The checked calls open on the same thread when this one was entered, outermost first (absent when none). */
  enclosing?: number[];
}

export interface AbiReport {
  /** True when there is no error-level violation (warnings do not fail a call). */
  ok: boolean;
  violations: Violation[];
}

const CONVENTION_RULES: Record<'callee-pop' | 'caller-cleanup' | 'shadow-space', { severity: Severity; statement: Record<Arch, string> }> = {
  'callee-pop': {
    severity: 'error',
    statement: {
      amd64: 'no amd64 convention has the callee pop its arguments',
      i386: 'a stdcall, fastcall or thiscall function (also libffi\'s pascal and register) removes its own stack arguments, and the hidden struct-return pointer when it is on the stack: it returns with `ret $N`, N the bytes of stack arguments (GCC "x86 Function Attributes"; a variadic one is cdecl)',
    },
  },
  'caller-cleanup': {
    severity: 'error',
    statement: {
      amd64: 'no amd64 convention has the callee pop its arguments',
      i386: 'a caller of a stdcall, fastcall or thiscall function does not remove the arguments after the call (the callee did), and passes the register arguments (fastcall: the first two integers in ecx, edx; thiscall: the first in ecx) in registers, not on the stack (GCC "x86 Function Attributes")',
    },
  },
  'shadow-space': {
    severity: 'error',
    statement: {
      amd64: 'a caller of an ms_abi (Win64) function reserves 32 bytes of shadow ("home") space directly above the return address, below any stack arguments; the callee may store rcx, rdx, r8 and r9 there (Microsoft x64 calling convention, "Stack allocation")',
      i386: 'i386 conventions have no shadow space',
    },
  },
};

/** What the rules know about each rule: its level and the one-line statement used in messages and the playground. */
export const RULES: Record<RuleId, { severity: Severity; statement: Record<Arch, string> }> = {
  'stack-alignment': {
    severity: 'error',
    statement: {
      amd64: 'at function entry rsp+8 must be a multiple of 16, i.e. the stack is 16-byte aligned at the call instruction (psABI §3.2.2)',
      i386: 'at function entry esp+4 must be a multiple of 16, i.e. the stack is 16-byte aligned at the call instruction (i386 psABI as used by Linux and gcc since 2012)',
    },
  },
  'varargs-al': {
    severity: 'error',
    statement: {
      amd64: 'a caller of a variadic function must put in %al an upper bound on the number of vector registers carrying arguments (psABI §3.2.3); the callee saves only that many xmm registers for va_arg',
      i386: 'i386 variadic calls pass everything on the stack; %al has no meaning',
    },
  },
  'callee-saved': {
    severity: 'error',
    statement: {
      amd64: 'rbx, rbp, r12–r15 and rsp belong to the caller: the callee must restore them before returning (psABI §3.2.1, figure 3.4)',
      i386: 'ebx, esi, edi, ebp and esp belong to the caller: the callee must restore them before returning (i386 psABI §2.2)',
    },
  },
  'direction-flag': {
    severity: 'error',
    statement: {
      amd64: 'the direction flag DF must be clear on function entry and on return (psABI §3.2.1)',
      i386: 'the direction flag DF must be clear on function entry and on return (i386 psABI §2.2)',
    },
  },
  'x87-stack': {
    severity: 'error',
    statement: {
      amd64: 'the x87 register stack must be empty on entry and on return, except that a long double result is returned in st0 (psABI §3.2.1, §3.2.3)',
      i386: 'the x87 register stack must be empty on entry and on return, except that a float, double or long double result is returned in st0 (i386 psABI §2.2)',
    },
  },
  'control-words': {
    severity: 'error',
    statement: {
      amd64: 'the MXCSR control bits and the x87 control word are callee-saved: a function that changes rounding, precision or exception masks must restore them (psABI §3.2.1)',
      i386: 'the x87 control word and the MXCSR control bits are callee-saved: a function that changes rounding, precision or exception masks must restore them',
    },
  },
  'narrow-int-extension': {
    severity: 'warning',
    statement: {
      amd64: 'a char, short or _Bool argument should be sign- or zero-extended to 32 bits by the caller: gcc and clang callers do it and clang-compiled callees rely on it',
      i386: 'a char, short or _Bool argument should be sign- or zero-extended to fill its 4-byte stack slot, as gcc and clang callers do',
    },
  },
  'sret-return': {
    severity: 'error',
    statement: {
      amd64: 'a function returning a struct in memory must return the hidden pointer (received in rdi) in rax (psABI §3.2.3)',
      i386: 'a function returning a struct through the hidden pointer must pop that pointer on return (ret $4) (i386 psABI §2.2)',
    },
  },
  'x87-empty-pop': {
    severity: 'error',
    statement: {
      amd64: 'after a call the x87 register stack holds only what the callee returns — st0 for a long double, nothing otherwise (psABI §3.2.1, §3.2.3): a caller must not pop or read an x87 register the callee did not return',
      i386: 'after a call the x87 register stack holds only what the callee returns — st0 for float, double and long double, nothing otherwise (i386 psABI §2.2): a caller must not pop or read an x87 register the callee did not return',
    },
  },
  'printf-format': {
    severity: 'warning',
    statement: {
      amd64: 'each conversion of a printf format reads the next variadic argument as its own type: an argument missing or of another type is undefined behaviour (C11 §7.21.6.1p2, p9) — a double conversion reads xmm registers, not the integer registers an int went to (psABI §3.2.3)',
      i386: 'each conversion of a printf format reads the next variadic argument as its own type: an argument missing or of another type is undefined behaviour (C11 §7.21.6.1p2, p9) — the callee reads as many stack bytes as the conversion says (i386 psABI §2.2)',
    },
  },
  ...CONVENTION_RULES,
};

/** The CPU state the rules read at entry and at return. */
export interface CpuState {
  sp: number;
  flags: number;
  /** rax / eax (al is its low byte). */
  rax: bigint;
  x87Depth: number;
  fpcw: number;
  mxcsr: number;
  calleeSaved: Record<string, bigint>;
}

/** A checked call: what is known about the function and its caller. */
export interface CheckedCall {
  arch: Arch;
  function: string;
  /** Who called, named only when a violation needs it (symbol lookup is not free on every call). */
  caller: () => string;
  /** The callee's CallSpec (fixed parameters; with the variadic ones when the host made the call). */
  spec: CallSpec;
  variadic: boolean;
  /** amd64 variadic calls: how many vector registers the arguments need, when it can be known. */
  vectorRegistersUsed?: number;
  /** Why that number is known (e.g. 'the format "%f %d" passes 1 double'). */
  vectorRegistersReason?: string;
  /** Narrow integer arguments: their 32-bit register or slot contents at entry. */
  narrowArguments: { index: number; text: string; size: number; extension: 'sign' | 'zero'; container: number }[];
  /** The hidden struct-return pointer at entry (amd64 rdi / i386 [esp+4]). */
  hiddenPointer?: number;
  /** The stack pointer at entry of the innermost checked call still open on this thread (its return-address slot). */
  enclosingSp?: number;
}

const DF = 1 << 10;
const STACK_ALIGNMENT = 16;
const hex = (n: number | bigint) => `0x${n.toString(16)}`;
const word = (arch: Arch) => (arch === 'amd64' ? 8 : 4);
const spName = (arch: Arch) => (arch === 'amd64' ? 'rsp' : 'esp');

function violation(call: CheckedCall, rule: RuleId, at: 'entry' | 'return', expected: string, actual: string, found: string): Violation {
  const statement = RULES[rule].statement[call.arch];
  const caller = call.caller();
  return {
    rule,
    severity: RULES[rule].severity,
    function: call.function,
    caller,
    arch: call.arch,
    at,
    expected,
    actual,
    message: `${rule}: ${found}. Rule: ${statement}. In the call to ${call.function} from ${caller} (${call.arch}${call.spec.convention ? `, ${call.spec.convention}` : ''}).`,
  };
}

/** stack-alignment (entry): amd64 (rsp+8) % 16 == 0; i386 (esp+4) % 16 == 0. */
export function checkStackAlignment(call: CheckedCall, entry: CpuState): Violation[] {
  const misalignment = (entry.sp + word(call.arch)) % STACK_ALIGNMENT;
  if (misalignment === 0) return [];
  const sp = spName(call.arch);
  return [violation(call, 'stack-alignment', 'entry', `(${sp}+${word(call.arch)}) % 16 == 0`, `(${sp}+${word(call.arch)}) % 16 == ${misalignment}`,
    `${call.function} was entered with ${sp} = ${hex(entry.sp)}, so the stack was ${misalignment} bytes off 16-byte alignment at the call`)];
}

/** varargs-al (entry, amd64 variadic): %al ≥ the number of vector registers used by the arguments. */
export function checkVarargsAl(call: CheckedCall, entry: CpuState): Violation[] {
  if (call.arch !== 'amd64' || !call.variadic || call.vectorRegistersUsed === undefined) return [];
  const al = Number(entry.rax & 0xffn);
  if (al >= call.vectorRegistersUsed) return [];
  const why = call.vectorRegistersReason ? ` (${call.vectorRegistersReason})` : '';
  return [violation(call, 'varargs-al', 'entry', `%al >= ${call.vectorRegistersUsed}`, `%al = ${al}`,
    `${call.function} is variadic and its arguments use ${call.vectorRegistersUsed} vector register(s)${why}, but %al was ${al}: ` +
      `the callee's prologue saves only %al xmm registers, so those arguments are read as garbage (purego's %al bug)`)];
}

/** direction-flag (entry and return). */
export function checkDirectionFlag(call: CheckedCall, state: CpuState, at: 'entry' | 'return'): Violation[] {
  if ((state.flags & DF) === 0) return [];
  const when = at === 'entry' ? `${call.function} was entered` : `${call.function} returned`;
  return [violation(call, 'direction-flag', at, 'DF = 0', 'DF = 1', `${when} with the direction flag set (flags = ${hex(state.flags)}): string instructions would run backwards`)];
}

/** x87-stack (entry): empty. */
export function checkX87AtEntry(call: CheckedCall, entry: CpuState): Violation[] {
  if (entry.x87Depth === 0) return [];
  return [violation(call, 'x87-stack', 'entry', 'x87 stack depth 0', `x87 stack depth ${entry.x87Depth}`,
    `${call.function} was entered with ${entry.x87Depth} value(s) on the x87 register stack`)];
}

/** x87-stack (return): empty, or exactly one value in st0 for an x87-returned result. */
export function checkX87AtReturn(call: CheckedCall, ret: CpuState): Violation[] {
  const expected = call.spec.ret.kind === 'x87' ? call.spec.ret.locations.length : 0;
  if (ret.x87Depth === expected) return [];
  const what = expected > 0
    ? `${call.function} returns a ${typeName(call.spec.ret.type)} in ${expected === 1 ? 'st0' : 'st0 and st1'}, so exactly ${expected === 1 ? 'one value' : `${expected} values`} must be on the x87 stack at return; found ${ret.x87Depth}`
    : `${call.function} returned with ${ret.x87Depth} value(s) left on the x87 register stack`;
  return [violation(call, 'x87-stack', 'return', `x87 stack depth ${expected}`, `x87 stack depth ${ret.x87Depth}`, what)];
}

/** callee-saved (return): the caller's registers and stack pointer restored (sret pops are sret-return's). */
export function checkCalleeSaved(call: CheckedCall, entry: CpuState, ret: CpuState): Violation[] {
  const out: Violation[] = [];
  // for…in, not Object.entries: this runs at every checked return (same order: the registers as the snapshot put them).
  for (const reg in entry.calleeSaved) {
    const before = entry.calleeSaved[reg]!;
    const after = ret.calleeSaved[reg]!;
    if (after !== before) {
      out.push(violation(call, 'callee-saved', 'return', `${reg} = ${hex(before)}`, `${reg} = ${hex(after)}`,
        `${call.function} returned with ${reg} changed from ${hex(before)} to ${hex(after)}`));
    }
  }
  const expectedSp = entry.sp + word(call.arch) + call.spec.calleePops;
  // A callee that popped nothing where it should have is sret-return's (hidden pointer) or callee-pop's to report.
  const missingPop = call.spec.calleePops > 0 && ret.sp === entry.sp + word(call.arch);
  if (ret.sp !== expectedSp && !missingPop) {
    const sp = spName(call.arch);
    const popped = ret.sp - entry.sp - word(call.arch);
    const hint = popped > 0 && call.spec.calleePops === 0 ? ` (it popped ${popped} bytes with \`ret $${popped}\`, as a stdcall or fastcall function does, but ${call.function} is ${call.spec.convention ?? (call.arch === 'i386' ? 'cdecl' : 'System V')})` : '';
    out.push(violation(call, 'callee-saved', 'return', `${sp} = ${hex(expectedSp)}`, `${sp} = ${hex(ret.sp)}`,
      `${call.function} returned with the stack pointer off by ${ret.sp - expectedSp} bytes${hint}`));
  }
  return out;
}

/** Conventions whose callee pops its arguments (not a cdecl callee popping only the hidden pointer). */
function popsArguments(call: CheckedCall): boolean {
  return call.arch === 'i386' && !call.variadic && call.spec.convention !== undefined && call.spec.calleePops > 0 &&
    !/^(cdecl|regparm|ms_cdecl)/.test(call.spec.convention);
}

/** callee-pop (return): a stdcall/fastcall/thiscall callee returns with `ret $N`. */
export function checkCalleePop(call: CheckedCall, entry: CpuState, ret: CpuState): Violation[] {
  if (!popsArguments(call)) return [];
  const pops = call.spec.calleePops;
  if (ret.sp !== entry.sp + word(call.arch)) return []; // popped something: callee-saved judges the amount
  return [violation(call, 'callee-pop', 'return', `esp = ${hex(entry.sp + 4 + pops)} (ret $${pops})`, `esp = ${hex(ret.sp)} (plain ret)`,
    `${call.function} is ${call.spec.convention}, so it must remove its ${pops} bytes of stack arguments itself with \`ret $${pops}\`, but it returned with a plain \`ret\` (as a cdecl function does): its caller's stack is left ${pops} bytes too low`)];
}

/** What the caller's code does to the stack pointer right after a call (see stack-cleanup.ts). */
export interface StackCleanup {
  /** Bytes past the return address. */
  offset: number;
  text: string;
  /** Bytes the instruction removes from the stack. */
  bytes: number;
}

const STACK_SLOT_I386 = 4;

/**
 * caller-cleanup (return, guest callers of callee-pops conventions): the first instruction after the call that
 * moves the stack pointer removes at least as many bytes as all the arguments would take on the stack (cdecl), and
 * more than alignment padding can be: the caller treated the function as cdecl — it put register arguments on the
 * stack and removes what the callee already popped. A removal a correct caller could make is not reported.
 */
export function checkCallerCleanup(call: CheckedCall, cleanup: StackCleanup | undefined): Violation[] {
  if (!popsArguments(call) || !cleanup || cleanup.bytes <= 0) return [];
  const spec = call.spec;
  const allOnStack = spec.args.reduce((sum, a) => sum + Math.ceil(a.size / STACK_SLOT_I386) * STACK_SLOT_I386, 0) + (spec.hiddenPointer ? STACK_SLOT_I386 : 0);
  // A correct caller removes at most its alignment padding (under 16 bytes); a cdecl-style caller removes every
  // argument byte as well. Between the two (all bytes, under 16) the rule stays silent rather than guess.
  if (cleanup.bytes < allOnStack || cleanup.bytes < STACK_ALIGNMENT) return [];
  const inRegisters = spec.args.filter((a) => a.locations.some((l) => l.kind === 'reg'));
  const registers = inRegisters.length
    ? ` It passes ${inRegisters.map((a) => `\`${a.text}\` in ${a.locations.map((l) => (l.kind === 'reg' ? l.reg : 'stack')).join('+')}`).join(', ')}: a caller that pushed them left ecx/edx as garbage and shifted every stack argument.`
    : '';
  return [violation(call, 'caller-cleanup', 'return', 'the caller removes at most its own alignment padding (under 16 bytes) after the call', `\`${cleanup.text}\` removes ${cleanup.bytes}`,
    `${call.function} is ${spec.convention}: it takes ${spec.calleePops} bytes of arguments on the stack and pops them itself (ret $${spec.calleePops}), but the caller's first stack adjustment after the call (return address +${hex(cleanup.offset)}), \`${cleanup.text}\`, removes ${cleanup.bytes} bytes — what a cdecl call with all ${allOnStack} bytes of arguments on the stack removes. The caller called ${call.function} as cdecl: its stack ends up ${spec.calleePops} bytes too high.${registers}`)];
}

/** shadow-space (entry, ms_abi callees with a checked call open around them): 32 bytes reserved above the return address. */
export function checkShadowSpace(call: CheckedCall, entry: CpuState): Violation[] {
  const shadow = call.spec.shadowSpace;
  if (!shadow || call.enclosingSp === undefined) return [];
  const argumentsEnd = Math.max(shadow, ...call.spec.args.flatMap((a) => a.locations.map((l) => (l.kind === 'stack' ? l.stackOffset + 8 : 0))));
  const reserved = call.enclosingSp - (entry.sp + word(call.arch));
  if (reserved >= argumentsEnd) return [];
  return [violation(call, 'shadow-space', 'entry', `${argumentsEnd} bytes (32 of shadow space${argumentsEnd > shadow ? ' + stack arguments' : ''}) between the return address and the caller's own return address`, `${reserved} bytes`,
    `${call.function} is ms_abi: the 32 bytes above its return address (rsp+8 to rsp+40 at entry) are its shadow space, where it may store rcx, rdx, r8 and r9${argumentsEnd > shadow ? `, and its stack arguments follow up to rsp+${8 + argumentsEnd}` : ''}. But the caller's frame ends ${reserved} bytes above the return address (the return address of the enclosing call is at ${hex(call.enclosingSp)}): it did not reserve the shadow space, so ${call.function} may overwrite the caller's saved data and return address`)];
}

/** control-words (return): x87 control word and MXCSR control bits unchanged. */
export function checkControlWords(call: CheckedCall, entry: CpuState, ret: CpuState, mxcsrControlMask: number): Violation[] {
  const out: Violation[] = [];
  if (ret.fpcw !== entry.fpcw) {
    out.push(violation(call, 'control-words', 'return', `x87 control word ${hex(entry.fpcw)}`, `x87 control word ${hex(ret.fpcw)}`,
      `${call.function} returned with the x87 control word changed from ${hex(entry.fpcw)} to ${hex(ret.fpcw)} (precision/rounding/masks)`));
  }
  if ((ret.mxcsr & mxcsrControlMask) !== (entry.mxcsr & mxcsrControlMask)) {
    out.push(violation(call, 'control-words', 'return', `MXCSR controls ${hex(entry.mxcsr & mxcsrControlMask)}`, `MXCSR controls ${hex(ret.mxcsr & mxcsrControlMask)}`,
      `${call.function} returned with the MXCSR control bits changed from ${hex(entry.mxcsr)} to ${hex(ret.mxcsr)} (rounding/masks/FZ/DAZ)`));
  }
  return out;
}

/** narrow-int-extension (entry, warning): the 32-bit container holds the extended value. */
export function checkNarrowIntExtension(call: CheckedCall): Violation[] {
  return call.narrowArguments.flatMap((a) => {
    const bits = a.size * 8;
    const low = a.container & ((1 << bits) - 1);
    const extended = a.extension === 'sign' && low & (1 << (bits - 1)) ? (low | (~0 << bits)) >>> 0 : low;
    if (a.container >>> 0 === extended >>> 0) return [];
    return [violation(call, 'narrow-int-extension', 'entry', `${hex(extended >>> 0)} (${a.extension}-extended)`, hex(a.container >>> 0),
      `argument ${a.index + 1} (${a.text}) arrived as ${hex(a.container >>> 0)}: its upper bits are not the ${a.extension} extension of the ${bits}-bit value ${hex(low)}`)];
  });
}

/** sret-return (return): amd64 returns the hidden pointer in rax; the i386 callee pops it. */
export function checkSretReturn(call: CheckedCall, entry: CpuState, ret: CpuState): Violation[] {
  if (call.spec.ret.kind !== 'memory' || call.hiddenPointer === undefined) return [];
  if (call.arch === 'amd64') {
    if (Number(ret.rax) === call.hiddenPointer) return [];
    return [violation(call, 'sret-return', 'return', `rax = ${hex(call.hiddenPointer)} (the hidden pointer)`, `rax = ${hex(ret.rax)}`,
      `${call.function} returns a struct in memory but did not return the hidden pointer in rax`)];
  }
  if (ret.sp === entry.sp + word(call.arch) + call.spec.calleePops || popsArguments(call) || call.spec.calleePops === 0) return [];
  return [violation(call, 'sret-return', 'return', `esp = ${hex(entry.sp + 8)} (ret $4)`, `esp = ${hex(ret.sp)}`,
    `${call.function} returns a struct through the hidden pointer but returned with a plain ret instead of ret $4`)];
}

/**
 * What one x87 instruction after a call's return address does to the register stack (see x87-scan.ts): how many
 * registers it reads (st0…st(needs-1)) and how it moves the top. `stop`: the scan ends there without a verdict
 * (a branch, an instruction that reloads or resets the FPU state, an MMX instruction).
 */
export interface X87Read {
  /** Bytes past the return address. */
  offset: number;
  /** The instruction as disassembled (`fstp qword ptr [esp]`). */
  text: string;
  needs: number;
  /** +1 per push, −1 per pop. */
  delta: number;
  stop?: boolean;
}

const article = (word: string) => (/^[aeiou]/.test(word) ? 'an' : 'a');
/** Ordinal for messages: 1st, 2nd, 3rd, 4th… */
const ordinal = (n: number) => `${n}${n % 10 === 1 && n % 100 !== 11 ? 'st' : n % 10 === 2 && n % 100 !== 12 ? 'nd' : n % 10 === 3 && n % 100 !== 13 ? 'rd' : 'th'}`;

/**
 * x87-empty-pop (return, guest callers): the straight-line code at the return address reads or pops an x87
 * register the callee did not return. The scan starts from what the prototype returns (1 for an st0 result, 0
 * otherwise), lowered to what is really there when the callee broke x87-stack. Unicorn does not raise x87 stack
 * faults, so this is found by reading the caller's code (purego's i386 trampoline `fstp`s after every call).
 */
export function checkX87EmptyPop(call: CheckedCall, ret: CpuState, reads: readonly X87Read[]): Violation[] {
  const returned = call.spec.ret.kind === 'x87' ? call.spec.ret.locations.length : 0;
  let depth = Math.min(returned, ret.x87Depth);
  for (const [i, read] of reads.entries()) {
    if (read.stop) return [];
    if (read.needs > depth) {
      const what = returned === 0 ? `${call.function} returns ${call.spec.ret.kind === 'void' ? 'nothing' : `${article(typeName(call.spec.ret.type))} ${typeName(call.spec.ret.type)}`} outside the x87 stack` : `${call.function} returns one value in st0`;
      const underflow = read.needs > ret.x87Depth
        ? 'On hardware that is an x87 stack underflow: the status word gets IE (FE_INVALID) and SF (stack fault) set and, with the invalid-operation exception masked as usual, the NaN "real indefinite" is used as the value (unmasked: #MF, SIGFPE); later fetestexcept(FE_INVALID) reports an invalid operation nobody performed. Unicorn does not raise these flags: shimulator found it by decoding the caller\'s code'
        : `It only works because ${call.function} left ${ret.x87Depth} value(s) on the x87 stack (see x87-stack); against a correct callee it would underflow (FE_INVALID, stack fault)`;
      return [violation(call, 'x87-empty-pop', 'return', `at most ${depth} x87 register(s) read after the call`, `\`${read.text}\` reads ${read.needs}`,
        `${what}, but the caller's ${ordinal(i + 1)} x87 instruction after the call (return address +${hex(read.offset)}), \`${read.text}\`, ` +
          `${read.delta < 0 ? 'pops' : 'reads'} ${read.needs === 1 ? 'st0' : `st0–st(${read.needs - 1})`} with ${depth} value(s) on the x87 stack. ${underflow}`)];
    }
    depth = Math.max(0, Math.min(8, depth + read.delta));
  }
  return [];
}

/** All entry rules. */
export function checkEntry(call: CheckedCall, entry: CpuState): Violation[] {
  return [
    ...checkStackAlignment(call, entry),
    ...checkVarargsAl(call, entry),
    ...checkDirectionFlag(call, entry, 'entry'),
    ...checkX87AtEntry(call, entry),
    ...checkNarrowIntExtension(call),
    ...checkShadowSpace(call, entry),
  ];
}

/** All return rules. */
export function checkReturn(call: CheckedCall, entry: CpuState, ret: CpuState, mxcsrControlMask: number): Violation[] {
  return [
    ...checkCalleeSaved(call, entry, ret),
    ...checkDirectionFlag(call, ret, 'return'),
    ...checkX87AtReturn(call, ret),
    ...checkControlWords(call, entry, ret, mxcsrControlMask),
    ...checkSretReturn(call, entry, ret),
    ...checkCalleePop(call, entry, ret),
  ];
}
