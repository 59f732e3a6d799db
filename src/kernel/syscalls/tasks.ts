/**
 * Threads: clone (the flags glibc's pthread_create and Go's newosproc use), thread exit, futex, and each thread's
 * TLS (amd64 arch_prctl fs base; i386 set_thread_area GDT descriptors).
 */
import {
  GDT_ENTRY_TLS_ENTRIES, GDT_ENTRY_TLS_MIN, type SegmentDescriptor, selector, SELECTOR_RPL_USER,
} from '../../emu/gdt.ts';
import { ERRNO, ErrnoError } from '../errno.ts';
import type { Kernel } from '../kernel.ts';
import { encodeWords } from '../structs.ts';
import { BLOCKED, num, s32, type SyscallTable, u32 } from '../syscall.ts';
import { GuestThread } from '../threads.ts';
import { readTimespec } from './time.ts';

const ARCH_SET_FS = 0x1002;
const ARCH_GET_FS = 0x1003;
const FUTEX_CMD_MASK = 0x7f;
const FUTEX_WAIT = 0;
const FUTEX_WAKE = 1;
const FUTEX_REQUEUE = 3;
const FUTEX_CMP_REQUEUE = 4;
const FUTEX_WAIT_BITSET = 9;
const FUTEX_WAKE_BITSET = 10;
const FUTEX_CLOCK_REALTIME = 256;
const FUTEX_BITSET_MATCH_ANY = 0xffffffff;
/** clone flags (linux/sched.h). */
const CLONE_VM = 0x100;
const CLONE_SETTLS = 0x80000;
const CLONE_PARENT_SETTID = 0x100000;
const CLONE_CHILD_CLEARTID = 0x200000;
const CLONE_CHILD_SETTID = 0x1000000;
const CLONE_THREAD = 0x10000;
/** `syscall` is 0F 05. */
const SYSCALL_INSTRUCTION_BYTES = 2;

/** struct user_desc (set_thread_area, clone's i386 TLS argument) as a GDT descriptor. */
function readUserDesc(k: Kernel, address: number): { entry: number; descriptor: SegmentDescriptor; raw: Uint8Array } {
  const raw = k.readGuest(address, 16);
  const view = new DataView(raw.buffer, raw.byteOffset, 16);
  const bits = view.getUint32(12, true);
  // flag bits: seg_32bit, contents(2), read_exec_only, limit_in_pages, seg_not_present, useable
  return {
    entry: view.getInt32(0, true),
    raw,
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

function isTlsEntry(entry: number): boolean {
  return entry >= GDT_ENTRY_TLS_MIN && entry < GDT_ENTRY_TLS_MIN + GDT_ENTRY_TLS_ENTRIES;
}

function setThreadArea(k: Kernel, address: number): number {
  const gdt = k.options.gdt;
  if (!gdt) throw new ErrnoError(ERRNO.ENOSYS);
  const desc = readUserDesc(k, address);
  let entry = desc.entry;
  if (entry === -1) {
    // The kernel picks a free TLS entry and tells the caller which.
    entry = Array.from({ length: GDT_ENTRY_TLS_ENTRIES }, (_, i) => GDT_ENTRY_TLS_MIN + i).find((e) => gdt.isFree(e)) ?? -1;
    if (entry === -1) throw new ErrnoError(ERRNO.ESRCH);
    new DataView(desc.raw.buffer, desc.raw.byteOffset, 16).setInt32(0, entry, true);
    k.writeGuest(address, desc.raw);
  }
  if (!isTlsEntry(entry)) throw new ErrnoError(ERRNO.EINVAL);
  gdt.set(entry, desc.descriptor);
  k.threads.current.tlsDescriptor = { entry, descriptor: desc.descriptor };
  return 0;
}

/** clone for a new thread; returns the child's tid to the parent. */
function clone(k: Kernel, flags: number, stack: number, parentTid: number, childTid: number, tls: bigint): number {
  if ((flags & CLONE_VM) === 0 || (flags & CLONE_THREAD) === 0) throw new ErrnoError(ERRNO.ENOSYS); // no fork
  const engine = k.engine;
  const threads = k.threads;
  const parent = threads.current;
  const child = new GuestThread(threads.allocateTid(), `thread ${threads.threads.length}`);
  const parentState = engine.saveContext();
  // The child: the same registers, 0 from the system call, its own stack and TLS.
  engine.setReg(k.arch === 'amd64' ? 'rax' : 'eax', 0);
  if (stack !== 0) engine.setReg(k.arch === 'amd64' ? 'rsp' : 'esp', stack);
  if ((flags & CLONE_SETTLS) !== 0) {
    if (k.arch === 'amd64') {
      engine.setReg('fs_base', tls);
      child.fsBase = tls;
    } else {
      const desc = readUserDesc(k, Number(tls));
      if (!isTlsEntry(desc.entry)) throw new ErrnoError(ERRNO.EINVAL);
      child.tlsDescriptor = { entry: desc.entry, descriptor: desc.descriptor };
      k.options.gdt!.set(desc.entry, desc.descriptor);
      engine.setReg('gs', selector(desc.entry, SELECTOR_RPL_USER));
    }
  } else {
    child.tlsDescriptor = parent.tlsDescriptor;
  }
  child.context = engine.saveContext();
  // amd64: Unicorn's syscall hook runs before RIP passes the instruction; the child resumes after it.
  if (k.arch === 'amd64') child.ripAdvance = SYSCALL_INSTRUCTION_BYTES;
  engine.restoreContext(parentState);
  parentState.free();
  if (parent.tlsDescriptor) k.options.gdt!.set(parent.tlsDescriptor.entry, parent.tlsDescriptor.descriptor);
  const tidBytes = encodeWords([child.tid], 4);
  if ((flags & CLONE_PARENT_SETTID) !== 0) k.writeGuest(parentTid, tidBytes);
  if ((flags & CLONE_CHILD_SETTID) !== 0) k.writeGuest(childTid, tidBytes);
  if ((flags & CLONE_CHILD_CLEARTID) !== 0) child.clearChildTid = childTid;
  k.signals.onClone(parent, child);
  threads.add(child);
  return child.tid;
}

/** The exit of one thread: CLONE_CHILD_CLEARTID wakes its joiner; the last thread's exit ends the process. */
function exitThread(k: Kernel, status: number): number {
  const threads = k.threads;
  const t = threads.current;
  if (threads.threads.every((other) => other === t || other.state === 'exited')) return k.terminate(status);
  t.state = 'exited';
  if (t.clearChildTid !== 0) {
    try {
      k.writeGuest(t.clearChildTid, new Uint8Array(4));
    } catch {
      // Linux ignores a fault here too (the thread is gone either way).
    }
    threads.wake(t.clearChildTid, 1);
  }
  k.engine.stop();
  return 0;
}

/** futex(2): the operations glibc's mutexes, condition variables, joins and once, and Go's runtime use. */
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

export const TASK_SYSCALLS: SyscallTable = {
  arch_prctl: (k, a) => {
    const code = s32(a[0]!);
    if (code === ARCH_SET_FS) {
      k.engine.setReg('fs_base', a[1]!);
      k.threads.current.fsBase = a[1]!;
      return 0;
    }
    if (code === ARCH_GET_FS) return k.writeGuest(num(a[1]!), encodeWords([k.engine.reg('fs_base')], 8)), 0;
    throw new ErrnoError(ERRNO.EINVAL);
  },
  set_thread_area: (k, a) => setThreadArea(k, num(a[0]!)),
  set_tid_address: (k, a) => ((k.threads.current.clearChildTid = num(a[0]!)), k.tid),
  set_robust_list: () => 0,
  gettid: (k) => k.tid,
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
  clone: (k, a) =>
    k.arch === 'amd64'
      ? clone(k, u32(a[0]!), num(a[1]!), num(a[2]!), num(a[3]!), a[4]!) // flags, stack, parent_tid, child_tid, tls
      : clone(k, u32(a[0]!), num(a[1]!), num(a[2]!), num(a[4]!), a[3]!), // flags, stack, parent_tid, tls, child_tid
  clone3: () => {
    throw new ErrnoError(ERRNO.ENOSYS); // glibc falls back to clone
  },
  exit: (k, a) => exitThread(k, s32(a[0]!)),
  exit_group: (k, a) => k.terminate(s32(a[0]!)),
};
