/**
 * How a machine's process comes to be: BootOptions turned into a booted process (ld.so, libc, the host's libraries)
 * or into the restored state of a boot image, the call CPU captured from it, and the host's memory in it for calls
 * (argument arena, code arena, x87 slot, trampoline mailbox); then the host's layers wired to it (`bootProcess`:
 * symbols, callbacks, the ABI checker, host calls, started threads). `startCached` uses the boot image cache
 * (src/snapshot/image-cache.ts) when it holds the boot.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Arch } from '../emu/arch.ts';
import type { CountingChoice } from '../emu/block-counter.ts';
import { PROT_EXEC, PROT_READ, PROT_WRITE, type SavedContext } from '../emu/engine.ts';
import type { OutputSink } from '../kernel/output.ts';
import { CodeArena, GuestArena } from '../callspec/arena.ts';
import { saveCallCpu } from '../callspec/call.ts';
import { CallbackRegistry } from '../callspec/callback.ts';
import { GuestThreads } from '../callspec/guest-threads.ts';
import { type CallResult, HostCaller } from '../callspec/host-call.ts';
import type { Declarations } from '../callspec/parse.ts';
import type { PlanCache } from '../callspec/plan.ts';
import type { Prototype } from '../callspec/types.ts';
import { lookupPrototype } from '../catalog/catalog.ts';
import { AbiChecker } from '../check/checker.ts';
import type { PrintfHostCheck } from '../check/printf-host-check.ts';
import type { TlsLayout } from '../check/tls-watch.ts';
import { activeRecording } from '../trace/recorder.ts';
import { type DirectAccess, GuestWindow } from '../callspec/guest-window.ts';
import { MAILBOX_BYTES } from '../callspec/trampoline.ts';
import { HOST_ARENA_BYTES, type HostValue } from '../callspec/values.ts';
import { cacheForBoot, type CacheOption } from '../snapshot/image-cache.ts';
import type { MachineSnapshot } from '../snapshot/machine-snapshot.ts';
import { applyProcess } from '../snapshot/process-state.ts';
import { findFixture } from './fixtures.ts';
import { DEFAULT_CALL_TIMEOUT_SECONDS } from './limits.ts';
import { Process } from './process.ts';
import { SymbolTable } from './symbols.ts';

const ARENA_BYTES = HOST_ARENA_BYTES;
/** Room for an x87 result: st0 at 0 and, for a _Complex long double (COMPLEX_X87), st1 at 16. */
const X87_SLOT_BYTES = 32;
/** Space left above the call frame: main's frame and the 128-byte red zone below the boot stack pointer. */
const STACK_MARGIN = 1024;

export interface BootOptions {
  arch?: Arch;
  /** Libraries to load: a bundled soname (`libpcap.so.0.8`) or a path to a host shared object of the same arch. */
  libs?: string[];
  /** C declarations (structs, typedefs) for prototypes. */
  decls?: string;
  /** Seed for the guest's random bytes (AT_RANDOM, getrandom). */
  seed?: number;
  bootBudget?: number;
  /** Default instruction budget per call. */
  callBudget?: number;
  /**
   * Host wall-clock seconds one call may take (default DEFAULT_CALL_TIMEOUT_SECONDS, 600); beyond it the call ends
   * with WallTimeoutError (the machine stays usable, as after a BudgetExceededError; `reset()` for a clean one).
   * The boot and the loading of `libs` have the default.
   */
  callTimeoutSeconds?: number;
  /** Record every system call in `machine.process.kernel.records`. */
  recordSyscalls?: boolean;
  /** Extra read-only files for the guest, by guest path (e.g. a capture file for pcap_open_offline). */
  files?: Record<string, Uint8Array>;
  /** Check every call against the ABI (results gain `abi`); see `machine.checking`. */
  check?: boolean;
  /** Record which thread-local words each call reads and writes (results gain `tls`); slows calls down. */
  watchTls?: boolean;
  /** Most bytes of accessible guest mappings (default 4 GiB amd64, 3 GiB i386); beyond it mmap answers ENOMEM. */
  memoryLimit?: number;
  /** Most engine regions the guest's mappings may need (see ProcessOptions.maxEngineRegions). */
  maxEngineRegions?: number;
  /** Where the guest's stdout / stderr go as it writes (default: kept in memory for `stdout`/`takeOutput`). */
  stdout?: OutputSink;
  stderr?: OutputSink;
  /** Total bytes the guest may write to stdout and stderr (default 64 MiB); beyond it: OutputLimitError. */
  outputLimit?: number;
  /** Size limit of the guest's writable in-memory /tmp (default 256 MiB); beyond it: ENOSPC. */
  tmpLimit?: number;
  /** How instructions are counted (default 'auto': natively when the helper is built; the counts are the same). */
  counting?: CountingChoice;
  /**
   * The boot image cache (src/snapshot/image-cache.ts): by default booted machines are kept in
   * `$XDG_CACHE_HOME/shimulator` (else `~/.cache/shimulator`) and later boots restore them; `{ dir }` puts them
   * elsewhere, `false` always boots afresh.
   */
  cache?: CacheOption;
}

export class UnknownLibraryError extends Error {
  override name = 'UnknownLibraryError';
}

/** A started process and the host's call set-up in it. */
export interface StartedProcess {
  process: Process;
  /** The CPU captured after boot (flags, FPU, segment bases) with the stack pointer at a host call's entry. */
  callCpu: SavedContext;
  stackTop: number;
  arena: GuestArena;
  code: CodeArena;
  /** Where callback stubs find an x87 return value. */
  x87Slot: number;
  /** Where trampolines keep the block pointer and their stack pointer across the call. */
  mailbox: number;
}

/**
 * Boots the guest process and maps what host calls need in it (arenas, x87 slot, mailbox) — or, from `image`, puts a
 * process into that booted state without running anything.
 */
export function startProcess(options: BootOptions, arch: Arch, direct: DirectAccess, image?: MachineSnapshot): StartedProcess {
  const hostLibraries = (options.libs ?? [])
    .filter((lib) => !findFixture(arch, lib))
    .map((lib) => {
      if (!existsSync(lib)) {
        throw new UnknownLibraryError(
          `unknown library "${lib}": it is neither a bundled library (libc.so.6, libpcap.so.0.8 and their dependencies) nor a file on this host`,
        );
      }
      if (!statSync(lib).isFile()) throw new UnknownLibraryError(`library "${lib}" is not a file (a directory?): give the shared object's path`);
      return { path: lib, bytes: new Uint8Array(readFileSync(lib)) };
    });
  const processOptions = {
    arch,
    hostLibraries,
    seed: options.seed,
    bootBudget: options.bootBudget,
    recordSyscalls: options.recordSyscalls,
    files: options.files,
    fixtureCopies: options.cache === false ? (false as const) : options.cache?.dir,
    memoryLimit: options.memoryLimit,
    maxEngineRegions: options.maxEngineRegions,
    stdout: options.stdout,
    stderr: options.stderr,
    outputLimit: options.outputLimit,
    tmpLimit: options.tmpLimit,
    counting: options.counting,
    // The boot and the libraries' loading get the default; the caller's timeout holds from the first call on.
    callTimeoutSeconds: DEFAULT_CALL_TIMEOUT_SECONDS,
  };
  const process = image ? Process.create(processOptions) : Process.boot(processOptions);
  try {
    if (image) applyProcess(process, image.process);
  } catch (error) {
    process.close();
    throw error;
  }
  const engine = process.engine;
  let stackTop: number;
  let callCpu: SavedContext;
  if (image) {
    // The call context itself was saved (the stack pointer already at the call frame's entry).
    callCpu = engine.importContext(image.host.callCpu);
    stackTop = image.host.stackTop;
  } else {
    const clean = engine.saveContext();
    const sp = Number(engine.reg(arch === 'amd64' ? 'rsp' : 'esp'));
    stackTop = Math.floor((sp - STACK_MARGIN) / 16) * 16;
    callCpu = saveCallCpu(engine, arch, clean, stackTop);
    clean.free();
  }
  const arenaBase = image?.host.arenaBase ?? process.space.mapAnywhere(ARENA_BYTES, PROT_READ | PROT_WRITE, '[shimulator host arena]');
  const arena = new GuestArena(engine, arenaBase, ARENA_BYTES, new GuestWindow(process.space, engine, arenaBase, ARENA_BYTES, direct));
  const code = new CodeArena(engine, (size) => process.space.mapAnywhere(size, PROT_READ | PROT_EXEC, '[shimulator code]'));
  const x87Slot = image?.host.x87Slot ?? arena.alloc(X87_SLOT_BYTES, 16);
  const mailbox = image?.host.mailbox ?? arena.alloc(MAILBOX_BYTES, 16);
  arena.keepFirst();
  return { process, callCpu, stackTop, arena, code, x87Slot, mailbox };
}

/** What one boot of the guest made; `reset()` replaces it whole. */
export interface BootedProcess {
  process: Process;
  symbols: SymbolTable;
  callbacks: CallbackRegistry;
  /** The CPU captured after boot with the stack pointer at a host call's entry (freed by `close()`). */
  callCpu: SavedContext;
  /** Host calls into the process. */
  calls: HostCaller;
  /** Threads started in it the fakecgo way. */
  threads: GuestThreads;
}

/** What the host's layers ask of the machine: its settings and switches (read at every call), plans, lookups. */
export interface MachineSide {
  arch: Arch;
  declarations: Declarations;
  direct: DirectAccess;
  printf: PrintfHostCheck;
  callBudget: number;
  checking(): boolean;
  watchTls(): boolean;
  tlsLayout(): TlsLayout;
  readCString(address: number, max?: number): string;
  /** Calls an IFUNC resolver and remembers its choice (see `Machine.resolveAllIfuncs`). */
  resolveIfunc(address: number, name: string): number;
  plans(proto: Prototype): PlanCache;
  address(name: string, library?: string): number;
  /** A call of a libc function, as `m.fn('libc.so.6', proto)` makes it. */
  libc(proto: string, ...args: HostValue[]): CallResult;
}

/** Starts the process (see `startProcess`) and wires the host's layers to it. */
export function bootProcess(options: BootOptions, side: MachineSide, image?: MachineSnapshot): BootedProcess {
  const { arch } = side;
  const { process, callCpu, stackTop, arena, code, x87Slot, mailbox } = startProcess(options, arch, side.direct, image);
  const symbols = new SymbolTable(process);
  const callbacks = new CallbackRegistry(arch, process.engine, code, arena, x87Slot);
  const checker = new AbiChecker({
    process,
    objects: () => symbols.objects(),
    prototypeOf: (name) => side.declarations.prototype(name) ?? lookupPrototype(name)?.prototype,
    resolveIfunc: (address, name) => side.resolveIfunc(address, name),
    isHostCode: (address) => code.contains(address),
    readCString: (address, max) => side.readCString(address, max ?? 4096),
    currentThread: () => process.threads.current.tid,
    onViolation: (violation) => {
      const recording = activeRecording(process.engine);
      recording?.addEvent(Math.max(recording.step, 0), { kind: 'check', data: violation });
    },
  });
  const calls = new HostCaller({
    arch,
    process,
    callCpu,
    stackTop,
    arena,
    code,
    mailbox,
    direct: side.direct,
    checker,
    callbacks,
    printf: side.printf,
    checking: () => side.checking(),
    watchTls: () => side.watchTls(),
    tlsLayout: () => side.tlsLayout(),
    readCString: (address, max) => side.readCString(address, max),
  });
  const threads = new GuestThreads({
    process,
    calls,
    callBudget: side.callBudget,
    checking: () => side.checking(),
    plans: (proto) => side.plans(proto),
    parsePrototype: (text) => side.declarations.parsePrototype(text),
    address: (name, library) => side.address(name, library),
    libc: (proto, ...args) => side.libc(proto, ...args),
  });
  calls.adopt = (thread) => threads.adopt(thread);
  return { process, symbols, callbacks, callCpu, calls, threads };
}

/** What `startCached` needs of the machine it starts. */
export interface CachedStart {
  /** Starts the machine: a boot, or the restore of `image`. */
  start(image?: MachineSnapshot): void;
  snapshot(): MachineSnapshot;
  /** Bytes the guest has written to stdout and stderr. */
  outputBytes(): number;
}

/** Starts the process from the boot image cache when it holds this boot; else boots it, and caches the result. */
export function startCached(options: BootOptions, arch: Arch, machine: CachedStart): 'boot' | 'cache' {
  const cached = cacheForBoot({ ...options, arch, libs: options.libs ?? [] });
  const image = cached?.cache.load(cached.key, cached.arch, options);
  if (image) {
    try {
      machine.start(image);
      return 'cache';
    } catch {
      cached!.cache.discard(cached!.key, cached!.arch); // decoded but not applicable: boot afresh and replace it
    }
  }
  machine.start();
  // A boot that wrote output is not cached: host-given sinks could not see it again.
  if (cached && machine.outputBytes() === 0) {
    try {
      cached.cache.save(cached.key, machine.snapshot());
    } catch {
      // a boot the snapshot layer cannot carry (SnapshotUnsupportedError) is simply not cached
    }
  }
  return 'boot';
}
