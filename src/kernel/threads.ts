/**
 * Guest threads and their deterministic scheduler. One Unicorn CPU runs every thread: each thread keeps a saved
 * CPU context, and the scheduler switches between them round robin — after a fixed instruction quantum, or when
 * the running thread blocks (futex, nanosleep, join), yields or exits. The interleaving therefore depends only on
 * the guest's instructions, never on the host: every run schedules the same way, and `schedule` hashes it.
 *
 * Thread-local storage follows Linux: amd64 threads have their own fs base; i386 threads their own TLS descriptor
 * in GDT entry 12, rewritten on every switch (as Linux reloads the TLS entries per task).
 */
import { createHash } from 'node:crypto';
import type { Arch } from '../emu/arch.ts';
import type { Engine, RegName, SavedContext } from '../emu/engine.ts';
import type { SegmentDescriptor } from '../emu/gdt.ts';

/**
 * - running: on the CPU; runnable: waiting for its turn;
 * - blocked: in a futex wait or sleep (may have a deadline);
 * - host: waiting for the host — the main thread between host calls, a fakecgo-style worker parked for work;
 * - exited.
 */
export type ThreadState = 'running' | 'runnable' | 'blocked' | 'host' | 'exited';

export interface FutexWait {
  kind: 'futex';
  address: number;
  bitset: number;
}

export interface SleepWait {
  kind: 'sleep';
}

/**
 * Waiting for files to become ready (a read on an empty pipe, epoll_wait with nothing ready). `kernel.notify`
 * wakes the thread and its system call is restarted, so the handler runs again and sees the new state.
 */
export interface FdWait {
  kind: 'fd';
  /** The channels (pipes, eventfds, epoll instances) whose notification wakes the thread. */
  channels: readonly object[];
}

export type ThreadWait = FutexWait | SleepWait | FdWait;

/** A system call to restart when the thread resumes (Linux's -ERESTARTSYS): its number and what it carried over. */
export interface SyscallRestart {
  nr: number;
  /** The absolute deadline of the first attempt (a restarted epoll_wait does not start its timeout over). */
  deadline?: bigint;
  /** Bytes already moved (a blocking pipe write that filled the pipe) — the restarted call continues from there. */
  progress: number;
}

export class GuestThread {
  state: ThreadState = 'runnable';
  context: SavedContext | undefined;
  wait: ThreadWait | undefined;
  /** Set while the thread waits in a restartable system call; `restarting` once it was woken to run it again. */
  restart: SyscallRestart | undefined;
  restarting = false;
  /** Virtual nanoseconds (monotonic clock) at which a timed wait ends. */
  deadline: bigint | undefined;
  /** The value the blocked system call returns when the thread resumes (set by whoever wakes it). */
  pendingResult: bigint | undefined;
  /** CLONE_CHILD_CLEARTID / set_tid_address: zeroed and futex-woken when the thread exits. */
  clearChildTid = 0;
  /** amd64: fs base; i386: the TLS descriptor the thread's gs selector refers to. */
  fsBase = 0n;
  tlsDescriptor: { entry: number; descriptor: SegmentDescriptor } | undefined;
  /** Guest instructions this thread executed. */
  instructions = 0;
  /** Where the thread was when it blocked (for deadlock reports). */
  blockedAt = 0;
  /**
   * The system call it waits in, when a signal handler with SA_RESTART makes it run again (Linux's -ERESTARTSYS:
   * see signals/restart.ts); undefined when an interruption is EINTR whatever the handler's flags.
   */
  restartNr: number | undefined;
  /** Bytes to move the program counter on first resume (a clone child saved before its syscall completed). */
  ripAdvance = 0;
  name: string;

  constructor(
    readonly tid: number,
    name: string,
  ) {
    this.name = name;
  }
}

export class GuestDeadlockError extends Error {
  override name = 'GuestDeadlockError';
  constructor(
    message: string,
    readonly threads: { tid: number; name: string; state: ThreadState; wait: string; pc: string }[],
  ) {
    super(message);
  }
}

/** `syscall` (0F 05) and `int $0x80` (CD 80). */
export const SYSCALL_INSTRUCTION_BYTES = 2;

/** Instructions a thread runs before the scheduler switches (when another thread is runnable). */
export const QUANTUM = 10_000;

/** Characters of slice records hashed together (see ThreadTable.recordSlice). */
const SLICE_FOLD_CHARS = 4096;

export interface ThreadTableState {
  nextTid: number;
  pendingSlices: string;
  foldedSlices: string;
  sliceCount: number;
}

export class ThreadTable {
  readonly threads: GuestThread[] = [];
  current: GuestThread;
  private nextTid: number;
  /**
   * (tid, instructions) per slice, hashed into `scheduleHash`: slices not yet hashed, and the hash of those before
   * them (folded at a fixed size, so the hash depends only on the slices; and plain data a snapshot can carry).
   */
  private pendingSlices = '';
  private foldedSlices = '';
  private sliceCount = 0;

  constructor(
    private readonly arch: Arch,
    private readonly engine: Engine,
    mainTid: number,
    /** Writes a TLS descriptor into the GDT (i386). */
    private readonly installTls: (entry: number, descriptor: SegmentDescriptor) => void,
  ) {
    this.current = new GuestThread(mainTid, 'main');
    this.current.state = 'running';
    this.threads.push(this.current);
    this.nextTid = mainTid + 1;
  }

  allocateTid(): number {
    return this.nextTid++;
  }

  add(thread: GuestThread): void {
    this.threads.push(thread);
  }

  byTid(tid: number): GuestThread | undefined {
    return this.threads.find((t) => t.tid === tid);
  }

  /** Threads that could run now (other than the current one). */
  get othersRunnable(): boolean {
    for (const t of this.threads) if (t !== this.current && t.state === 'runnable') return true; // per run: no closure
    return false;
  }

  /** Records a slice of execution for the schedule hash. */
  recordSlice(thread: GuestThread, instructions: number): void {
    if (instructions === 0) return;
    thread.instructions += instructions;
    this.pendingSlices += `${thread.tid}:${instructions};`;
    this.sliceCount++;
    if (this.pendingSlices.length >= SLICE_FOLD_CHARS) {
      this.foldedSlices = createHash('sha256').update(this.foldedSlices).update(this.pendingSlices).digest('hex');
      this.pendingSlices = '';
    }
  }

  /** A hash of the interleaving so far: identical runs give identical hashes. */
  scheduleHash(): string {
    return `${this.sliceCount}:${createHash('sha256').update(this.foldedSlices).update(this.pendingSlices).digest('hex').slice(0, 16)}`;
  }

  /** The scheduler's counters and hash state (snapshots). */
  state(): ThreadTableState {
    return { nextTid: this.nextTid, pendingSlices: this.pendingSlices, foldedSlices: this.foldedSlices, sliceCount: this.sliceCount };
  }

  /** Puts back the scheduler's state and its threads (`current` among them). */
  restoreState(state: ThreadTableState, threads: GuestThread[], current: GuestThread): void {
    Object.assign(this, state);
    this.threads.splice(0, this.threads.length, ...threads);
    this.current = current;
  }

  /** The next runnable thread after the current one, round robin in creation order. */
  next(): GuestThread | undefined {
    const start = this.threads.indexOf(this.current);
    for (let i = 1; i <= this.threads.length; i++) {
      const t = this.threads[(start + i) % this.threads.length]!;
      if (t.state === 'runnable') return t;
    }
    return undefined;
  }

  /** Saves the current thread's CPU state and puts `next` on the CPU. */
  switchTo(next: GuestThread): void {
    const previous = this.current;
    if (next !== previous) {
      if (previous.state !== 'exited') {
        previous.context?.free();
        previous.context = this.engine.saveContext();
        if (previous.state === 'running') previous.state = 'runnable';
      }
      this.current = next;
      if (next.tlsDescriptor) this.installTls(next.tlsDescriptor.entry, next.tlsDescriptor.descriptor);
      if (next.context) this.engine.restoreContext(next.context);
    }
    // Also when the thread that waited is the one on the CPU (it was alone): its wait's result is still due.
    next.state = 'running';
    if (next.ripAdvance) {
      const pc: RegName = this.arch === 'amd64' ? 'rip' : 'eip';
      this.engine.setReg(pc, this.engine.reg(pc) + BigInt(next.ripAdvance));
      next.ripAdvance = 0;
    }
    if (next.restarting) {
      // Run the system call instruction again (`syscall` and `int $0x80` are both 2 bytes): the pc is past it.
      const pc: RegName = this.arch === 'amd64' ? 'rip' : 'eip';
      this.engine.setReg(pc, this.engine.reg(pc) - BigInt(SYSCALL_INSTRUCTION_BYTES));
      this.engine.setReg((this.arch === 'amd64' ? 'rax' : 'eax') as RegName, BigInt(next.restart!.nr));
      next.restarting = false;
    }
    if (next.pendingResult !== undefined) {
      this.engine.setReg((this.arch === 'amd64' ? 'rax' : 'eax') as RegName, BigInt.asUintN(64, next.pendingResult));
      next.pendingResult = undefined;
    }
  }

  /** Wakes up to `count` threads waiting on a futex word whose bitset intersects `bitset`; returns how many. */
  wake(address: number, count: number, bitset = 0xffffffff): number {
    let woken = 0;
    for (const t of this.threads) {
      if (woken >= count) break;
      if (t.state === 'blocked' && t.wait?.kind === 'futex' && t.wait.address === address && (t.wait.bitset & bitset) !== 0) {
        this.resume(t, 0n);
        woken++;
      }
    }
    return woken;
  }

  /** Moves up to `count` waiters from one futex word to another (FUTEX_REQUEUE); returns how many. */
  requeue(from: number, to: number, count: number): number {
    let moved = 0;
    for (const t of this.threads) {
      if (moved >= count) break;
      if (t.state === 'blocked' && t.wait?.kind === 'futex' && t.wait.address === from) {
        t.wait = { ...t.wait, address: to };
        moved++;
      }
    }
    return moved;
  }

  resume(thread: GuestThread, result: bigint): void {
    thread.state = 'runnable';
    thread.wait = undefined;
    thread.deadline = undefined;
    thread.pendingResult = result;
    thread.restart = undefined;
  }

  /** Wakes every thread waiting on `channel`, in creation order; each restarts its system call. */
  notify(channel: object): void {
    for (const t of this.threads) {
      if (t.state === 'blocked' && t.wait?.kind === 'fd' && t.wait.channels.includes(channel)) {
        t.state = 'runnable';
        t.wait = undefined;
        t.deadline = undefined;
        t.restarting = true;
      }
    }
  }

  /** The earliest deadline among timed waits, if any. */
  earliestDeadline(): bigint | undefined {
    let earliest: bigint | undefined;
    for (const t of this.threads) {
      if (t.state === 'blocked' && t.deadline !== undefined && (earliest === undefined || t.deadline < earliest)) earliest = t.deadline;
    }
    return earliest;
  }

  /** Wakes every timed wait whose deadline has passed: futex waits time out, sleeps complete. */
  expire(now: bigint, timedOut: bigint): void {
    for (const t of this.threads) {
      if (t.state === 'blocked' && t.deadline !== undefined && t.deadline <= now) {
        // A timed-out file wait (poll, epoll_wait) returns what it moved so far: 0 events.
        const result = t.wait?.kind === 'futex' ? timedOut : BigInt(t.restart?.progress ?? 0);
        this.resume(t, result);
      }
    }
  }

  describe(): GuestDeadlockError['threads'] {
    return this.threads.map((t) => ({
      tid: t.tid,
      name: t.name,
      state: t.state,
      wait: t.wait?.kind === 'futex' ? `futex 0x${t.wait.address.toString(16)}` : t.wait?.kind === 'fd' ? 'a file (pipe, eventfd or epoll)' : t.wait?.kind ?? '',
      pc: `0x${t.blockedAt.toString(16)}`,
    }));
  }
}
