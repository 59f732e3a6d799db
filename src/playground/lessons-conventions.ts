/**
 * Lessons on the calling conventions beyond the platform defaults (issue 12): the i386 Windows-heritage
 * conventions side by side on one call, and Win64 against System V on amd64. Every step is a recorded call of a
 * gcc-compiled callee (fixtures/abi/lessons/conventions.c, built by its build.sh, which also checks the values
 * natively), opened at the instruction where the convention shows.
 *
 * Sources: GCC manual, "x86 Function Attributes" (cdecl, stdcall, fastcall, thiscall, regparm, ms_abi, sysv_abi);
 * System V i386 ABI §2.2 (cdecl); Microsoft, "x64 calling convention" (parameter passing, shadow space, varargs,
 * callee-saved registers). The fine print (fastcall with structs and long long, thiscall with a struct return,
 * regparm with long long and structs) was checked on gcc 12 -m32 output.
 */
import type { LessonDefinition, StepCall } from './lessons.ts';

const LIB = 'liblessons.so';
const I386_ARGS = ['1', '2', '3'];
const three = (attribute: string, name: string): StepCall => ({ library: LIB, prototype: `int ${attribute}${name}(int a, int b, int c)`, args: I386_ARGS });
const PACKET = 'struct packet { int len; char tag[12]; };';
const mix = (attribute: string, name: string): StepCall => ({
  library: LIB, prototype: `double ${attribute} ${name}(int a, double b, struct packet p, float c, long d)`, decls: PACKET, args: ['1', '2.5', '{4, "ping"}', '1.5', '7'],
});
const SUM_MS: StepCall = { library: LIB, prototype: 'double __attribute__((ms_abi)) sum_ms(int n, ...)', args: ['2', 'double:1.5', 'double:2.5'] };

export const CONVENTION_LESSONS: LessonDefinition[] = [
  {
    id: 'i386-conventions',
    title: 'cdecl, stdcall, fastcall, thiscall: one call, four conventions',
    summary: 'f(1, 2, 3) = 123 on i386, compiled by gcc under each convention: which arguments travel in registers, and who removes the stack arguments.',
    steps: [
      {
        title: 'cdecl: everything on the stack, the caller cleans up',
        arch: 'i386',
        call: three('', 'f_cdecl'),
        focus: { view: 'stack' },
        point: { insn: '^ret$', in: 'f_cdecl' },
        predict: {
          question: 'f_cdecl(1, 2, 3) is about to return. How many bytes of arguments does its `ret` remove from the stack?',
          choices: ['none: plain `ret`', '4', '12', '16'],
          answer: 0,
          why: 'Under cdecl the callee never removes its arguments; only the caller knows how many it pushed.',
        },
        text: `Every function here computes 100a + 10b + c, so f(1, 2, 3) = 123 proves each argument arrived in its place. Linux's i386 default, cdecl (System V i386 ABI), passes all three ints on the stack — a at the lowest address, [esp+4] at the callee's entry — and gcc's f_cdecl reads them from there and returns with a plain \`ret\`.

The caller removes the 12 bytes afterwards: a gcc-compiled caller adds them back to esp, usually folded into the \`add esp\` that ends its own frame (gcc -O1: \`add esp, 0x1c\` = 12 + its own 16), and shimulator's trampoline restores the stack pointer it saved. That is what makes variadic functions like printf possible: only the caller knows how many arguments it pushed.`,
      },
      {
        title: 'stdcall: the callee pops',
        arch: 'i386',
        call: three('__attribute__((stdcall)) ', 'f_stdcall'),
        focus: { view: 'stack' },
        point: { insn: '^ret 0xc$', in: 'f_stdcall' },
        predict: {
          question: 'f_stdcall has the same body and reads its arguments from the same places. How does it return?',
          choices: ['`ret`', '`ret 4`', '`ret 0xc`', '`ret 0x10`'],
          answer: 2,
          why: 'A stdcall callee removes its own stack arguments: 3 ints × 4 bytes = 12 = 0xc (the alignment padding stays the caller\'s).',
        },
        text: `\`__attribute__((stdcall))\` (MSVC's \`__stdcall\`, the Win32 API convention) places the arguments exactly as cdecl does — the body is instruction for instruction the same — but the callee removes them: it returns with \`ret 0xc\`, popping 12 bytes after the return address, and a gcc-compiled caller adds nothing back for them. Code is smaller (one cleanup per function instead of one per call), and variadic functions are impossible: GCC passes a variadic stdcall function's arguments as cdecl, all on the stack, caller cleaning up.

A caller that treats a stdcall function as cdecl removes the 12 bytes a second time; its stack pointer ends up 12 bytes too high. shimulator's checker reports it (\`caller-cleanup\`), and a stdcall callee that forgets to pop (\`callee-pop\`).`,
      },
      {
        title: 'fastcall: the first two integers in ecx and edx',
        arch: 'i386',
        call: three('__attribute__((fastcall)) ', 'f_fastcall'),
        focus: { view: 'registers', at: 'entry' },
        point: { insn: '^imul ecx, ecx, 0x64$', in: 'f_fastcall' },
        predict: {
          question: 'Under fastcall, where is c, the third int, at f_fastcall\'s entry?',
          choices: ['ecx', 'edx', 'eax', 'on the stack, at [esp+4]'],
          answer: 3,
          why: 'fastcall has two argument registers, ecx and edx, taken by a and b; c goes on the stack, right above the return address.',
        },
        text: `\`__attribute__((fastcall))\` passes the first two integer arguments of up to 4 bytes in ecx and edx. gcc's f_fastcall starts with \`imul ecx, ecx, 0x64\` — a × 100, straight from ecx — and \`lea eax, [edx + edx*4]\` takes b from edx. c alone is on the stack (\`add eax, dword ptr [esp + 4]\`), and the callee pops those 4 bytes: \`ret 4\`.

The fine print is GCC's and differs from MSVC's and libffi's: a float or double never takes a register and uses none up, but a long long or a struct goes on the stack *and* uses up as many registers as it has words — in \`f(struct {int x;} s, int b)\` b lands in edx, not ecx. shimulator follows gcc, checked against gcc-compiled code by the conventions corpus.`,
      },
      {
        title: 'thiscall: this in ecx',
        arch: 'i386',
        call: three('__attribute__((thiscall)) ', 'f_thiscall'),
        focus: { view: 'registers', at: 'entry' },
        point: { insn: '^imul ecx, ecx, 0x64$', in: 'f_thiscall' },
        text: `\`__attribute__((thiscall))\` is MSVC's convention for C++ member functions: the first argument — the object pointer, \`this\` — travels in ecx (\`imul ecx, ecx, 0x64\` again), the rest on the stack: b at [esp+4], c at [esp+8], and the callee pops them with \`ret 8\`. When the function returns a struct, the hidden return pointer takes ecx and \`this\` moves to the stack.`,
      },
      {
        title: 'regparm(3): GCC\'s own register convention',
        arch: 'i386',
        call: three('__attribute__((regparm(3))) ', 'f_regparm'),
        focus: { view: 'registers', at: 'entry' },
        point: { insn: '^add eax, ecx$', in: 'f_regparm' },
        predict: {
          question: 'regparm(3) passes three integer arguments in registers. Which register holds c?',
          choices: ['eax', 'edx', 'ecx', 'ebx'],
          answer: 2,
          why: 'regparm fills eax, edx, ecx in that order: a, b, c. gcc\'s f_regparm ends with `add eax, ecx`.',
        },
        text: `\`__attribute__((regparm(3)))\` (the Linux kernel's internal convention on i386) puts up to three integer arguments in eax, edx and ecx — here all three, so f_regparm touches no memory at all and ends with \`add eax, ecx\`, adding c — and the caller cleans up, as in cdecl (plain \`ret\`). Unlike fastcall it also passes long long and small structs in registers (a long long takes a register pair), and it combines with stdcall: \`__attribute__((stdcall, regparm(2)))\`.

libffi's FFI_PASCAL (arguments pushed left to right, callee pops) and FFI_REGISTER (eax, edx, ecx, then the stack left to right) are spelled \`__attribute__((pascal))\` and \`__attribute__((register))\` in shimulator; GCC has no attribute for them.`,
      },
    ],
  },
  {
    id: 'win64-vs-sysv',
    title: 'Win64 vs System V on amd64',
    summary: 'The same gcc-compiled function under sysv_abi and ms_abi: registers by class or by position, structs in registers or by reference, the shadow space, variadic doubles in two registers.',
    steps: [
      {
        title: 'System V: registers by class',
        arch: 'amd64',
        call: mix('__attribute__((sysv_abi))', 'mix_sysv'),
        focus: { view: 'registers', at: 'entry' },
        point: { insn: '^cvtsi2sd xmm2, esi$', in: 'mix_sysv' },
        text: `\`mix(1, 2.5, {4, "ping"}, 1.5, 7)\` adds a, b, p.len, p.tag[0] ('p' = 112), c and d: 128. Under System V (Linux, macOS: \`__attribute__((sysv_abi))\`, the default) each argument takes the next free register *of its class*: a → rdi, b → xmm0, c → xmm1, d → rcx. The 16-byte struct is classified eightbyte by eightbyte — INTEGER, INTEGER — and travels in rsi and rdx, between them: gcc's mix_sysv reads p.len with \`cvtsi2sd xmm2, esi\` and p.tag[0] from the upper half of rsi. There is no shadow space and d needs no stack.`,
      },
      {
        title: 'Win64: registers by position, big structs by reference',
        arch: 'amd64',
        call: mix('__attribute__((ms_abi))', 'mix_ms'),
        focus: { view: 'registers', at: 'entry' },
        point: { insn: '^cvtsi2sd xmm1, dword ptr \\[r8\\]$', in: 'mix_ms' },
        predict: {
          question: 'Under ms_abi, which register carries b, the double that is the second argument?',
          choices: ['xmm0', 'xmm1', 'rdx', 'on the stack'],
          answer: 1,
          why: 'Win64 assigns by position: argument 2 uses the second slot, rdx or xmm1; a double takes the xmm one.',
        },
        text: `Under Win64 (\`__attribute__((ms_abi))\`; libffi's FFI_WIN64) the *position* decides: the first four arguments use rcx/xmm0, rdx/xmm1, r8/xmm2, r9/xmm3 — a in rcx, b in xmm1 (not xmm0!), the struct's slot r8, c in xmm3 — and d, the fifth, goes on the stack.

A struct that is not 1, 2, 4 or 8 bytes is passed *by reference*: the caller makes a copy and passes its address. So r8 is a pointer, and gcc's mix_ms reads p.len through it: \`cvtsi2sd xmm1, dword ptr [r8]\`.`,
      },
      {
        title: 'Win64: the shadow space',
        arch: 'amd64',
        call: mix('__attribute__((ms_abi))', 'mix_ms'),
        focus: { view: 'stack', at: 'entry' },
        point: { insn: '^cvtsi2sd xmm1, qword ptr \\[rsp \\+ 0x28\\]$', in: 'mix_ms' },
        predict: {
          question: 'At mix_ms\'s entry [rsp] is the return address. Where is d, the fifth argument?',
          choices: ['[rsp+8]', '[rsp+0x20]', '[rsp+0x28]', 'r9'],
          answer: 2,
          why: 'The caller reserves 32 bytes of shadow space right above the return address: 8 + 32 = 40 = 0x28.',
        },
        text: `Above the return address the Win64 caller always reserves 32 bytes of shadow ("home") space, where the callee may spill rcx, rdx, r8 and r9 — so d is at [rsp+0x28] at the callee's entry, not [rsp+8]: gcc's mix_ms reads it with \`cvtsi2sd xmm1, qword ptr [rsp + 0x28]\`. The trampoline reserved it with \`sub rsp, 0x30\`: 32 bytes of shadow space, 8 for d, 8 to keep the stack 16-byte aligned.

A caller that forgets the shadow space lets the callee overwrite its frame: the checker's \`shadow-space\` rule.`,
      },
      {
        title: 'Win64 varargs: doubles in both register files',
        arch: 'amd64',
        call: SUM_MS,
        focus: { view: 'registers', at: 'entry' },
        point: { insn: '^mov rdx, qword ptr \\[rbx \\+ 0x60\\]$', in: 'trampoline' },
        text: `\`sum_ms(2, 1.5, 2.5)\` is variadic. A variadic Win64 callee walks its arguments in memory (next step), so it looks for a double where an integer would be. The caller therefore passes each variadic double in both register files: the trampoline loads 1.5 into xmm1 *and* rdx (\`mov rdx, qword ptr [rbx + 0x60]\`, the same 8 bytes), and 2.5 into xmm2 and r8. There is no %al: System V's count of vector registers has no Win64 counterpart. With no stack arguments the caller reserves the shadow space alone: \`sub rsp, 0x20\`.`,
      },
      {
        title: 'Win64 varargs: the callee spills to its shadow space',
        arch: 'amd64',
        call: SUM_MS,
        focus: { view: 'stack', at: 'entry' },
        point: { insn: '^mov qword ptr \\[rsp \\+ 0x28\\], rdx$', in: 'sum_ms' },
        text: `gcc's sum_ms begins with \`sub rsp, 0x18\` and then stores rdx, r8 and r9 into the caller's shadow space — \`mov qword ptr [rsp + 0x28], rdx\` is rsp+0x10 as it was at the entry, the home of the second argument — right below any stack arguments. Now every variadic argument lies in one contiguous array, and \`va_arg\` simply walks it 8 bytes at a time: 1.5 + 2.5 = 4.

The callee also owes its caller more: besides rbx, rbp and r12–r15, Win64 makes rdi, rsi and xmm6–xmm15 callee-saved. A System V function called as ms_abi may clobber them, and the checker reports it (\`callee-saved\`, naming ms_abi).`,
      },
    ],
  },
];
