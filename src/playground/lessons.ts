/**
 * The playground's lessons: short guided tours, each a few steps of text plus a real recorded call (or, where no
 * callable C function shows the point, a call plan). Recordings are made on the playground's machines the first
 * time a lesson is requested; the server keeps them on disk (lesson-cache.ts), the static export per process.
 *
 * Step text is plain text: paragraphs separated by blank lines, `code` in backticks.
 */
import type { Arch } from '../emu/arch.ts';
import { call, plan } from './api.ts';
import { type InstructionPointer, openRecording, type Recording, resolvePointer } from './lesson-focus.ts';
import { CONVENTION_LESSONS } from './lessons-conventions.ts';

export type FocusView = 'plan' | 'registers' | 'stack' | 'tls' | 'abi' | 'syscalls';

export interface StepCall {
  library?: string;
  prototype: string;
  args: string[];
  decls?: string;
  /** Run on a guest thread started the fakecgo way (see POST /api/call). */
  thread?: boolean;
}

export interface StepPlan {
  arch: Arch;
  prototype: string;
  args?: string[];
  decls?: string;
}

/**
 * "Predict, then reveal": a question the student answers before the step's text (the answer) is shown. `answer`
 * is the index of the right choice; `why` is shown with it, whichever choice was picked.
 */
export interface Prediction {
  question: string;
  choices: string[];
  answer: number;
  why: string;
}

export interface StepDefinition {
  title: string;
  text: string;
  arch: Arch;
  call?: StepCall;
  plan?: StepPlan;
  focus?: { view: FocusView; at?: 'entry' | 'return' };
  /** The instruction the text discusses: the step opens there (resolved to `focus.step` in the recording). */
  point?: InstructionPointer;
  predict?: Prediction;
}

export interface LessonDefinition {
  id: string;
  title: string;
  summary: string;
  steps: StepDefinition[];
}

/** A step as GET /api/lessons/<id> returns it: `recording` (a POST /api/call response) or `plan` (a POST /api/plan response). */
export interface LessonStep {
  title: string;
  text: string;
  arch: Arch;
  call?: StepCall;
  focus?: StepDefinition['focus'] & { step?: number };
  point?: InstructionPointer;
  predict?: Prediction;
  recording?: unknown;
  plan?: unknown;
  /** For plan-only steps: the plan request. */
  planRequest?: StepPlan;
}

/** A lesson as GET /api/lessons/<id> returns it. */
export interface Lesson {
  id: string;
  title: string;
  summary: string;
  steps: LessonStep[];
}

export class LessonNotFoundError extends Error {
  override name = 'LessonNotFoundError';
}

const SNPRINTF = 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)';
const OPEN = 'int open(const char *path, int flags, ...)';
const STRTOD = 'double strtod(const char *s, char **end)';
const PTHREAD_SELF = 'unsigned long pthread_self(void)';
const SHIM = (name: string) => `int ${name}(char *buf, unsigned long n, const char *fmt, double x)`;
const PAIR = 'struct pair { double x; long n; };';
const BIG = 'struct big { long a, b, c; };';

const snprintfDF: StepCall = { library: 'libc.so.6', prototype: SNPRINTF, args: ['out:64', '64', '%d %f', 'int:42', 'double:1.5'] };
const snprintfF: StepCall = { library: 'libc.so.6', prototype: SNPRINTF, args: ['out:64', '64', '%f', 'double:1.5'] };
const openMissing: StepCall = { library: 'libc.so.6', prototype: OPEN, args: ['/nonexistent/file', '0'] };

export const LESSONS: LessonDefinition[] = [
  {
    id: 'cdecl-vs-sysv',
    title: 'One call, two calling conventions',
    summary: 'snprintf(buf, 64, "%d %f", 42, 1.5) on amd64 and on i386: where each argument travels, and who cleans up.',
    steps: [
      {
        title: 'amd64: arguments in registers',
        arch: 'amd64',
        call: snprintfDF,
        focus: { view: 'plan' },
        point: { insn: '^mov eax, 1$', in: 'trampoline' },
        predict: {
          question: 'snprintf(buf, 64, "%d %f", 42, 1.5) on amd64: which register carries the fourth argument, the variadic int 42?',
          choices: ['rcx', 'r8', 'xmm0', 'the stack'],
          answer: 0,
          why: 'Integer arguments take rdi, rsi, rdx, rcx, r8, r9 in order, whatever the vector arguments do: buf, 64 and the format used the first three, so 42 takes rcx.',
        },
        text: `The System V AMD64 ABI passes the first six integer or pointer arguments in registers (rdi, rsi, rdx, rcx, r8, r9) and the first eight floating-point arguments in xmm0–xmm7. Each argument takes the next free register of its own class, independently of the other class.

For \`snprintf(buf, 64, "%d %f", 42, 1.5)\`, buf, 64 and the format go to rdi, rsi and rdx; the variadic int 42 takes the next integer register, rcx, and the double 1.5 the first vector register, xmm0. No stack space is needed.

Because snprintf is variadic, the caller also sets %al to the number of vector registers it used: 1 here.`,
      },
      {
        title: 'amd64: the registers at snprintf\'s entry',
        arch: 'amd64',
        call: snprintfDF,
        focus: { view: 'registers', at: 'entry' },
        point: { at: 'entry' },
        text: `Stop at the first instruction of snprintf and read the registers: rdi points at the 64-byte buffer, rsi is 0x40, rdx points at the format string, rcx is 0x2a (42), the low 8 bytes of xmm0 hold the double 1.5 (0x3ff8000000000000) and %al is 1.

The \`call\` pushed only the return address, so at the entry (rsp + 8) is a multiple of 16: the stack was 16-byte aligned at the call, as the ABI requires.`,
      },
      {
        title: 'i386: everything on the stack',
        arch: 'i386',
        call: snprintfDF,
        focus: { view: 'stack', at: 'entry' },
        point: { at: 'entry' },
        text: `The i386 System V ABI (cdecl) passes every argument on the stack, the first one at the lowest address. At snprintf's entry [esp] holds the return address, [esp+4] buf, [esp+8] 64, [esp+12] the format pointer, [esp+16] 42, and [esp+20] to [esp+27] the 8 bytes of the double 1.5.

There is no %al and no register class: the callee finds every argument, variadic or not, by walking up the stack. The 24 bytes of arguments are padded to 32 to keep the stack 16-byte aligned, and the caller, not snprintf, removes them after the call — the defining trait of cdecl.`,
      },
      {
        title: 'The result, and what the callee must preserve',
        arch: 'i386',
        call: snprintfDF,
        focus: { view: 'registers', at: 'return' },
        point: { at: 'return' },
        text: `The return value, the number of characters written (11, for "42 1.500000"), comes back in eax on i386 and in rax on amd64.

Both ABIs also say which registers the callee must give back unchanged: ebx, esi, edi and ebp (plus esp) on i386; rbx, rbp and r12–r15 (plus rsp) on amd64. Everything else may be clobbered. The ABI checker compares them at every return — the ABI view shows this call is clean.`,
      },
    ],
  },
  {
    id: 'varargs-al',
    title: 'Varargs and %al',
    summary: 'Why a variadic call on amd64 must set %al, and what happens when a shim forgets (purego\'s bug).',
    steps: [
      {
        title: 'The promise in %al',
        arch: 'amd64',
        call: snprintfF,
        focus: { view: 'plan' },
        point: { insn: '^mov eax, 1$', in: 'trampoline' },
        predict: {
          question: 'snprintf(buf, 64, "%f", 1.5): what must the caller put in %al before the call?',
          choices: ['0', '1', '4 (the number of arguments)', 'nothing: %al is not used'],
          answer: 1,
          why: '%al is an upper bound on the number of vector registers carrying arguments; the one double is in xmm0, so 1 (any value from 1 to 8 would be correct, and the trampoline uses the exact count).',
        },
        text: `A variadic function cannot know the types of its \`...\` arguments, so on amd64 it must save every register an argument might be in. glibc's snprintf starts by storing rcx, r8 and r9 (rdi, rsi and rdx carry its three fixed parameters) into a register save area and then, only if %al is not zero, xmm0–xmm7 as well. %al is the caller's promise: an upper bound of the number of vector registers that carry arguments.

This call passes one double, in xmm0, so the reference trampoline sets %al = 1.`,
      },
      {
        title: 'Inside snprintf\'s prologue',
        arch: 'amd64',
        call: snprintfF,
        focus: { view: 'registers', at: 'entry' },
        point: { insn: '^test al, al$', in: 'snprintf' },
        text: `Step through the first instructions of snprintf: \`sub rsp, 0xd8\` makes room, rcx, r8 and r9 are stored unconditionally, then \`test al, al\` and \`je\` decide whether the eight \`movaps\` stores of xmm0–xmm7 run. Right after them comes the stack protector: \`mov rax, fs:[0x28]\`.

With %al = 1 they run, va_arg finds 1.5 in the save area, and the buffer holds "1.500000".`,
      },
      {
        title: 'The bug: %al = 0',
        arch: 'amd64',
        call: { library: 'libabi-shims.so', prototype: SHIM('shim_snprintf_al0'), args: ['out:64', '64', '%f', '1.5'] },
        focus: { view: 'abi' },
        point: { insn: '^xor eax, eax$', in: 'shim_snprintf_al0' },
        text: `\`shim_snprintf_al0\` (from shimulator's ABI test fixtures) is a hand-written forwarder that leaves its arguments where they are and calls snprintf — but with \`xor eax, eax\` in front, so %al is 0 although xmm0 carries the double.

purego makes the same mistake without any per-function forwarder: its one generic call trampoline (\`sys_amd64.s\`) loads the argument registers from a struct and runs \`XORL AX, AX\` ("vararg: say no float args") before every call, whatever the callee (purego issue #527).

snprintf skips saving xmm0, va_arg reads the untouched save area, and the buffer says "0.000000" instead of "1.500000". No crash, just a wrong number.

The checker catches it at snprintf's entry: a varargs-al violation, because the format "%f" consumes one double while %al promised no vector registers.`,
      },
      {
        title: 'The fix: one instruction',
        arch: 'amd64',
        call: { library: 'libabi-shims.so', prototype: SHIM('shim_snprintf_good'), args: ['out:64', '64', '%f', '1.5'] },
        focus: { view: 'abi' },
        point: { insn: '^mov eax, 1$', in: 'shim_snprintf_good' },
        text: `The correct twin, \`shim_snprintf_good\`, differs by one instruction: \`mov eax, 1\` before the call. The value arrives and the checker is quiet.

On i386 the problem cannot occur: there is no %al, because every argument is on the stack.`,
      },
    ],
  },
  {
    id: 'struct-eightbytes',
    title: 'Structs by value: eightbytes',
    summary: 'How amd64 splits small structs into 8-byte pieces with their own register class, and why i386 does not.',
    steps: [
      {
        title: 'A struct returned in two kinds of register',
        arch: 'amd64',
        call: { library: 'libabi-targets.so', prototype: 'struct pair make_pair(double x, long n)', args: ['2.5', '7'], decls: PAIR },
        focus: { view: 'registers', at: 'return' },
        point: { at: 'return' },
        predict: {
          question: 'make_pair returns `struct pair { double x; long n; }` (16 bytes) on amd64. Where does n come back?',
          choices: ['rax', 'rdx', 'xmm1', 'in memory, through a hidden pointer'],
          answer: 0,
          why: 'The struct is two eightbytes, classified separately: x is SSE (xmm0), n is INTEGER and takes the first integer return register, rax — rdx only if an earlier eightbyte had used rax.',
        },
        text: `On amd64 a struct of up to 16 bytes is not passed or returned as a block: it is cut into 8-byte pieces, "eightbytes", and each is classified on its own. \`struct pair { double x; long n; }\` has two: the first holds only a double (class SSE), the second a long (class INTEGER).

So \`make_pair(2.5, 7)\` returns its struct in two different kinds of register: at the return the low 8 bytes of xmm0 hold x = 2.5 and rax holds n = 7.`,
      },
      {
        title: 'Merging fields, and MEMORY',
        arch: 'amd64',
        plan: {
          arch: 'amd64',
          prototype: 'void take(struct mix m, struct pair p, struct big b)',
          decls: `struct mix { float a; float b; int c; }; ${PAIR} ${BIG}`,
        },
        focus: { view: 'plan' },
        text: `Fields that share an eightbyte are merged: in \`struct mix { float a, b; int c; }\` the two floats fill the first eightbyte, which stays SSE (one xmm register carries both), and the int makes the second one INTEGER. \`struct pair\` then takes the next xmm register and the next general-purpose register.

A struct larger than 16 bytes, like \`struct big { long a, b, c; }\`, is class MEMORY: the caller copies it to the stack whole. And a struct that does not fit completely into the registers still free goes to the stack too — never half and half.`,
      },
      {
        title: 'i386: structs in memory, and a hidden pointer',
        arch: 'i386',
        call: { library: 'libabi-targets.so', prototype: 'struct pair make_pair(double x, long n)', args: ['2.5', '7'], decls: PAIR },
        focus: { view: 'stack', at: 'entry' },
        point: { at: 'entry' },
        text: `i386 has no classification at all: struct arguments are copied onto the stack, and every struct result is returned in memory. The caller passes a pointer to the result buffer as a hidden first argument, so at make_pair's entry [esp+4] is that pointer, and x and n follow at [esp+8] and [esp+16].

The callee writes the struct there, returns the pointer in eax, and pops it itself with \`ret 4\` — the one case where an i386 System V callee removes an argument.`,
      },
    ],
  },
  {
    id: 'returns',
    title: 'Where results come back',
    summary: 'st0 on i386, xmm0 on amd64, edx:eax and rax:rdx for wide values, and hidden pointers for big structs.',
    steps: [
      {
        title: 'i386: a double comes back in st0',
        arch: 'i386',
        call: { library: 'libc.so.6', prototype: STRTOD, args: ['2.5', '0'] },
        focus: { view: 'registers', at: 'return' },
        point: { at: 'return' },
        predict: {
          question: 'strtod("2.5", NULL) returns a double. Where is it when strtod returns on i386?',
          choices: ['edx:eax', 'xmm0', 'st0, the top of the x87 register stack', 'on the stack'],
          answer: 2,
          why: 'The i386 System V ABI returns float, double and long double in st0 (as an 80-bit value); xmm registers are used only for vector types (__m128) there, never for float or double.',
        },
        text: `\`strtod("2.5", NULL)\` returns a double. On i386 it comes back on the x87 register stack: at the return st0 holds 2.5 as an 80-bit extended value, and eax and edx mean nothing.

The caller must pop it (\`fstp\`): the ABI wants the x87 stack empty at every call and exactly one value deep after a floating-point return. The checker's x87-stack rule verifies both.`,
      },
      {
        title: 'amd64: the same double in xmm0',
        arch: 'amd64',
        call: { library: 'libc.so.6', prototype: STRTOD, args: ['2.5', '0'] },
        focus: { view: 'registers', at: 'return' },
        point: { at: 'return' },
        text: `On amd64 the same double comes back in xmm0, like every SSE-class value; only long double still uses st0.

A shim that reads the wrong register gets a stale value, not an error — one more reason to compare against a reference.`,
      },
      {
        title: 'i386: 64-bit integers in edx:eax',
        arch: 'i386',
        call: { library: 'libc.so.6', prototype: 'long long llabs(long long x)', args: ['-5000000000'] },
        focus: { view: 'registers', at: 'return' },
        point: { at: 'return' },
        text: `A 64-bit integer on i386 travels in two halves: the argument takes two stack slots (low half first, at the lower address) and the result comes back in edx:eax. Here 5000000000 = 0x12a05f200, so edx = 0x1 and eax = 0x2a05f200.`,
      },
      {
        title: 'amd64: two eightbytes in rax:rdx',
        arch: 'amd64',
        plan: { arch: 'amd64', prototype: 'struct two make_two(long a, long b)', decls: 'struct two { long a, b; };' },
        focus: { view: 'plan' },
        text: `A 16-byte struct of two INTEGER eightbytes comes back in rax (the first eightbyte) and rdx (the second). Had one of them been a double, it would have used xmm0 instead, as make_pair does.`,
      },
      {
        title: 'amd64: the hidden pointer, returned in rax',
        arch: 'amd64',
        call: { library: 'libabi-callees.so', prototype: 'struct big sret_good(long v)', args: ['5'], decls: BIG },
        focus: { view: 'registers', at: 'return' },
        point: { at: 'return' },
        text: `\`struct big\` is 24 bytes, class MEMORY. The caller reserves the space and passes its address as a hidden first argument in rdi, so v moves to rsi. The callee fills the struct in and must return the same address in rax.

Forgetting that last part is a classic bug of hand-written assembly: callers compiled by GCC or Clang may use rax to find the result. The checker's sret-return rule looks for it.`,
      },
    ],
  },
  {
    id: 'tls-stack-protector',
    title: 'TLS and the stack protector',
    summary: 'The thread pointer, the TCB, and the canary every protected function reads at fs:0x28 (amd64) or gs:0x14 (i386).',
    steps: [
      {
        title: 'amd64: fs points at the thread control block',
        arch: 'amd64',
        call: snprintfDF,
        focus: { view: 'tls' },
        point: { insn: 'fs:\\[0x28\\]', in: 'snprintf' },
        text: `Every thread has a thread pointer. On amd64 it is the fs segment base, which glibc sets at start-up with \`arch_prctl(ARCH_SET_FS)\`. It points at the thread control block (TCB, glibc's tcbhead_t), and the static TLS blocks of libc and the other libraries lie just below it (x86 uses TLS "variant II").

Functions compiled with -fstack-protector copy a random canary from fs:0x28 into their frame on entry and compare it before they return. \`snprintf(buf, 64, "%d %f", 42, 1.5)\` reads fs:0x28 eight times, and it also reads libc's own thread-local variables at negative offsets, errno at fs:-0x80 among them.`,
      },
      {
        title: 'i386: gs and gs:0x14',
        arch: 'i386',
        call: snprintfDF,
        focus: { view: 'tls' },
        // i386 snprintf is a short wrapper without a canary: the first read is in __vsnprintf_internal, which it calls.
        point: { insn: 'gs:\\[0x14\\]', in: '__vsnprintf_internal' },
        text: `On i386 the thread pointer is the base of the segment that gs selects, a GDT entry glibc installs with \`set_thread_area\`. Here gs = 0x63: entry 12 (0x63 = 12 × 8 + 3, privilege level 3), the first TLS entry a 64-bit kernel hands a 32-bit process — the case shimulator models. A native i386 kernel's TLS entries start at 6, and there gs would be 0x33. The i386 tcbhead_t is made of 4-byte words, so the canary is at gs:0x14 (the first read is in \`__vsnprintf_internal\`, which snprintf calls).

Code that calls C without glibc's start-up (a JIT, a nocgo runtime) must provide a valid thread pointer before the first call: with no TLS set up, the very first canary read faults.`,
      },
      {
        title: 'pthread_self() is the thread pointer',
        arch: 'amd64',
        call: { library: 'libc.so.6', prototype: PTHREAD_SELF, args: [] },
        focus: { view: 'registers', at: 'return' },
        point: { insn: 'fs:\\[0x10\\]', in: 'pthread_self' },
        text: `In glibc a pthread_t is the address of the thread's \`struct pthread\`, which begins with the TCB. \`pthread_self()\` is just \`mov rax, fs:[0x10]\` — the TCB's self pointer — so the value it returns equals the fs base.

The canary itself comes from the 16 random bytes the kernel hands over in the auxiliary vector (AT_RANDOM). shimulator derives them from its seed, so the canary, and every trace, is the same on every run.`,
      },
    ],
  },
  {
    id: 'errno-tls',
    title: 'errno lives in TLS',
    summary: 'How a failing system call becomes -1 and errno, and why errno is per thread.',
    steps: [
      {
        title: 'From -ENOENT to -1',
        arch: 'amd64',
        call: openMissing,
        focus: { view: 'syscalls' },
        point: { insn: '^syscall$' },
        text: `\`open("/nonexistent/file", O_RDONLY)\` ends in the \`openat\` system call. The kernel reports failure the Linux way: it returns -ENOENT (-2) in rax.

glibc's wrapper turns that into the C convention: it returns -1 and stores 2 (ENOENT) in errno.`,
      },
      {
        title: 'The errno store is a TLS write',
        arch: 'amd64',
        call: openMissing,
        focus: { view: 'tls' },
        point: { write: 'errno' },
        text: `errno is a thread-local variable of libc, so the store is a TLS access: \`write fs:-0x80 errno\`, a fixed offset below the thread pointer, inside libc's static TLS block. Every thread has its own errno because every thread has its own fs base.

cgo's \`n, err := C.open(…)\` reads errno through \`__errno_location()\` right after the call, on the same thread. shimulator does the same, and sets errno to 0 before the call.`,
      },
      {
        title: 'i386: gs:-0x4c, and the system-call entry in the TCB',
        arch: 'i386',
        call: openMissing,
        focus: { view: 'tls' },
        point: { insn: '^call dword ptr gs:\\[0x10\\]$' },
        text: `On i386 errno is at gs:-0x4c. The wrapper also reads two TCB words: gs:0xc, multiple_threads (open is a cancellation point, and glibc takes the cancellable path only once a second thread exists), and gs:0x10, sysinfo: i386 glibc enters the kernel with \`call gs:[0x10]\`, through the entry point stored there (the vDSO's, or an \`int 0x80\` stub when there is none).`,
      },
      {
        title: '__errno_location()',
        arch: 'amd64',
        call: { library: 'libc.so.6', prototype: 'int *__errno_location(void)', args: [] },
        focus: { view: 'registers', at: 'return' },
        point: { insn: 'fs:\\[0\\]', in: '__errno_location' },
        text: `\`errno\` in C is a macro for \`(*__errno_location())\`. The function returns the address of the calling thread's errno: it reads fs:0 — the first word of glibc's tcbhead_t, \`tcb\`, which holds the thread pointer itself (the self pointer, \`self\`, is at fs:0x10) — and adds errno's (negative) offset, giving the fs base minus 0x80 on amd64. This is the function cgo, and shimulator, call after every call.`,
      },
    ],
  },
  {
    id: 'threads-fakecgo',
    title: 'Starting a thread the fakecgo way',
    summary: 'Real glibc threads without cgo: _cgo_sys_thread_start\'s pthread_create with signals blocked, a parked start routine, and per-thread TLS.',
    steps: [
      {
        title: 'The main thread',
        arch: 'amd64',
        call: { library: 'libc.so.6', prototype: PTHREAD_SELF, args: [] },
        focus: { view: 'registers', at: 'return' },
        point: { insn: 'fs:\\[0x10\\]', in: 'pthread_self' },
        text: `Go without cgo (fakecgo, as used by purego) still needs real C threads: C code relies on the TLS, errno and stack guard of the thread it runs on, so every Go M that calls C must be a thread glibc created.

fakecgo reimplements runtime/cgo's small C part in Go. \`_cgo_thread_start\` copies the start data and calls the OS-dependent half, \`_cgo_sys_thread_start\`, which blocks all signals, reads the default stack size (\`pthread_attr_getstacksize\`: it becomes the new goroutine stack's upper bound), calls the real \`pthread_create\` with a start routine (\`threadentry\`), and restores the signal mask. fakecgo, like older runtime/cgo, detaches the thread right after creating it (\`pthread_detach\`); current runtime/cgo creates it detached with \`pthread_attr_setdetachstate\`. First, for comparison, \`pthread_self()\` on the main thread: its thread pointer.`,
      },
      {
        title: 'A thread started by pthread_create',
        arch: 'amd64',
        call: { library: 'libc.so.6', prototype: PTHREAD_SELF, args: [], thread: true },
        focus: { view: 'registers', at: 'return' },
        point: { insn: 'fs:\\[0x10\\]', in: 'pthread_self' },
        text: `\`Machine.startThread()\` follows \`_cgo_sys_thread_start\` through the guest's own glibc: pthread_sigmask (block all), pthread_attr_init and pthread_attr_setdetachstate (detached, as current runtime/cgo does), pthread_create, pthread_sigmask (restore). It skips the stack-size query: there is no goroutine stack to bound. The new thread's start routine parks, waiting for work; \`m.onThread(t).fn(…)\` posts a call to it and lets the scheduler run it.

The same \`pthread_self()\` on that thread returns a different value: its own struct pthread, which pthread_create placed at the top of the thread stack it allocated with mmap.`,
      },
      {
        title: 'Its own errno',
        arch: 'amd64',
        call: { ...openMissing, thread: true },
        focus: { view: 'tls' },
        point: { write: 'errno' },
        text: `Calls on the new thread have their own errno: the same fs:-0x80 offset, relative to this thread's fs base. That is the point of creating Ms with pthread_create: errno, the stack guard and every __thread variable of every library work per thread, exactly as with cgo.`,
      },
    ],
  },
  ...CONVENTION_LESSONS,
];

/** GET /api/lessons */
export function lessonList(): { lessons: Array<{ id: string; title: string; summary: string }> } {
  return { lessons: LESSONS.map(({ id, title, summary }) => ({ id, title, summary })) };
}

const built = new Map<string, Promise<Lesson>>();

/** Runs one recorded call: in-process by default (the static export); the server passes its worker pool. */
export type CallRunner = (body: unknown) => Promise<unknown>;

/** The definition of lesson `id`; throws LessonNotFoundError naming the lessons there are. */
export function lessonDefinition(id: string): LessonDefinition {
  const definition = LESSONS.find((l) => l.id === id);
  if (!definition) throw new LessonNotFoundError(`no lesson "${id}" (lessons: ${LESSONS.map((l) => l.id).join(', ')})`);
  return definition;
}

/** The lesson with every step's recording (or plan), computed once per process (the static export; the server
 * keeps its lessons in a LessonStore, lesson-store.ts, backed by the disk cache). */
export function lesson(id: string, runCall: CallRunner = call): Promise<Lesson> {
  let definition: LessonDefinition;
  try {
    definition = lessonDefinition(id);
  } catch (error) {
    return Promise.reject(error);
  }
  let pending = built.get(id);
  if (!pending) {
    pending = buildLesson(definition, runCall);
    built.set(id, pending);
    pending.catch(() => built.delete(id));
  }
  return pending;
}

/** Records every call step of a lesson (one after another, so a lesson occupies at most one worker at a time). */
export async function buildLesson(definition: LessonDefinition, runCall: CallRunner): Promise<Lesson> {
  const steps: Lesson['steps'] = [];
  for (const { plan: planRequest, ...step } of definition.steps) {
    if (step.call) {
      const recording = await runCall({ arch: step.arch, ...step.call });
      const focus = step.point
        ? { view: step.focus?.view ?? 'registers', ...step.focus, step: resolvePointer(await openRecording(recording as Recording), recording as Recording, step.point) }
        : step.focus;
      steps.push({ ...step, focus, recording });
    } else if (planRequest) {
      steps.push({ ...step, plan: plan(planRequest), planRequest });
    } else {
      steps.push(step);
    }
  }
  return { id: definition.id, title: definition.title, summary: definition.summary, steps };
}
