/**
 * A process's whole state as plain data: memory (memory.ts), the CPU of every thread, and the kernel — threads and
 * scheduler, signals, file descriptors, /tmp, the virtual clock, the random generator, counters — plus the
 * engine-side state that decides what the guest sees (patched timestamp reads). Plain data, so that one state can
 * be applied to the process it came from (restore), to a fresh one (fork) or written to disk (image.ts).
 *
 * Open pipes, eventfds and epoll instances are not carried: a snapshot of a process holding one is refused with a
 * SnapshotUnsupportedError (between host calls a process normally holds none).
 */
import type { Arch } from '../emu/arch.ts';
import type { SavedContext, TimestampPatchRecord } from '../emu/engine.ts';
import type { SegmentDescriptor } from '../emu/gdt.ts';
import { CapturedOutput, type KernelMiscState } from '../kernel/kernel.ts';
import type { OpenFile } from '../kernel/fd-table.ts';
import type { AltStack } from '../kernel/signals/frame.ts';
import type { SigSet } from '../kernel/signals/numbers.ts';
import type { SigInfo } from '../kernel/signals/siginfo.ts';
import type { SignalAction } from '../kernel/signals/state.ts';
import { type FutexWait, GuestThread, type SleepWait, type SyscallRestart, type ThreadState, type ThreadTableState } from '../kernel/threads.ts';
import type { TmpNodeState } from '../kernel/tmpfs.ts';
import type { Process } from '../loader/process.ts';
import { SnapshotMismatchError, SnapshotUnsupportedError } from './errors.ts';
import { captureMemory, indexPages, type MemoryState, type PageRun, restoreMemory } from './memory.ts';

export interface ThreadSnapshot {
  tid: number;
  name: string;
  state: ThreadState;
  wait: FutexWait | SleepWait | undefined;
  restart: SyscallRestart | undefined;
  restarting: boolean;
  deadline: bigint | undefined;
  pendingResult: bigint | undefined;
  clearChildTid: number;
  fsBase: bigint;
  tlsDescriptor: { entry: number; descriptor: SegmentDescriptor } | undefined;
  instructions: number;
  blockedAt: number;
  restartNr: number | undefined;
  ripAdvance: number;
  /** The saved CPU context of a thread that is not on the CPU. */
  context: Uint8Array | undefined;
  signals: {
    blocked: SigSet; pending: SigInfo[]; altstack: AltStack; suspendMask: SigSet | undefined; sigreturn: 'rt' | 'legacy' | undefined;
    interruptedNr: number | undefined;
  };
}

/** An open file description: one of the standard streams, a read-only file, or a file in /tmp. */
export interface DescriptionSnapshot {
  kind: 'stdio' | 'file' | 'tmp';
  /** stdio: 0, 1, 2; otherwise the guest path. */
  name: number | string;
  offset: number;
  flags: number;
  refs: number | undefined;
}

export interface ProcessSnapshot {
  arch: Arch;
  instructions: number;
  bootInstructions: number;
  /** The CPU as the current thread left it. */
  cpu: Uint8Array;
  memory: MemoryState;
  timestampPatches: TimestampPatchRecord[];
  /** Whether the engine reports exact fault addresses (turned on by a SIGSEGV/SIGBUS handler, never off). */
  preciseFaults: boolean;
  clockIdle: bigint;
  random: bigint;
  nextInode: number;
  tmp: TmpNodeState[];
  threads: ThreadSnapshot[];
  currentTid: number;
  scheduler: ThreadTableState;
  signalActions: SignalAction[];
  sharedPending: SigInfo[];
  descriptions: DescriptionSnapshot[];
  /** [fd, index into descriptions, close-on-exec]. */
  descriptors: [number, number, boolean][];
  kernel: KernelMiscState;
  /** What the default sinks captured (undefined for sinks the host gave: they cannot be rewound). */
  stdout: { bytes: Uint8Array; length: number } | undefined;
  stderr: { bytes: Uint8Array; length: number } | undefined;
}

export function captureProcess(p: Process): ProcessSnapshot {
  const k = p.kernel;
  const ending = k.exit ?? k.failure;
  if (ending) throw new SnapshotUnsupportedError(`the guest process has ended (${ending.message}): reset() the machine before taking a snapshot`);
  const engine = p.engine;
  const cpu = engine.saveContext();
  try {
    return {
      arch: p.arch,
      instructions: p.instructions,
      bootInstructions: p.bootInstructions,
      cpu: engine.exportContext(cpu),
      memory: captureMemory(p.space),
      timestampPatches: engine.timestampPatchList(),
      preciseFaults: engine.preciseFaultsEnabled,
      clockIdle: p.clock.idleNs,
      random: k.options.random.stateValue,
      nextInode: p.vfs.inodeCounter,
      tmp: k.tmp.state(),
      threads: p.threads.threads.map((t) => captureThread(p, t)),
      currentTid: p.threads.current.tid,
      scheduler: p.threads.state(),
      signalActions: k.signals.process.actions.map((a) => ({ ...a })),
      sharedPending: k.signals.process.shared.state(),
      ...captureFiles(p),
      kernel: k.miscState(),
      stdout: k.stdout instanceof CapturedOutput ? k.stdout.state() : undefined,
      stderr: k.stderr instanceof CapturedOutput ? k.stderr.state() : undefined,
    };
  } finally {
    cpu.free();
  }
}

function captureThread(p: Process, t: GuestThread): ThreadSnapshot {
  if (t.wait?.kind === 'fd') {
    throw new SnapshotUnsupportedError(`thread ${t.tid} is waiting on a pipe, eventfd or epoll instance: snapshots cannot carry those; take the snapshot when no thread waits on one`);
  }
  const s = p.kernel.signals.of(t);
  return {
    tid: t.tid, name: t.name, state: t.state, wait: t.wait && { ...t.wait }, restart: t.restart && { ...t.restart },
    restarting: t.restarting, deadline: t.deadline, pendingResult: t.pendingResult, clearChildTid: t.clearChildTid,
    fsBase: t.fsBase, tlsDescriptor: t.tlsDescriptor && { entry: t.tlsDescriptor.entry, descriptor: { ...t.tlsDescriptor.descriptor } },
    instructions: t.instructions, blockedAt: t.blockedAt, restartNr: t.restartNr, ripAdvance: t.ripAdvance,
    context: t !== p.threads.current && t.context && t.state !== 'exited' ? p.engine.exportContext(t.context) : undefined,
    signals: {
      blocked: s.blocked, pending: s.pending.state(), altstack: { ...s.altstack }, suspendMask: s.suspendMask, sigreturn: s.sigreturn,
      interruptedNr: s.interruptedNr,
    },
  };
}

function captureFiles(p: Process): Pick<ProcessSnapshot, 'descriptions' | 'descriptors'> {
  const k = p.kernel;
  const index = new Map<OpenFile, number>();
  const descriptions: DescriptionSnapshot[] = [];
  const descriptors: [number, number, boolean][] = [];
  for (const [fd, d] of k.files.entries()) {
    let i = index.get(d.file);
    if (i === undefined) {
      i = descriptions.length;
      index.set(d.file, i);
      descriptions.push(describeFile(p, fd, d.file));
    }
    descriptors.push([fd, i, d.cloexec]);
  }
  return { descriptions, descriptors };
}

function describeFile(p: Process, fd: number, file: OpenFile): DescriptionSnapshot {
  const k = p.kernel;
  const common = { offset: file.offset, flags: file.flags, refs: file.refs };
  const stream = k.stdio.indexOf(file);
  if (stream >= 0) return { kind: 'stdio', name: stream, ...common };
  const node = file.node;
  if (!file.ops && node) {
    if (k.tmp.lookup(node.path) === node) return { kind: 'tmp', name: node.path, ...common };
    if (p.vfs.lookup(node.path) === node) return { kind: 'file', name: node.path, ...common };
  }
  throw new SnapshotUnsupportedError(
    `fd ${fd} (${node?.path ?? 'anonymous'}) is a pipe, eventfd, epoll instance or deleted file: snapshots carry regular files, /tmp files and the standard streams; close it before taking one`,
  );
}

/** A snapshot prepared for repeated restores (the page index is built once). */
export interface PreparedSnapshot {
  state: ProcessSnapshot;
  pages: Map<number, PageRun>;
}

export function prepare(state: ProcessSnapshot): PreparedSnapshot {
  return { state, pages: indexPages(state.memory) };
}

/** Puts `p` into the snapshot's state: the process it was taken from, or a fresh one of the same boot options. */
export function applyProcess(p: Process, prepared: PreparedSnapshot): void {
  const { state } = prepared;
  if (state.arch !== p.arch) throw new SnapshotMismatchError(`a snapshot of an ${state.arch} machine cannot be restored into an ${p.arch} one`);
  const k = p.kernel;
  const engine = p.engine;
  const changed = restoreMemory(p.space, engine, state.memory, prepared.pages);
  engine.restoreCodeState(state.timestampPatches, changed);
  p.instructions = state.instructions;
  p.bootInstructions = state.bootInstructions;
  p.clock.idleNs = state.clockIdle;
  k.options.random.stateValue = state.random;
  p.vfs.inodeCounter = state.nextInode;
  k.tmp.restoreState(state.tmp);
  // Thread objects are kept by tid: handles the host holds (startThread) stay valid.
  const existing = new Map(p.threads.threads.map((t) => [t.tid, t]));
  const threads = state.threads.map((s) => {
    const t = existing.get(s.tid) ?? new GuestThread(s.tid, s.name);
    existing.delete(s.tid);
    restoreThread(p, t, s);
    return t;
  });
  for (const gone of existing.values()) gone.context?.free();
  p.threads.restoreState(state.scheduler, threads, threads.find((t) => t.tid === state.currentTid)!);
  k.signals.restoreActions(state.signalActions);
  if (state.preciseFaults) engine.enablePreciseFaults();
  else engine.disablePreciseFaults();
  k.signals.process.shared.restoreState(state.sharedPending);
  restoreFiles(p, state);
  k.restoreMisc(state.kernel);
  k.exit = undefined;
  k.failure = undefined;
  if (state.stdout && k.stdout instanceof CapturedOutput) k.stdout.restoreState(state.stdout);
  if (state.stderr && k.stderr instanceof CapturedOutput) k.stderr.restoreState(state.stderr);
  const cpu = engine.importContext(state.cpu);
  engine.restoreContext(cpu);
  cpu.free();
}

function restoreThread(p: Process, t: GuestThread, s: ThreadSnapshot): void {
  t.context?.free();
  Object.assign(t, {
    name: s.name, state: s.state, wait: s.wait && { ...s.wait }, restart: s.restart && { ...s.restart }, restarting: s.restarting,
    deadline: s.deadline, pendingResult: s.pendingResult, clearChildTid: s.clearChildTid, fsBase: s.fsBase,
    tlsDescriptor: s.tlsDescriptor && { entry: s.tlsDescriptor.entry, descriptor: { ...s.tlsDescriptor.descriptor } },
    instructions: s.instructions, blockedAt: s.blockedAt, restartNr: s.restartNr, ripAdvance: s.ripAdvance,
    context: s.context ? p.engine.importContext(s.context) : undefined,
  });
  const signals = p.kernel.signals.of(t);
  signals.blocked = s.signals.blocked;
  signals.pending.restoreState(s.signals.pending);
  signals.altstack = { ...s.signals.altstack };
  signals.suspendMask = s.signals.suspendMask;
  signals.sigreturn = s.signals.sigreturn;
  signals.interruptedNr = s.signals.interruptedNr;
}

function restoreFiles(p: Process, state: ProcessSnapshot): void {
  const k = p.kernel;
  const files: OpenFile[] = state.descriptions.map((d) => {
    const file: OpenFile = d.kind === 'stdio'
      ? k.stdio[d.name as number]!
      : { node: d.kind === 'tmp' ? k.tmp.lookup(d.name as string) : p.vfs.lookup(d.name as string), offset: 0, flags: 0 };
    if (!file.node && d.kind !== 'stdio') throw new SnapshotMismatchError(`the snapshot's open file ${d.name} is not in this machine's file system`);
    return Object.assign(file, { offset: d.offset, flags: d.flags, refs: d.refs });
  });
  k.files.restoreEntries(state.descriptors.map(([fd, i, cloexec]) => [fd, { file: files[i]!, cloexec }]));
}
