/**
 * Signals on both architectures, with real glibc: sigaction/raise/sigprocmask/sigaltstack/siglongjmp from C
 * compiled here, a SIGSEGV from a NULL write recovered with siglongjmp, a handler that rewrites the saved pc in
 * its ucontext and returns (Go's sigpanic pattern), default actions; the frame builders against the offsets the
 * real headers give (offsetof compiled here and read through the emulator); the exact pc of a faulting access.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHES } from '../src/emu/arch.ts';
import { GuestFault } from '../src/emu/errors.ts';
import { UnicornEngine } from '../src/emu/unicorn.ts';
import { GuestExit } from '../src/kernel/kernel.ts';
import { buildFrameAmd64, parseUcontextAmd64, RT_SIGFRAME, SIGCONTEXT, SIGCONTEXT_REGS, UCONTEXT } from '../src/kernel/signals/frame-amd64.ts';
import { buildFrameI386, parseFrameI386, parseRtFrameI386, RT_SIGFRAME_32, SIGCONTEXT_32_SLOTS, SIGFRAME_32, UCONTEXT_32 } from '../src/kernel/signals/frame-i386.ts';
import { DISABLED_ALTSTACK, type FrameRequest } from '../src/kernel/signals/frame.ts';
import { faultSignal } from '../src/kernel/signals/faults.ts';
import { SA_ONSTACK, SA_RESTORER, SA_SIGINFO, SEGV_ACCERR, SEGV_MAPERR, SIGSEGV } from '../src/kernel/signals/numbers.ts';
import { Machine } from '../src/machine.ts';

const SIGNALS_C = String.raw`
#define _GNU_SOURCE
#include <signal.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>
#include <errno.h>
#include <stdlib.h>
#include <pthread.h>

static sigjmp_buf jb;
static volatile int seen_signo, seen_code;
static volatile uintptr_t seen_addr;
static void on_segv(int sig, siginfo_t *si, void *uc) {
  seen_signo = si->si_signo; seen_code = si->si_code; seen_addr = (uintptr_t)si->si_addr;
  siglongjmp(jb, 1);
}
int segv_recover(void) {
  struct sigaction sa; memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv; sa.sa_flags = SA_SIGINFO; sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, 0);
  seen_signo = 0; seen_addr = 1;
  int r;
  if (sigsetjmp(jb, 1) == 0) { *(volatile int *)0 = 42; r = -1; } else r = 7;
  signal(SIGSEGV, SIG_DFL);
  return r;
}
int segv_signo(void) { return seen_signo; }
int segv_code(void) { return seen_code; }
long segv_addr(void) { return (long)seen_addr; }
/* After the recovery the SIGSEGV is unblocked again (siglongjmp restored the mask saved by sigsetjmp). */
int segv_blocked(void) { sigset_t s; sigprocmask(SIG_BLOCK, 0, &s); return sigismember(&s, SIGSEGV); }

static volatile int usr1_count;
static void on_usr1(int sig) { usr1_count++; }
int raise_runs_handler(void) { signal(SIGUSR1, on_usr1); usr1_count = 0; raise(SIGUSR1); return usr1_count; }
int blocked_then_unblocked(void) {
  sigset_t s, old, p; sigemptyset(&s); sigaddset(&s, SIGUSR1);
  signal(SIGUSR1, on_usr1);
  sigprocmask(SIG_BLOCK, &s, &old);
  usr1_count = 0; raise(SIGUSR1);
  int before = usr1_count;
  sigpending(&p); int pending = sigismember(&p, SIGUSR1);
  sigprocmask(SIG_SETMASK, &old, 0);
  return before * 100 + pending * 10 + usr1_count;
}
int ignored(void) { signal(SIGUSR2, SIG_IGN); raise(SIGUSR2); signal(SIGUSR2, SIG_DFL); return 5; }

static volatile uintptr_t handler_local;
static volatile int handler_ss_flags;
static void on_alt(int sig) { int local; stack_t now; sigaltstack(0, &now); handler_ss_flags = now.ss_flags; handler_local = (uintptr_t)&local; }
static char alt_mem[65536];
int altstack_used(void) {
  stack_t ss; ss.ss_sp = alt_mem; ss.ss_size = sizeof alt_mem; ss.ss_flags = 0;
  if (sigaltstack(&ss, 0) != 0) return -1;
  struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_handler = on_alt; sa.sa_flags = SA_ONSTACK;
  sigaction(SIGUSR1, &sa, 0);
  handler_local = 0; raise(SIGUSR1);
  stack_t off; memset(&off, 0, sizeof off); off.ss_flags = SS_DISABLE; sigaltstack(&off, 0);
  signal(SIGUSR1, SIG_DFL);
  int inside = handler_local > (uintptr_t)alt_mem && handler_local < (uintptr_t)alt_mem + sizeof alt_mem;
  return inside * 10 + handler_ss_flags; /* 11: on the altstack, and sigaltstack says SS_ONSTACK there */
}

/* The Go pattern: the handler redirects the saved pc to another function and returns through rt_sigreturn. */
__attribute__((noinline)) int load(volatile int *p) { return *p + 1; }
static int substitute(void) { return 1234; }
static volatile uintptr_t fault_pc;
static void on_segv_redirect(int sig, siginfo_t *si, void *ctx) {
  ucontext_t *uc = ctx;
#ifdef __x86_64__
  fault_pc = uc->uc_mcontext.gregs[REG_RIP];
  uc->uc_mcontext.gregs[REG_RIP] = (greg_t)substitute;
#else
  fault_pc = uc->uc_mcontext.gregs[REG_EIP];
  uc->uc_mcontext.gregs[REG_EIP] = (greg_t)substitute;
#endif
}
int redirect(void) {
  struct sigaction sa; memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv_redirect; sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, 0);
  int r = load((volatile int *)0);   /* load faults; "returns" 1234 through substitute (a tail call from its pc) */
  signal(SIGSEGV, SIG_DFL);
  return r;
}
long fault_offset(void) { return (long)(fault_pc - (uintptr_t)load); }



/* The handler starts with the default FPU controls; the interrupted ones come back from the frame's fxsave image. */
static volatile unsigned short cw_in_handler;
static volatile unsigned mxcsr_in_handler;
static void on_usr2_fpu(int sig) {
  unsigned short cw; unsigned m;
  __asm__ volatile("fnstcw %0" : "=m"(cw)); __asm__ volatile("stmxcsr %0" : "=m"(m));
  cw_in_handler = cw; mxcsr_in_handler = m;
  volatile double x = 3.0; x = x * x; (void)x;
}
int fpu_controls_restored(void) {
  unsigned short cw = 0x0b7f, cw_after, cw_default = 0x037f;
  unsigned m = 0x5f80, m_after, m_default = 0x1f80;
  signal(SIGUSR2, on_usr2_fpu);
  __asm__ volatile("fldcw %0" :: "m"(cw)); __asm__ volatile("ldmxcsr %0" :: "m"(m));
  raise(SIGUSR2);
  __asm__ volatile("fnstcw %0" : "=m"(cw_after)); __asm__ volatile("stmxcsr %0" : "=m"(m_after));
  __asm__ volatile("fldcw %0" :: "m"(cw_default)); __asm__ volatile("ldmxcsr %0" :: "m"(m_default));
  signal(SIGUSR2, SIG_DFL);
  return (cw_after == 0x0b7f) * 1000 + (m_after == 0x5f80) * 100 + (cw_in_handler == 0x037f) * 10 + (mxcsr_in_handler == 0x1f80);
}

int kill_self(void) { signal(SIGUSR1, on_usr1); usr1_count = 0; kill(getpid(), SIGUSR1); signal(SIGUSR1, SIG_DFL); return usr1_count; }

int suspend(void) {
  sigset_t block, old, none, now; sigemptyset(&block); sigaddset(&block, SIGUSR1); sigemptyset(&none);
  signal(SIGUSR1, on_usr1); usr1_count = 0;
  sigprocmask(SIG_BLOCK, &block, &old);
  raise(SIGUSR1);
  int r = sigsuspend(&none), e = errno;
  sigprocmask(SIG_BLOCK, 0, &now);
  int still = sigismember(&now, SIGUSR1);
  sigprocmask(SIG_SETMASK, &old, 0);
  signal(SIGUSR1, SIG_DFL);
  return (r == -1 && e == EINTR) * 100 + usr1_count * 10 + still;
}

/* pthread_kill to a thread blocked in pthread_cond_wait: its futex wait ends (EINTR, retried by glibc), the handler
   runs on that thread. */
static volatile pid_t worker_tid, handled_on;
static void on_usr1_thread(int sig) { handled_on = gettid(); }
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int go;
static void *waiter(void *a) {
  pthread_mutex_lock(&mu); worker_tid = gettid();
  while (!go) pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu); return 0;
}
int signal_other_thread(void) {
  pthread_t t; signal(SIGUSR1, on_usr1_thread); handled_on = 0; worker_tid = 0; go = 0;
  pthread_create(&t, 0, waiter, 0);
  while (!worker_tid) usleep(100);
  usleep(1000);
  pthread_kill(t, SIGUSR1);
  while (!handled_on) usleep(100);
  pthread_mutex_lock(&mu); go = 1; pthread_cond_signal(&cv); pthread_mutex_unlock(&mu);
  pthread_join(t, 0);
  signal(SIGUSR1, SIG_DFL);
  return handled_on == worker_tid && handled_on != gettid();
}

/* Errors with Linux's errno: SIGKILL's action cannot change, a tiny altstack is refused, and changing the
   altstack while running on it is EPERM. */
static volatile int eperm_on_alt;
static void on_alt_change(int sig) { stack_t ss; memset(&ss, 0, sizeof ss); ss.ss_flags = SS_DISABLE; eperm_on_alt = sigaltstack(&ss, 0) == -1 && errno == EPERM; }
int errors(void) {
  struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_handler = on_usr1;
  int kill_einval = sigaction(SIGKILL, &sa, 0) == -1 && errno == EINVAL;
  stack_t tiny; tiny.ss_sp = alt_mem; tiny.ss_size = 100; tiny.ss_flags = 0;
  int tiny_enomem = sigaltstack(&tiny, 0) == -1 && errno == ENOMEM;
  stack_t ss; ss.ss_sp = alt_mem; ss.ss_size = sizeof alt_mem; ss.ss_flags = 0; sigaltstack(&ss, 0);
  sa.sa_handler = on_alt_change; sa.sa_flags = SA_ONSTACK; sigaction(SIGUSR2, &sa, 0);
  eperm_on_alt = 0; raise(SIGUSR2);
  stack_t off; memset(&off, 0, sizeof off); off.ss_flags = SS_DISABLE; sigaltstack(&off, 0);
  signal(SIGUSR2, SIG_DFL);
  return kill_einval * 100 + tiny_enomem * 10 + eperm_on_alt;
}

int term(void) { raise(SIGTERM); return 0; }
int do_abort(void) { abort(); }
int null_write(void) { *(volatile int *)0 = 1; return 0; }

/* Offsets from the real headers, for the frame layout tests. */
long layout(int which) {
  switch (which) {
#ifdef __x86_64__
    case 0: return offsetof(ucontext_t, uc_mcontext.gregs[REG_RIP]);
    case 1: return offsetof(ucontext_t, uc_mcontext.gregs[REG_RSP]);
    case 2: return offsetof(ucontext_t, uc_mcontext.gregs[REG_R8]);
    case 3: return offsetof(ucontext_t, uc_mcontext.gregs[REG_EFL]);
    case 4: return offsetof(ucontext_t, uc_mcontext.gregs[REG_ERR]);
    case 5: return offsetof(ucontext_t, uc_mcontext.gregs[REG_CR2]);
    case 6: return offsetof(ucontext_t, uc_mcontext.fpregs);
    case 7: return offsetof(ucontext_t, uc_sigmask);
#else
    case 0: return offsetof(ucontext_t, uc_mcontext.gregs[REG_EIP]);
    case 1: return offsetof(ucontext_t, uc_mcontext.gregs[REG_ESP]);
    case 2: return offsetof(ucontext_t, uc_mcontext.gregs[REG_GS]);
    case 3: return offsetof(ucontext_t, uc_mcontext.gregs[REG_EFL]);
    case 4: return offsetof(ucontext_t, uc_mcontext.gregs[REG_ERR]);
    case 5: return offsetof(ucontext_t, uc_mcontext.cr2);
    case 6: return offsetof(ucontext_t, uc_mcontext.fpregs);
    case 7: return offsetof(ucontext_t, uc_sigmask);
#endif
    case 8: return offsetof(ucontext_t, uc_stack.ss_size);
    case 9: return offsetof(siginfo_t, si_addr);
    case 10: return offsetof(siginfo_t, si_pid);
    case 11: return sizeof(siginfo_t);
  }
  return -1;
}
`;

const hasGcc = spawnSync('gcc', ['--version']).status === 0;
let dir = '';
const lib = (arch: string) => join(dir, `libsignals-${arch}.so`);

beforeAll(() => {
  if (!hasGcc) return;
  dir = mkdtempSync(join(tmpdir(), 'shim-signals-'));
  writeFileSync(join(dir, 'signals.c'), SIGNALS_C);
  for (const [arch, flag] of [['amd64', '-m64'], ['i386', '-m32']]) {
    execFileSync('gcc', [flag!, '-O1', '-shared', '-fPIC', '-o', lib(arch!), join(dir, 'signals.c')]);
  }
});
afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!hasGcc).each(ARCHES)('signals on %s', (arch) => {
  let m: Machine;
  beforeAll(async () => {
    m = await Machine.boot({ arch, libs: [lib(arch)] });
  });
  afterAll(() => m?.close());
  const call = (proto: string, ...args: number[]) => m.fn(undefined, proto)(...args).value;

  it('a NULL write raises SIGSEGV (si_addr 0, SEGV_MAPERR) that the handler leaves with siglongjmp', () => {
    expect(call('int segv_recover(void)')).toBe(7);
    expect(call('int segv_signo(void)')).toBe(SIGSEGV);
    expect(call('int segv_code(void)')).toBe(SEGV_MAPERR);
    expect(call('long segv_addr(void)')).toBe(0);
    expect(call('int segv_blocked(void)')).toBe(0);
  });

  // Each C function returns digits that all must be 1 (see SIGNALS_C) or the plain expected value.
  it.each([
    ['raise runs the handler before it returns', 'int raise_runs_handler(void)', 1],
    ['a blocked signal stays pending (sigpending) and runs when sigprocmask unblocks it', 'int blocked_then_unblocked(void)', 11],
    ['SIG_IGN ignores', 'int ignored(void)', 5],
    ['an SA_ONSTACK handler runs on the sigaltstack (and sigaltstack reports SS_ONSTACK there)', 'int altstack_used(void)', 11],
    ['the handler starts with default FPU controls; the interrupted fcw and mxcsr come back from the frame', 'int fpu_controls_restored(void)', 1111],
    ['kill(getpid()) is taken by the calling thread before kill returns', 'int kill_self(void)', 1],
    ['sigsuspend runs the pending handler, returns EINTR, and restores the blocked mask', 'int suspend(void)', 111],
    ['pthread_kill wakes a thread blocked in pthread_cond_wait and runs the handler on it', 'int signal_other_thread(void)', 1],
    ['sigaction(SIGKILL) is EINVAL, a tiny altstack ENOMEM, changing the altstack while on it EPERM', 'int errors(void)', 111],
  ] as const)('%s', (_what, proto, expected) => {
    expect(call(proto)).toBe(expected);
  });

  it('a handler that rewrites the saved pc in uc_mcontext continues there after rt_sigreturn (the Go pattern)', () => {
    expect(call('int redirect(void)')).toBe(1234);
    // The frame holds the faulting instruction's pc, not its block's start: `load` faults on its load instruction.
    const offset = call('long fault_offset(void)') as number;
    expect(offset).toBe(arch === 'amd64' ? 0 : 4); // amd64: mov (%rdi),%eax first; i386: after mov 4(%esp),%eax
  });

  it('the frame layout matches the real headers (offsetof compiled for this architecture)', () => {
    const at = (i: number) => call('long layout(int which)', i);
    if (arch === 'amd64') {
      expect(at(0)).toBe(UCONTEXT.mcontext + 8 * SIGCONTEXT_REGS.indexOf('rip'));
      expect(at(1)).toBe(UCONTEXT.mcontext + 8 * SIGCONTEXT_REGS.indexOf('rsp'));
      expect(at(2)).toBe(UCONTEXT.mcontext);
      expect(at(3)).toBe(UCONTEXT.mcontext + 8 * SIGCONTEXT_REGS.indexOf('rflags'));
      expect(at(4)).toBe(UCONTEXT.mcontext + SIGCONTEXT.err);
      expect(at(5)).toBe(UCONTEXT.mcontext + SIGCONTEXT.cr2);
      expect(at(6)).toBe(UCONTEXT.mcontext + SIGCONTEXT.fpstate);
      expect(at(7)).toBe(UCONTEXT.sigmask);
      expect(at(8)).toBe(UCONTEXT.stack + 16);
      expect(at(9)).toBe(16);
      expect(at(10)).toBe(16);
    } else {
      const slot = (name: (typeof SIGCONTEXT_32_SLOTS)[number]) => UCONTEXT_32.mcontext + 4 * SIGCONTEXT_32_SLOTS.indexOf(name);
      expect(at(0)).toBe(slot('eip'));
      expect(at(1)).toBe(slot('esp'));
      expect(at(2)).toBe(slot('gs'));
      expect(at(3)).toBe(slot('eflags'));
      expect(at(4)).toBe(slot('err'));
      expect(at(5)).toBe(slot('cr2'));
      expect(at(6)).toBe(slot('fpstate'));
      expect(at(7)).toBe(UCONTEXT_32.sigmask);
      expect(at(8)).toBe(UCONTEXT_32.stack + 8);
      expect(at(9)).toBe(12);
      expect(at(10)).toBe(12);
    }
    expect(at(11)).toBe(128);
  });

  /** What a call throws on a freshly booted machine (these calls end the process). */
  async function thrownByFresh(proto: string): Promise<unknown> {
    const fresh = await Machine.boot({ arch, libs: [lib(arch)] });
    try {
      fresh.fn(undefined, proto)();
      return undefined;
    } catch (error) {
      return error;
    } finally {
      fresh.close();
    }
  }

  it('without a handler: raise(SIGTERM) ends the process with status 143, signal 15', async () => {
    const error = await thrownByFresh('int term(void)');
    expect(error).toBeInstanceOf(GuestExit);
    expect((error as GuestExit).status).toBe(143);
    expect((error as GuestExit).signal).toBe(15);
  });

  it('abort() ends the process with status 134, signal 6 (SIGABRT)', async () => {
    const error = await thrownByFresh('int do_abort(void)');
    expect(error).toBeInstanceOf(GuestExit);
    expect(error).toMatchObject({ status: 134, signal: 6 });
    expect((error as Error).message).toContain('abort() was called');
  });

  it('without a handler: a NULL write is a GuestFault, as before', async () => {
    expect(await thrownByFresh('int null_write(void)')).toBeInstanceOf(GuestFault);
  });
});

// ---- pure frame builders ----

const FPU = { fcw: 0x37f, fsw: 0, ftw: 0xffff, mxcsr: 0x1f80, st: [], xmm: [] };

function request(arch: 'amd64' | 'i386', overrides: Partial<FrameRequest> = {}): FrameRequest {
  const regs = arch === 'amd64'
    ? { rsp: 0x7fffffffe123n, rip: 0x401000n, rax: 5n, rflags: 0x746n }
    : { esp: 0xffffd123n, eip: 0x8049000n, eax: 5n, eflags: 0x746n };
  return {
    signal: 10, info: { signo: 10, code: -6, pid: 1000, uid: 0 },
    action: { handler: 0x402000n, flags: SA_SIGINFO | SA_RESTORER, restorer: 0x403000n },
    regs, fpu: FPU, savedMask: 0x1234n, altstack: DISABLED_ALTSTACK, ...overrides,
  };
}

describe('frame builders', () => {
  it('amd64: below the red zone, (rsp + 8) % 16 == 0 at entry, 64-byte aligned fxsave, arguments in rdi/rsi/rdx', () => {
    const f = buildFrameAmd64(request('amd64'));
    const sp = f.regs.rsp!;
    expect((sp + 8n) % 16n).toBe(0n);
    expect(sp + BigInt(f.bytes.length) <= 0x7fffffffe123n - 128n).toBe(true);
    const view = new DataView(f.bytes.buffer);
    const fpstate = view.getBigUint64(RT_SIGFRAME.uc + UCONTEXT.mcontext + SIGCONTEXT.fpstate, true);
    expect(fpstate % 64n).toBe(0n);
    expect(view.getBigUint64(RT_SIGFRAME.pretcode, true)).toBe(0x403000n);
    expect(view.getBigUint64(RT_SIGFRAME.uc + UCONTEXT.mcontext + 8 * SIGCONTEXT_REGS.indexOf('rip'), true)).toBe(0x401000n);
    expect(view.getBigUint64(RT_SIGFRAME.uc + UCONTEXT.sigmask, true)).toBe(0x1234n);
    expect(f.regs).toMatchObject({ rip: 0x402000n, rdi: 10n, rsi: sp + BigInt(RT_SIGFRAME.info), rdx: sp + BigInt(RT_SIGFRAME.uc), rax: 0n });
    expect(f.regs.rflags! & 0x400n).toBe(0n);
  });

  it('amd64: SA_ONSTACK moves the frame to the top of the alternate stack', () => {
    const altstack = { sp: 0x10000000n, size: 0x10000n, flags: 0 };
    const f = buildFrameAmd64(request('amd64', { altstack, action: { handler: 1n, flags: SA_SIGINFO | SA_ONSTACK | SA_RESTORER, restorer: 2n } }));
    expect(f.address > 0x10000000 && f.address + f.bytes.length <= 0x10010000).toBe(true);
  });

  it('i386 rt frame: (esp + 4) % 16 == 0, pinfo/puc point into the frame, eax/edx/ecx for regparm handlers', () => {
    const f = buildFrameI386(request('i386'));
    const sp = f.regs.esp!;
    expect((sp + 4n) % 16n).toBe(0n);
    const view = new DataView(f.bytes.buffer);
    expect(view.getUint32(RT_SIGFRAME_32.sig, true)).toBe(10);
    expect(BigInt(view.getUint32(RT_SIGFRAME_32.pinfo, true))).toBe(sp + BigInt(RT_SIGFRAME_32.info));
    expect(BigInt(view.getUint32(RT_SIGFRAME_32.puc, true))).toBe(sp + BigInt(RT_SIGFRAME_32.uc));
    const eip = RT_SIGFRAME_32.uc + UCONTEXT_32.mcontext + 4 * SIGCONTEXT_32_SLOTS.indexOf('eip');
    expect(view.getUint32(eip, true)).toBe(0x8049000);
    const fpstate = view.getUint32(RT_SIGFRAME_32.uc + UCONTEXT_32.mcontext + 4 * SIGCONTEXT_32_SLOTS.indexOf('fpstate'), true);
    expect((fpstate + 112) % 64).toBe(0); // the FXSAVE image after the 112-byte FSAVE header is 64-byte aligned
    expect(f.regs).toMatchObject({ eip: 0x402000n, eax: 10n, edx: sp + BigInt(RT_SIGFRAME_32.info), ecx: sp + BigInt(RT_SIGFRAME_32.uc) });
  });

  it('i386 legacy frame (no SA_SIGINFO): the sigcontext after sig, the mask split into oldmask and extramask', () => {
    const f = buildFrameI386(request('i386', { savedMask: 0x1_0000_0002n, action: { handler: 1n, flags: SA_RESTORER, restorer: 2n } }));
    const view = new DataView(f.bytes.buffer);
    expect(view.getUint32(SIGFRAME_32.sc + 4 * SIGCONTEXT_32_SLOTS.indexOf('oldmask'), true)).toBe(2);
    expect(view.getUint32(SIGFRAME_32.extramask, true)).toBe(1);
    expect(f.regs).toMatchObject({ eax: 10n, edx: 0n, ecx: 0n });
  });

  it('sigreturn reads back what the builders wrote: registers, mask, FPU state pointer', () => {
    const amd64 = request('amd64');
    const f64 = buildFrameAmd64(amd64);
    const back64 = parseUcontextAmd64(f64.bytes.subarray(RT_SIGFRAME.uc));
    expect(back64.regs).toMatchObject(amd64.regs);
    expect(back64.mask).toBe(0x1234n);
    expect(back64.fpstate % 64).toBe(0);
    const rt = request('i386');
    expect(parseRtFrameI386(buildFrameI386(rt).bytes)).toMatchObject({ regs: rt.regs, mask: 0x1234n });
    const legacy = request('i386', { savedMask: 0x8000_0000_0000_0001n, action: { handler: 1n, flags: SA_RESTORER, restorer: 2n } });
    expect(parseFrameI386(buildFrameI386(legacy).bytes)).toMatchObject({ regs: legacy.regs, mask: 0x8000_0000_0000_0001n });
  });

  it('faults map to SIGSEGV with SEGV_MAPERR / SEGV_ACCERR and the page-fault error code', () => {
    expect(faultSignal({ kind: 'WRITE_UNMAPPED', pc: 1, address: 0, vector: undefined })).toMatchObject({
      signal: SIGSEGV, info: { code: SEGV_MAPERR, addr: 0n }, context: { trapno: 14, err: 6 },
    });
    expect(faultSignal({ kind: 'READ_PROT', pc: 1, address: 0x1000, vector: undefined })).toMatchObject({
      info: { code: SEGV_ACCERR, addr: 0x1000n }, context: { err: 5 },
    });
    expect(faultSignal({ kind: 'EXCEPTION', pc: 0x42, address: undefined, vector: 0 })).toMatchObject({ signal: 8, info: { addr: 0x42n } });
    expect(faultSignal({ kind: 'HALT', pc: 0, address: undefined, vector: undefined })).toBeUndefined();
  });
});

describe.each(ARCHES)('Unicorn fault pc on %s', (arch) => {
  /** mov eax, 1; mov ebx, 2; mov ecx, [0x10] — one translation block whose third instruction (at +10) faults. */
  function faultPc(precise: boolean): number {
    const e = new UnicornEngine(arch, {});
    try {
      if (precise) e.enablePreciseFaults();
      e.map(0x100000, 0x1000, 7);
      const load = arch === 'amd64' ? [0x8b, 0x0c, 0x25, 0x10, 0, 0, 0] : [0x8b, 0x0d, 0x10, 0, 0, 0];
      e.write(0x100000, Uint8Array.from([0xb8, 1, 0, 0, 0, 0xbb, 2, 0, 0, 0, ...load, 0x90]));
      expect(() => e.run(0x100000, { until: 0x100100, budget: 1000 })).toThrow(GuestFault);
      return e.pc();
    } finally {
      e.close();
    }
  }

  it('Unicorn 2.0.1 alone reports the translation block\'s start', () => {
    expect(faultPc(false)).toBe(0x100000);
  });

  it('with enablePreciseFaults a faulting load reports its own pc', () => {
    expect(faultPc(true)).toBe(0x10000a);
  });
});
