/**
 * The Linux system-call layer: amd64 `syscall` and i386 `int $0x80`, one handler per call, shared by both
 * architectures where the semantics agree, grouped by subsystem in `syscalls/` (files, memory, tasks, time,
 * signals, identity). Anything unhandled answers -ENOSYS and is recorded in `unimplemented` — the guest sees a proper
 * error, never garbage, and the host never crashes.
 */
import type { Arch } from '../emu/arch.ts';
import type { Engine, RegName } from '../emu/engine.ts';
import type { GlobalDescriptorTable } from '../emu/gdt.ts';
import type { SyscallRestart, ThreadTable, ThreadWait } from './threads.ts';
import { type AddressSpace, PAGE_SIZE } from './address-space.ts';
import type { SeededRandom, VirtualClock } from './clock.ts';
import { ERRNO, ErrnoError } from './errno.ts';
import { FileTable, type OpenFile, STDERR, STDIN, STDOUT } from './fd-table.ts';
import { CapturedOutput, DEFAULT_OUTPUT_LIMIT, OutputLimitError, type OutputSink } from './output.ts';
import { Pipe, pipeReader } from './pipe.ts';
import { DEFAULT_TMP_LIMIT, TmpFs } from './tmpfs.ts';
import { BLOCKED, type SyscallTable } from './syscall.ts';
import { SYSCALL_NAMES } from './syscall-numbers.ts';
import { restartsWithSaRestart } from './signals/restart.ts';
import { FILE_SYSCALLS, outputOps } from './syscalls/files.ts';
import { POLLING_SYSCALLS } from './syscalls/polling.ts';
import { IDENTITY_SYSCALLS } from './syscalls/identity.ts';
import { MEMORY_SYSCALLS } from './syscalls/memory.ts';
import { Signals } from './signals/delivery.ts';
import { SIGABRT, SIGNAL_SYSCALLS } from './syscalls/signals.ts';
import { TASK_SYSCALLS } from './syscalls/tasks.ts';
import { TIME_SYSCALLS } from './syscalls/time.ts';
import type { VirtualFileSystem } from './vfs.ts';

export { BLOCKED } from './syscall.ts';
export { STDERR, STDIN, STDOUT } from './fd-table.ts';
export { CapturedOutput, OutputLimitError, type OutputSink } from './output.ts';

const SYSCALL_ARG_REGS: Record<Arch, RegName[]> = {
  amd64: ['rdi', 'rsi', 'rdx', 'r10', 'r8', 'r9'],
  i386: ['ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp'],
};
const SYSCALL_NR_REG: Record<Arch, RegName> = { amd64: 'rax', i386: 'eax' };
const O_WRONLY = 1;
/** How much of stderr a GuestExit message quotes. */
const STDERR_TAIL_BYTES = 4096;

/** The guest ended the process (exit_group, or a fatal signal it sent itself, like abort()). */
export class GuestExit extends Error {
  override name = 'GuestExit';
  constructor(
    message: string,
    readonly status: number,
    readonly signal?: number,
  ) {
    super(message);
  }
}

/** See Kernel.miscState. */
export interface KernelMiscState {
  outputBytes: number;
  unimplemented: [string, number][];
  records: SyscallRecord[];
  syscallCounts: [string, number][];
  threadName: string;
  cwd: string;
  stderrTail: Uint8Array;
  nr: number;
}

export interface SyscallRecord {
  nr: number;
  name: string;
  args: bigint[];
  result: bigint;
}

export interface KernelOptions {
  arch: Arch;
  engine: Engine;
  vfs: VirtualFileSystem;
  space: AddressSpace;
  clock: VirtualClock;
  random: SeededRandom;
  /** i386 only: where set_thread_area installs TLS descriptors. */
  gdt?: GlobalDescriptorTable;
  pid: number;
  exePath: string;
  /** Keep a record of every system call (strace-like). */
  record?: boolean;
  /** Where diagnostics go (unimplemented system calls); the Process sets it from SHIMULATOR_DEBUG. */
  log?: (message: string) => void;
  /** The process's threads and scheduler state. */
  threads: ThreadTable;
  /** Where the guest's stdout and stderr go as it writes them (default: a bounded in-memory CapturedOutput each). */
  stdout?: OutputSink;
  stderr?: OutputSink;
  /** Total bytes the guest may write to stdout and stderr; beyond it the run ends with OutputLimitError (64 MiB). */
  outputLimit?: number;
  /** Size limit of the writable in-memory /tmp, in bytes (256 MiB); beyond it writes fail with ENOSPC. */
  tmpLimit?: number;
  /**
   * Whether the run's wall-clock deadline has passed: checked after every system call (which can be host work
   * the instruction count does not see), it stops the engine so that the scheduler ends the run.
   */
  overdue?: () => boolean;
}

/** Every system call this layer implements, by name. */
const HANDLERS: SyscallTable = {
  ...FILE_SYSCALLS,
  ...POLLING_SYSCALLS,
  ...MEMORY_SYSCALLS,
  ...TASK_SYSCALLS,
  ...TIME_SYSCALLS,
  ...SIGNAL_SYSCALLS,
  ...IDENTITY_SYSCALLS,
};

export class Kernel {
  readonly arch: Arch;
  /** Where the guest's stdout and stderr go (CapturedOutput unless the host gave its own sinks). */
  readonly stdout: OutputSink;
  readonly stderr: OutputSink;
  /** Bytes written to stdout and stderr together. */
  outputBytes = 0;
  /** The writable in-memory /tmp. */
  readonly tmp: TmpFs;
  /** A host-side limit the guest ran into (OutputLimitError): the run stops and throws it, like `exit`. */
  failure: Error | undefined;
  /** During a restarted system call: what its first attempt carried over (deadline, progress). */
  resumed: SyscallRestart | undefined;
  /** System calls answered -ENOSYS, with how often. */
  readonly unimplemented = new Map<string, number>();
  readonly records: SyscallRecord[] = [];
  /** How often each system call was made (whole-program reports). */
  readonly syscallCounts = new Map<string, number>();
  /** Sees every system call as it completes (traces, strace-like views); undefined when nobody listens. */
  observer: ((record: SyscallRecord) => void) | undefined;
  exit: GuestExit | undefined;
  /** The thread's name (prctl PR_SET_NAME); the executable's name at start. */
  threadName = 'shimulator-stub';
  /** The working directory (chdir), an absolute normalised path. */
  cwd = '/';
  /** The process's file descriptors. */
  readonly files = new FileTable();
  /** Signal actions, per-thread masks, pending signals and alternate stacks; delivery (see signals/delivery.ts). */
  readonly signals: Signals;
  private readonly o: KernelOptions;
  private readonly ptr: 4 | 8;
  private readonly generations = new WeakMap<object, number>();
  private stderrTail = new Uint8Array(0);
  private nr = 0;

  constructor(options: KernelOptions) {
    this.o = options;
    this.arch = options.arch;
    this.ptr = options.arch === 'amd64' ? 8 : 4;
    this.stdout = options.stdout ?? new CapturedOutput();
    this.stderr = options.stderr ?? new CapturedOutput();
    this.tmp = new TmpFs('/tmp', options.tmpLimit ?? DEFAULT_TMP_LIMIT, () => options.vfs.allocateInode(), () => options.clock.realtime());
    options.vfs.mount('/tmp', this.tmp);
    this.files.onRelease = (file) => file.ops?.release?.(this);
    // stdin is an empty pipe at end of file (no writer); stdout and stderr are pipes the host reads (so stdio
    // buffers them fully).
    const stdin = new Pipe();
    stdin.writers = 0;
    this.signals = new Signals(this);
    const stdio: [number, OpenFile][] = [
      [STDIN, { offset: 0, flags: 0, ops: pipeReader(stdin), node: options.vfs.pipe('pipe:[stdin]') }],
      [STDOUT, { offset: 0, flags: O_WRONLY, ops: outputOps((bytes) => this.output('stdout', bytes)), node: options.vfs.pipe('pipe:[stdout]') }],
      [STDERR, { offset: 0, flags: O_WRONLY, ops: outputOps((bytes) => this.output('stderr', bytes)), node: options.vfs.pipe('pipe:[stderr]') }],
    ];
    for (const [fd, file] of stdio) this.files.install(fd, file);
    this.stdio = stdio.map(([, file]) => file);
  }

  /** The standard streams' descriptions as the kernel made them (snapshots name them instead of copying them). */
  readonly stdio: readonly OpenFile[];

  /** The bookkeeping a snapshot carries besides files, threads and signals. */
  miscState(): KernelMiscState {
    return {
      outputBytes: this.outputBytes,
      unimplemented: [...this.unimplemented],
      records: this.records.map((r) => ({ ...r, args: [...r.args] })),
      syscallCounts: [...this.syscallCounts],
      threadName: this.threadName,
      cwd: this.cwd,
      stderrTail: this.stderrTail.slice(),
      nr: this.nr,
    };
  }

  restoreMisc(state: KernelMiscState): void {
    this.outputBytes = state.outputBytes;
    this.unimplemented.clear();
    for (const [name, count] of state.unimplemented) this.unimplemented.set(name, count);
    this.records.splice(0, this.records.length, ...state.records.map((r) => ({ ...r, args: [...r.args] })));
    this.syscallCounts.clear();
    for (const [name, count] of state.syscallCounts) this.syscallCounts.set(name, count);
    this.threadName = state.threadName;
    this.cwd = state.cwd;
    this.stderrTail = state.stderrTail.slice();
    this.nr = state.nr;
    this.resumed = undefined;
  }

  /** Passes guest output to its sink, within the output limit (beyond it the run stops with OutputLimitError). */
  private output(stream: 'stdout' | 'stderr', bytes: Uint8Array): number {
    const limit = this.o.outputLimit ?? DEFAULT_OUTPUT_LIMIT;
    if (this.outputBytes + bytes.length > limit) {
      this.failure = new OutputLimitError(limit);
      this.o.engine.stop();
      return 0;
    }
    this.outputBytes += bytes.length;
    if (stream === 'stderr') {
      const tail = new Uint8Array(Math.min(STDERR_TAIL_BYTES, this.stderrTail.length + bytes.length));
      const fromNew = Math.min(bytes.length, tail.length);
      tail.set(this.stderrTail.subarray(this.stderrTail.length - (tail.length - fromNew)), 0);
      tail.set(bytes.subarray(bytes.length - fromNew), tail.length - fromNew);
      this.stderrTail = tail;
    }
    this[stream].write(bytes);
    return bytes.length;
  }

  get threads(): ThreadTable {
    return this.o.threads;
  }

  /** The calling thread's id. */
  get tid(): number {
    return this.o.threads.current.tid;
  }

  get engine(): Engine {
    return this.o.engine;
  }

  /** Handles the system call the guest just made: reads number and arguments, writes the result register. */
  handleSyscall(): void {
    const engine = this.o.engine;
    const nr = Number(engine.reg(SYSCALL_NR_REG[this.arch]) & 0xffffffffn);
    const args = SYSCALL_ARG_REGS[this.arch].map((r) => engine.reg(r));
    const name = SYSCALL_NAMES[this.arch][nr] ?? `syscall_${nr}`;
    const handler = HANDLERS[name];
    this.syscallCounts.set(name, (this.syscallCounts.get(name) ?? 0) + 1);
    const thread = this.o.threads.current;
    this.resumed = thread.restart;
    thread.restart = undefined;
    this.nr = nr;
    let result: bigint;
    if (!handler) {
      this.unimplemented.set(name, (this.unimplemented.get(name) ?? 0) + 1);
      this.o.log?.(`unimplemented system call ${name} (${this.arch} #${nr}) answered -ENOSYS`);
      result = BigInt(-ERRNO.ENOSYS);
    } else {
      try {
        const value = handler(this, args);
        if (value === BLOCKED) {
          // The thread sleeps; whoever wakes it sets the result. The scheduler runs another thread meanwhile.
          if (this.o.record || this.observer) {
            const record = { nr, name, args, result: BigInt(-ERRNO.EINTR) };
            this.observer?.(record);
          }
          return;
        }
        result = BigInt(value);
      } catch (error) {
        if (!(error instanceof ErrnoError)) throw error;
        result = BigInt(-error.errno);
      }
    }
    if (this.o.record || this.observer) {
      const record = { nr, name, args, result };
      if (this.o.record) this.records.push(record);
      this.observer?.(record);
    }
    if (this.exit || this.failure) return;
    engine.setReg(SYSCALL_NR_REG[this.arch], BigInt.asUintN(this.ptr * 8, result));
    if (this.o.overdue?.()) engine.stop();
  }

  // ---- helpers used by the handlers ----

  readString(address: number, max = 4096): string {
    if (address === 0) throw new ErrnoError(ERRNO.EFAULT);
    const bytes: number[] = [];
    const chunk = 256;
    for (let at = address; bytes.length < max; at += chunk) {
      const block = this.readGuest(at, Math.min(chunk, PAGE_SIZE - (at % PAGE_SIZE)));
      const nul = block.indexOf(0);
      if (nul >= 0) {
        bytes.push(...block.subarray(0, nul));
        return new TextDecoder().decode(Uint8Array.from(bytes));
      }
      bytes.push(...block);
      at -= chunk - block.length;
    }
    throw new ErrnoError(ERRNO.ENAMETOOLONG);
  }

  readGuest(address: number, size: number): Uint8Array {
    if (!this.o.space.isAccessible(address, size)) throw new ErrnoError(ERRNO.EFAULT);
    return this.o.engine.read(address, size);
  }

  writeGuest(address: number, bytes: Uint8Array): void {
    if (address === 0 || !this.o.space.isAccessible(address, bytes.length)) throw new ErrnoError(ERRNO.EFAULT);
    this.o.engine.write(address, bytes);
  }

  /** The monotonic virtual time, in nanoseconds. */
  now(): bigint {
    return this.o.clock.monotonicNs();
  }

  /**
   * Blocks the calling thread until one of `channels` is notified — then its system call runs again from the
   * start (with `resumed` carrying `deadline` and `progress`) — or until `deadline`, when it returns `progress`.
   */
  waitFor(channels: readonly object[], deadline?: bigint, progress = 0): typeof BLOCKED {
    this.o.threads.current.restart = { nr: this.nr, deadline, progress };
    return this.block({ kind: 'fd', channels }, deadline);
  }

  /** Something about `channel` changed (data, room, a closed end): threads waiting on it retry their calls. */
  notify(channel: object): void {
    this.generations.set(channel, this.generation(channel) + 1);
    this.o.threads.notify(channel);
  }

  /** How often `channel` was notified (edge-triggered epoll reports once per change). */
  generation(channel: object): number {
    return this.generations.get(channel) ?? 0;
  }

  /** Blocks the calling thread (futex wait, sleep) until woken or until `deadline` (virtual monotonic ns). */
  block(wait: ThreadWait, deadline?: bigint): typeof BLOCKED {
    const t = this.o.threads.current;
    t.state = 'blocked';
    t.wait = wait;
    t.deadline = deadline;
    t.blockedAt = this.o.engine.pc();
    t.restartNr = restartsWithSaRestart(SYSCALL_NAMES[this.arch][this.nr] ?? '', deadline !== undefined) ? this.nr : undefined;
    this.o.engine.stop();
    return BLOCKED;
  }

  /** Gives up the CPU when another thread can run (sched_yield); the call itself returns 0. */
  yield(): number {
    if (this.o.threads.othersRunnable) this.o.engine.stop();
    return 0;
  }

  terminate(status: number, signal?: number): number {
    const what = signal !== undefined ? `was killed by signal ${signal}${signal === SIGABRT ? ' (SIGABRT: abort() was called)' : ''}` : `called exit(${status})`;
    const stderr = new TextDecoder().decode(this.stderrTail).trim();
    this.exit = new GuestExit(`the guest ${what}${stderr ? `; its stderr says: ${stderr}` : ''}`, status, signal);
    this.o.engine.stop();
    return 0;
  }

  get options(): KernelOptions {
    return this.o;
  }

  get pointerSize(): 4 | 8 {
    return this.ptr;
  }
}

/** The names of the system calls this layer implements (for documentation and tests). */
export const IMPLEMENTED_SYSCALLS: readonly string[] = Object.keys(HANDLERS).sort();
