/**
 * Guest threads started the fakecgo way: the guest's own `pthread_create` runs a worker (worker.ts) that parks and
 * waits for work in its mailbox; the host posts a call block and a trampoline there, and the scheduler runs the
 * posted threads until each is back in the host. Calls on them share the host-call layer (host-call.ts): arena,
 * trampolines, checking and the TLS watch.
 */
import { unsignedOf } from '../emu/bytes.ts';
import { PROT_READ, PROT_WRITE } from '../emu/engine.ts';
import { GuestFault } from '../emu/errors.ts';
import type { GuestThread } from '../kernel/threads.ts';
import type { Process } from '../loader/process.ts';
import { threadTlsLayout } from '../check/tls-layout.ts';
import { TlsWatch } from '../check/tls-watch.ts';
import { readBlock, writeBlock } from './call.ts';
import type { GuestWindow } from './guest-window.ts';
import { type CallResult, type HostCaller, report } from './host-call.ts';
import type { PlanCache } from './plan.ts';
import type { Prototype } from './types.ts';
import { ArgumentError, type HostValue } from './values.ts';
import { generateWorker, WORKER_MAILBOX } from './worker.ts';

/** A guest thread started the fakecgo way (see `Machine.startThread`). */
export interface GuestThreadHandle {
  readonly tid: number;
  /** The guest's pthread_t for it. */
  readonly pthread: number;
  readonly thread: GuestThread;
  /** Where the host posts work for it. */
  readonly mailbox: number;
  /** Its errno (TLS) and thread pointer (amd64 fs base / i386 gs segment base). */
  errnoAddress: number;
  threadPointer: number;
}

const THREAD_REGION_BYTES = 64 * 1024;
/** sizeof(pthread_attr_t) is 56 (amd64) / 36 (i386); sizeof(sigset_t) is 128. */
const PTHREAD_ATTR_BYTES = 64;
const SIGSET_BYTES = 128;
const SIG_SETMASK = 2;
const PTHREAD_CREATE_DETACHED = 1;

/** One call for `concurrently`: a function (address and prototype) and its arguments, on a started thread. */
export interface ThreadCall {
  thread: GuestThreadHandle;
  address: number;
  proto: Prototype;
  args: HostValue[];
}

/** What starting threads and calling on them need from the machine. */
export interface GuestThreadsContext {
  process: Process;
  calls: HostCaller;
  callBudget: number;
  checking(): boolean;
  plans(proto: Prototype): PlanCache;
  parsePrototype(text: string): Prototype;
  /** A symbol's address (IFUNCs resolved), as `Machine.address`. */
  address(name: string, library: string): number;
  /** A call of a libc function, as `m.fn('libc.so.6', proto)` makes it. */
  libc(proto: string, ...args: HostValue[]): CallResult;
}

/** The started threads' guest memory in a snapshot (see HostCallState). */
export interface GuestThreadsState {
  workerCode: number | undefined;
  threadRegion: { base: number; used: number } | undefined;
}

/** The threads one booted process was given by the host, and calls on them. */
export class GuestThreads {
  private workerCode: number | undefined;
  private threadRegion: { base: number; used: number } | undefined;
  /** Live windows on each thread's mailbox and errno (see guest-window.ts): a call writes them without native calls. */
  private readonly windows = new WeakMap<GuestThreadHandle, { mailbox: GuestWindow; errno?: GuestWindow }>();

  constructor(private readonly context: GuestThreadsContext) {}

  state(): GuestThreadsState {
    return { workerCode: this.workerCode, threadRegion: this.threadRegion && { ...this.threadRegion } };
  }

  restoreState(state: GuestThreadsState): void {
    this.workerCode = state.workerCode;
    this.threadRegion = state.threadRegion && { ...state.threadRegion };
  }

  /** See `Machine.startThread`. */
  start(options: { detached?: boolean }): GuestThreadHandle {
    const { process, calls } = this.context;
    const word = process.arch === 'amd64' ? 8 : 4;
    this.workerCode ??= calls.code.place(generateWorker(process.arch));
    const mailbox = this.memory(WORKER_MAILBOX.size);
    const attr = this.memory(PTHREAD_ATTR_BYTES);
    const pthread = this.memory(word);
    const libc = this.context.libc;
    const oldMask = this.memory(SIGSET_BYTES);
    libc('int pthread_sigmask(int how, const void *set, void *old)', SIG_SETMASK, new Uint8Array(SIGSET_BYTES).fill(0xff), oldMask);
    libc('int pthread_attr_init(void *attr)', attr);
    if (options.detached ?? true) libc('int pthread_attr_setdetachstate(void *attr, int state)', attr, PTHREAD_CREATE_DETACHED);
    const before = process.threads.threads.length;
    const created = libc('int pthread_create(void *thread, const void *attr, void *(*start)(void *), void *arg)', pthread, attr, this.workerCode, mailbox);
    libc('int pthread_attr_destroy(void *attr)', attr);
    libc('int pthread_sigmask(int how, const void *set, void *old)', SIG_SETMASK, oldMask, null);
    if (created.value !== 0) throw new ArgumentError(`pthread_create failed in the guest with error ${created.value}`);
    const thread = process.threads.threads[before]!;
    // Let the new thread start and park in its start routine, waiting for the first call.
    process.runUntilHost([thread], process.layout.trapPage, this.context.callBudget);
    const handle: GuestThreadHandle = {
      tid: thread.tid,
      pthread: Number(unsignedOf(process.engine.read(pthread, word))),
      thread,
      mailbox,
      errnoAddress: 0,
      threadPointer: 0,
    };
    calls.threadHandles.set(thread, handle);
    const onIt = (proto: string) => {
      const p = this.context.parsePrototype(proto);
      return Number(this.call([{ thread: handle, address: this.context.address(p.name, 'libc.so.6'), proto: p, args: [] }], false)[0]!.value);
    };
    handle.errnoAddress = onIt('int *__errno_location(void)');
    handle.threadPointer = onIt('void *pthread_self(void)');
    return handle;
  }

  /**
   * A handle for a thread the guest started itself, made when a callback running on it first calls into the guest:
   * a mailbox of its own for the nested calls' trampolines (each thread needs one: the scheduler may run another
   * thread's callback meanwhile), and its errno and thread pointer, asked of the guest on that thread. A thread
   * without glibc's TLS (a raw `clone`) faults there: it gets no errno, and its calls still run.
   */
  adopt(thread: GuestThread): GuestThreadHandle {
    const { calls } = this.context;
    // Filled in by its own calls below: it must be registered (for its mailbox) before they run.
    const handle: { -readonly [K in keyof GuestThreadHandle]: GuestThreadHandle[K] } = {
      tid: thread.tid, pthread: 0, thread, mailbox: this.memory(WORKER_MAILBOX.size), errnoAddress: 0, threadPointer: 0,
    };
    calls.registerAdopted(thread, handle);
    const onIt = (proto: string): number => {
      const p = this.context.parsePrototype(proto);
      try {
        return Number(calls.invoke(this.context.address(p.name, 'libc.so.6'), this.context.plans(p), [], this.context.callBudget, false).value);
      } catch (error) {
        if (error instanceof GuestFault) return 0;
        throw error;
      }
    };
    handle.errnoAddress = onIt('int *__errno_location(void)');
    handle.pthread = handle.threadPointer = onIt('void *pthread_self(void)');
    return handle;
  }

  /**
   * Posts each call to its thread and runs them, interleaved by the scheduler, until all are done (see
   * `Machine.concurrently`). `instrument`: apply checking and the TLS watch (not for the host's own bookkeeping calls).
   */
  call(calls: ThreadCall[], instrument: boolean): CallResult[] {
    const { process, calls: host } = this.context;
    if (host.inCallback > 0) {
      throw new ArgumentError('cannot call on started threads (onThread, concurrently) from inside a callback: a callback may call functions from m.fn / m.fnAt, which run on the main thread');
    }
    host.requireLiveProcess();
    for (const c of calls) {
      if (!process.threads.threads.includes(c.thread.thread)) {
        throw new ArgumentError(`thread ${c.thread.tid} was started in the process before reset(): start it again`);
      }
    }
    const mainLayout = host.prepareInstrumentation(instrument);
    host.arena.reset();
    const word = process.arch === 'amd64' ? 8 : 4;
    const posted = calls.map((c) => {
      if (c.thread.thread.state !== 'host') throw new ArgumentError(`thread ${c.thread.tid} is busy (or has exited): one call at a time per thread`);
      const plan = this.context.plans(c.proto).planFor(c.args);
      const block = writeBlock(host.env, plan, c.address, c.args);
      const trampoline = host.trampolineFor(plan, c.thread.mailbox + WORKER_MAILBOX.trampolineMailbox);
      const windows = this.windowsOf(c.thread);
      windows.mailbox.writeWord(c.thread.mailbox + WORKER_MAILBOX.block, block.address, word);
      windows.mailbox.writeWord(c.thread.mailbox + WORKER_MAILBOX.trampoline, trampoline, word);
      windows.errno?.zero(c.thread.errnoAddress, 4);
      c.thread.thread.state = 'runnable';
      return { plan, block };
    });
    // Every thread's static TLS sits at the same offsets from its own thread pointer: shift the main thread's view.
    const watches = mainLayout
      ? calls.map((c) => new TlsWatch(process, threadTlsLayout(mainLayout, c.thread, process)))
      : undefined;
    watches?.forEach((w) => w.start());
    const check = instrument && this.context.checking();
    const watch = check || (instrument && host.checker.onCall !== undefined);
    if (watch) host.checker.begin(calls.map((c, i) => ({ thread: c.thread.tid, target: c.address, spec: posted[i]!.plan.spec })));
    let instructions: number[];
    try {
      instructions = process.runUntilHost(calls.map((c) => c.thread.thread), process.layout.trapPage, this.context.callBudget * calls.length);
    } catch (error) {
      const found = watch ? host.checker.end() : [];
      if (check && error instanceof Error) Object.assign(error, { abi: report(found) });
      watches?.forEach((w) => w.stop());
      throw error;
    }
    const found = watch ? host.checker.end() : [];
    const violations = check ? found : [];
    const tls = watches?.map((w) => w.stop());
    return posted.map((p, i) => {
      const abi = check ? report(violations.filter((v) => v.thread === calls[i]!.thread.tid)) : undefined;
      const errno = this.windowsOf(calls[i]!.thread).errno;
      return host.result(p.plan, readBlock(host.env, p.plan, p.block, instructions[i]!), errno, abi, tls?.[i]);
    });
  }

  /** The thread's windows; its errno window follows `errnoAddress`, which is learnt after the thread starts. */
  private windowsOf(handle: GuestThreadHandle): { mailbox: GuestWindow; errno?: GuestWindow } {
    let windows = this.windows.get(handle);
    if (!windows) this.windows.set(handle, (windows = { mailbox: this.context.calls.window(handle.mailbox, WORKER_MAILBOX.size) }));
    if (handle.errnoAddress && windows.errno?.start !== handle.errnoAddress) windows.errno = this.context.calls.window(handle.errnoAddress, 4);
    else if (!handle.errnoAddress) windows.errno = undefined;
    return windows;
  }

  /** Long-lived guest memory for thread bookkeeping (mailboxes, pthread_t, attributes). */
  private memory(size: number): number {
    const align = 16;
    if (!this.threadRegion || this.threadRegion.used + size > THREAD_REGION_BYTES) {
      const base = this.context.process.space.mapAnywhere(THREAD_REGION_BYTES, PROT_READ | PROT_WRITE, '[shimulator threads]');
      this.threadRegion = { base, used: 0 };
    }
    const address = this.threadRegion.base + this.threadRegion.used;
    this.threadRegion.used += Math.ceil(size / align) * align;
    return address;
  }
}
