/**
 * The Linux system-call layer: amd64 `syscall` and i386 `int $0x80`, one handler per call, shared by both
 * architectures where the semantics agree. It gives the guest exactly what ld.so, libc start-up, malloc, stdio,
 * dlopen and file reading need. Anything else answers -ENOSYS and is recorded in `unimplemented` — the guest sees a
 * proper error, never garbage, and the host never crashes.
 */
import type { Arch } from '../emu/arch.ts';
import type { Engine, RegName } from '../emu/engine.ts';
import { PROT_ALL } from '../emu/engine.ts';
import { EngineError } from '../emu/errors.ts';
import {
  GDT_ENTRY_TLS_ENTRIES, GDT_ENTRY_TLS_MIN, type GlobalDescriptorTable, type SegmentDescriptor, selector, SELECTOR_RPL_USER,
} from '../emu/gdt.ts';
import { type FutexWait, GuestThread, type SleepWait, type ThreadTable } from './threads.ts';
import { type AddressSpace, OutOfAddressSpaceError, PAGE_SIZE, pageUp } from './address-space.ts';
import type { SeededRandom, VirtualClock } from './clock.ts';
import { ERRNO, ErrnoError } from './errno.ts';
import {
  encodeDirent64, encodeStat, encodeStatx, encodeTimespec, encodeUtsname, encodeWords, statOf,
} from './structs.ts';
import { SYSCALL_NAMES } from './syscall-numbers.ts';
import { normalizePath, S_IFIFO, type VfsNode, type VirtualFileSystem } from './vfs.ts';

const SYSCALL_ARG_REGS: Record<Arch, RegName[]> = {
  amd64: ['rdi', 'rsi', 'rdx', 'r10', 'r8', 'r9'],
  i386: ['ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp'],
};
const SYSCALL_NR_REG: Record<Arch, RegName> = { amd64: 'rax', i386: 'eax' };

const AT_FDCWD = -100;
const AT_EMPTY_PATH = 0x1000;
const O_ACCMODE = 3;
const O_WRONLY = 1;
const O_RDWR = 2;
const O_CREAT = 0o100;
const O_DIRECTORY = 0o200000;
const O_CLOEXEC = 0o2000000;
const MAP_FIXED = 0x10;
const MAP_ANONYMOUS = 0x20;
const MAP_FIXED_NOREPLACE = 0x100000;
const ARCH_SET_FS = 0x1002;
const ARCH_GET_FS = 0x1003;
const F_DUPFD = 0;
const F_GETFD = 1;
const F_SETFD = 2;
const F_GETFL = 3;
const F_SETFL = 4;
const F_DUPFD_CLOEXEC = 1030;
const FD_CLOEXEC = 1;
const SEEK_SET = 0;
const SEEK_CUR = 1;
const SEEK_END = 2;
const CLOCK_REALTIME = 0;
const CLOCK_REALTIME_COARSE = 5;
const RLIM_INFINITY = 0xffffffffffffffffn;
const RLIMIT_STACK = 3;
const RLIMIT_NOFILE = 7;
const STACK_RLIMIT = 8 * 1024 * 1024;
const MAX_OPEN_FILES = 1024;
/** The largest single mapping the guest may ask for (the emulator backs guest memory with host memory). */
const MAX_MAPPING_BYTES = 4 * 1024 * 1024 * 1024;
const FUTEX_CMD_MASK = 0x7f;
const FUTEX_WAIT = 0;
const FUTEX_WAKE = 1;
const FUTEX_REQUEUE = 3;
const FUTEX_CMP_REQUEUE = 4;
const FUTEX_WAIT_BITSET = 9;
const FUTEX_WAKE_BITSET = 10;
const FUTEX_CLOCK_REALTIME = 256;
const FUTEX_BITSET_MATCH_ANY = 0xffffffff;
const CLOCK_MONOTONIC = 1;
const TIMER_ABSTIME = 1;
/** clone flags (linux/sched.h). */
const CLONE_VM = 0x100;
const CLONE_SETTLS = 0x80000;
const CLONE_PARENT_SETTID = 0x100000;
const CLONE_CHILD_CLEARTID = 0x200000;
const CLONE_CHILD_SETTID = 0x1000000;
const CLONE_THREAD = 0x10000;
/** `syscall` is 0F 05. */
const SYSCALL_INSTRUCTION_BYTES = 2;
const SIGABRT = 6;
/** prctl options (linux/prctl.h) the guest's libraries use. */
const PR_SET_NAME = 15;
const PR_GET_NAME = 16;
const PR_CAPBSET_READ = 23;
/** CAP_LAST_CAP of Linux 6.1: libcap's constructor probes the bounding set to find it. */
const CAP_LAST_CAP = 40;
const TASK_COMM_LEN = 16;

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;

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


/** An open file description: shared by every descriptor dup()ed from the same open(). */
interface OpenFile {
  node?: VfsNode;
  /** stdout/stderr: where writes go. */
  sink?: number[];
  offset: number;
  flags: number;
}

/** A file descriptor: an open file description plus its own close-on-exec flag. */
interface Descriptor {
  file: OpenFile;
  cloexec: boolean;
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
}

/** Returned by a handler whose calling thread now waits: the scheduler switches; the result comes at wake-up. */
export const BLOCKED: unique symbol = Symbol('blocked');

type Handler = (k: Kernel, a: bigint[]) => number | bigint | typeof BLOCKED;

const s32 = (v: bigint) => Number(BigInt.asIntN(32, v));
const u32 = (v: bigint) => Number(BigInt.asUintN(32, v));
const num = (v: bigint) => Number(v);

export class Kernel {
  readonly arch: Arch;
  readonly stdout: number[] = [];
  readonly stderr: number[] = [];
  /** System calls answered -ENOSYS, with how often. */
  readonly unimplemented = new Map<string, number>();
  readonly records: SyscallRecord[] = [];
  /** Sees every system call as it completes (traces, strace-like views); undefined when nobody listens. */
  observer: ((record: SyscallRecord) => void) | undefined;
  exit: GuestExit | undefined;
  /** The thread's name (prctl PR_SET_NAME); the executable's name at start. */
  threadName = 'shimulator-stub';
  private readonly files = new Map<number, Descriptor>();
  private readonly o: KernelOptions;
  private readonly ptr: 4 | 8;

  constructor(options: KernelOptions) {
    this.o = options;
    this.arch = options.arch;
    this.ptr = options.arch === 'amd64' ? 8 : 4;
    // stdin is an empty pipe; stdout and stderr are pipes the host reads (so stdio buffers them fully).
    const stdio: [number, OpenFile][] = [
      [STDIN, { offset: 0, flags: 0, node: options.vfs.pipe('pipe:[stdin]') }],
      [STDOUT, { offset: 0, flags: O_WRONLY, sink: this.stdout, node: options.vfs.pipe('pipe:[stdout]') }],
      [STDERR, { offset: 0, flags: O_WRONLY, sink: this.stderr, node: options.vfs.pipe('pipe:[stderr]') }],
    ];
    for (const [fd, file] of stdio) this.files.set(fd, { file, cloexec: false });
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
    if (this.exit) return;
    engine.setReg(SYSCALL_NR_REG[this.arch], BigInt.asUintN(this.ptr * 8, result));
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
    if (!this.o.space.isMapped(address, size)) throw new ErrnoError(ERRNO.EFAULT);
    return this.o.engine.read(address, size);
  }

  writeGuest(address: number, bytes: Uint8Array): void {
    if (address === 0 || !this.o.space.isMapped(address, bytes.length)) throw new ErrnoError(ERRNO.EFAULT);
    this.o.engine.write(address, bytes);
  }

  file(fd: number): OpenFile {
    return this.descriptor(fd).file;
  }

  descriptor(fd: number): Descriptor {
    const d = this.files.get(fd);
    if (!d) throw new ErrnoError(ERRNO.EBADF);
    return d;
  }

  /** Installs `file` at the lowest free descriptor ≥ `lowest` (dup'ed descriptors share the description). */
  allocateFd(file: OpenFile, lowest = 0, cloexec = false): number {
    for (let fd = lowest; fd < MAX_OPEN_FILES; fd++) {
      if (!this.files.has(fd)) {
        this.files.set(fd, { file, cloexec });
        return fd;
      }
    }
    throw new ErrnoError(ERRNO.EMFILE);
  }

  closeFd(fd: number): number {
    if (!this.files.delete(fd)) throw new ErrnoError(ERRNO.EBADF);
    return 0;
  }

  resolve(dirfd: number, path: string): VfsNode {
    if (!path.startsWith('/') && dirfd !== AT_FDCWD) {
      const dir = this.file(dirfd).node;
      if (!dir?.isDirectory) throw new ErrnoError(ERRNO.ENOTDIR);
      path = `${dir.path}/${path}`;
    }
    const node = this.o.vfs.lookup(normalizePath(path));
    if (!node) throw new ErrnoError(ERRNO.ENOENT);
    return node;
  }

  open(dirfd: number, path: string, flags: number): number {
    if ((flags & O_CREAT) !== 0 || (flags & O_ACCMODE) === O_WRONLY || (flags & O_ACCMODE) === O_RDWR) {
      // The guest file system is read-only: report it the way Linux does for a read-only mount.
      this.resolveOrNull(dirfd, path) ?? (() => { throw new ErrnoError((flags & O_CREAT) ? ERRNO.EROFS : ERRNO.ENOENT); })();
      throw new ErrnoError(ERRNO.EROFS);
    }
    const node = this.resolve(dirfd, path);
    if ((flags & O_DIRECTORY) !== 0 && !node.isDirectory) throw new ErrnoError(ERRNO.ENOTDIR);
    return this.allocateFd({ node, offset: 0, flags }, 0, (flags & O_CLOEXEC) !== 0);
  }

  private resolveOrNull(dirfd: number, path: string): VfsNode | undefined {
    try {
      return this.resolve(dirfd, path);
    } catch {
      return undefined;
    }
  }

  read(fd: number, address: number, count: number, at?: number): number {
    const f = this.file(fd);
    if (f.sink) throw new ErrnoError(ERRNO.EBADF); // stdout/stderr are write-only
    if (!f.node) return 0;
    if (f.node.isDirectory) throw new ErrnoError(ERRNO.EISDIR);
    const data = f.node.contents();
    const start = at ?? f.offset;
    const chunk = data.subarray(Math.min(start, data.length), Math.min(start + count, data.length));
    this.writeGuest(address, chunk);
    if (at === undefined) f.offset += chunk.length;
    return chunk.length;
  }

  write(fd: number, bytes: Uint8Array): number {
    const f = this.file(fd);
    if (!f.sink) throw new ErrnoError(ERRNO.EBADF); // files are read-only, stdin is not writable
    for (const b of bytes) f.sink.push(b);
    return bytes.length;
  }

  /** Reads an iovec array (readv/writev). */
  iovecs(address: number, count: number): { base: number; length: number }[] {
    const raw = this.readGuest(address, count * this.ptr * 2);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    return Array.from({ length: count }, (_, i) =>
      this.ptr === 8
        ? { base: Number(view.getBigUint64(i * 16, true)), length: Number(view.getBigUint64(i * 16 + 8, true)) }
        : { base: view.getUint32(i * 8, true), length: view.getUint32(i * 8 + 4, true) },
    );
  }

  stat(node: VfsNode): Uint8Array {
    return encodeStat(this.arch, statOf(node, this.o.clock.realtime()));
  }

  statx(node: VfsNode): Uint8Array {
    return encodeStatx(statOf(node, this.o.clock.realtime()));
  }

  statTarget(dirfd: number, path: string, flags: number): VfsNode {
    if (path === '' && (flags & AT_EMPTY_PATH) !== 0) {
      const node = this.file(dirfd).node;
      if (!node) throw new ErrnoError(ERRNO.EBADF);
      return node;
    }
    return this.resolve(dirfd, path);
  }

  mmap(address: number, length: number, prot: number, flags: number, fd: number, offset: number): number {
    if (length === 0) throw new ErrnoError(ERRNO.EINVAL);
    const space = this.o.space;
    // Check the source before touching the address space, so a failed call leaves no mapping behind.
    let data: Uint8Array | undefined;
    let label = '[anon]';
    if ((flags & MAP_ANONYMOUS) === 0) {
      const node = this.file(fd).node;
      if (!node || node.isDirectory || isPipe(node)) throw new ErrnoError(ERRNO.ENODEV);
      data = node.contents();
      label = node.path;
    }
    if (length > MAX_MAPPING_BYTES) throw new ErrnoError(ERRNO.ENOMEM);
    let start: number;
    if ((flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) !== 0) {
      if (address % PAGE_SIZE !== 0) throw new ErrnoError(ERRNO.EINVAL);
      if ((flags & MAP_FIXED_NOREPLACE) !== 0 && space.list().some((r) => r.start < address + length && r.end > address)) {
        throw new ErrnoError(ERRNO.EEXIST);
      }
      // Map writable first so the file bytes can be copied in, then apply the requested protection.
      space.mapFixed(address, length, PROT_ALL, label);
      start = address;
    } else {
      try {
        start = space.mapAnywhere(length, PROT_ALL, label, address);
      } catch (error) {
        // No room in the address space, or the host cannot back the mapping: Linux says ENOMEM.
        if (error instanceof OutOfAddressSpaceError || error instanceof EngineError) throw new ErrnoError(ERRNO.ENOMEM);
        throw error;
      }
    }
    if (data) {
      const end = Math.min(data.length, offset + length);
      if (offset < end) this.o.engine.write(start, data.subarray(offset, end));
    }
    space.protect(start, length, prot);
    return start;
  }

  setThreadArea(address: number): number {
    const gdt = this.o.gdt;
    if (!gdt) throw new ErrnoError(ERRNO.ENOSYS);
    const raw = this.readGuest(address, 16);
    const view = new DataView(raw.buffer, raw.byteOffset, 16);
    let entry = view.getInt32(0, true);
    const base = view.getUint32(4, true);
    const limit = view.getUint32(8, true);
    const bits = view.getUint32(12, true);
    if (entry === -1) {
      entry = -1;
      for (let e = GDT_ENTRY_TLS_MIN; e < GDT_ENTRY_TLS_MIN + GDT_ENTRY_TLS_ENTRIES; e++) {
        if (gdt.isFree(e)) {
          entry = e;
          break;
        }
      }
      if (entry === -1) throw new ErrnoError(ERRNO.ESRCH);
      view.setInt32(0, entry, true);
      this.writeGuest(address, raw);
    }
    if (entry < GDT_ENTRY_TLS_MIN || entry >= GDT_ENTRY_TLS_MIN + GDT_ENTRY_TLS_ENTRIES) throw new ErrnoError(ERRNO.EINVAL);
    // struct user_desc flag bits: seg_32bit, contents(2), read_exec_only, limit_in_pages, seg_not_present, useable
    const descriptor: SegmentDescriptor = {
      base,
      limit,
      is32Bit: (bits & 1) !== 0,
      code: ((bits >> 1) & 3) >= 2,
      pageGranular: (bits & 0x10) !== 0,
      present: (bits & 0x20) === 0,
      dpl: SELECTOR_RPL_USER,
    };
    gdt.set(entry, descriptor);
    this.o.threads.current.tlsDescriptor = { entry, descriptor };
    return 0;
  }

  /** The monotonic virtual time, in nanoseconds. */
  now(): bigint {
    return this.o.clock.monotonicNs();
  }

  /** Blocks the calling thread (futex wait, sleep) until woken or until `deadline` (virtual monotonic ns). */
  block(wait: FutexWait | SleepWait, deadline?: bigint): typeof BLOCKED {
    const t = this.o.threads.current;
    t.state = 'blocked';
    t.wait = wait;
    t.deadline = deadline;
    t.blockedAt = Number(this.o.engine.reg(this.arch === 'amd64' ? 'rip' : 'eip'));
    this.o.engine.stop();
    return BLOCKED;
  }

  /** Gives up the CPU when another thread can run (sched_yield); the call itself returns 0. */
  yield(): number {
    if (this.o.threads.othersRunnable) this.o.engine.stop();
    return 0;
  }

  /** clone for a new thread (the flags glibc's pthread_create uses); returns the child's tid to the parent. */
  clone(flags: number, stack: number, parentTid: number, childTid: number, tls: bigint): number {
    if ((flags & CLONE_VM) === 0 || (flags & CLONE_THREAD) === 0) throw new ErrnoError(ERRNO.ENOSYS); // no fork
    const engine = this.o.engine;
    const threads = this.o.threads;
    const parent = threads.current;
    const child = new GuestThread(threads.allocateTid(), `thread ${threads.threads.length}`);
    const parentState = engine.saveContext();
    // The child: the same registers, 0 from the system call, its own stack and TLS.
    engine.setReg(this.arch === 'amd64' ? 'rax' : 'eax', 0);
    engine.setReg(this.arch === 'amd64' ? 'rsp' : 'esp', stack);
    if ((flags & CLONE_SETTLS) !== 0) {
      if (this.arch === 'amd64') {
        engine.setReg('fs_base', tls);
        child.fsBase = tls;
      } else {
        child.tlsDescriptor = this.readUserDesc(Number(tls));
        this.o.gdt!.set(child.tlsDescriptor.entry, child.tlsDescriptor.descriptor);
        engine.setReg('gs', selector(child.tlsDescriptor.entry, SELECTOR_RPL_USER));
      }
    }
    child.context = engine.saveContext();
    // amd64: Unicorn's syscall hook runs before RIP passes the instruction; the child resumes after it.
    if (this.arch === 'amd64') child.ripAdvance = SYSCALL_INSTRUCTION_BYTES;
    engine.restoreContext(parentState);
    parentState.free();
    if (parent.tlsDescriptor) this.o.gdt!.set(parent.tlsDescriptor.entry, parent.tlsDescriptor.descriptor);
    const tidBytes = encodeWords([child.tid], 4);
    if ((flags & CLONE_PARENT_SETTID) !== 0) this.writeGuest(parentTid, tidBytes);
    if ((flags & CLONE_CHILD_SETTID) !== 0) this.writeGuest(childTid, tidBytes);
    if ((flags & CLONE_CHILD_CLEARTID) !== 0) child.clearChildTid = childTid;
    threads.add(child);
    return child.tid;
  }

  /** The exit of one thread: CLONE_CHILD_CLEARTID wakes its joiner; the last thread's exit ends the process. */
  exitThread(status: number): number {
    const threads = this.o.threads;
    const t = threads.current;
    if (threads.threads.every((other) => other === t || other.state === 'exited')) return this.terminate(status);
    t.state = 'exited';
    if (t.clearChildTid !== 0) {
      this.writeGuest(t.clearChildTid, new Uint8Array(4));
      threads.wake(t.clearChildTid, 1);
    }
    this.o.engine.stop();
    return 0;
  }

  private readUserDesc(address: number): { entry: number; descriptor: SegmentDescriptor } {
    const raw = this.readGuest(address, 16);
    const view = new DataView(raw.buffer, raw.byteOffset, 16);
    const bits = view.getUint32(12, true);
    const entry = view.getInt32(0, true);
    if (entry < GDT_ENTRY_TLS_MIN || entry >= GDT_ENTRY_TLS_MIN + GDT_ENTRY_TLS_ENTRIES) throw new ErrnoError(ERRNO.EINVAL);
    return {
      entry,
      descriptor: {
        base: view.getUint32(4, true),
        limit: view.getUint32(8, true),
        is32Bit: (bits & 1) !== 0,
        code: ((bits >> 1) & 3) >= 2,
        pageGranular: (bits & 0x10) !== 0,
        present: (bits & 0x20) === 0,
        dpl: SELECTOR_RPL_USER,
      },
    };
  }

  terminate(status: number, signal?: number): number {
    const what = signal !== undefined ? `was killed by signal ${signal}${signal === SIGABRT ? ' (SIGABRT: abort() was called)' : ''}` : `called exit(${status})`;
    const stderr = new TextDecoder().decode(Uint8Array.from(this.stderr)).trim();
    this.exit = new GuestExit(`the guest ${what}${stderr ? `; its stderr says: ${stderr}` : ''}`, status, signal);
    this.o.engine.stop();
    return 0;
  }

  getdents(fd: number, address: number, count: number): number {
    const f = this.file(fd);
    if (!f.node?.isDirectory) throw new ErrnoError(ERRNO.ENOTDIR);
    const names = ['.', '..', ...f.node.children()];
    const chunks: Uint8Array[] = [];
    let used = 0;
    while (f.offset < names.length) {
      const name = names[f.offset]!;
      const child = name === '.' || name === '..' ? f.node : this.o.vfs.lookup(`${f.node.path}/${name}`)!;
      const record = encodeDirent64(child.inode, f.offset + 1, name, child.isDirectory);
      if (used + record.length > count) break;
      chunks.push(record);
      used += record.length;
      f.offset++;
    }
    if (chunks.length === 0 && f.offset < names.length) throw new ErrnoError(ERRNO.EINVAL);
    const out = new Uint8Array(used);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    this.writeGuest(address, out);
    return used;
  }

  get options(): KernelOptions {
    return this.o;
  }

  get pointerSize(): 4 | 8 {
    return this.ptr;
  }
}

const S_IFMT = 0o170000;

function isPipe(node: VfsNode): boolean {
  return (node.mode & S_IFMT) === S_IFIFO;
}

function clockGettime(k: Kernel, clock: number, address: number, wordSize: 4 | 8): number {
  const c = k.options.clock;
  const t = clock === CLOCK_REALTIME || clock === CLOCK_REALTIME_COARSE ? c.realtime() : c.monotonic();
  k.writeGuest(address, encodeTimespec(t, wordSize));
  return 0;
}

function rlimit(resource: number): [bigint, bigint] {
  if (resource === RLIMIT_STACK) return [BigInt(STACK_RLIMIT), RLIM_INFINITY];
  if (resource === RLIMIT_NOFILE) return [BigInt(MAX_OPEN_FILES), BigInt(MAX_OPEN_FILES)];
  return [RLIM_INFINITY, RLIM_INFINITY];
}

function lseek(k: Kernel, fd: number, offset: number, whence: number): number {
  const f = k.file(fd);
  if (!f.node || isPipe(f.node)) throw new ErrnoError(ERRNO.ESPIPE);
  const base = whence === SEEK_SET ? 0 : whence === SEEK_CUR ? f.offset : whence === SEEK_END ? f.node.size : NaN;
  if (Number.isNaN(base) || base + offset < 0) throw new ErrnoError(ERRNO.EINVAL);
  f.offset = base + offset;
  return f.offset;
}

function fcntl(k: Kernel, fd: number, cmd: number, arg: number): number {
  const d = k.descriptor(fd);
  switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
      return k.allocateFd(d.file, arg, cmd === F_DUPFD_CLOEXEC);
    case F_GETFD:
      return d.cloexec ? FD_CLOEXEC : 0;
    case F_SETFD:
      d.cloexec = (arg & FD_CLOEXEC) !== 0;
      return 0;
    case F_GETFL:
      return d.file.flags;
    case F_SETFL:
      return 0;
    default:
      throw new ErrnoError(ERRNO.EINVAL);
  }
}

/** futex(2): the operations glibc's mutexes, condition variables, joins and once use. */
function futex(k: Kernel, a: bigint[], timespecWord: 4 | 8): number | typeof BLOCKED {
  const address = num(a[0]!);
  const op = s32(a[1]!);
  const value = u32(a[2]!);
  const cmd = op & FUTEX_CMD_MASK;
  const threads = k.threads;
  const word = () => new DataView(k.readGuest(address, 4).buffer).getUint32(0, true);
  switch (cmd) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
      const bitset = cmd === FUTEX_WAIT_BITSET ? u32(a[5]!) : FUTEX_BITSET_MATCH_ANY;
      if (bitset === 0) throw new ErrnoError(ERRNO.EINVAL);
      if (word() !== value) throw new ErrnoError(ERRNO.EAGAIN);
      let deadline: bigint | undefined;
      if (a[3]! !== 0n) {
        const t = readTimespec(k, num(a[3]!), timespecWord);
        // FUTEX_WAIT: a relative timeout; FUTEX_WAIT_BITSET: an absolute time on CLOCK_MONOTONIC or CLOCK_REALTIME.
        deadline = cmd === FUTEX_WAIT ? k.now() + t : (op & FUTEX_CLOCK_REALTIME) !== 0 ? t - k.options.clock.bootEpochNs() : t;
      }
      return k.block({ kind: 'futex', address, bitset }, deadline);
    }
    case FUTEX_WAKE:
      return threads.wake(address, value);
    case FUTEX_WAKE_BITSET:
      return threads.wake(address, value, u32(a[5]!));
    case FUTEX_CMP_REQUEUE:
      if (word() !== u32(a[5]!)) throw new ErrnoError(ERRNO.EAGAIN);
    // fall through
    case FUTEX_REQUEUE: {
      const woken = threads.wake(address, value);
      return woken + threads.requeue(address, num(a[4]!), u32(a[3]!));
    }
    default:
      throw new ErrnoError(ERRNO.ENOSYS);
  }
}

/** A timespec in virtual nanoseconds. */
function readTimespec(k: Kernel, address: number, wordSize: 4 | 8): bigint {
  const raw = k.readGuest(address, wordSize * 2);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const seconds = wordSize === 8 ? view.getBigInt64(0, true) : BigInt(view.getInt32(0, true));
  const nanoseconds = wordSize === 8 ? view.getBigInt64(8, true) : BigInt(view.getInt32(4, true));
  if (seconds < 0n || nanoseconds < 0n || nanoseconds >= 1_000_000_000n) throw new ErrnoError(ERRNO.EINVAL);
  return seconds * 1_000_000_000n + nanoseconds;
}

/** nanosleep / clock_nanosleep on the virtual clock. */
function sleep(k: Kernel, clock: number, flags: number, request: number, wordSize: 4 | 8): number | typeof BLOCKED {
  const t = readTimespec(k, request, wordSize);
  const absolute = (flags & TIMER_ABSTIME) !== 0;
  const deadline = absolute ? (clock === CLOCK_REALTIME ? t - k.options.clock.bootEpochNs() : t) : k.now() + t;
  if (deadline <= k.now()) return 0;
  return k.block({ kind: 'sleep' }, deadline);
}

function stdinOrFile(k: Kernel, a: bigint[], wordSize: 4 | 8, offsetArg: bigint): number {
  return k.read(s32(a[0]!), num(a[1]!), num(a[2]!), Number(wordSize === 8 ? offsetArg : BigInt.asIntN(64, offsetArg)));
}

/** Handlers by system-call name (names from the kernel's syscall tables; some exist on one architecture only). */
const HANDLERS: Record<string, Handler> = {
  read: (k, a) => k.read(s32(a[0]!), num(a[1]!), num(a[2]!)),
  pread64: (k, a) =>
    k.arch === 'amd64'
      ? stdinOrFile(k, a, 8, a[3]!)
      : k.read(s32(a[0]!), num(a[1]!), num(a[2]!), u32(a[3]!) + u32(a[4]!) * 2 ** 32),
  write: (k, a) => k.write(s32(a[0]!), k.readGuest(num(a[1]!), num(a[2]!))),
  readv: (k, a) => {
    let total = 0;
    for (const v of k.iovecs(num(a[1]!), num(a[2]!))) {
      const n = k.read(s32(a[0]!), v.base, v.length);
      total += n;
      if (n < v.length) break;
    }
    return total;
  },
  writev: (k, a) => {
    let total = 0;
    for (const v of k.iovecs(num(a[1]!), num(a[2]!))) total += k.write(s32(a[0]!), k.readGuest(v.base, v.length));
    return total;
  },
  open: (k, a) => k.open(AT_FDCWD, k.readString(num(a[0]!)), s32(a[1]!)),
  openat: (k, a) => k.open(s32(a[0]!), k.readString(num(a[1]!)), s32(a[2]!)),
  close: (k, a) => k.closeFd(s32(a[0]!)),
  lseek: (k, a) => lseek(k, s32(a[0]!), k.arch === 'amd64' ? Number(BigInt.asIntN(64, a[1]!)) : s32(a[1]!), s32(a[2]!)),
  _llseek: (k, a) => {
    const position = lseek(k, s32(a[0]!), u32(a[1]!) * 2 ** 32 + u32(a[2]!), s32(a[4]!));
    k.writeGuest(num(a[3]!), encodeWords([BigInt(position)], 8));
    return 0;
  },
  fstat: (k, a) => (k.writeGuest(num(a[1]!), k.stat(k.statTarget(s32(a[0]!), '', AT_EMPTY_PATH))), 0),
  fstat64: (k, a) => (k.writeGuest(num(a[1]!), k.stat(k.statTarget(s32(a[0]!), '', AT_EMPTY_PATH))), 0),
  stat: (k, a) => (k.writeGuest(num(a[1]!), k.stat(k.resolve(AT_FDCWD, k.readString(num(a[0]!))))), 0),
  lstat: (k, a) => (k.writeGuest(num(a[1]!), k.stat(k.resolve(AT_FDCWD, k.readString(num(a[0]!))))), 0),
  stat64: (k, a) => (k.writeGuest(num(a[1]!), k.stat(k.resolve(AT_FDCWD, k.readString(num(a[0]!))))), 0),
  lstat64: (k, a) => (k.writeGuest(num(a[1]!), k.stat(k.resolve(AT_FDCWD, k.readString(num(a[0]!))))), 0),
  newfstatat: (k, a) => (k.writeGuest(num(a[2]!), k.stat(k.statTarget(s32(a[0]!), k.readString(num(a[1]!)), s32(a[3]!)))), 0),
  fstatat64: (k, a) => (k.writeGuest(num(a[2]!), k.stat(k.statTarget(s32(a[0]!), k.readString(num(a[1]!)), s32(a[3]!)))), 0),
  statx: (k, a) => (k.writeGuest(num(a[4]!), k.statx(k.statTarget(s32(a[0]!), k.readString(num(a[1]!)), s32(a[2]!)))), 0),
  access: (k, a) => (k.resolve(AT_FDCWD, k.readString(num(a[0]!))), 0),
  faccessat: (k, a) => (k.resolve(s32(a[0]!), k.readString(num(a[1]!))), 0),
  faccessat2: (k, a) => (k.resolve(s32(a[0]!), k.readString(num(a[1]!))), 0),
  readlink: (k, a) => readlink(k, k.readString(num(a[0]!)), num(a[1]!), num(a[2]!)),
  readlinkat: (k, a) => readlink(k, k.readString(num(a[1]!)), num(a[2]!), num(a[3]!)),
  getcwd: (k, a) => {
    if (num(a[1]!) < 2) throw new ErrnoError(ERRNO.ERANGE);
    k.writeGuest(num(a[0]!), Uint8Array.from([0x2f, 0]));
    return 2;
  },
  getdents64: (k, a) => k.getdents(s32(a[0]!), num(a[1]!), num(a[2]!)),
  ioctl: (k, a) => {
    k.file(s32(a[0]!));
    throw new ErrnoError(ERRNO.ENOTTY); // no terminals: stdio buffers fully, deterministically
  },
  fcntl: (k, a) => fcntl(k, s32(a[0]!), s32(a[1]!), s32(a[2]!)),
  fcntl64: (k, a) => fcntl(k, s32(a[0]!), s32(a[1]!), s32(a[2]!)),
  dup: (k, a) => k.allocateFd(k.file(s32(a[0]!))),
  dup2: (k, a) => dup3(k, s32(a[0]!), s32(a[1]!)),
  dup3: (k, a) => dup3(k, s32(a[0]!), s32(a[1]!), (s32(a[2]!) & O_CLOEXEC) !== 0),
  mmap: (k, a) =>
    k.arch === 'amd64'
      ? k.mmap(num(a[0]!), num(a[1]!), s32(a[2]!), s32(a[3]!), s32(a[4]!), num(a[5]!))
      : k.mmap(num(a[0]!), num(a[1]!), s32(a[2]!), s32(a[3]!), s32(a[4]!), 0), // old_mmap: not used by glibc
  mmap2: (k, a) => k.mmap(num(a[0]!), num(a[1]!), s32(a[2]!), s32(a[3]!), s32(a[4]!), num(a[5]!) * PAGE_SIZE),
  munmap: (k, a) => {
    if (num(a[0]!) % PAGE_SIZE !== 0) throw new ErrnoError(ERRNO.EINVAL);
    k.options.space.unmap(num(a[0]!), num(a[1]!));
    return 0;
  },
  mprotect: (k, a) => {
    if (num(a[0]!) % PAGE_SIZE !== 0) throw new ErrnoError(ERRNO.EINVAL);
    if (!k.options.space.protect(num(a[0]!), pageUp(num(a[1]!)), s32(a[2]!))) throw new ErrnoError(ERRNO.ENOMEM);
    return 0;
  },
  madvise: () => 0,
  brk: (k, a) => k.options.space.brk(num(a[0]!)),
  arch_prctl: (k, a) => {
    const code = s32(a[0]!);
    if (code === ARCH_SET_FS) return k.engine.setReg('fs_base', a[1]!), 0;
    if (code === ARCH_GET_FS) return k.writeGuest(num(a[1]!), encodeWords([k.engine.reg('fs_base')], 8)), 0;
    throw new ErrnoError(ERRNO.EINVAL);
  },
  set_thread_area: (k, a) => k.setThreadArea(num(a[0]!)),
  set_tid_address: (k, a) => ((k.threads.current.clearChildTid = num(a[0]!)), k.tid),
  set_robust_list: () => 0,
  rt_sigaction: (k, a) => {
    if (a[2]! !== 0n) k.writeGuest(num(a[2]!), new Uint8Array(k.pointerSize === 8 ? 32 : 20));
    return 0;
  },
  rt_sigprocmask: (k, a) => {
    if (a[2]! !== 0n) k.writeGuest(num(a[2]!), new Uint8Array(8));
    return 0;
  },
  sigaltstack: () => 0,
  getpid: (k) => k.options.pid,
  getppid: () => 1,
  gettid: (k) => k.tid,
  getuid: () => 0, geteuid: () => 0, getgid: () => 0, getegid: () => 0,
  getuid32: () => 0, geteuid32: () => 0, getgid32: () => 0, getegid32: () => 0,
  uname: (k, a) => {
    const machine = k.arch === 'amd64' ? 'x86_64' : 'i686';
    k.writeGuest(num(a[0]!), encodeUtsname(['Linux', 'shimulator', '6.1.0-shimulator', '#1 SMP', machine, '(none)']));
    return 0;
  },
  prlimit64: (k, a) => {
    if (a[3]! !== 0n) k.writeGuest(num(a[3]!), encodeWords(rlimit(s32(a[1]!)), 8));
    return 0;
  },
  getrlimit: (k, a) => (k.writeGuest(num(a[1]!), encodeWords(rlimit(s32(a[0]!)), k.pointerSize)), 0),
  ugetrlimit: (k, a) => (k.writeGuest(num(a[1]!), encodeWords(rlimit(s32(a[0]!)), 4)), 0),
  clock_gettime: (k, a) => clockGettime(k, s32(a[0]!), num(a[1]!), k.pointerSize),
  clock_gettime64: (k, a) => clockGettime(k, s32(a[0]!), num(a[1]!), 8),
  clock_getres: (k, a) => (a[1]! !== 0n && k.writeGuest(num(a[1]!), encodeTimespec({ seconds: 0n, nanoseconds: 1n }, k.pointerSize)), 0),
  clock_getres_time64: (k, a) => (a[1]! !== 0n && k.writeGuest(num(a[1]!), encodeTimespec({ seconds: 0n, nanoseconds: 1n }, 8)), 0),
  gettimeofday: (k, a) => {
    const t = k.options.clock.realtime();
    if (a[0]! !== 0n) k.writeGuest(num(a[0]!), encodeWords([t.seconds, t.nanoseconds / 1000n], k.pointerSize));
    return 0;
  },
  time: (k, a) => {
    const seconds = k.options.clock.realtime().seconds;
    if (a[0]! !== 0n) k.writeGuest(num(a[0]!), encodeWords([seconds], k.pointerSize));
    return seconds;
  },
  getrandom: (k, a) => (k.writeGuest(num(a[0]!), k.options.random.bytes(num(a[1]!))), num(a[1]!)),
  sched_getaffinity: (k, a) => {
    const size = Math.min(num(a[1]!), 128);
    const mask = new Uint8Array(size);
    mask[0] = 1; // one CPU
    k.writeGuest(num(a[2]!), mask);
    return size;
  },
  sched_yield: (k) => k.yield(),
  futex: (k, a) => futex(k, a, k.pointerSize),
  futex_time64: (k, a) => futex(k, a, 8),
  nanosleep: (k, a) => sleep(k, CLOCK_MONOTONIC, 0, num(a[0]!), k.pointerSize),
  clock_nanosleep: (k, a) => sleep(k, s32(a[0]!), s32(a[1]!), num(a[2]!), k.pointerSize),
  clock_nanosleep_time64: (k, a) => sleep(k, s32(a[0]!), s32(a[1]!), num(a[2]!), 8),
  clone: (k, a) =>
    k.arch === 'amd64'
      ? k.clone(u32(a[0]!), num(a[1]!), num(a[2]!), num(a[3]!), a[4]!) // flags, stack, parent_tid, child_tid, tls
      : k.clone(u32(a[0]!), num(a[1]!), num(a[2]!), num(a[4]!), a[3]!), // flags, stack, parent_tid, tls, child_tid
  exit: (k, a) => k.exitThread(s32(a[0]!)),
  exit_group: (k, a) => k.terminate(s32(a[0]!)),
  tgkill: (k, a) => k.terminate(128 + s32(a[2]!), s32(a[2]!)),
  kill: (k, a) => (s32(a[1]!) === 0 ? 0 : k.terminate(128 + s32(a[1]!), s32(a[1]!))),
  prctl: (k, a) => {
    switch (s32(a[0]!)) {
      case PR_CAPBSET_READ:
        if (s32(a[1]!) < 0 || s32(a[1]!) > CAP_LAST_CAP) throw new ErrnoError(ERRNO.EINVAL);
        return 1; // every capability is in the bounding set, as for root
      case PR_SET_NAME:
        k.threadName = k.readString(num(a[1]!), TASK_COMM_LEN).slice(0, TASK_COMM_LEN - 1);
        return 0;
      case PR_GET_NAME: {
        const name = new Uint8Array(TASK_COMM_LEN);
        name.set(new TextEncoder().encode(k.threadName).subarray(0, TASK_COMM_LEN - 1));
        k.writeGuest(num(a[1]!), name);
        return 0;
      }
      default:
        throw new ErrnoError(ERRNO.EINVAL);
    }
  },
  // The guest has no network: sockets are refused by policy, the way a sandbox would (not "unimplemented").
  socket: () => {
    throw new ErrnoError(ERRNO.EACCES);
  },
  socketcall: () => {
    throw new ErrnoError(ERRNO.EACCES);
  },
  rseq: () => {
    throw new ErrnoError(ERRNO.ENOSYS); // glibc works without restartable sequences
  },
  clone3: () => {
    throw new ErrnoError(ERRNO.ENOSYS); // glibc falls back to clone
  },
};

function readlink(k: Kernel, path: string, address: number, size: number): number {
  if (normalizePath(path) !== '/proc/self/exe') throw new ErrnoError(k.options.vfs.lookup(path) ? ERRNO.EINVAL : ERRNO.ENOENT);
  const bytes = new TextEncoder().encode(k.options.exePath).subarray(0, size);
  k.writeGuest(address, bytes);
  return bytes.length;
}

function dup3(k: Kernel, oldfd: number, newfd: number, cloexec = false): number {
  const f = k.file(oldfd);
  if (oldfd === newfd) return newfd;
  if (newfd < 0 || newfd >= MAX_OPEN_FILES) throw new ErrnoError(ERRNO.EBADF);
  try {
    k.closeFd(newfd);
  } catch {
    // not open: fine
  }
  return k.allocateFd(f, newfd, cloexec);
}

/** The names of the system calls this layer implements (for documentation and tests). */
export const IMPLEMENTED_SYSCALLS: readonly string[] = Object.keys(HANDLERS).sort();
