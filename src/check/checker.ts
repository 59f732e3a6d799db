/**
 * The ABI checker: with checking on, every call the host makes into the guest, and every call from one loaded
 * object into an exported function of another whose prototype is known, is checked at entry and at return.
 *
 * How it sees calls without per-instruction hooks: a function's first instruction always starts a basic block,
 * and so does the instruction a `ret` lands on. The engine's block observer (free: the instruction-counting hook
 * already runs per block) fires only at the addresses in one address set, filtered before JavaScript (in C with
 * native counting): watched function entries, callback entries, host call targets and open calls' return
 * addresses. It looks each one up in the table of function entries and in a shadow stack of open calls. Only
 * entries of known functions read CPU state.
 *
 * At a return into guest code the checker also reads the caller's next instructions (Capstone, cached per return
 * address) for the x87-empty-pop rule, and, when `onCall` is set, reports each call at entry and at return with
 * its arguments and return value decoded (calls.ts) — the same entry/return detection serves both.
 */
import type { Arch } from '../emu/arch.ts';
import { type AddressSpace, PAGE_SIZE } from '../kernel/address-space.ts';
import type { AddressSet, Engine, HookHandle, RegName } from '../emu/engine.ts';
import { MXCSR_CONTROL_MASK, x87Depth } from '../emu/fpu.ts';
import { callSpec } from '../callspec/classify.ts';
import type { CallSpec, Prototype } from '../callspec/types.ts';
import type { MappedObject, Process } from '../loader/process.ts';
import { disassemblerLoaded, disassembleRun } from '../trace/disassemble.ts';
import { type CallEvent, type CallValue, type MachineView, readArguments, readReturn } from './calls.ts';
import { cachedIfuncImplementation, recordIfuncImplementation } from './ifunc.ts';
import { analysePrintfFormat, PRINTF_FORMAT_INDEX, printfVariadicTypes } from './printf-format.ts';
import {
  type AbiReport, checkCallerCleanup, checkEntry, type CheckedCall, checkReturn, checkX87EmptyPop, type CpuState, type StackCleanup,
  type Violation, type X87Read,
} from './rules.ts';
import { stackCleanup } from './stack-cleanup.ts';
import { X87_SCAN_INSTRUCTIONS, x87Reads } from './x87-scan.ts';
import { WIN64_CALLEE_SAVED_XMM, WIN64_EXTRA_CALLEE_SAVED } from '../callspec/classify-win64.ts';

const CALLEE_SAVED: Record<Arch, RegName[]> = {
  amd64: ['rbx', 'rbp', 'r12', 'r13', 'r14', 'r15'],
  i386: ['ebx', 'esi', 'edi', 'ebp'],
};
/** A snapshot reads these first (flags, rax, x87 tags, fpcw, mxcsr), then the callee-saved registers. */
const SNAPSHOT_STATE_COUNT = 5;
function snapshotRegisters(arch: Arch, calleeSaved: readonly RegName[]): RegName[] {
  return [arch === 'amd64' ? 'rflags' : 'eflags', arch === 'amd64' ? 'rax' : 'eax', 'fptag', 'fpcw', 'mxcsr', ...calleeSaved];
}
const SNAPSHOT_REGISTERS: Record<Arch, RegName[]> = {
  amd64: snapshotRegisters('amd64', CALLEE_SAVED.amd64),
  i386: snapshotRegisters('i386', CALLEE_SAVED.i386),
};
const SNAPSHOT_REGISTERS_MS_ABI = snapshotRegisters('amd64', [...CALLEE_SAVED.amd64, ...WIN64_EXTRA_CALLEE_SAVED]);
const NARROW_INT_BYTES = 4;
const XMM_BYTES = 16;

function bytesToBigInt(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}
/** Longest x86 instruction: the scan after a return address reads at most this many bytes per instruction. */
const MAX_INSTRUCTION_BYTES = 15;

/** A function whose entry the checker watches. */
interface WatchedFunction {
  name: string;
  address: number;
  object: MappedObject;
  proto: Prototype;
  spec: CallSpec;
}

interface Frame {
  /** Sequence number of the call (violations and call events carry it). */
  id: number;
  call: CheckedCall;
  entry: CpuState;
  returnAddress: number;
  fromHost: boolean;
  /** The object the called function is in. */
  object: MappedObject | undefined;
  /** Entered by a jump from the frame below (same return address, same stack slot): it returns with it. */
  tailCall: boolean;
  /** With `onCall`: the entry event (its decoded arguments are repeated at return). */
  event?: CallEvent;
  /** With `onCall`: the spec the arguments were decoded with (includes printf's variadic arguments when known). */
  eventSpec?: CallSpec;
}

interface ObjectSpan {
  start: number;
  end: number;
  object: MappedObject;
}

export interface CheckerHost {
  readonly process: Process;
  /** The loaded objects (from ld.so's link map). */
  objects(): MappedObject[];
  /** The prototype of an exported function, when known (the built-in catalog, the user's --decls). */
  prototypeOf(name: string): Prototype | undefined;
  /**
   * The implementation address of an IFUNC symbol by calling its resolver in the guest (a host call: only possible
   * between calls). Without it, only IFUNCs known from `precomputeIfuncImplementations` (ifunc.ts) are watched.
   */
  resolveIfunc?(address: number, name: string): number;
  /** Guest code the host generated (trampolines, callback stubs): calls from there are the host's. */
  isHostCode(address: number): boolean;
  readCString(address: number, max?: number): string;
  /** The id of the thread on the CPU (checks are per thread: each has its own stack of open calls). */
  currentThread(): number;
  /** Told about each violation as it is found (traces record them at the current step). */
  onViolation?(violation: Violation): void;
}

/** What `beginNestedHostCall` saved of the outer call (opaque outside this file). */
export interface NestedHostCall {
  readonly thread: number;
  readonly target: number;
  readonly outer: { target: number; spec: CallSpec; entered: boolean } | undefined;
  readonly depth: number;
  readonly from: number;
}

export class AbiChecker {
  private readonly arch: Arch;
  private functions = new Map<number, WatchedFunction>();
  /** Function pointers handed to watched functions (see watchCallbacks), kept until `end`. */
  private callbacks = new Map<number, WatchedFunction>();
  private spans: ObjectSpan[] = [];
  private builtForGeneration = -1;
  private readonly ifuncCache = new Map<number, number>();
  /** Open calls per thread. */
  private frames = new Map<number, Frame[]>();
  private violations: Violation[] = [];
  /** The host calls in progress, per thread. */
  private hostCalls = new Map<number, { target: number; spec: CallSpec; entered: boolean }>();
  private observer: HookHandle | undefined;
  /**
   * The block starts the observer fires at (counted: an address can be an entry, a callback and a return
   * address at once): the entries in `functions` and `callbacks`, the host calls' targets, the open calls' return
   * addresses. Made by the engine it filters (see `addresses`).
   */
  private watched: { engine: Engine; set: AddressSet; pinned: Set<number> } | undefined;
  /** Whole-program runs: stops the address space's change listener. */
  private stopFollowing: (() => void) | undefined;
  /** Calls checked since the checker was created (entries seen), for reports and benchmarks. */
  checkedCalls = 0;
  /** Whole-program runs: rebuild the watched functions when the loaded objects change. */
  private followLinkMap = false;
  private objectsKey = '';
  /**
   * Told about every watched call at entry and at return, with decoded arguments and return value (the `--calls`
   * view; format with `formatCallLine` or `callPrinter`). Unset, nothing is decoded.
   */
  onCall: ((event: CallEvent) => void) | undefined;
  /** What the code after each return address does to the x87 stack and the stack pointer, for this address space. */
  private x87Scans = new Map<number, { x87: X87Read[]; cleanup: StackCleanup | undefined }>();
  /** Specs with printf's variadic arguments, by function and format types (classification is not free). */
  private readonly variadicSpecs = new Map<string, CallSpec>();

  /** The observer added at each `begin` (one function for every call: no closure per call). */
  private readonly blockObserver = (address: number): void => this.onBlock(address);

  constructor(private readonly host: CheckerHost) {
    this.arch = host.process.arch;
  }

  /** Starts watching: call before a host call (not from inside guest execution: IFUNCs may be resolved). */
  beginHostCall(target: number, spec: CallSpec, thread = this.host.currentThread()): void {
    this.begin([{ thread, target, spec }]);
  }

  /** Starts watching host calls made on several threads at once (each thread's calls are checked separately). */
  begin(calls: { thread: number; target: number; spec: CallSpec }[]): void {
    this.refresh();
    this.forgetOpenCalls();
    this.violations = [];
    this.hostCalls = new Map(calls.map((c) => [c.thread, { target: c.target, spec: c.spec, entered: false }]));
    const addresses = this.addresses();
    for (const call of calls) addresses.add(call.target);
    this.observer = this.host.process.engine.addBlockObserver(this.blockObserver, { at: addresses });
  }

  /** The address set for the process's engine (made on first use, holding every address watched so far). */
  private addresses(): AddressSet {
    const engine = this.host.process.engine;
    if (this.watched?.engine !== engine) {
      const set = engine.createAddressSet();
      for (const address of this.functions.keys()) set.add(address);
      for (const address of this.callbacks.keys()) set.add(address);
      for (const call of this.hostCalls.values()) set.add(call.target);
      for (const frames of this.frames.values()) for (const frame of frames) set.add(frame.returnAddress);
      this.watched = { engine, set, pinned: new Set() };
    }
    return this.watched.set;
  }

  /** Drops the open calls, the host calls and the callbacks, and their addresses from the watched set. */
  private forgetOpenCalls(): void {
    const addresses = this.addresses();
    for (const frames of this.frames.values()) for (const frame of frames) addresses.remove(frame.returnAddress);
    for (const call of this.hostCalls.values()) addresses.remove(call.target);
    for (const address of this.callbacks.keys()) addresses.remove(address);
    this.frames = new Map();
    this.hostCalls = new Map();
    this.callbacks = new Map();
  }

  /**
   * Starts watching a whole-program run: no host call, every thread; the table of watched functions follows the
   * link map as the program loads libraries.
   */
  watchRun(): void {
    this.begin([]);
    this.followLinkMap = true;
    // The next block after any change of the address space brings the table up to date (see onBlock).
    const addresses = this.addresses();
    this.stopFollowing = this.host.process.space.onChange(() => {
      addresses.everyBlock = true;
    });
  }

  /** Whether calls are being watched now (a callback's nested host call then joins the watch). */
  get watching(): boolean {
    return this.observer !== undefined;
  }

  /**
   * Starts watching a host call made from inside a callback while an outer call is watched: its frames go on top
   * of the thread's open calls, and the outer call's report gets its findings too. End it with `endNestedHostCall`.
   */
  beginNestedHostCall(target: number, spec: CallSpec, thread = this.host.currentThread()): NestedHostCall {
    const nested: NestedHostCall = {
      thread,
      target,
      outer: this.hostCalls.get(thread),
      depth: this.frames.get(thread)?.length ?? 0,
      from: this.violations.length,
    };
    this.hostCalls.set(thread, { target, spec, entered: false });
    this.addresses().add(target);
    return nested;
  }

  /** Ends a nested host call: what was found during it (a failed one's open frames are dropped). */
  endNestedHostCall(nested: NestedHostCall): AbiReport {
    const addresses = this.addresses();
    addresses.remove(nested.target);
    if (nested.outer) this.hostCalls.set(nested.thread, nested.outer);
    else this.hostCalls.delete(nested.thread);
    const frames = this.frames.get(nested.thread);
    if (frames && frames.length > nested.depth) for (const frame of frames.splice(nested.depth)) addresses.remove(frame.returnAddress);
    const violations = this.violations.slice(nested.from);
    return { ok: violations.every((v) => v.severity !== 'error'), violations };
  }

  /** Stops watching and returns what was found during the call. */
  endHostCall(): AbiReport {
    const violations = this.end();
    return { ok: violations.every((v) => v.severity !== 'error'), violations };
  }

  /** Stops watching; returns every violation (each tagged with its thread). */
  end(): Violation[] {
    this.observer?.remove();
    this.observer = undefined;
    this.stopFollowing?.();
    this.stopFollowing = undefined;
    this.forgetOpenCalls();
    this.addresses().everyBlock = false;
    const violations = this.violations;
    this.violations = [];
    return violations;
  }

  /**
   * Rebuilds the table of watched functions when the address space changed (a library was loaded). `begin` does
   * it; a whole-program run calls it again whenever ld.so's link map changed (e.g. at `_dl_debug_state`). It makes
   * no host call when every IFUNC is known (precomputeIfuncImplementations) or the host cannot resolve them.
   */
  refresh(): void {
    const generation = this.host.process.space.generation;
    if (generation === this.builtForGeneration) return;
    this.builtForGeneration = generation;
    const objects = this.host.objects();
    // Mappings change far more often than the set of loaded objects (every malloc arena, every Go heap arena).
    const key = objects.map((o) => `${o.path}@${o.base}`).join(';');
    if (key === this.objectsKey) return;
    this.objectsKey = key;
    this.x87Scans = new Map();
    this.spans = objects
      .map((object) => ({ start: object.base + object.elf.loadSpan.start, end: object.base + object.elf.loadSpan.end, object }))
      .sort((a, b) => a.start - b.start);
    const functions = new Map<number, WatchedFunction>();
    for (const object of objects) {
      for (const symbol of object.elf.dynsym) {
        // Compat versions (pthread_create@GLIBC_2.1 beside @@GLIBC_2.34) are watched too: old binaries bind to them.
        if (!symbol.defined || (symbol.type !== 'FUNC' && symbol.type !== 'GNU_IFUNC')) continue;
        const proto = this.host.prototypeOf(symbol.name);
        if (!proto || proto.name !== symbol.name) continue;
        let address: number | undefined = object.base + symbol.value;
        if (symbol.type === 'GNU_IFUNC') address = this.ifunc(object, symbol.value, symbol.name);
        if (address === undefined || functions.has(address)) continue; // an alias (e.g. __snprintf) of a function already watched
        functions.set(address, { name: symbol.name, address, object, proto, spec: callSpec(proto, this.arch) });
      }
    }
    const addresses = this.addresses();
    for (const address of this.functions.keys()) addresses.remove(address);
    for (const address of functions.keys()) addresses.add(address);
    this.functions = functions;
  }

  /** An IFUNC's implementation: known for this build of the object, or resolved by the host (and remembered). */
  private ifunc(object: MappedObject, value: number, name: string): number | undefined {
    const address = object.base + value;
    let resolved = this.ifuncCache.get(address) ?? cachedIfuncImplementation(this.arch, object, value);
    if (resolved === undefined && this.host.resolveIfunc) {
      resolved = this.host.resolveIfunc(address, name);
      recordIfuncImplementation(this.arch, object, value, resolved);
    }
    if (resolved !== undefined) this.ifuncCache.set(address, resolved);
    return resolved;
  }

  private onBlock(address: number): void {
    const addresses = this.watched!.set;
    if (addresses.everyBlock) {
      // The first block after the address space changed (whole-program runs): back to the watched addresses only.
      addresses.everyBlock = false;
      this.refresh();
    }
    const thread = this.host.currentThread();
    const frames = this.frames.get(thread);
    const top = frames?.[frames.length - 1];
    if (top && address === top.returnAddress) {
      const sp = this.sp();
      if (sp > top.entry.sp) {
        this.onReturn(frames!, thread, sp);
        return;
      }
    }
    const hostCall = this.hostCalls.get(thread);
    if (hostCall && !hostCall.entered && address === hostCall.target) {
      hostCall.entered = true;
      this.onEntry(thread, hostCall.spec.function, hostCall.spec, undefined, true, this.objectAt(address));
      return;
    }
    const fn = this.functions.get(address) ?? this.callbacks.get(address);
    if (fn) this.onEntry(thread, fn.name, fn.spec, fn, false, fn.object);
  }

  private sp(): number {
    return Number(this.host.process.engine.reg(this.arch === 'amd64' ? 'rsp' : 'esp'));
  }

  private word(address: number): number {
    const size = this.arch === 'amd64' ? 8 : 4;
    // Stack words: the live host bytes behind guest memory where there are some (the same bytes uc_mem_read gives;
    // reading them costs no native call from inside the block hook). The page last read stays at hand while the
    // layout does (dataWindow's validity): a call's words are on one or two stack pages.
    const space = this.host.process.space;
    let page = this.wordPage;
    if (page?.space !== space || page.generation !== space.generation || address < page.start || address + size > page.start + PAGE_SIZE) {
      const start = address - (address % PAGE_SIZE);
      const bytes = space.dataWindow(start, PAGE_SIZE);
      page = bytes ? { space, generation: space.generation, start, bytes } : undefined;
      this.wordPage = page;
    }
    const inPage = page !== undefined && address + size <= page.start + PAGE_SIZE;
    const bytes = inPage ? page!.bytes : (space.dataWindow(address, size) ?? this.host.process.engine.read(address, size));
    const at = inPage ? address - page!.start : 0;
    // Little-endian, without a DataView per read (this runs at every watched entry); rounds above 2^53 as Number(bigint).
    const low = (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
    if (size === 4) return low;
    const high = (bytes[at + 4]! | (bytes[at + 5]! << 8) | (bytes[at + 6]! << 16) | (bytes[at + 7]! << 24)) >>> 0;
    return high * 2 ** 32 + low;
  }

  private objectAt(address: number): MappedObject | undefined {
    for (const s of this.spans) if (address >= s.start && address < s.end) return s.object;
    return undefined;
  }

  private onEntry(
    thread: number, name: string, spec: CallSpec, fn: WatchedFunction | undefined, fromHost: boolean, object: MappedObject | undefined,
  ): void {
    const engine = this.host.process.engine;
    const sp = this.sp();
    const returnAddress = this.word(sp);
    // A tail call (`jmp` to a function, e.g. glibc's calloc ending in memset): the open call's return address is
    // still at the same stack slot. Its real caller is the function that jumped: within one object it is no boundary.
    const open = this.frames.get(thread);
    const below = open?.[open.length - 1];
    const tailCall = below !== undefined && below.returnAddress === returnAddress && below.entry.sp === sp;
    if (tailCall && fn && below.object === fn.object) return;
    const callerObject = this.objectAt(returnAddress);
    // Calls inside one object (libc calling its own malloc) are that object's business, not an ABI boundary.
    if (fn && callerObject === fn.object && !tailCall) return;
    if (fn && !callerObject && !this.host.isHostCode(returnAddress)) return;
    this.checkedCalls++;
    const call: CheckedCall = {
      arch: this.arch,
      function: name,
      caller: this.describe.bind(this, returnAddress), // described only when a violation is reported
      spec,
      variadic: fromHost ? spec.al !== undefined || spec.args.some((a) => a.variadic) : (fn?.proto.variadic ?? false),
      narrowArguments: [],
    };
    if (fromHost && spec.al !== undefined) {
      call.vectorRegistersUsed = spec.al;
      call.vectorRegistersReason = 'as classified from the variadic arguments the host passed';
    } else if (fn?.proto.variadic && this.arch === 'amd64') {
      this.inferVectorRegisters(call, spec, sp);
    }
    for (const arg of spec.args) {
      if (arg.extension === 'none' || arg.size >= NARROW_INT_BYTES || arg.variadic) continue;
      const location = arg.locations[0]!;
      const container = location.kind === 'reg'
        ? Number(engine.reg(location.reg as RegName) & 0xffffffffn)
        : new DataView(engine.read(sp + this.pointerSize + location.stackOffset, NARROW_INT_BYTES).buffer).getUint32(0, true);
      call.narrowArguments.push({ index: arg.index, text: arg.text, size: arg.size, extension: arg.extension, container });
    }
    if (spec.hiddenPointer) {
      const hidden = spec.hiddenPointer;
      call.hiddenPointer = hidden.kind === 'reg' ? Number(engine.reg(hidden.reg as RegName)) : this.word(sp + this.pointerSize + hidden.stackOffset);
    }
    if (fn) this.watchCallbacks(fn, spec, sp);
    const entry = this.snapshot(sp, spec);
    const frames = this.frames.get(thread) ?? [];
    const enclosing = frames[frames.length - 1];
    if (enclosing && !fromHost) call.enclosingSp = enclosing.entry.sp;
    this.frames.set(thread, frames);
    const frame: Frame = { id: ++this.callSequence, call, entry, returnAddress, fromHost, object, tailCall };
    const violations = checkEntry(call, entry);
    this.report(violations, thread, frame, frames);
    frames.push(frame);
    this.watchReturn(returnAddress, fromHost);
    if (this.onCall) this.emitEntry(frame, fn, sp, thread, frames.length - 1, violations);
  }

  private callSequence = 0;
  /** The stack page `word` read last (see there). */
  private wordPage: { space: AddressSpace; generation: number; start: number; bytes: Uint8Array } | undefined;

  /**
   * Watches a call's return address until it returns. A host call's (its trampoline's) stays in the engine's set
   * for good, with one extra count: the same few trampolines return every host call, and adding and removing one
   * native set member per call costs more than the observer crossing it would save (that block runs once per call).
   */
  private watchReturn(returnAddress: number, fromHost: boolean): void {
    const watched = this.watched!;
    if (fromHost && !watched.pinned.has(returnAddress)) {
      watched.pinned.add(returnAddress);
      watched.set.add(returnAddress);
    }
    watched.set.add(returnAddress);
  }

  /**
   * C → program edges: a function pointer handed to a watched function (qsort's comparator, pthread_create's start
   * routine, a purego.NewCallback) is code the library will call back. Watch its entry and return under the
   * pointer's own prototype, like any exported function, from then on.
   */
  private watchCallbacks(fn: WatchedFunction, spec: CallSpec, sp: number): void {
    fn.proto.params.forEach((param, index) => {
      const type = param.type;
      if (type.kind !== 'pointer' || type.to.kind !== 'function' || type.to.variadic) return;
      const location = spec.args[index]?.locations[0];
      if (!location) return;
      const address = location.kind === 'reg'
        ? Number(this.host.process.engine.reg(location.reg as RegName))
        : this.word(sp + this.pointerSize + location.stackOffset);
      const object = this.objectAt(address);
      if (address === 0 || !object || this.functions.has(address) || this.callbacks.has(address)) return;
      const name = `${fn.name}'s ${param.name ?? `argument ${index + 1}`}`;
      const proto: Prototype = { name, ret: type.to.ret, params: type.to.params, variadic: false, text: `${param.text ?? name}` };
      if (type.to.convention) proto.convention = type.to.convention;
      this.callbacks.set(address, { name, address, object, proto, spec: callSpec(proto, this.arch) });
      this.watched!.set.add(address);
    });
  }

  /** The CPU and memory as the call decoder sees them. */
  private view(sp: number): MachineView {
    const engine = this.host.process.engine;
    return {
      arch: this.arch,
      sp,
      reg: (name) => engine.reg(name as RegName),
      regBytes: (name, size) => engine.regBytes(name as RegName, size),
      read: (address, size) => engine.read(address, size),
      cString: (address, max) => this.host.readCString(address, max),
    };
  }

  private emitEntry(frame: Frame, fn: WatchedFunction | undefined, sp: number, thread: number, depth: number, violations: Violation[]): void {
    const view = this.view(sp);
    let spec = frame.call.spec;
    let moreVariadic = !frame.fromHost && (fn?.proto.variadic ?? false);
    // printf family called by guest code: the format says the variadic types, so they can be shown too.
    if (moreVariadic && fn) {
      const index = PRINTF_FORMAT_INDEX[fn.name];
      const fixed = readArguments(view, spec);
      const format = index === undefined ? undefined : fixed[index]?.value;
      const types = typeof format === 'number' && format !== 0 ? printfVariadicTypes(this.host.readCString(format, 4096)) : undefined;
      if (types) {
        const key = `${fn.name}(${types.map((t) => JSON.stringify(t)).join()})`;
        let variadic = this.variadicSpecs.get(key);
        if (!variadic) this.variadicSpecs.set(key, (variadic = callSpec(fn.proto, this.arch, types)));
        spec = variadic;
        moreVariadic = false;
      }
    }
    frame.eventSpec = spec;
    frame.event = {
      kind: 'entry', call: frame.id, thread, multithreaded: this.host.process.threads.threads.length > 1, depth,
      function: frame.call.function, arch: this.arch, returnAddress: frame.returnAddress, fromHost: frame.fromHost,
      args: readArguments(view, spec), moreVariadic, violations: violations.map((v) => v.rule),
    };
    this.onCall!(frame.event);
  }

  private emitReturn(frame: Frame, sp: number, depth: number, violations: Violation[]): void {
    if (!frame.event) return; // entered before onCall was set
    const ret: CallValue | undefined = readReturn(this.view(sp), frame.call.spec.ret, frame.call.hiddenPointer);
    this.onCall!({ ...frame.event, kind: 'return', depth, ret, violations: violations.map((v) => v.rule) });
  }

  private get pointerSize(): number {
    return this.arch === 'amd64' ? 8 : 4;
  }

  /** printf family: the format string says how many doubles travel in xmm registers. */
  private inferVectorRegisters(call: CheckedCall, spec: CallSpec, sp: number): void {
    const index = PRINTF_FORMAT_INDEX[call.function];
    const location = index === undefined ? undefined : spec.args[index]?.locations[0];
    if (!location) return;
    const pointer = location.kind === 'reg'
      ? Number(this.host.process.engine.reg(location.reg as RegName))
      : this.word(sp + this.pointerSize + location.stackOffset);
    if (pointer === 0) return;
    const analysis = analysePrintfFormat(this.host.readCString(pointer));
    call.vectorRegistersUsed = analysis.vectorArguments;
    call.vectorRegistersReason = analysis.reason;
  }

  private onReturn(frames: Frame[], thread: number, sp: number): void {
    const frame = frames.pop()!;
    const addresses = this.watched!.set;
    addresses.remove(frame.returnAddress);
    const ret = this.snapshot(sp, frame.call.spec);
    const violations = checkReturn(frame.call, frame.entry, ret, MXCSR_CONTROL_MASK);
    // The host's reference trampoline reads st0 exactly when the CallSpec says so: only guest callers are scanned.
    const after = frame.fromHost || this.host.isHostCode(frame.returnAddress) ? undefined : this.codeAfter(frame.returnAddress);
    if (after) violations.push(...checkX87EmptyPop(frame.call, ret, after.x87), ...checkCallerCleanup(frame.call, after.cleanup));
    this.report(violations, thread, frame, frames);
    if (this.onCall) this.emitReturn(frame, sp, frames.length, violations);
    // The calls that jumped to this one return with it (their state was checked as this call's).
    for (let inner = frame; inner.tailCall && frames.length > 0; ) {
      inner = frames.pop()!;
      addresses.remove(inner.returnAddress);
      if (this.onCall) this.emitReturn(inner, sp, frames.length, []);
    }
  }

  /**
   * The x87 reads and the stack cleanup after a return address (decoded once per address and address space; needs
   * Capstone loaded).
   */
  private codeAfter(address: number): { x87: X87Read[]; cleanup: StackCleanup | undefined } | undefined {
    let scan = this.x87Scans.get(address);
    if (scan) return scan;
    if (!disassemblerLoaded()) return undefined; // see loadAbiChecker(): Machine.boot({ check: true }) loads it
    const region = this.host.process.space.find(address);
    if (!region) return undefined;
    const bytes = this.host.process.engine.read(address, Math.min(X87_SCAN_INSTRUCTIONS * MAX_INSTRUCTION_BYTES, region.end - address));
    const instructions = disassembleRun(bytes, address, this.arch, X87_SCAN_INSTRUCTIONS);
    scan = { x87: x87Reads(instructions), cleanup: this.arch === 'i386' ? stackCleanup(instructions) : undefined };
    this.x87Scans.set(address, scan);
    return scan;
  }

  /** Records violations with their thread and call (and the calls enclosing it, for knock-on folding). */
  private report(violations: Violation[], thread: number, frame: Frame, enclosing: Frame[]): void {
    for (const v of violations) {
      v.thread = thread;
      v.call = frame.id;
      if (enclosing.length) v.enclosing = enclosing.map((f) => f.id);
      this.violations.push(v);
      this.host.onViolation?.(v);
    }
  }

  private snapshot(sp: number, spec: CallSpec): CpuState {
    const engine = this.host.process.engine;
    // Win64 callees keep rdi, rsi and xmm6–xmm15 too (Microsoft x64 calling convention, "Callee/caller saved registers").
    const names = spec.convention === 'ms_abi' ? SNAPSHOT_REGISTERS_MS_ABI : SNAPSHOT_REGISTERS[this.arch];
    const values = engine.regs(names); // one engine call: this runs at every checked entry and return
    const calleeSaved: Record<string, bigint> = {};
    for (let i = SNAPSHOT_STATE_COUNT; i < names.length; i++) calleeSaved[names[i]!] = values[i]!;
    if (spec.convention === 'ms_abi') {
      for (const reg of WIN64_CALLEE_SAVED_XMM) calleeSaved[reg] = bytesToBigInt(engine.regBytes(reg as RegName, XMM_BYTES));
    }
    return {
      sp,
      flags: Number(values[0]!),
      rax: values[1]!,
      x87Depth: x87Depth(Number(values[2]!)),
      fpcw: Number(values[3]!),
      mxcsr: Number(values[4]!),
      calleeSaved,
    };
  }

  /** `symbol+0x1c (path)` from the cached objects, or the host. */
  private describe(address: number): string {
    if (this.host.isHostCode(address)) return "the host (shimulator's reference trampoline)";
    const object = this.objectAt(address);
    if (!object) return `0x${address.toString(16)}`;
    return this.host.process.describeAddress(address, [object]) ?? `0x${address.toString(16)}`;
  }
}
