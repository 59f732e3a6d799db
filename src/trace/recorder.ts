/**
 * Records a trace (see format.ts) of the guest code that `run()` executes on a machine: every instruction, the
 * register changes it made, the memory it wrote (old and new bytes), system calls, and events that other tools
 * attach (ABI check findings).
 *
 * How: a per-instruction code hook, a memory-write hook and the kernel's syscall observer; and, for the duration
 * of the recording, thin wrappers on the engine instance (`write`, `unmap`, `setReg`, `setRegBytes`,
 * `restoreContext`, `setGdtr`, `run`) so that what the host and the kernel change between instructions is recorded
 * too (the guest's write hook does not see `uc_mem_write`). Everything is removed again when `run()` returns or
 * throws. The memory a trace touches is kept in a shadow (memory-shadow.ts); the registers are read by
 * registers.ts.
 *
 * Cost. Each instruction's hook reads the general-purpose registers and flags (~0.5 µs per register through
 * koffi). The vector (xmm, mxcsr), x87 (st, fpcw/fpsw/fptag) and segment groups are read only when the previous
 * instruction may have changed them — decided from its opcode by `instructionEffects` (x86-classes.ts, which
 * documents the rule) — and after anything the host did to the registers (a new run, a system call's result, a
 * callback's return value). Disassembly is not done while recording.
 */
import type { Arch } from '../emu/arch.ts';
import type { Engine, HookHandle, RegName, RunOptions, RunResult, SavedContext, TableRegister } from '../emu/engine.ts';
import type { SyscallRecord } from '../kernel/kernel.ts';
import type { Process } from '../loader/process.ts';
import { locate } from '../loader/symbols.ts';

/** What can be recorded: a Machine (its calls), or a Process running a whole program. */
export interface Recordable {
  readonly process: Process;
}
import {
  canonicalData, toHex, type Trace, type TraceCode, type TraceFunction, TRACE_FORMAT, TRACE_PAGE_SIZE, TRACE_VERSION, type TraceEvent,
  type TraceRun, type TraceSyscall, type TraceWrite,
} from './format.ts';
import { MemoryShadow, pageOf } from './memory-shadow.ts';
import { RegisterReader } from './registers.ts';
import { instructionEffects, MAY_CHANGE_ALL } from './x86-classes.ts';

/** Default for `maxSteps`: about 100–200 MB of recorder memory. */
export const DEFAULT_MAX_STEPS = 1_000_000;
const PAGE = TRACE_PAGE_SIZE;

export interface RecordOptions {
  /** Stop (with TraceLimitError, carrying the partial trace) after this many instructions. */
  maxSteps?: number;
  /**
   * Also put every byte the guest reads into the initial memory (a memory-read hook; costs a callback per load), so
   * that the trace knows, at every position, every byte the call read or wrote: a memory view of it is exact for
   * all memory the call touched. Bounded like the writes: at most the bytes the recorded loads read.
   */
  reads?: boolean;
  /** Extra ranges to put into the initial memory (as of position 0), e.g. errno's 4 bytes; at most MAX_INCLUDED_BYTES in all. */
  include?: { address: number; size: number }[];
}

/** Bound on `RecordOptions.include`: a memory view's watch list, not a memory dump. */
export const MAX_INCLUDED_BYTES = 64 << 10;

/** The recording ran past `maxSteps`. */
export class TraceLimitError extends Error {
  override name = 'TraceLimitError';
  constructor(readonly maxSteps: number) {
    super(`the trace reached its limit of ${maxSteps} instructions (raise maxSteps to record longer runs)`);
  }
}

/** What other tools see of a recording in progress (`activeRecording(machine)`). */
export interface TraceRecording {
  readonly label: string;
  readonly arch: Arch;
  /** The step being executed: the index of the last instruction that started (-1 before the first). */
  readonly step: number;
  /**
   * Attaches an event to a step (e.g. `{ kind: 'check', data: violation }`). `data` is stored as canonical JSON
   * data (see `canonicalData`). Events are kept in step order, and in the order added within a step.
   */
  addEvent(step: number, event: { kind: string; data?: unknown }): void;
}

const active = new WeakMap<Engine, Recorder>();

/** The recording in progress on a machine (or engine), if any. */
export function activeRecording(target: Recordable | Engine): TraceRecording | undefined {
  const engine = 'process' in target ? target.process.engine : target;
  return active.get(engine);
}

/**
 * Runs `run` (which makes one or more calls on `machine`; it must be synchronous) and records everything the
 * guest executes meanwhile. On an exception the partial trace is attached to the error as `error.trace`.
 */
export function recordTrace<T>(machine: Recordable, label: string, run: () => T, options: RecordOptions = {}): { result: T; trace: Trace } {
  const extra = options.include ?? [];
  const extraBytes = extra.reduce((n, r) => n + r.size, 0);
  if (extra.some((r) => !Number.isSafeInteger(r.address) || r.address < 0 || !Number.isSafeInteger(r.size) || r.size < 0) || extraBytes > MAX_INCLUDED_BYTES) {
    throw new RangeError(`RecordOptions.include takes address ranges of at most ${MAX_INCLUDED_BYTES} bytes in all (got ${extraBytes})`);
  }
  const recorder = new Recorder(machine, label, options.maxSteps ?? DEFAULT_MAX_STEPS, options.reads === true, extra);
  let result: T;
  try {
    result = run();
    if (result instanceof Promise) throw new TypeError('recordTrace needs a synchronous function: machine calls are synchronous');
  } catch (error) {
    const trace = recorder.finish(error);
    if (typeof error === 'object' && error !== null) (error as { trace?: Trace }).trace = trace;
    throw error;
  }
  return { result, trace: recorder.finish(undefined) };
}

interface CodeVersion {
  address: number;
  bytes: Uint8Array;
  hex: string;
  step: number;
  effects: number;
}

/** Engine methods the recorder wraps on the instance while it records. */
type Wrapped = 'write' | 'unmap' | 'setReg' | 'setRegBytes' | 'restoreContext' | 'setGdtr' | 'run';

class Recorder implements TraceRecording {
  readonly arch: Arch;
  private readonly engine: Engine;
  private readonly process: Process;
  private readonly registers: RegisterReader;
  private readonly ptrBits: number;

  private begun = false;
  private ended = false;
  /** Steps recorded so far; the current step is `steps - 1`. */
  private steps = 0;
  private readonly pcs: number[] = [];
  private readonly regs: (number | string)[][] = [[]];
  private initialRegisters: string[] = [];
  /** Effects of the previous instruction (which groups to read at this step). */
  private previousEffects = MAY_CHANGE_ALL;
  /** The host changed registers since the last step: read every group. */
  private dirty = true;

  /** The pages the trace touches, now and as of position 0, and which of their bytes the trace's initial memory holds. */
  private readonly memory: MemoryShadow;
  /** Ranges the host wrote before the first step (captured at the first step). */
  private readonly earlyRanges: [address: number, size: number][] = [];
  private readonly writes: TraceWrite[] = [];
  /** Writes whose new bytes must be read back from guest memory (stores wider than 8 bytes). */
  private readonly pendingWrites: { index: number; address: number; size: number }[] = [];

  private readonly current = new Map<number, CodeVersion>();
  private readonly versions = new Map<number, CodeVersion[]>();
  private readonly codePages = new Set<number>();

  private readonly syscalls: TraceSyscall[] = [];
  private readonly events: TraceEvent[] = [];
  private readonly runs: TraceRun[] = [];

  private readonly hooks: HookHandle[] = [];
  private readonly originals = new Map<Wrapped, PropertyDescriptor | undefined>();
  private readonly kernel: Process['kernel'];
  private readonly previousObserver: ((record: SyscallRecord) => void) | undefined;
  private readonly observer: (record: SyscallRecord) => void;
  /** The engine's own (unwrapped) methods. */
  private readonly raw: Pick<Engine, Wrapped>;

  constructor(
    machine: Recordable,
    readonly label: string,
    private readonly maxSteps: number,
    reads = false,
    private readonly extra: { address: number; size: number }[] = [],
  ) {
    this.engine = machine.process.engine;
    this.process = machine.process;
    this.arch = machine.process.arch;
    if (active.has(this.engine)) throw new Error('a trace is already being recorded on this machine');
    this.ptrBits = this.arch === 'amd64' ? 64 : 32;
    this.registers = new RegisterReader(this.arch, this.engine, machine.process.gdt?.base);
    this.memory = new MemoryShadow(this.engine);
    this.kernel = machine.process.kernel;

    const e = this.engine;
    this.raw = {
      write: e.write.bind(e), unmap: e.unmap.bind(e), setReg: e.setReg.bind(e), setRegBytes: e.setRegBytes.bind(e),
      restoreContext: e.restoreContext.bind(e), setGdtr: e.setGdtr.bind(e), run: e.run.bind(e),
    };
    this.previousObserver = this.kernel.observer;
    this.observer = (record) => {
      this.previousObserver?.(record);
      this.onSyscall(record);
    };
    active.set(e, this);
    try {
      this.wrap('write', (address: number, bytes: Uint8Array) => this.hostWrite(address, bytes));
      this.wrap('unmap', (address: number, size: number) => this.hostUnmap(address, size));
      this.wrap('setReg', (name: RegName, value: bigint | number) => {
        this.dirty = true;
        this.raw.setReg(name, value);
      });
      this.wrap('setRegBytes', (name: RegName, bytes: Uint8Array) => {
        this.dirty = true;
        this.raw.setRegBytes(name, bytes);
      });
      this.wrap('restoreContext', (context: SavedContext) => {
        this.dirty = true;
        this.raw.restoreContext(context);
      });
      this.wrap('setGdtr', (table: TableRegister) => {
        this.dirty = true;
        this.raw.setGdtr(table);
      });
      this.wrap('run', (begin: number, options: RunOptions): RunResult => {
        this.dirty = true;
        this.runs.push({ step: this.steps, begin, until: options.until });
        return this.raw.run(begin, options);
      });
      this.kernel.observer = this.observer;
      this.hooks.push(e.addCodeHook((address, size) => this.onStep(address, size)));
      this.hooks.push(e.addMemoryHook(['write'], (_access, address, size, value) => this.guestWrite(address, size, value)));
      if (reads) this.hooks.push(e.addMemoryHook(['read'], (_access, address, size) => this.guestRead(address, size)));
    } catch (error) {
      this.uninstall();
      throw error;
    }
  }

  get step(): number {
    return this.steps - 1;
  }

  addEvent(step: number, event: { kind: string; data?: unknown }): void {
    if (this.ended) throw new Error(`the trace "${this.label}" has already ended`);
    if (!Number.isInteger(step) || step < 0) throw new RangeError(`event step must be a step index, got ${step}`);
    if (typeof event.kind !== 'string' || event.kind === '') throw new TypeError('an event needs a kind');
    this.events.push({ step, kind: event.kind, data: canonicalData(event.data ?? null) });
  }

  private wrap<K extends Wrapped>(name: K, fn: Engine[K]): void {
    this.originals.set(name, Object.getOwnPropertyDescriptor(this.engine, name));
    Object.defineProperty(this.engine, name, { value: fn, configurable: true, writable: true, enumerable: false });
  }

  private uninstall(): void {
    for (const hook of this.hooks.splice(0)) hook.remove();
    for (const [name, descriptor] of this.originals) {
      if (descriptor) Object.defineProperty(this.engine, name, descriptor);
      else delete (this.engine as unknown as Record<string, unknown>)[name];
    }
    this.originals.clear();
    if (this.kernel.observer === this.observer) this.kernel.observer = this.previousObserver;
    active.delete(this.engine);
  }

  // ---- per instruction ----

  private onStep(address: number, size: number): void {
    if (this.steps >= this.maxSteps) throw new TraceLimitError(this.maxSteps);
    if (!this.begun) {
      this.begin(address);
    } else {
      this.resolvePendingWrites();
      this.regs.push(this.registers.readChanges(this.dirty ? MAY_CHANGE_ALL : this.previousEffects));
    }
    this.dirty = false;
    this.pcs.push(address);
    let code = this.current.get(address);
    if (code === undefined || code.bytes.length !== size) code = this.learnCode(address, size);
    this.previousEffects = code.effects;
    this.steps++;
  }

  /** The first step: the initial register state, and the memory the host prepared and the TLS header. */
  private begin(pc: number): void {
    this.begun = true;
    this.registers.readChanges(MAY_CHANGE_ALL);
    const { table, pcIndex, last } = this.registers;
    this.initialRegisters = table.map((spec, i) => {
      if (i === pcIndex) return `0x${pc.toString(16)}`;
      const v = last[i]!;
      return typeof v === 'bigint' ? `0x${v.toString(16)}` : v;
    });
    const value = (name: string) => {
      const v = last[table.findIndex((r) => r.name === name)];
      return typeof v === 'bigint' ? Number(v) : 0;
    };
    const tp = value(this.arch === 'amd64' ? 'fs_base' : 'gs_base');
    const ranges = [...this.earlyRanges, ...this.extra.map((r): [number, number] => [r.address, r.size])];
    if (tp > 0) ranges.push([tp, TLS_HEADER_BYTES]);
    for (const [address, size] of ranges) {
      if (this.memory.bytes(address, size)) this.memory.include(address, size);
    }
  }

  private learnCode(address: number, size: number): CodeVersion {
    // The program's bytes, not the engine's patches: a patched rdtsc executes as `int 0x82`, but the trace shows
    // rdtsc (the step's register changes are the TSC's). Guest code that reads its own text still sees the trap.
    const bytes = this.engine.readOriginal(address, size);
    const known = this.versions.get(address);
    const same = known?.find((v) => equalBytes(v.bytes, bytes));
    if (same) {
      this.current.set(address, same);
      return same;
    }
    const version: CodeVersion = { address, bytes, hex: toHex(bytes), step: this.steps, effects: instructionEffects(bytes, this.arch) };
    if (known) known.push(version);
    else this.versions.set(address, [version]);
    this.current.set(address, version);
    this.codePages.add(pageOf(address));
    this.codePages.add(pageOf(address + size - 1));
    return version;
  }

  // ---- memory ----

  private applyToShadow(address: number, bytes: Uint8Array): void {
    this.memory.apply(address, bytes);
    if (this.codePages.size > 0) this.forgetCode(address, bytes.length);
  }

  /** A guest store, reported before it happens. */
  private guestWrite(address: number, size: number, value: bigint): void {
    if (!this.begun || size <= 0) return;
    const old = this.memory.bytes(address, size);
    if (!old) return; // the store faults: nothing is written
    this.memory.include(address, size);
    if (size > 8) {
      this.pendingWrites.push({ index: this.writes.length, address, size });
      this.writes.push([this.steps - 1, address, toHex(old), toHex(old)]);
      return;
    }
    const bytes = littleEndian(value, size);
    this.writes.push([this.steps - 1, address, toHex(old), toHex(bytes)]);
    this.applyToShadow(address, bytes);
  }

  /**
   * A guest load (option `reads`): its bytes join the initial snapshot. Exact: a page's shadow is read from the guest
   * the first time the trace touches it, and every change since position 0 went through the write hooks, so the
   * shadow's initial copy is the page as of position 0.
   */
  private guestRead(address: number, size: number): void {
    if (!this.begun || size <= 0) return;
    if (this.memory.bytes(address, size)) this.memory.include(address, size);
  }

  private resolvePendingWrites(): void {
    for (const pending of this.pendingWrites.splice(0)) {
      try {
        const bytes = this.engine.read(pending.address, pending.size);
        this.writes[pending.index]![3] = toHex(bytes);
        this.applyToShadow(pending.address, bytes);
      } catch {
        // unmapped meanwhile: keep the old bytes as the new ones
      }
    }
  }

  /** The host (or the kernel) writes guest memory. */
  private hostWrite(address: number, bytes: Uint8Array): void {
    if (!this.begun) {
      this.raw.write(address, bytes);
      if (bytes.length > 0) this.earlyRanges.push([address, bytes.length]);
      return;
    }
    const old = bytes.length > 0 ? this.memory.bytes(address, bytes.length) : undefined;
    this.raw.write(address, bytes);
    if (!old) return;
    this.memory.include(address, bytes.length);
    const copy = Uint8Array.from(bytes);
    this.writes.push([this.steps - 1, address, toHex(old), toHex(copy)]);
    this.applyToShadow(address, copy);
  }

  /** Unmapped memory reads as zeros when mapped again: recorded as a write of zeros over the known pages. */
  private hostUnmap(address: number, size: number): void {
    this.raw.unmap(address, size);
    if (!this.begun) return;
    for (let page = pageOf(address); page < address + size; page += PAGE) {
      const old = this.memory.zeroPage(page);
      if (old === undefined) continue;
      this.writes.push([this.steps - 1, page, old, '00'.repeat(PAGE)]);
      this.memory.include(page, PAGE);
    }
    this.forgetCode(address, size);
  }

  /** Code in a written range is read again the next time it runs (a new version when its bytes changed). */
  private forgetCode(address: number, size: number): void {
    let touches = false;
    for (let page = pageOf(address); page < address + size; page += PAGE) touches ||= this.codePages.has(page);
    if (!touches) return;
    for (const start of [...this.current.keys()]) {
      const version = this.current.get(start)!;
      if (start < address + size && start + version.bytes.length > address) this.current.delete(start);
    }
  }

  private onSyscall(record: SyscallRecord): void {
    this.syscalls.push({
      step: this.steps - 1,
      nr: record.nr,
      name: record.name,
      args: record.args.map((a) => `0x${BigInt.asUintN(this.ptrBits, a).toString(16)}`),
      result: record.result.toString(),
    });
  }

  // ---- the end ----

  finish(error: unknown): Trace {
    if (this.ended) throw new Error('trace already finished');
    let pc = 0;
    try {
      pc = this.engine.pc();
      if (!this.begun) {
        this.begin(pc);
      } else {
        this.resolvePendingWrites();
        this.regs.push(this.registers.readChanges(MAY_CHANGE_ALL));
      }
    } finally {
      this.ended = true;
      this.uninstall();
    }
    this.pcs.push(pc);
    const code: TraceCode[] = [...this.versions.values()]
      .flat()
      .sort((a, b) => a.address - b.address || a.step - b.step)
      .map((v) => ({ address: v.address, bytes: v.hex, step: v.step }));
    const memory = this.memory.initialMemory();
    const events = this.events
      .map((e, order) => ({ e, order }))
      .sort((a, b) => a.e.step - b.e.step || a.order - b.order)
      .map(({ e }) => e);
    return {
      format: TRACE_FORMAT,
      version: TRACE_VERSION,
      label: this.label,
      arch: this.arch,
      registers: this.registers.table.map((r) => ({ name: r.name, kind: r.kind, size: r.size, group: r.group })),
      steps: this.steps,
      pc: this.pcs,
      regs: this.regs,
      initial: { registers: this.initialRegisters, memory },
      code,
      writes: this.writes,
      syscalls: this.syscalls,
      events,
      runs: this.runs,
      end: { error: error === undefined ? null : describeError(error) },
      functions: this.functions(code),
    };
  }

  /**
   * The named functions the executed code is in (from the objects loaded now: ld.so's link map). Code outside
   * every object (the host's trampolines, a program's generated code) is named by its mapping's label
   * (`[shimulator code]`), as one function spanning the mapping.
   */
  private functions(code: readonly TraceCode[]): TraceFunction[] {
    const objects = this.process.loadedObjects();
    const byStart = new Map<number, TraceFunction>();
    for (const { address } of code) {
      const located = locate(objects, address);
      if (located && !byStart.has(located.address)) {
        byStart.set(located.address, { address: located.address, size: located.size, name: located.name, object: located.object.path });
      }
      const inObject = objects.some((o) => address >= o.base + o.elf.loadSpan.start && address < o.base + o.elf.loadSpan.end);
      const region = inObject ? undefined : this.process.space.find(address);
      if (region && !byStart.has(region.start)) {
        byStart.set(region.start, { address: region.start, size: region.end - region.start, name: region.label, object: '' });
      }
    }
    return [...byStart.values()].sort((a, b) => a.address - b.address);
  }
}

/** Bytes of the thread control block at the thread pointer recorded for TLS views (self pointers, stack guard…). */
const TLS_HEADER_BYTES = 0x40;

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** The low `size` (≤ 8) bytes of a store's value, little-endian. */
function littleEndian(value: bigint, size: number): Uint8Array {
  const v = BigInt.asUintN(64, value);
  const words = [Number(v & 0xffffffffn), Number(v >> 32n)];
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (words[i >> 2]! >>> ((i & 3) * 8)) & 0xff;
  return bytes;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
