/**
 * Machine: the public entry point. Boots an emulated i386 or amd64 process on real Debian glibc and calls C
 * functions in it from TypeScript, cgo-style (`value, errno`).
 *
 *   const m = await Machine.boot({ arch: 'amd64', libs: ['libpcap.so.0.8'] });
 *   const snprintf = m.fn('libc.so.6', 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)');
 *   const r = snprintf(out(64), 64, '%f', vararg.double(1.5));   // r.value === 8, r.out[0] holds "1.500000"
 */
import { CapturedOutput, OutputLimitError, type OutputSink } from './kernel/output.ts';
import { GuestExit } from './kernel/kernel.ts';
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Arch } from './emu/arch.ts';
import type { CountingChoice, CountingInfo } from './emu/block-counter.ts';
import type { AddressSet, Engine, SavedContext } from './emu/engine.ts';
import { PROT_EXEC, PROT_READ, PROT_WRITE, type RegName } from './emu/engine.ts';
import { CodeArena, GuestArena } from './callspec/arena.ts';
import { Callback, type CallbackFunction, CallbackRegistry, type VariadicTypes } from './callspec/callback.ts';
import { printfVariadicTypes } from './check/printf-format.ts';
import { checkPrintfArguments, printfFormatIndex } from './check/printf-arguments.ts';
import {
  argumentImages, CALL_FRAME_BYTES, callCpuStarter, type CallEnvironment, encodeBlock, executeCall, placeBlock, type PreparedBlock,
  type RawCallResult, readBlock, saveCallCpu, writeBlock,
} from './callspec/call.ts';
import { type DirectAccess, GuestWindow } from './callspec/guest-window.ts';
import { type CallPlan, PlanCache } from './callspec/plan.ts';
import { generateWorker, WORKER_MAILBOX } from './callspec/worker.ts';
import { generateTrampoline, MAILBOX_BYTES } from './callspec/trampoline.ts';
import { enterNestedCall } from './callspec/nested-call.ts';
import { Declarations } from './callspec/parse.ts';
import type { CallSpec, CType, Prototype } from './callspec/types.ts';
import { ArgumentError, completeVariadicType, type DecodedValue, GuestPointer, HOST_ARENA_BYTES, type HostValue, out } from './callspec/values.ts';
import { AbiChecker } from './check/checker.ts';
import type { CallEvent } from './check/calls.ts';
import { ifuncSymbols, recordIfuncImplementation } from './check/ifunc.ts';
import { loadDisassembler } from './trace/disassemble.ts';
import { lookupPrototype } from './catalog/catalog.ts';
import { activeRecording } from './trace/recorder.ts';
import type { AbiReport, Violation } from './check/rules.ts';
import { type ArgumentDiff, diffArguments } from './check/shim-diff.ts';
import { TCB_FIELDS, type TlsLayout, type TlsModuleBlock, type TlsReport, TlsWatch } from './check/tls-watch.ts';
import { findFixture } from './loader/fixtures.ts';
import { DEFAULT_CALL_TIMEOUT_SECONDS } from './loader/limits.ts';
import type { GuestThread } from './kernel/threads.ts';
import { Process } from './loader/process.ts';
import { type ResolvedSymbol, SymbolTable } from './loader/symbols.ts';
import { bytesOf, unsignedOf } from './emu/bytes.ts';
import { SnapshotMismatchError } from './snapshot/errors.ts';
import { cacheForBoot, type CacheOption } from './snapshot/image-cache.ts';
import { type HostCallState, MachineSnapshot } from './snapshot/machine-snapshot.ts';
import { applyProcess, captureProcess } from './snapshot/process-state.ts';

export const DEFAULT_CALL_BUDGET = 20_000_000;
const ARENA_BYTES = HOST_ARENA_BYTES;
/** Where callback stubs find an x87 return value (10 bytes, rounded). */
/** Room for an x87 result: st0 at 0 and, for a _Complex long double (COMPLEX_X87), st1 at 16. */
const X87_SLOT_BYTES = 32;
/** Space left above the call frame: main's frame and the 128-byte red zone below the boot stack pointer. */
const STACK_MARGIN = 1024;
/** Longest format string read from guest memory (variadic callbacks' `format`, the host printf check). */
const PRINTF_FORMAT_MAX = 4096;
/** Formats remembered per call plan by the host printf check before the memo starts over. */
const PRINTF_CHECKS_KEPT = 64;
const RTLD_LAZY = 1;
const RTLD_NOW = 2;
const RTLD_NOLOAD = 4;
/** dlinfo request: the address of the module's TLS block for the calling thread. */
const RTLD_DI_TLS_DATA = 10;
const RTLD_GLOBAL = 0x100;

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

/** The in-memory copy of a stream, when the output goes to the default sink. */
function captured(sink: OutputSink): CapturedOutput | undefined {
  return sink instanceof CapturedOutput ? sink : undefined;
}

export interface CallResult {
  /** The return value: number (bigint beyond 2^53), an object for structs, undefined for void. */
  value: DecodedValue;
  /** errno after the call (set to 0 before it), read through the guest's own __errno_location. */
  errno: number;
  /** Contents of out-buffer arguments after the call, by argument index. */
  out: Record<number, Uint8Array>;
  /** For `char *` returns: the C string at the returned pointer (undefined for NULL). */
  string?: string;
  /** Guest instructions the call executed (with those of the nested guest calls its callbacks made). */
  instructions: number;
  /** The return value's memory image as the callee produced it (its C size; long double: the x87 bytes). */
  returnBytes: Uint8Array;
  /** With checking on: the ABI violations found in this call and in the cross-object calls it made. */
  abi?: AbiReport;
  /** With the TLS watch on: the thread's TLS layout and the TLS words the call read and wrote. */
  tls?: TlsReport;
  /**
   * printf-family calls (snprintf, printf, fprintf, …): where the format and the typed variadic arguments disagree
   * (`%f` with `vararg.int`, a missing argument, `%ld` with an int on amd64). Checked on every host call, checking
   * on or not; with checking on they are in `abi` too. A call that faults carries them on the error.
   */
  formatWarnings?: Violation[];
}

/** For a variadic callback type (`int (*)(const char *, ...)`): how to learn one call's variadic types. */
export interface CallbackOptions {
  /** The C type names of the variadic arguments, from the fixed arguments (decoded), e.g. `(n) => Array(n).fill('double')`. */
  varargs?: (...fixed: DecodedValue[]) => readonly string[];
  /** Or the index of the fixed `const char *` printf-style format argument that says them (`%d %s %f`). */
  format?: number;
}

export interface CFunction {
  (...args: HostValue[]): CallResult;
  readonly prototype: Prototype;
  readonly address: number;
  /** The CallSpec for a call with these arguments (variadic ones decide the variadic types). */
  spec(...args: HostValue[]): CallSpec;
}

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

export interface ShimTestOptions {
  /** The user's trampoline (an exported symbol) and where it is (default: global scope). */
  shim: string;
  library?: string;
  /** The target's prototype (its name is the function the shim must call) and where the target is. */
  prototype: string;
  targetLibrary?: string;
  /** The arguments the target must receive. */
  args: HostValue[];
  /** When the shim does not simply forward: its own prototype and arguments. */
  shimPrototype?: string;
  shimArgs?: HostValue[];
}

export interface ShimTestResult {
  /** The shim reached the target with every argument where the CallSpec says. */
  ok: boolean;
  /** Whether control reached the target at all. */
  reached: boolean;
  diffs: ArgumentDiff[];
  /** The shim call's own result (with `abi` when checking is on). */
  result: CallResult;
}



export class UnknownLibraryError extends Error {
  override name = 'UnknownLibraryError';
}

export class DlopenError extends Error {
  override name = 'DlopenError';
}

/**
 * The guest process ended (exit, abort, a fatal signal, the output limit) during an earlier call: nothing can run
 * in it any more. `machine.reset()` boots a fresh one.
 */
export class MachineExitedError extends Error {
  override name = 'MachineExitedError';
  constructor(readonly ending: Error) {
    super(`the guest process ${howItEnded(ending)} during an earlier call; call m.reset() for a fresh machine`, { cause: ending });
  }
}

function howItEnded(ending: Error): string {
  if (ending instanceof GuestExit) {
    return ending.signal === undefined ? `exited (exit(${ending.status}))` : `was killed by signal ${ending.signal}`;
  }
  if (ending instanceof OutputLimitError) return `was stopped at its output limit (${ending.message})`;
  return `ended (${ending.message})`;
}

/** What one boot of the guest made; `reset()` replaces it whole. */
interface BootedProcess {
  process: Process;
  symbols: SymbolTable;
  callbacks: CallbackRegistry;
}

export class Machine {
  readonly arch: Arch;
  /** C declarations: host-side, so they survive `reset()`. */
  readonly declarations: Declarations;
  private readonly options: BootOptions;
  private booted!: BootedProcess;
  /** Counts boots: CFunctions and thread handles notice a `reset()` by it. */
  private generation = 0;
  /** The CPU captured after boot (flags, FPU, segment bases) with the stack pointer at a host call's entry. */
  private callCpu!: SavedContext;
  private arena!: GuestArena;
  /** errno of the main thread, through a live window (see guest-window.ts). */
  private errnoWindow: GuestWindow | undefined;
  /** Whether guest windows may be used: not while a trace records host writes, never after `close()`. */
  private readonly direct: DirectAccess;
  private closed = false;
  private env!: CallEnvironment;
  private readonly callBudget: number;
  private errnoAddress = 0;
  private outputTaken = { stdout: 0, stderr: 0 };
  private internal = new Map<string, CFunction>();
  /** Call plans per prototype (pure: they survive `reset()`). */
  private readonly planCaches = new WeakMap<Prototype, PlanCache>();
  /** Host printf checks per plan and format (see printfWarnings). */
  private readonly printfChecks = new WeakMap<CallPlan, Map<string, Violation[]>>();
  private code!: CodeArena;
  private workerCode: number | undefined;
  private threadRegion: { base: number; used: number } | undefined;
  /** Where trampolines keep the block pointer and their stack pointer across the call. */
  private mailbox!: number;
  private inCallback = 0;
  /** Threads from `startThread`, for nested calls from callbacks that run on them. */
  private threadHandles = new WeakMap<GuestThread, GuestThreadHandle>();
  private checkingOn = false;
  private madeBy: 'boot' | 'cache' | 'fork' = 'boot';

  /** How this machine came to be: a boot that ran ld.so, a restore from the boot image cache, or `fork()`. */
  get origin(): 'boot' | 'cache' | 'fork' {
    return this.madeBy;
  }

  /** The emulated process (replaced by `reset()`). */
  get process(): Process {
    return this.booted.process;
  }

  get symbols(): SymbolTable {
    return this.booted.symbols;
  }

  /** Live callbacks (C → host). */
  get callbacks(): CallbackRegistry {
    return this.booted.callbacks;
  }

  /**
   * Check calls against the ABI (can be switched at any time between calls). Turning it on after boot starts
   * loading Capstone if needed: until `loadAbiChecker()` has resolved, x87-empty-pop is not checked.
   */
  get checking(): boolean {
    return this.checkingOn;
  }

  set checking(on: boolean) {
    this.checkingOn = on;
    if (on) loadDisassembler().catch(() => undefined);
  }
  /** Watch thread-local storage accesses during calls (memory hooks: slower). */
  watchTls: boolean;
  private checker!: AbiChecker;
  private tlsLayoutCache: { generation: number; layout: TlsLayout } | undefined;
  /** Trampolines by mailbox and the placement they implement (many prototypes share one)… */
  private trampolines = new Map<string, number>();
  /** …and, for host calls on the main thread, by plan: no key to build per call. */
  private planTrampolines = new WeakMap<CallPlan, number>();
  private targetEntries: { engine: Engine; set: AddressSet } | undefined;

  private constructor(options: BootOptions, image?: MachineSnapshot) {
    this.options = options;
    this.arch = options.arch ?? 'amd64';
    this.declarations = new Declarations({ arch: this.arch });
    if (options.decls) this.declarations.addDeclarations(options.decls);
    this.callBudget = options.callBudget ?? DEFAULT_CALL_BUDGET;
    this.checking = options.check ?? false;
    this.watchTls = options.watchTls ?? false;
    const machine = this;
    this.direct = {
      // Asked several times per call: straight to the engine, not through the `process` getter.
      get on() {
        return !machine.closed && activeRecording(machine.env.engine) === undefined;
      },
    };
    // A fork starts from its parent's snapshot; anything else from the boot image cache or a boot.
    if (image) this.start(options, image);
    else this.startCached();
  }

  /**
   * Boots the guest process and sets up everything host calls need in it (arenas, trampolines, errno) — or, from
   * `image`, puts a process into that booted state without running anything.
   */
  private start(options: BootOptions, image?: MachineSnapshot): void {
    this.forgetGuestAddresses();
    const hostLibraries = (options.libs ?? [])
      .filter((lib) => !findFixture(this.arch, lib))
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
      arch: this.arch,
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
    if (image) {
      // The call context itself was saved (the stack pointer already at the call frame's entry).
      this.callCpu = engine.importContext(image.host.callCpu);
      stackTop = image.host.stackTop;
    } else {
      const clean = engine.saveContext();
      const sp = Number(engine.reg(this.arch === 'amd64' ? 'rsp' : 'esp'));
      stackTop = Math.floor((sp - STACK_MARGIN) / 16) * 16;
      this.callCpu = saveCallCpu(engine, this.arch, clean, stackTop);
      clean.free();
    }
    const arenaBase = image?.host.arenaBase ?? process.space.mapAnywhere(ARENA_BYTES, PROT_READ | PROT_WRITE, '[shimulator host arena]');
    this.arena = new GuestArena(engine, arenaBase, ARENA_BYTES, new GuestWindow(process.space, engine, arenaBase, ARENA_BYTES, this.direct));
    this.code = new CodeArena(engine, (size) => process.space.mapAnywhere(size, PROT_READ | PROT_EXEC, '[shimulator code]'));
    this.booted = {
      process,
      symbols: new SymbolTable(process),
      callbacks: new CallbackRegistry(this.arch, engine, this.code, this.arena, image?.host.x87Slot ?? this.arena.alloc(X87_SLOT_BYTES, 16)),
    };
    this.generation++;
    this.mailbox = image?.host.mailbox ?? this.arena.alloc(MAILBOX_BYTES, 16);
    this.arena.keepFirst();
    this.process.isParkSite = (pc) => this.code.contains(pc);
    this.process.isCallbackSite = (pc) => this.callbacks.isStub(pc);
    this.process.onCallbackTrap = (pc) => {
      this.inCallback++;
      try {
        return this.callbacks.dispatch(pc);
      } finally {
        this.inCallback--;
      }
    };
    this.env = {
      engine,
      arch: this.arch,
      startCpu: callCpuStarter(engine, this.arch, this.callCpu),
      stackTop,
      frame: new GuestWindow(process.space, engine, stackTop - CALL_FRAME_BYTES, CALL_FRAME_BYTES, this.direct),
      returnAddress: this.process.layout.trapPage,
      memory: this.arena,
      trampoline: (plan) => this.trampolineFor(plan),
      run: (begin, until, budget, lastBlock) => this.process.run(begin, until, budget, lastBlock),
    };

    this.checker = new AbiChecker({
      process: this.process,
      objects: () => this.symbols.objects(),
      prototypeOf: (name) => this.declarations.prototype(name) ?? lookupPrototype(name)?.prototype,
      resolveIfunc: (address, name) => this.callResolver(address, name),
      isHostCode: (address) => this.code.contains(address),
      readCString: (address, max) => this.readCString(address, max ?? 4096),
      currentThread: () => this.process.threads.current.tid,
      onViolation: (violation) => {
        const recording = activeRecording(this);
        recording?.addEvent(Math.max(recording.step, 0), { kind: 'check', data: violation });
      },
    });
    if (image) {
      this.applyHostState(image);
    } else {
      this.errnoAddress = Number(this.libc('int *__errno_location(void)')().value);
      this.errnoWindow = new GuestWindow(process.space, engine, this.errnoAddress, 4, this.direct);
      let guestPathIndex = 0;
      for (const lib of options.libs ?? []) {
        const bundled = findFixture(this.arch, lib);
        this.dlopen(bundled ? bundled.name : this.process.mountedLibraries[guestPathIndex++]!);
      }
    }
    this.process.callTimeoutSeconds = options.callTimeoutSeconds ?? DEFAULT_CALL_TIMEOUT_SECONDS;
  }

  /**
   * The whole machine as it is now — guest memory, every thread's CPU, the kernel, the host's call bookkeeping —
   * for `restore` (milliseconds) or `fork`. Refused (SnapshotUnsupportedError) while the guest holds a pipe,
   * eventfd or epoll instance, or after it ended.
   */
  snapshot(): MachineSnapshot {
    if (this.inCallback > 0) throw new ArgumentError('cannot take a snapshot from inside a callback');
    return new MachineSnapshot(captureProcess(this.process), this.hostState(), this.callbacks.state(), this.options);
  }

  /**
   * Puts the machine back into the state of `snapshot` (taken on this machine or a fork of it). CFunctions from `fn`
   * keep working; threads, callbacks and dlopen handles made after the snapshot are gone, those from before it are back.
   */
  restore(snapshot: MachineSnapshot): void {
    if (snapshot.owner !== this.options) {
      throw new SnapshotMismatchError('this snapshot was taken on another machine: restore it into the machine it came from, or one of its forks');
    }
    if (this.inCallback > 0) throw new ArgumentError('cannot restore a snapshot from inside a callback');
    applyProcess(this.process, snapshot.process);
    this.applyHostState(snapshot);
  }

  /**
   * An independent second machine in this one's state (its own engine, memory and kernel). Host-side settings carry
   * over (`checking`, `watchTls`, BootOptions' declarations); callbacks run the same JavaScript functions.
   */
  fork(): Machine {
    const copy = new Machine(this.options, this.snapshot());
    copy.madeBy = 'fork';
    copy.checking = this.checking;
    copy.watchTls = this.watchTls;
    return copy;
  }

  private hostState(): HostCallState {
    return {
      callCpu: this.process.engine.exportContext(this.callCpu),
      stackTop: this.env.stackTop,
      arenaBase: this.arena.base,
      arena: this.arena.state(),
      code: this.code.state(),
      x87Slot: this.callbacks.x87Slot,
      mailbox: this.mailbox,
      errnoAddress: this.errnoAddress,
      trampolines: [...this.trampolines],
      workerCode: this.workerCode,
      threadRegion: this.threadRegion && { ...this.threadRegion },
      outputTaken: { ...this.outputTaken },
    };
  }

  private applyHostState(snapshot: MachineSnapshot): void {
    const host = snapshot.host;
    this.arena.restoreState(host.arena);
    this.code.restoreState(host.code);
    this.callbacks.restoreState(snapshot.callbacks);
    this.trampolines = new Map(host.trampolines);
    this.planTrampolines = new WeakMap(); // plans' trampolines made after the snapshot are gone with its code arena
    this.errnoAddress = host.errnoAddress;
    this.errnoWindow = host.errnoAddress ? new GuestWindow(this.process.space, this.process.engine, host.errnoAddress, 4, this.direct) : undefined;
    this.workerCode = host.workerCode;
    this.threadRegion = host.threadRegion && { ...host.threadRegion };
    this.outputTaken = { ...host.outputTaken };
    // Symbols may have moved (libraries dlopen'ed since): every CFunction looks its symbol up again.
    this.generation++;
    this.internal = new Map();
    this.tlsLayoutCache = undefined;
  }

  /** Drops what pointed into the previous process: cached functions, trampolines, thread memory, the TLS layout. */
  private forgetGuestAddresses(): void {
    this.errnoAddress = 0;
    this.errnoWindow = undefined;
    this.planTrampolines = new WeakMap();
    this.outputTaken = { stdout: 0, stderr: 0 };
    this.internal = new Map();
    this.trampolines = new Map();
    this.workerCode = undefined;
    this.threadRegion = undefined;
    this.tlsLayoutCache = undefined;
    this.inCallback = 0;
  }

  /**
   * A fresh process after the guest ended (exit, abort, a fatal signal, the output limit) or whenever a clean one is
   * wanted: boots again with the same BootOptions, in this same Machine. Host-side settings carry over
   * (declarations, `checking`, `watchTls`, `onCall`). CFunctions from `fn` keep working (they look their symbol
   * up again in the new process); those from `fnAt`, callbacks, dlopen handles and started threads belong to the
   * old process: make them again.
   */
  reset(): void {
    if (this.inCallback > 0) throw new ArgumentError('cannot reset the machine from inside a callback: the call that runs the callback is still in the process');
    const onCall = this.onCall;
    this.close();
    this.closed = false;
    this.startCached();
    this.onCall = onCall;
  }

  /** Starts the process from the boot image cache when it holds this boot; else boots it, and caches the result. */
  private startCached(): void {
    const options = this.options;
    const cached = cacheForBoot({ ...options, arch: this.arch, libs: options.libs ?? [] });
    const image = cached?.cache.load(cached.key, cached.arch, options);
    if (image) {
      try {
        this.start(options, image);
        this.madeBy = 'cache';
        return;
      } catch {
        cached!.cache.discard(cached!.key, cached!.arch); // decoded but not applicable: boot afresh and replace it
      }
    }
    this.start(options);
    this.madeBy = 'boot';
    // A boot that wrote output is not cached: host-given sinks could not see it again.
    if (cached && this.process.kernel.outputBytes === 0) {
      try {
        cached.cache.save(cached.key, this.snapshot());
      } catch {
        // a boot the snapshot layer cannot carry (SnapshotUnsupportedError) is simply not cached
      }
    }
  }

  /**
   * Boots a process: ld.so, libc and the requested libraries, with TLS set up by glibc itself — or restores the same
   * boot from the image cache (see `BootOptions.cache`), which gives the same machine in milliseconds.
   */
  static async boot(options: BootOptions = {}): Promise<Machine> {
    // The x87-empty-pop rule decodes callers' code with Capstone, which can only start asynchronously.
    if (options.check) await loadAbiChecker();
    return new Machine(options);
  }

  /**
   * Told about every checked call at entry and at return, arguments and return value decoded (the `--calls` view:
   * `callPrinter(write)` from src/check/calls.ts prints ltrace-like lines). Calls are watched while this is set
   * even with `checking` off (their `abi` report is then left out).
   */
  get onCall(): ((event: CallEvent) => void) | undefined {
    return this.checker.onCall;
  }

  set onCall(listener: ((event: CallEvent) => void) | undefined) {
    this.checker.onCall = listener;
  }

  /**
   * Resolves every IFUNC symbol of every loaded object (host calls of the resolvers) and remembers the chosen
   * implementations for this build of each object (src/check/ifunc.ts), so that checkers need no host call for
   * them later. Returns the number of IFUNC symbols per object.
   */
  resolveAllIfuncs(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const object of this.symbols.objects()) {
      const symbols = ifuncSymbols(object);
      if (symbols.length === 0) continue;
      for (const s of symbols) this.callResolver(object.base + s.value, s.name);
      counts[object.elf.soname ?? object.path] = symbols.length;
    }
    return counts;
  }

  /** Calls an IFUNC resolver (as ld.so does) and remembers the implementation it picked for this object's build. */
  private callResolver(address: number, name: string): number {
    const resolver = this.declarations.parsePrototype(`void *${name}_ifunc_resolver(void)`);
    const implementation = Number(this.invoke(address, this.plans(resolver), [], this.callBudget, false).value);
    const object = this.symbols.objects().find((o) => address >= o.base + o.elf.loadSpan.start && address < o.base + o.elf.loadSpan.end);
    if (object) recordIfuncImplementation(this.arch, object, address - object.base, implementation);
    return implementation;
  }

  /** The thread the process started with: host calls run on it unless made through `onThread`. */
  get mainThread(): GuestThread {
    return this.process.threads.threads[0]!;
  }

  /** Instructions ld.so and libc start-up took. */
  /** Whether instructions are counted natively or in JavaScript (and why). */
  get counting(): CountingInfo {
    return this.process.engine.counting;
  }

  get bootInstructions(): number {
    return this.process.bootInstructions;
  }

  /**
   * Text written to the guest's stdout / stderr so far (the most recent 16 MiB of it; empty when the output goes
   * to sinks given in the boot options).
   */
  get stdout(): string {
    return captured(this.process.kernel.stdout)?.text() ?? '';
  }

  get stderr(): string {
    return captured(this.process.kernel.stderr)?.text() ?? '';
  }

  /**
   * Flushes the guest's stdio buffers (`fflush(NULL)`) and returns what it wrote to stdout and stderr since the
   * last call to this method. (The guest's stdout is a pipe, so stdio buffers it until flushed.)
   */
  takeOutput(): { stdout: string; stderr: string } {
    this.libc('int fflush(void *stream)')(null);
    const stdout = captured(this.process.kernel.stdout);
    const stderr = captured(this.process.kernel.stderr);
    const taken = { stdout: stdout?.text(this.outputTaken.stdout) ?? '', stderr: stderr?.text(this.outputTaken.stderr) ?? '' };
    this.outputTaken = { stdout: stdout?.length ?? 0, stderr: stderr?.length ?? 0 };
    return taken;
  }

  /** Resolves a symbol to its address (IFUNCs are resolved by calling their resolver, as ld.so does). */
  address(name: string, library?: string): number {
    return this.resolveCallable(this.symbols.require(name, library));
  }

  /** A callable for `prototype` in `library` (a soname like `libc.so.6`, a path, or undefined for global scope). */
  fn(library: string | undefined, prototype: string | Prototype): CFunction {
    const proto = typeof prototype === 'string' ? this.declarations.parsePrototype(prototype) : prototype;
    const plans = this.plans(proto); // kept on the handle: a call finds its plan by identity
    return this.cFunction(proto, this.resolver(proto.name, library), (address, args) => this.invoke(address, plans, args, this.callBudget, true));
  }

  /** A callable for a function at a known guest address (a function pointer, a dlsym result). */
  fnAt(address: number, prototype: string | Prototype): CFunction {
    const proto = typeof prototype === 'string' ? this.declarations.parsePrototype(prototype) : prototype;
    const plans = this.plans(proto);
    return this.cFunction(proto, () => address, (at, args) => this.invoke(at, plans, args, this.callBudget, true));
  }

  /** The address of `name`, looked up again after a `reset()` (the new process may have it elsewhere). */
  private resolver(name: string, library: string | undefined): () => number {
    let resolved = { generation: this.generation, address: this.address(name, library) };
    return () => {
      if (resolved.generation !== this.generation) resolved = { generation: this.generation, address: this.address(name, library) };
      return resolved.address;
    };
  }

  private cFunction(proto: Prototype, address: () => number, call: (address: number, args: HostValue[]) => CallResult): CFunction {
    const f = Object.assign((...args: HostValue[]) => call(address(), args), {
      prototype: proto,
      spec: (...args: HostValue[]) => this.specFor(proto, args),
    });
    return Object.defineProperty(f, 'address', { get: address, enumerable: true }) as typeof f & { readonly address: number };
  }

  /** The CallSpec of `proto` on this machine's architecture, given the (variadic) arguments. */
  specFor(proto: Prototype, args: HostValue[]): CallSpec {
    return this.plans(proto).planFor(args).spec;
  }

  /** The call plans of `proto` (classification is pure: a plan is made once per prototype and variadic types). */
  private plans(proto: Prototype): PlanCache {
    let plans = this.planCaches.get(proto);
    if (!plans) {
      // vararg.struct('tag', …) names a struct: its fields come from this machine's declarations.
      const lookup = (kind: 'struct' | 'union', tag: string) => this.declarations.tag(kind, tag);
      plans = new PlanCache(proto, this.arch, (type, position) => completeVariadicType(type, lookup, position));
      this.planCaches.set(proto, plans);
    }
    return plans;
  }

  /** Calls the function at `address` with host values; errno is cleared before and read after the call. */
  call(address: number, proto: Prototype, args: HostValue[], budget = this.callBudget): CallResult {
    return this.invoke(address, this.plans(proto), args, budget, true);
  }

  /**
   * The calling thread's TLS layout: thread pointer, TCB fields, each module's static TLS block (from the guest's
   * own dlinfo(RTLD_DI_TLS_DATA)) and errno's address.
   */
  tlsLayout(): TlsLayout {
    const generation = this.process.space.generation;
    if (this.tlsLayoutCache?.generation === generation) return this.tlsLayoutCache.layout;
    const internal = (proto: string, ...args: HostValue[]) => {
      const p = this.declarations.parsePrototype(proto);
      return this.invoke(this.address(p.name, 'libc.so.6'), this.plans(p), args, this.callBudget, false);
    };
    const threadPointer = Number(internal('void *pthread_self(void)').value);
    const word = this.arch === 'amd64' ? 8 : 4;
    const modules: TlsModuleBlock[] = [];
    for (const object of this.symbols.objects()) {
      if (!object.elf.tls || object.path === this.process.exe.path) continue;
      const handle = Number(internal('void *dlopen(const char *file, int mode)', object.path, RTLD_LAZY | RTLD_NOLOAD).value);
      if (handle === 0) continue;
      const info = internal('int dlinfo(void *handle, int request, void *arg)', handle, RTLD_DI_TLS_DATA, out(8));
      const start = Number(unsignedOf(info.out[2]!.subarray(0, word)));
      internal('int dlclose(void *handle)', handle);
      if (info.value !== 0 || start === 0) continue;
      const symbols: Record<number, string> = {};
      for (const symbol of object.elf.dynsym) if (symbol.type === 'TLS' && symbol.defined) symbols[symbol.value] ??= symbol.name;
      modules.push({ module: object.elf.soname ?? object.path, start, size: object.elf.tls.memsz, symbols });
    }
    const fields = Object.entries(TCB_FIELDS[this.arch]).map(([offset, name]) => ({
      offset: Number(offset),
      name,
      value: `0x${unsignedOf(this.read(threadPointer + Number(offset), word)).toString(16)}`,
    }));
    const layout: TlsLayout = {
      arch: this.arch,
      threadPointer,
      segment: this.arch === 'amd64' ? 'fs' : 'gs',
      selector: this.arch === 'i386' ? Number(this.process.engine.reg('gs')) : undefined,
      tcb: { start: threadPointer, fields },
      modules,
      errno: this.errnoAddress,
    };
    this.tlsLayoutCache = { generation, layout };
    return layout;
  }

  /** `instrument`: apply the ABI checker and TLS watch when they are on (internal helper calls are never checked). */
  private invoke(address: number, plans: PlanCache, args: readonly HostValue[], budget: number, instrument: boolean): CallResult {
    const plan = plans.planFor(args);
    const tlsLayout = this.prepareInstrumentation(instrument);
    const formatWarnings = instrument && plans.proto.variadic ? this.printfWarnings(plan, args) : undefined;
    // A nested call (from a callback) must keep the outer call's arguments: its own are released when it ends.
    const outer = this.inCallback > 0 ? this.arena.state() : undefined;
    if (!outer) this.arena.reset();
    try {
      const block = writeBlock(this.env, plan, address, args);
      const result = this.execute(address, plan, block, budget, instrument, tlsLayout);
      if (formatWarnings) {
        result.formatWarnings = formatWarnings;
        result.abi?.violations.unshift(...formatWarnings);
      }
      return result;
    } catch (error) {
      // %s with an int faults inside printf: the warning explains the fault.
      if (formatWarnings && error instanceof Error) {
        Object.assign(error, { formatWarnings });
        (error as { abi?: AbiReport }).abi?.violations.unshift(...formatWarnings);
      }
      throw error;
    } finally {
      if (outer) this.arena.restoreState(outer);
    }
  }

  /**
   * A variadic printf-family host call's format checked against its typed variadic arguments (printf-arguments.ts);
   * undefined when it is no such call or they agree. Remembered per plan and format: calls repeat.
   */
  private printfWarnings(plan: CallPlan, args: readonly HostValue[]): Violation[] | undefined {
    const spec = plan.spec;
    const index = printfFormatIndex(spec.function);
    if (index === undefined || index >= spec.args.length) return undefined;
    const value = args[index];
    const pointer = value instanceof GuestPointer ? value.address : typeof value === 'number' ? value : undefined;
    const format = typeof value === 'string' ? value : pointer ? this.readCString(pointer, PRINTF_FORMAT_MAX) : undefined;
    if (format === undefined) return undefined;
    let byFormat = this.printfChecks.get(plan);
    if (!byFormat || byFormat.size > PRINTF_CHECKS_KEPT) this.printfChecks.set(plan, (byFormat = new Map()));
    let found = byFormat.get(format);
    if (!found) {
      const passed = spec.args.filter((a) => a.variadic).map((a) => ({ index: a.index - 1, type: a.type })); // ArgSpec.index is 1-based
      byFormat.set(format, (found = checkPrintfArguments(spec.function, format, passed, this.arch)));
    }
    return found.length > 0 ? found.map((v) => ({ ...v })) : undefined;
  }

  /** Work that needs guest calls of its own must happen before a call's arguments are placed in the arena. */
  private prepareInstrumentation(instrument: boolean): TlsLayout | undefined {
    // The checker's table of watched functions may need IFUNC resolver calls (host calls that reuse the arena).
    if (instrument && (this.checking || this.checker.onCall)) this.checker.refresh();
    return instrument && this.watchTls ? this.tlsLayout() : undefined;
  }

  private execute(
    address: number, plan: CallPlan, block: PreparedBlock, budget: number, instrument: boolean, tlsLayout?: TlsLayout,
  ): CallResult {
    const spec = plan.spec;
    this.requireLiveProcess();
    const nested = this.inCallback > 0;
    const site = nested ? this.nestedCallSite(spec.function) : { thread: this.mainThread, mailbox: this.mailbox, errno: this.errnoWindow };
    const check = instrument && this.checking;
    const watch = check || (instrument && this.checker.onCall !== undefined);
    const layout = tlsLayout && site.handle ? this.threadTlsLayout(tlsLayout, site.handle) : tlsLayout;
    const tls = instrument && layout ? new TlsWatch(this.process, layout) : undefined;
    tls?.start();
    if (!nested) this.process.activate(this.mainThread);
    const errno = site.errno;
    const outerErrno = nested ? errno?.readInt32(errno.start) : undefined;
    errno?.zero(errno.start, 4);
    // A nested call joins the outer call's watch (its frames above the outer's open calls).
    const joined = watch && nested && this.checker.watching ? this.checker.beginNestedHostCall(address, spec) : undefined;
    if (watch && !joined) this.checker.beginHostCall(address, spec);
    const endWatch = () => (joined ? this.checker.endNestedHostCall(joined) : watch ? this.checker.endHostCall() : undefined);
    const frame = nested
      ? enterNestedCall({ ...this.env, trampoline: (p) => this.trampolineFor(p, site.mailbox) }, site.mailbox, (start, size) => this.window(start, size))
      : undefined;
    try {
      let raw: RawCallResult;
      try {
        raw = executeCall(frame?.env ?? this.env, plan, block, budget);
      } catch (error) {
        // A fault or runaway after a violation is often caused by it: keep the report with the error.
        const report = endWatch();
        if (check && error instanceof Error) Object.assign(error, { abi: report });
        tls?.stop();
        throw error;
      }
      const report = endWatch();
      const abi = check ? report : undefined;
      const tlsReport = tls?.stop();
      return this.result(plan, raw, errno, abi, tlsReport);
    } finally {
      // The thread is still inside the outer call (the nested one's return left it waiting for the host).
      if (nested) site.thread.state = 'running';
      frame?.leave();
      if (outerErrno !== undefined) errno!.writeWord(errno!.start, outerErrno >>> 0, 4);
    }
  }

  /** A live-memory window on guest bytes (see guest-window.ts). */
  private window(start: number, size: number): GuestWindow {
    return new GuestWindow(this.process.space, this.process.engine, start, size, this.direct);
  }

  /**
   * Where a nested call runs: on the thread whose callback makes it (as a cgo callback's C calls run on its M), with
   * that thread's trampoline mailbox and errno — the main thread's, or a `startThread` thread's. A thread the guest
   * started itself has no mailbox of the host's.
   */
  private nestedCallSite(name: string): { thread: GuestThread; mailbox: number; errno: GuestWindow | undefined; handle?: GuestThreadHandle } {
    const thread = this.process.threads.current;
    if (thread === this.mainThread) return { thread, mailbox: this.mailbox, errno: this.errnoWindow };
    const handle = this.threadHandles.get(thread);
    if (!handle) {
      throw new ArgumentError(`cannot call ${name} from a callback running on thread ${thread.tid}, which the guest started itself: nested guest calls are made from callbacks on the main thread or on threads from startThread`);
    }
    const errno = handle.errnoAddress ? this.window(handle.errnoAddress, 4) : undefined;
    return { thread, mailbox: handle.mailbox + WORKER_MAILBOX.trampolineMailbox, errno, handle };
  }

  /** `errno`: where the calling thread's errno is (none before it is known). */
  private result(plan: CallPlan, raw: RawCallResult, errno: GuestWindow | undefined, abi?: AbiReport, tls?: TlsReport): CallResult {
    const value = plan.decodeReturn(raw.ret);
    const out: Record<number, Uint8Array> = {};
    for (const o of raw.outs) out[o.index] = this.arena.read(o.address, o.size);
    const result: CallResult = {
      value,
      errno: errno ? errno.readInt32(errno.start) : 0,
      out,
      instructions: raw.instructions,
      returnBytes: raw.ret,
    };
    if (abi) result.abi = abi;
    if (tls) result.tls = tls;
    if (plan.returnsString && typeof value === 'number' && value !== 0) result.string = this.readCString(value);
    return result;
  }

  // ---- threads, the fakecgo way ----

  /**
   * Starts a guest thread as runtime/cgo's (and fakecgo's) `_cgo_sys_thread_start` does: signals blocked around the
   * guest's own `pthread_create`, whose start routine (fakecgo's `threadentry`) then waits for work from the host. Calls made
   * through `onThread(thread)` run on it — its own stack, TLS and errno.
   */
  startThread(options: { detached?: boolean } = {}): GuestThreadHandle {
    const word = this.arch === 'amd64' ? 8 : 4;
    this.workerCode ??= this.code.place(generateWorker(this.arch));
    const mailbox = this.threadMemory(WORKER_MAILBOX.size);
    const attr = this.threadMemory(PTHREAD_ATTR_BYTES);
    const pthread = this.threadMemory(word);
    const libc = (proto: string, ...args: HostValue[]) => this.libc(proto)(...args);
    const oldMask = this.threadMemory(SIGSET_BYTES);
    libc('int pthread_sigmask(int how, const void *set, void *old)', SIG_SETMASK, new Uint8Array(SIGSET_BYTES).fill(0xff), oldMask);
    libc('int pthread_attr_init(void *attr)', attr);
    if (options.detached ?? true) libc('int pthread_attr_setdetachstate(void *attr, int state)', attr, PTHREAD_CREATE_DETACHED);
    const before = this.process.threads.threads.length;
    const created = libc('int pthread_create(void *thread, const void *attr, void *(*start)(void *), void *arg)', pthread, attr, this.workerCode, mailbox);
    libc('int pthread_attr_destroy(void *attr)', attr);
    libc('int pthread_sigmask(int how, const void *set, void *old)', SIG_SETMASK, oldMask, null);
    if (created.value !== 0) throw new ArgumentError(`pthread_create failed in the guest with error ${created.value}`);
    const thread = this.process.threads.threads[before]!;
    // Let the new thread start and park in its start routine, waiting for the first call.
    this.process.runUntilHost([thread], this.process.layout.trapPage, this.callBudget);
    const handle: GuestThreadHandle = {
      tid: thread.tid,
      pthread: Number(unsignedOf(this.read(pthread, word))),
      thread,
      mailbox,
      errnoAddress: 0,
      threadPointer: 0,
    };
    this.threadHandles.set(thread, handle);
    const onIt = (proto: string) => {
      const p = this.declarations.parsePrototype(proto);
      return Number(this.callOnThreads([{ thread: handle, address: this.address(p.name, 'libc.so.6'), proto: p, args: [] }], false)[0]!.value);
    };
    handle.errnoAddress = onIt('int *__errno_location(void)');
    handle.threadPointer = onIt('void *pthread_self(void)');
    return handle;
  }

  /** Makes calls on a thread started with `startThread` (fakecgo: code running on that M). */
  onThread(handle: GuestThreadHandle): { fn(library: string | undefined, prototype: string | Prototype): CFunction } {
    return {
      fn: (library, prototype) => {
        const proto = typeof prototype === 'string' ? this.declarations.parsePrototype(prototype) : prototype;
        return this.cFunction(proto, this.resolver(proto.name, library), (address, args) => this.concurrently([{ thread: handle, address, proto, args }])[0]!);
      },
    };
  }

  /**
   * Runs calls on several started threads at the same time: each call is posted to its thread, then the
   * scheduler interleaves them deterministically until all are done. Results come back in order.
   */
  concurrently(calls: ThreadCall[]): CallResult[] {
    return this.callOnThreads(calls, true);
  }

  /** `instrument`: apply checking and the TLS watch (not for the host's own bookkeeping calls). */
  private callOnThreads(calls: ThreadCall[], instrument: boolean): CallResult[] {
    if (this.inCallback > 0) {
      throw new ArgumentError('cannot call on started threads (onThread, concurrently) from inside a callback: a callback may call functions from m.fn / m.fnAt, which run on the main thread');
    }
    this.requireLiveProcess();
    for (const c of calls) {
      if (!this.process.threads.threads.includes(c.thread.thread)) {
        throw new ArgumentError(`thread ${c.thread.tid} was started in the process before reset(): start it again`);
      }
    }
    const mainLayout = this.prepareInstrumentation(instrument);
    this.arena.reset();
    const word = this.arch === 'amd64' ? 8 : 4;
    const posted = calls.map((c) => {
      if (c.thread.thread.state !== 'host') throw new ArgumentError(`thread ${c.thread.tid} is busy (or has exited): one call at a time per thread`);
      const plan = this.plans(c.proto).planFor(c.args);
      const block = writeBlock(this.env, plan, c.address, c.args);
      const trampoline = this.trampolineFor(plan, c.thread.mailbox + WORKER_MAILBOX.trampolineMailbox);
      this.process.engine.write(c.thread.mailbox + WORKER_MAILBOX.block, bytesOf(block.address, word));
      this.process.engine.write(c.thread.mailbox + WORKER_MAILBOX.trampoline, bytesOf(trampoline, word));
      if (c.thread.errnoAddress) this.process.engine.write(c.thread.errnoAddress, new Uint8Array(4));
      c.thread.thread.state = 'runnable';
      return { plan, block };
    });
    // Every thread's static TLS sits at the same offsets from its own thread pointer: shift the main thread's view.
    const watches = mainLayout
      ? calls.map((c) => new TlsWatch(this.process, this.threadTlsLayout(mainLayout, c.thread)))
      : undefined;
    watches?.forEach((w) => w.start());
    const check = instrument && this.checking;
    const watch = check || (instrument && this.checker.onCall !== undefined);
    if (watch) this.checker.begin(calls.map((c, i) => ({ thread: c.thread.tid, target: c.address, spec: posted[i]!.plan.spec })));
    let instructions: number[];
    try {
      instructions = this.process.runUntilHost(calls.map((c) => c.thread.thread), this.process.layout.trapPage, this.callBudget * calls.length);
    } catch (error) {
      const found = watch ? this.checker.end() : [];
      if (check && error instanceof Error) Object.assign(error, { abi: report(found) });
      watches?.forEach((w) => w.stop());
      throw error;
    }
    const found = watch ? this.checker.end() : [];
    const violations = check ? found : [];
    const tls = watches?.map((w) => w.stop());
    return posted.map((p, i) => {
      const abi = check ? report(violations.filter((v) => v.thread === calls[i]!.thread.tid)) : undefined;
      const { errnoAddress } = calls[i]!.thread;
      const errno = errnoAddress ? new GuestWindow(this.process.space, this.process.engine, errnoAddress, 4, this.direct) : undefined;
      return this.result(p.plan, readBlock(this.env, p.plan, p.block, instructions[i]!), errno, abi, tls?.[i]);
    });
  }

  /** Throws MachineExitedError once the guest process has ended: every later call would fail the same way. */
  private requireLiveProcess(): void {
    const ending = this.process.kernel.exit ?? this.process.kernel.failure;
    if (ending) throw new MachineExitedError(ending);
  }

  /** A started thread's TLS layout: the main thread's, moved to its thread pointer, with its own errno. */
  private threadTlsLayout(main: TlsLayout, handle: GuestThreadHandle): TlsLayout {
    const delta = handle.threadPointer - main.threadPointer;
    const word = this.arch === 'amd64' ? 8 : 4;
    return {
      ...main,
      threadPointer: handle.threadPointer,
      tcb: {
        start: handle.threadPointer,
        fields: main.tcb.fields.map((f) => ({ ...f, value: `0x${unsignedOf(this.read(handle.threadPointer + f.offset, word)).toString(16)}` })),
      },
      modules: main.modules.map((m) => ({ ...m, start: m.start + delta })),
      errno: handle.errnoAddress,
    };
  }

  /** A hash of the thread interleaving so far (identical on every run of the same calls). */
  get schedule(): string {
    return this.process.threads.scheduleHash();
  }

  /** Long-lived guest memory for thread bookkeeping (mailboxes, pthread_t, attributes). */
  private threadMemory(size: number): number {
    const align = 16;
    if (!this.threadRegion || this.threadRegion.used + size > THREAD_REGION_BYTES) {
      const base = this.process.space.mapAnywhere(THREAD_REGION_BYTES, PROT_READ | PROT_WRITE, '[shimulator threads]');
      this.threadRegion = { base, used: 0 };
    }
    const address = this.threadRegion.base + this.threadRegion.used;
    this.threadRegion.used += Math.ceil(size / align) * align;
    return address;
  }

  /**
   * Shim under test: calls the user's trampoline `shim` (by default with the target's prototype and arguments,
   * i.e. a forwarding shim) and, at the moment it transfers control to `target`, diffs every argument register
   * and stack slot against what the target's CallSpec requires for `args`.
   */
  testShim(options: ShimTestOptions): ShimTestResult {
    if (this.inCallback > 0) throw new ArgumentError('cannot test a shim from inside a callback: call testShim between calls');
    const proto = this.declarations.parsePrototype(options.prototype);
    const shimProto = options.shimPrototype
      ? this.declarations.parsePrototype(options.shimPrototype)
      : { ...proto, name: options.shim, text: proto.text.replace(proto.name, options.shim) };
    const targetAddress = this.address(proto.name, options.targetLibrary);
    const shimAddress = this.address(shimProto.name, options.library);
    const targetPlan = this.plans(proto).planFor(options.args);
    const targetSpec = targetPlan.spec;
    const shimArgs = options.shimArgs ?? options.args;
    const shimPlan = this.plans(shimProto).planFor(shimArgs);

    const tlsLayout = this.prepareInstrumentation(true);
    this.arena.reset();
    const shimOuts = encodeBlock(this.env, shimPlan, shimAddress, shimArgs);
    // A forwarding shim receives the very values (and string pointers) the target must get.
    let expected = argumentImages(shimPlan);
    if (options.shimArgs) {
      const shimImage = shimPlan.image.slice();
      encodeBlock(this.env, targetPlan, targetAddress, options.args);
      expected = argumentImages(targetPlan);
      shimPlan.image.set(shimImage); // the same plan when the prototypes are one
    }
    const shimBlock = placeBlock(this.env, shimPlan, shimOuts);

    const engine = this.process.engine;
    const word = this.arch === 'amd64' ? 8 : 4;
    let diffs: ArgumentDiff[] | undefined;
    // Filtered to the target's entry: no JavaScript at the other blocks of the call.
    const at = this.targetEntrySet(engine);
    at.add(targetAddress);
    const watch = engine.addBlockObserver((address) => {
      if (address !== targetAddress || diffs) return;
      const sp = Number(engine.reg(this.arch === 'amd64' ? 'rsp' : 'esp'));
      diffs = diffArguments(targetSpec, expected, {
        register: (name) =>
          name.startsWith('xmm')
            ? engine.regBytes(name as RegName, 16)
            : bytesOf(engine.reg(name as RegName), word),
        stack: (offset, size) => engine.read(sp + word + offset, size),
      });
    });
    let result: CallResult;
    try {
      result = this.execute(shimAddress, shimPlan, shimBlock, this.callBudget, true, tlsLayout);
    } finally {
      watch.remove();
      at.remove(targetAddress);
    }
    return { ok: diffs !== undefined && diffs.length === 0, reached: diffs !== undefined, diffs: diffs ?? [], result };
  }

  /** One address set per engine for testShim's observer (sets live as long as their engine). */
  private targetEntrySet(engine: Engine): AddressSet {
    if (this.targetEntries?.engine !== engine) this.targetEntries = { engine, set: engine.createAddressSet() };
    return this.targetEntries.set;
  }

  /**
   * A guest function pointer that runs `fn` when C code calls it, e.g.
   * `m.callback('int (*)(const void *, const void *)', (a, b) => …)` for qsort. Arguments arrive decoded
   * (pointers as numbers: read what they point to with `m.read`); the return value is encoded by the type.
   */
  callback(type: string, fn: CallbackFunction, options: CallbackOptions = {}): Callback {
    return this.callbacks.create(this.declarations.parseType(type), type, fn, this.variadicTypes(type, options));
  }

  /** A variadic callback's per-call description of its variadic types (see CallbackOptions). */
  private variadicTypes(type: string, options: CallbackOptions): VariadicTypes | undefined {
    const { varargs, format } = options;
    if (varargs && format !== undefined) throw new ArgumentError(`callback ${type}: give either varargs or format, not both`);
    if (varargs) {
      const parsed = new Map<string, CType>();
      const parse = (name: string) => {
        let t = parsed.get(name);
        if (!t) parsed.set(name, (t = this.declarations.parseType(name)));
        return t;
      };
      return (fixed) => varargs(...fixed).map(parse);
    }
    if (format === undefined) return undefined;
    return (fixed) => {
      const pointer = fixed[format];
      if (typeof pointer !== 'number') throw new ArgumentError(`callback ${type}: argument ${format} is not a format string pointer (got ${String(pointer)})`);
      const text = this.readCString(pointer, PRINTF_FORMAT_MAX);
      const types = printfVariadicTypes(text);
      if (!types) throw new ArgumentError(`callback ${type}: the format ${JSON.stringify(text)} uses positional arguments (%1$d), which cannot be followed; pass { varargs } instead`);
      return types;
    };
  }

  /** dlopen through the guest's own glibc (RTLD_NOW | RTLD_GLOBAL); returns the handle. */
  dlopen(path: string, flags = RTLD_NOW | RTLD_GLOBAL): number {
    const handle = Number(this.libc('void *dlopen(const char *file, int mode)')(path, flags).value);
    if (handle === 0) throw new DlopenError(`dlopen("${path}") failed in the guest: ${this.dlerror() ?? 'no reason given'}`);
    return handle;
  }

  /** dlsym through the guest's own glibc; returns the address or throws with dlerror's text. */
  dlsym(handle: number, name: string): number {
    const address = Number(this.libc('void *dlsym(void *handle, const char *name)')(handle, name).value);
    if (address === 0) throw new DlopenError(`dlsym(${name}) failed in the guest: ${this.dlerror() ?? 'no reason given'}`);
    return address;
  }

  private dlerror(): string | undefined {
    return this.libc('char *dlerror(void)')().string;
  }

  /** Reads a NUL-terminated string from guest memory (at most `max` bytes). */
  readCString(address: number, max = 1 << 20): string {
    const bytes: number[] = [];
    const chunk = 64;
    while (bytes.length < max) {
      const block = this.readAvailable(address + bytes.length, chunk);
      if (block.length === 0) break;
      const nul = block.indexOf(0);
      if (nul >= 0) {
        bytes.push(...block.subarray(0, nul));
        break;
      }
      bytes.push(...block);
    }
    return new TextDecoder().decode(Uint8Array.from(bytes));
  }

  /** Reads up to `size` bytes, stopping at the end of mapped memory. */
  private readAvailable(address: number, size: number): Uint8Array {
    const region = this.process.space.find(address);
    if (!region) return new Uint8Array(0);
    return this.process.engine.read(address, Math.min(size, region.end - address));
  }

  read(address: number, size: number): Uint8Array {
    return this.process.engine.read(address, size);
  }

  close(): void {
    this.closed = true; // before the host memory goes: no window may be used from now on
    this.callCpu.free();
    this.process.close();
  }

  private libc(prototype: string): CFunction {
    let f = this.internal.get(prototype);
    if (!f) {
      f = this.fn('libc.so.6', prototype);
      this.internal.set(prototype, f);
    }
    return f;
  }

  /** The reference trampoline for a plan: generated once per distinct placement and kept in the code arena. */
  private trampolineFor(plan: CallPlan, mailbox = this.mailbox): number {
    const main = mailbox === this.mailbox;
    let address = main ? this.planTrampolines.get(plan) : undefined;
    if (address !== undefined) return address;
    const key = `${mailbox}:${plan.placementKey}`;
    address = this.trampolines.get(key);
    if (address === undefined) {
      address = this.code.place(generateTrampoline(plan.spec, mailbox));
      this.trampolines.set(key, address);
    }
    if (main) this.planTrampolines.set(plan, address);
    return address;
  }

  private resolveCallable(symbol: ResolvedSymbol): number {
    if (symbol.symbol.type !== 'GNU_IFUNC') return symbol.address;
    return this.callResolver(symbol.address, symbol.name);
  }
}

function report(violations: Violation[]): AbiReport {
  return { ok: violations.every((v) => v.severity !== 'error'), violations };
}

/**
 * Loads what checking needs before a checked run (Capstone, for the x87-empty-pop rule's look at callers' code).
 * `Machine.boot({ check: true })` does it; call it yourself before turning `machine.checking` on later, or before
 * a whole-program run. Idempotent.
 */
export function loadAbiChecker(): Promise<void> {
  return loadDisassembler();
}
