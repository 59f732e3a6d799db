/**
 * Machine: the public entry point. Boots an emulated i386 or amd64 process on real Debian glibc and calls C
 * functions in it from TypeScript, cgo-style (`value, errno`).
 *
 *   const m = await Machine.boot({ arch: 'amd64', libs: ['libpcap.so.0.8'] });
 *   const snprintf = m.fn('libc.so.6', 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)');
 *   const r = snprintf(out(64), 64, '%f', vararg.double(1.5));   // r.value === 8, r.out[0] holds "1.500000"
 */
import type { Arch } from './emu/arch.ts';
import { CapturedOutput, type OutputSink } from './kernel/output.ts';
import type { GuestThread } from './kernel/threads.ts';
import { PROT_EXEC, PROT_WRITE } from './emu/engine.ts';
import type { CountingInfo } from './emu/block-counter.ts';
import type { Callback, CallbackFunction, CallbackRegistry } from './callspec/callback.ts';
import { type CallbackOptions, variadicTypes } from './callspec/callback-varargs.ts';
import { type CallResult, type HostCaller, MachineExitedError } from './callspec/host-call.ts';
import { type CFunction, cFunction } from './callspec/c-function.ts';
import type { GuestThreadHandle, GuestThreads, ThreadCall } from './callspec/guest-threads.ts';
import type { DirectAccess } from './callspec/guest-window.ts';
import { PlanCache } from './callspec/plan.ts';
import { Declarations } from './callspec/parse.ts';
import type { CallSpec, Prototype } from './callspec/types.ts';
import { ArgumentError, completeVariadicType, type HostValue } from './callspec/values.ts';
import type { CallEvent } from './check/calls.ts';
import { callIfuncResolver, resolveAllIfuncs } from './check/ifunc.ts';
import { PrintfHostCheck } from './check/printf-host-check.ts';
import { type ShimTestOptions, type ShimTestResult, testShim } from './check/shim-test.ts';
import type { TlsLayout } from './check/tls-watch.ts';
import { readTlsLayout } from './check/tls-layout.ts';
import { loadDisassembler } from './trace/disassemble.ts';
import { activeRecording } from './trace/recorder.ts';
import { type BootedProcess, type BootOptions, bootProcess, type MachineSide, startCached, UnknownLibraryError } from './loader/boot.ts';
import { findFixture } from './loader/fixtures.ts';
import { DEFAULT_CALL_TIMEOUT_SECONDS } from './loader/limits.ts';
import type { Process } from './loader/process.ts';
import type { ResolvedSymbol, SymbolTable } from './loader/symbols.ts';
import { SnapshotMismatchError } from './snapshot/errors.ts';
import { type HostCallState, MachineSnapshot } from './snapshot/machine-snapshot.ts';
import { applyProcess, captureProcess } from './snapshot/process-state.ts';

export type { CallResult };
export { MachineExitedError };
export type { GuestThreadHandle, ThreadCall };
export type { ShimTestOptions, ShimTestResult };
export type { BootOptions };
export { UnknownLibraryError };
export type { CallbackOptions };
export type { CFunction };

export const DEFAULT_CALL_BUDGET = 20_000_000;
const RTLD_NOW = 2;
const RTLD_GLOBAL = 0x100;

/** The in-memory copy of a stream, when the output goes to the default sink. */
function captured(sink: OutputSink): CapturedOutput | undefined {
  return sink instanceof CapturedOutput ? sink : undefined;
}

export class DlopenError extends Error {
  override name = 'DlopenError';
}


export class Machine {
  readonly arch: Arch;
  /** C declarations: host-side, so they survive `reset()`. */
  readonly declarations: Declarations;
  private readonly options: BootOptions;
  private booted!: BootedProcess;
  /** Counts boots: CFunctions and thread handles notice a `reset()` by it. */
  private generation = 0;
  /** Whether guest windows may be used: not while a trace records host writes, never after `close()`. */
  private readonly direct: DirectAccess;
  private closed = false;
  private readonly callBudget: number;
  private outputTaken = { stdout: 0, stderr: 0 };
  private internal = new Map<string, CFunction>();
  /** Call plans per prototype (pure: they survive `reset()`). */
  private readonly planCaches = new WeakMap<Prototype, PlanCache>();
  /** The host printf check's memo (per plan, so it survives `reset()` too). */
  private readonly printf: PrintfHostCheck;
  private checkingOn = false;
  private madeBy: 'boot' | 'cache' | 'fork' = 'boot';

  /** How this machine came to be: a boot that ran ld.so, a restore from the boot image cache, or `fork()`. */
  get origin(): 'boot' | 'cache' | 'fork' {
    return this.madeBy;
  }

  /** What the host's layers ask of this machine (see MachineSide). */
  private readonly side: MachineSide;

  /** Host calls into the booted process, and the threads started in it (replaced with it). */
  private get calls(): HostCaller {
    return this.booted.calls;
  }

  private get threads(): GuestThreads {
    return this.booted.threads;
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
  private tlsLayoutCache: { generation: number; layout: TlsLayout } | undefined;

  private constructor(options: BootOptions, image?: MachineSnapshot) {
    this.options = options;
    this.arch = options.arch ?? 'amd64';
    this.declarations = new Declarations({ arch: this.arch });
    if (options.decls) this.declarations.addDeclarations(options.decls);
    this.callBudget = options.callBudget ?? DEFAULT_CALL_BUDGET;
    this.checking = options.check ?? false;
    this.watchTls = options.watchTls ?? false;
    this.printf = new PrintfHostCheck(this.arch, (address, max) => this.readCString(address, max));
    const machine = this;
    this.direct = {
      // Asked several times per call: straight to the engine, not through the `process` getter.
      get on() {
        return !machine.closed && activeRecording(machine.booted.calls.env.engine) === undefined;
      },
    };
    this.side = {
      arch: this.arch,
      declarations: this.declarations,
      direct: this.direct,
      printf: this.printf,
      callBudget: this.callBudget,
      checking: () => this.checking,
      watchTls: () => this.watchTls,
      tlsLayout: () => this.tlsLayout(),
      readCString: (address, max) => this.readCString(address, max),
      resolveIfunc: (address, name) => this.callResolver(address, name),
      plans: (proto) => this.plans(proto),
      address: (name, library) => this.address(name, library),
      libc: (proto, ...args) => this.libc(proto)(...args),
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
    this.booted = bootProcess(options, this.side, image);
    this.generation++;
    if (image) {
      this.applyHostState(image);
    } else {
      this.calls.errnoAddress = Number(this.libc('int *__errno_location(void)')().value);
      let guestPathIndex = 0;
      for (const lib of options.libs ?? []) {
        const bundled = findFixture(this.arch, lib);
        this.dlopen(bundled ? bundled.name : this.process.mountedLibraries[guestPathIndex++]!);
      }
      // The boot's mappings are settled: lay them out as a restored image's are (data apart from code in Unicorn's
      // memory, where stores are cheaper), so that a machine is as fast booted as restored (src/emu/ram-layout.ts).
      this.process.engine.relayout();
    }
    this.process.scheduler.callTimeoutSeconds = options.callTimeoutSeconds ?? DEFAULT_CALL_TIMEOUT_SECONDS;
  }

  /**
   * The whole machine as it is now — guest memory, every thread's CPU, the kernel, the host's call bookkeeping —
   * for `restore` (milliseconds) or `fork`. Refused (SnapshotUnsupportedError) while the guest holds a pipe,
   * eventfd or epoll instance, or after it ended.
   */
  snapshot(): MachineSnapshot {
    if (this.calls.inCallback > 0) throw new ArgumentError('cannot take a snapshot from inside a callback');
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
    if (this.calls.inCallback > 0) throw new ArgumentError('cannot restore a snapshot from inside a callback');
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
    return { ...this.calls.state(), ...this.threads.state(), outputTaken: { ...this.outputTaken } };
  }

  private applyHostState(snapshot: MachineSnapshot): void {
    const host = snapshot.host;
    this.calls.restoreState(host);
    this.callbacks.restoreState(snapshot.callbacks);
    this.threads.restoreState(host);
    this.outputTaken = { ...host.outputTaken };
    // Symbols may have moved (libraries dlopen'ed since): every CFunction looks its symbol up again.
    this.generation++;
    this.internal = new Map();
    this.tlsLayoutCache = undefined;
  }

  /** Drops what pointed into the previous process: cached functions, output positions, the TLS layout (host calls and threads come anew with the boot). */
  private forgetGuestAddresses(): void {
    this.outputTaken = { stdout: 0, stderr: 0 };
    this.internal = new Map();
    this.tlsLayoutCache = undefined;
  }

  /**
   * A fresh process after the guest ended (exit, abort, a fatal signal, the output limit) or whenever a clean one is
   * wanted: boots again with the same BootOptions, in this same Machine. Host-side settings carry over
   * (declarations, `checking`, `watchTls`, `onCall`). CFunctions from `fn` keep working (they look their symbol
   * up again in the new process); those from `fnAt`, callbacks, dlopen handles and started threads belong to the
   * old process: make them again.
   */
  reset(): void {
    if (this.calls.inCallback > 0) throw new ArgumentError('cannot reset the machine from inside a callback: the call that runs the callback is still in the process');
    const onCall = this.onCall;
    this.close();
    this.closed = false;
    this.startCached();
    this.onCall = onCall;
  }

  /** Starts the process from the boot image cache when it holds this boot; else boots it, and caches the result. */
  private startCached(): void {
    this.madeBy = startCached(this.options, this.arch, {
      start: (image) => this.start(this.options, image),
      snapshot: () => this.snapshot(),
      outputBytes: () => this.process.kernel.outputBytes,
    });
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
    return this.calls.checker.onCall;
  }

  set onCall(listener: ((event: CallEvent) => void) | undefined) {
    this.calls.checker.onCall = listener;
  }

  /**
   * Resolves every IFUNC symbol of every loaded object (host calls of the resolvers) and remembers the chosen
   * implementations for this build of each object (src/check/ifunc.ts), so that checkers need no host call for
   * them later. Returns the number of IFUNC symbols per object.
   */
  resolveAllIfuncs(): Record<string, number> {
    return resolveAllIfuncs(this.symbols.objects(), (address, name) => this.callResolver(address, name));
  }

  /** Calls an IFUNC resolver (as ld.so does) and remembers the implementation it picked for this object's build. */
  private callResolver(address: number, name: string): number {
    const resolver = this.declarations.parsePrototype(`void *${name}_ifunc_resolver(void)`);
    const call = (at: number) => Number(this.calls.invoke(at, this.plans(resolver), [], this.callBudget, false).value);
    return callIfuncResolver(this.arch, address, call, () => this.symbols.objects());
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
    return this.cFunction(proto, this.resolver(proto.name, library), (address, args) => this.calls.invoke(address, plans, args, this.callBudget, true));
  }

  /** A callable for a function at a known guest address (a function pointer, a dlsym result). */
  fnAt(address: number, prototype: string | Prototype): CFunction {
    const proto = typeof prototype === 'string' ? this.declarations.parsePrototype(prototype) : prototype;
    const plans = this.plans(proto);
    return this.cFunction(proto, () => address, (at, args) => this.calls.invoke(at, plans, args, this.callBudget, true));
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
    return cFunction(proto, address, call, (p, args) => this.specFor(p, args));
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
    return this.calls.invoke(address, this.plans(proto), args, budget, true);
  }

  /**
   * The calling thread's TLS layout: thread pointer, TCB fields, each module's static TLS block (from the guest's
   * own dlinfo(RTLD_DI_TLS_DATA)) and errno's address.
   */
  tlsLayout(): TlsLayout {
    const generation = this.process.space.generation;
    if (this.tlsLayoutCache?.generation === generation) return this.tlsLayoutCache.layout;
    const layout = readTlsLayout({
      process: this.process,
      objects: () => this.symbols.objects(),
      libc: (proto, ...args) => {
        const p = this.declarations.parsePrototype(proto);
        return this.calls.invoke(this.address(p.name, 'libc.so.6'), this.plans(p), args, this.callBudget, false);
      },
      errnoAddress: this.calls.errnoAddress,
    });
    this.tlsLayoutCache = { generation, layout };
    return layout;
  }

  // ---- threads, the fakecgo way ----

  /**
   * Starts a guest thread as runtime/cgo's (and fakecgo's) `_cgo_sys_thread_start` does: signals blocked around the
   * guest's own `pthread_create`, whose start routine (fakecgo's `threadentry`) then waits for work from the host. Calls made
   * through `onThread(thread)` run on it — its own stack, TLS and errno.
   */
  startThread(options: { detached?: boolean } = {}): GuestThreadHandle {
    return this.threads.start(options);
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
    return this.threads.call(calls, true);
  }

  /** A hash of the thread interleaving so far (identical on every run of the same calls). */
  get schedule(): string {
    return this.process.threads.scheduleHash();
  }

  /**
   * Shim under test: calls the user's trampoline `shim` (by default with the target's prototype and arguments,
   * i.e. a forwarding shim) and, at the moment it transfers control to `target`, diffs every argument register
   * and stack slot against what the target's CallSpec requires for `args`.
   */
  testShim(options: ShimTestOptions): ShimTestResult {
    return testShim(options, {
      calls: this.calls,
      callBudget: this.callBudget,
      parsePrototype: (text) => this.declarations.parsePrototype(text),
      address: (name, library) => this.address(name, library),
      plans: (proto) => this.plans(proto),
    });
  }

  /**
   * A guest function pointer that runs `fn` when C code calls it, e.g.
   * `m.callback('int (*)(const void *, const void *)', (a, b) => …)` for qsort. Arguments arrive decoded
   * (pointers as numbers: read what they point to with `m.read`); the return value is encoded by the type.
   */
  callback(type: string, fn: CallbackFunction, options: CallbackOptions = {}): Callback {
    return this.callbacks.create(
      this.declarations.parseType(type), type, fn,
      variadicTypes(type, options, (name) => this.declarations.parseType(name), (address, max) => this.readCString(address, max)),
    );
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

  /** `size` bytes of guest memory at `address` (a copy). */
  read(address: number, size: number): Uint8Array {
    return this.process.engine.read(address, size);
  }

  /**
   * Writes `bytes` into guest memory at `address`, where the guest itself could store them: every byte must be in a
   * writable, non-executable mapping (code changes only through the guest, so no translation can go stale).
   * @throws ArgumentError naming the first byte that is not writable.
   */
  write(address: number, bytes: Uint8Array): void {
    const space = this.process.space;
    for (let at = address; at < address + bytes.length;) {
      const region = space.find(at);
      if (!region || (region.prot & PROT_WRITE) === 0 || (region.prot & PROT_EXEC) !== 0) {
        const what = !region ? 'is not mapped' : (region.prot & PROT_WRITE) === 0 ? 'is read-only' : 'is code (executable)';
        throw new ArgumentError(`cannot write ${bytes.length} byte(s) at 0x${address.toString(16)}: 0x${at.toString(16)} ${what} in the guest; write into memory the guest allocated (malloc, out(), a global it writes)`);
      }
      at = region.end;
    }
    this.process.engine.write(address, bytes);
  }

  close(): void {
    this.closed = true; // before the host memory goes: no window may be used from now on
    this.booted.callCpu.free();
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

  private resolveCallable(symbol: ResolvedSymbol): number {
    if (symbol.symbol.type !== 'GNU_IFUNC') return symbol.address;
    return this.callResolver(symbol.address, symbol.name);
  }
}

/**
 * Loads what checking needs before a checked run (Capstone, for the x87-empty-pop rule's look at callers' code).
 * `Machine.boot({ check: true })` does it; call it yourself before turning `machine.checking` on later, or before
 * a whole-program run. Idempotent.
 */
export function loadAbiChecker(): Promise<void> {
  return loadDisassembler();
}
