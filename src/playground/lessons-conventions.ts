/**
 * Lessons on the calling conventions beyond the platform defaults (issue 12): the i386 Windows-heritage
 * conventions side by side on one call, and Win64 against System V on amd64. Plan steps: the same prototype
 * planned under each convention, with the reasons the plan view shows.
 */
import type { LessonDefinition } from './lessons.ts';

const THREE = (attribute: string) => `int ${attribute}sub3(int a, int b, int c)`;
const PACKET = 'struct packet { int len; char tag[12]; };';

export const CONVENTION_LESSONS: LessonDefinition[] = [
  {
    id: 'i386-conventions',
    title: 'cdecl, stdcall, fastcall, thiscall: one call, four conventions',
    summary: 'sub3(10, 3, 5) on i386 under each convention: which arguments travel in registers, and who removes the stack arguments.',
    steps: [
      {
        title: 'cdecl: everything on the stack, the caller cleans up',
        arch: 'i386',
        plan: { arch: 'i386', prototype: THREE(''), args: ['10', '3', '5'] },
        focus: { view: 'plan' },
        text: `Linux's i386 default, cdecl (System V i386 ABI): all three ints go on the stack, a at the lowest address ([esp+4] at the callee's entry), and the callee returns with a plain \`ret\`. The caller removes the 12 bytes afterwards (\`add esp, 16\` with the alignment padding) — which is what makes variadic functions like printf possible: only the caller knows how many arguments it pushed.`,
      },
      {
        title: 'stdcall: the callee pops',
        arch: 'i386',
        plan: { arch: 'i386', prototype: THREE('__attribute__((stdcall)) '), args: ['10', '3', '5'] },
        focus: { view: 'plan' },
        text: `\`__attribute__((stdcall))\` (MSVC's \`__stdcall\`, the Win32 API convention) places the arguments exactly as cdecl does, but the callee removes them: it returns with \`ret 12\`. Code is smaller (one cleanup per function instead of one per call), and variadic functions are impossible — GCC silently turns a variadic stdcall function back into cdecl.

A caller that treats a stdcall function as cdecl removes the 12 bytes a second time; its stack pointer ends up 12 bytes too high. shimulator's checker reports it (\`caller-cleanup\`), and a stdcall callee that forgets to pop (\`callee-pop\`).`,
      },
      {
        title: 'fastcall: the first two integers in ecx and edx',
        arch: 'i386',
        plan: { arch: 'i386', prototype: THREE('__attribute__((fastcall)) '), args: ['10', '3', '5'] },
        focus: { view: 'plan' },
        text: `\`__attribute__((fastcall))\` passes the first two integer arguments of up to 4 bytes in ecx and edx; c alone goes on the stack, and the callee pops those 4 bytes (\`ret 4\`).

The fine print is GCC's and differs from MSVC's and libffi's: a float or double never takes a register and uses none up, but a long long or a struct goes on the stack *and* uses up as many registers as it has words — in \`f(struct {int x;} s, int b)\` b lands in edx, not ecx. shimulator follows gcc, checked against gcc-compiled code by the conventions corpus.`,
      },
      {
        title: 'thiscall: this in ecx',
        arch: 'i386',
        plan: { arch: 'i386', prototype: THREE('__attribute__((thiscall)) '), args: ['10', '3', '5'] },
        focus: { view: 'plan' },
        text: `\`__attribute__((thiscall))\` is MSVC's convention for C++ member functions: the first argument — the object pointer, \`this\` — travels in ecx, the rest on the stack, and the callee pops them (\`ret 8\` here). When the function returns a struct, the hidden return pointer takes ecx and \`this\` moves to the stack.`,
      },
      {
        title: 'regparm(3): GCC\'s own register convention',
        arch: 'i386',
        plan: { arch: 'i386', prototype: THREE('__attribute__((regparm(3))) '), args: ['10', '3', '5'] },
        focus: { view: 'plan' },
        text: `\`__attribute__((regparm(3)))\` (the Linux kernel's internal convention) puts up to three integer arguments in eax, edx and ecx — here all three, so nothing is on the stack — and the caller cleans up, as in cdecl. Unlike fastcall it also passes long long and small structs in registers (a long long takes a register pair), and it combines with stdcall: \`__attribute__((stdcall, regparm(2)))\`.

libffi's FFI_PASCAL (arguments pushed left to right, callee pops) and FFI_REGISTER (eax, edx, ecx, then the stack left to right) are spelled \`__attribute__((pascal))\` and \`__attribute__((register))\` in shimulator; GCC has no attribute for them.`,
      },
    ],
  },
  {
    id: 'win64-vs-sysv',
    title: 'Win64 vs System V on amd64',
    summary: 'The same prototype under ms_abi and sysv_abi: registers by position, shadow space, structs by reference, variadic doubles in two registers.',
    steps: [
      {
        title: 'System V: registers by class',
        arch: 'amd64',
        plan: { arch: 'amd64', prototype: 'double __attribute__((sysv_abi)) mix(int a, double b, struct packet p, float c, long d)', decls: PACKET, args: ['1', '2.5', '{4, "ping"}', '1.5', '7'] },
        focus: { view: 'plan' },
        text: `Under System V (Linux, macOS: \`__attribute__((sysv_abi))\`, the default) each argument takes the next free register *of its class*: a → rdi, b → xmm0, c → xmm1, d → rcx. The 16-byte struct is classified eightbyte by eightbyte — INTEGER, INTEGER — and travels in rsi and rdx, between them. There is no shadow space and d needs no stack. Six integer and eight vector registers are available.`,
      },
      {
        title: 'Win64: registers by position, and the shadow space',
        arch: 'amd64',
        plan: { arch: 'amd64', prototype: 'double __attribute__((ms_abi)) mix(int a, double b, struct packet p, float c, long d)', decls: PACKET, args: ['1', '2.5', '{4, "ping"}', '1.5', '7'] },
        focus: { view: 'plan' },
        text: `Under Win64 (\`__attribute__((ms_abi))\`; libffi's FFI_WIN64) the *position* decides: the first four arguments use rcx/xmm0, rdx/xmm1, r8/xmm2, r9/xmm3 — a in rcx, b in xmm1 (not xmm0!), the struct's slot r8, c in xmm3 — and d, the fifth, goes on the stack.

A struct that is not 1, 2, 4 or 8 bytes is passed *by reference*: the caller copies it to 16-byte-aligned memory and passes the copy's address (so is GCC's 16-byte long double). And above the return address the caller always reserves 32 bytes of shadow space, where the callee may spill rcx, rdx, r8 and r9 — so d is at [rsp+40] at the callee's entry, not [rsp+8]. A caller that forgets the shadow space lets the callee overwrite its frame: the checker's \`shadow-space\` rule.`,
      },
      {
        title: 'Win64 varargs: doubles in both register files',
        arch: 'amd64',
        plan: { arch: 'amd64', prototype: 'int __attribute__((ms_abi)) logf(const char *fmt, ...)', args: ['%f %d', 'double:1.5', 'int:2'] },
        focus: { view: 'plan' },
        text: `A variadic Win64 callee spills rcx, rdx, r8 and r9 to its shadow space and walks its arguments there, in memory — so it looks for a double in the *integer* register. The caller therefore passes a variadic double in both: 1.5 goes in xmm1 and rdx. There is no %al: System V's count of vector registers has no Win64 counterpart.

The callee also owes its caller more: besides rbx, rbp and r12–r15, Win64 makes rdi, rsi and xmm6–xmm15 callee-saved. A System V function called as ms_abi may clobber them, and the checker reports it (\`callee-saved\`, naming ms_abi).`,
      },
    ],
  },
];
