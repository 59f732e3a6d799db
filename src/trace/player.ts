/**
 * Steps through a recorded trace forward and backward: registers, memory, the current instruction, system calls
 * and events at any position. No engine is needed (it works in a browser on a decoded trace).
 *
 * Positions run from 0 to `length` (= trace.steps; see format.ts): position p < length is "about to execute
 * instruction p", position `length` is the end state.
 *
 * Registers are rebuilt from the initial state and the per-position changes, with a full copy (keyframe) every
 * KEYFRAME_INTERVAL positions, so any seek costs at most that many change lists. Memory (the bytes the trace
 * knows) is kept for one position and moved there lazily when `memory()` is asked: forward by applying the writes
 * in between, backward by undoing them (every write holds its old bytes).
 */
import { disassemble, loadDisassembler } from './disassemble.ts';
import {
  decodeTrace, fromHex, type Trace, TRACE_PAGE_SIZE, type TraceEvent, type TraceSyscall,
} from './format.ts';
import { instructionEffects, IS_CALL, IS_RETURN } from './x86-classes.ts';

export const KEYFRAME_INTERVAL = 256;
const PAGE = TRACE_PAGE_SIZE;

export interface PlayerInstruction {
  pc: number;
  bytes: Uint8Array;
  /** Intel-syntax disassembly (needs `loadDisassembler()`; `TracePlayer.open` does it). */
  text: string;
}

interface CodeVersion {
  step: number;
  bytes: Uint8Array;
  effects: number;
  text?: string;
}

export class TracePlayer {
  readonly trace: Trace;
  private position = 0;
  private readonly keyframes: string[][] = [];
  /** Registers at `regsAt` (a cache for sequential stepping). */
  private regsCache: string[];
  private regsAt = 0;
  /** Known memory at `memoryAt`, in pages: the bytes, and which of them the trace knows (1). */
  private readonly pages = new Map<number, { bytes: Uint8Array; known: Uint8Array }>();
  private memoryAt = 0;
  /** Index of the first write of each step (length steps + 1). */
  private readonly writeStart: Int32Array;
  private readonly writeBytes: { old: Uint8Array; new: Uint8Array }[];
  private readonly code = new Map<number, CodeVersion[]>();
  /** Call depth at every position (0 = the frame a run starts in). */
  private readonly depths: Int32Array;
  private readonly syscallSteps: number[];
  private readonly pcIndex: number;

  constructor(trace: Trace) {
    this.trace = trace;
    const n = trace.steps;
    // registers: keyframes
    let state = trace.initial.registers.slice();
    const pcIndex = trace.registers.findIndex((r) => r.name === 'rip' || r.name === 'eip');
    for (let p = 0; p <= n; p++) {
      if (p > 0) applyChanges(state, trace.regs[p]!);
      if (p % KEYFRAME_INTERVAL === 0) {
        state[pcIndex] = hexNumber(trace.pc[p]!);
        this.keyframes.push(state);
        state = state.slice();
      }
    }
    this.pcIndex = pcIndex;
    this.regsCache = this.keyframes[0]!.slice();
    // memory
    for (const range of trace.initial.memory) this.storeBytes(range.address, fromHex(range.bytes), true);
    this.writeStart = new Int32Array(n + 2);
    let w = 0;
    for (let s = 0; s <= n + 1; s++) {
      while (w < trace.writes.length && trace.writes[w]![0] < s) w++;
      this.writeStart[s] = w;
    }
    this.writeBytes = trace.writes.map(([, , oldHex, newHex]) => ({ old: fromHex(oldHex), new: fromHex(newHex) }));
    // code
    for (const c of trace.code) {
      const bytes = fromHex(c.bytes);
      const version: CodeVersion = { step: c.step, bytes, effects: instructionEffects(bytes, trace.arch) };
      const list = this.code.get(c.address);
      if (list) list.push(version);
      else this.code.set(c.address, [version]);
    }
    for (const list of this.code.values()) list.sort((a, b) => a.step - b.step);
    // call depth
    this.depths = new Int32Array(n + 1);
    const runStarts = new Set(trace.runs.map((r) => r.step));
    let depth = 0;
    for (let p = 0; p <= n; p++) {
      if (runStarts.has(p)) depth = 0;
      this.depths[p] = depth;
      if (p === n) break;
      const effects = this.codeAt(trace.pc[p]!, p)?.effects ?? 0;
      if (effects & IS_CALL) depth++;
      else if (effects & IS_RETURN) depth--;
    }
    this.syscallSteps = [...new Set(trace.syscalls.map((s) => s.step))].sort((a, b) => a - b);
  }

  /** A player with the disassembler loaded; accepts a trace or its encoded bytes. */
  static async open(trace: Trace | Uint8Array): Promise<TracePlayer> {
    await loadDisassembler();
    return new TracePlayer(trace instanceof Uint8Array ? decodeTrace(trace) : trace);
  }

  /** The current position (0 … length). */
  get step(): number {
    return this.position;
  }

  /** Number of instructions; the last position. */
  get length(): number {
    return this.trace.steps;
  }

  get atEnd(): boolean {
    return this.position === this.trace.steps;
  }

  /** Moves to position n (clamped to 0 … length); returns the new position. */
  seek(n: number): number {
    if (!Number.isFinite(n)) throw new RangeError(`cannot seek to ${n}`);
    this.position = Math.max(0, Math.min(this.trace.steps, Math.trunc(n)));
    return this.position;
  }

  /** Executes one instruction; false at the end. */
  stepForward(): boolean {
    if (this.atEnd) return false;
    this.position++;
    return true;
  }

  /** Undoes one instruction; false at the start. */
  stepBackward(): boolean {
    if (this.position === 0) return false;
    this.position--;
    return true;
  }

  /** Call depth at the current position (0 in the frame a run started in; −1 after a run's final return). */
  depth(at = this.position): number {
    return this.depths[at]!;
  }

  /**
   * Runs until the current function has returned: the first later position whose call depth is lower (the
   * instruction after the `ret`, at the return address the caller pushed). At the outermost frame: the end of the
   * run. Returns the new position (the end when nothing returns).
   */
  runToReturn(): number {
    const d = this.depths[this.position]!;
    for (let p = this.position + 1; p <= this.trace.steps; p++) {
      if (this.depths[p]! < d || this.isRunStart(p)) return this.seek(p);
    }
    return this.seek(this.trace.steps);
  }

  /** Runs to the next instruction that makes a system call (the end when there is none). */
  runToNextSyscall(): number {
    const next = this.syscallSteps.find((s) => s > this.position);
    return this.seek(next ?? this.trace.steps);
  }

  /** Goes back to the previous instruction that made a system call (position 0 when there is none). */
  runToPreviousSyscall(): number {
    const previous = this.syscallSteps.filter((s) => s < this.position).pop();
    return this.seek(previous ?? 0);
  }

  /** Runs to the next step that has an event (of `kind`, when given). */
  runToNextEvent(kind?: string): number {
    const next = this.trace.events.find((e) => e.step > this.position && (kind === undefined || e.kind === kind));
    return this.seek(next?.step ?? this.trace.steps);
  }

  private isRunStart(p: number): boolean {
    return this.trace.runs.some((r) => r.step === p && p > 0);
  }

  /** The program counter at the current position. */
  get pc(): number {
    return this.trace.pc[this.position]!;
  }

  /** Every register at the current position, by name (values as in format.ts). */
  registers(): Record<string, string> {
    const values = this.registerValues(this.position);
    const out: Record<string, string> = {};
    this.trace.registers.forEach((r, i) => (out[r.name] = values[i]!));
    return out;
  }

  /** One register's value at the current position. */
  register(name: string): string {
    const index = this.trace.registers.findIndex((r) => r.name === name);
    if (index < 0) throw new RangeError(`no register "${name}" in this ${this.trace.arch} trace`);
    return this.registerValues(this.position)[index]!;
  }

  /** One int register's value as a bigint. */
  registerBigInt(name: string): bigint {
    return BigInt(this.register(name));
  }

  /** Registers that changed on arriving at the current position (its instruction's effect is at position + 1). */
  changedRegisters(at = this.position): string[] {
    const changes = this.trace.regs[at] ?? [];
    const names: string[] = [];
    for (let i = 0; i < changes.length; i += 2) names.push(this.trace.registers[changes[i] as number]!.name);
    return names;
  }

  private registerValues(p: number): string[] {
    if (p === this.regsAt) return this.regsCache;
    const k = Math.floor(p / KEYFRAME_INTERVAL) * KEYFRAME_INTERVAL;
    let from: number;
    let state: string[];
    if (this.regsAt < p && this.regsAt >= k) {
      from = this.regsAt;
      state = this.regsCache;
    } else {
      from = k;
      state = this.keyframes[k / KEYFRAME_INTERVAL]!.slice();
    }
    for (let q = from + 1; q <= p; q++) applyChanges(state, this.trace.regs[q]!);
    state[this.pcIndex] = hexNumber(this.trace.pc[p]!);
    this.regsCache = state;
    this.regsAt = p;
    return state;
  }

  /** True when the trace knows every byte of [address, address + size) (see format.ts: which memory it has). */
  hasMemory(address: number, size: number): boolean {
    return this.peek(address, size).known.every((k) => k === 1);
  }

  /** The known memory: ascending address ranges (the same at every position). */
  memoryRanges(): { address: number; size: number }[] {
    return this.trace.initial.memory.map((r) => ({ address: r.address, size: r.bytes.length / 2 }));
  }

  /** Guest memory at the current position; throws RangeError when a byte is unknown to the trace. */
  memory(address: number, size: number): Uint8Array {
    const { bytes, known } = this.peek(address, size);
    const unknown = known.indexOf(0);
    if (unknown >= 0) {
      throw new RangeError(
        `memory at 0x${(address + unknown).toString(16)} is not in this trace (it has what it wrote, what the host prepared for the call and the TLS header)`,
      );
    }
    return bytes;
  }

  /** Memory at the current position with a per-byte `known` flag (1 = known; unknown bytes read as 0). */
  peek(address: number, size: number): { bytes: Uint8Array; known: Uint8Array } {
    this.moveMemory(this.position);
    const bytes = new Uint8Array(size);
    const known = new Uint8Array(size);
    for (let done = 0; done < size;) {
      const at = address + done;
      const page = pageOf(at);
      const n = Math.min(size - done, PAGE - (at - page));
      const p = this.pages.get(page);
      if (p) {
        bytes.set(p.bytes.subarray(at - page, at - page + n), done);
        known.set(p.known.subarray(at - page, at - page + n), done);
      }
      done += n;
    }
    return { bytes, known };
  }

  private moveMemory(p: number): void {
    // Memory at position p = initial + writes of steps < p.
    if (p > this.memoryAt) {
      for (let w = this.writeStart[this.memoryAt]!; w < this.writeStart[p]!; w++) this.store(w, 'new');
    } else if (p < this.memoryAt) {
      for (let w = this.writeStart[this.memoryAt]! - 1; w >= this.writeStart[p]!; w--) this.store(w, 'old');
    }
    this.memoryAt = p;
  }

  private store(index: number, which: 'old' | 'new'): void {
    this.storeBytes(this.trace.writes[index]![1], this.writeBytes[index]![which], false);
  }

  private storeBytes(address: number, bytes: Uint8Array, markKnown: boolean): void {
    for (let done = 0; done < bytes.length;) {
      const at = address + done;
      const page = pageOf(at);
      const n = Math.min(bytes.length - done, PAGE - (at - page));
      let p = this.pages.get(page);
      if (!p) this.pages.set(page, (p = { bytes: new Uint8Array(PAGE), known: new Uint8Array(PAGE) }));
      p.bytes.set(bytes.subarray(done, done + n), at - page);
      if (markKnown) p.known.fill(1, at - page, at - page + n);
      done += n;
    }
  }

  /** Memory writes made by the instruction at `step` (default: the current one). */
  writesAt(step = this.position): { address: number; old: Uint8Array; new: Uint8Array }[] {
    const out = [];
    for (let w = this.writeStart[step] ?? 0; w < (this.writeStart[step + 1] ?? 0); w++) {
      out.push({ address: this.trace.writes[w]![1], ...this.writeBytes[w]! });
    }
    return out;
  }

  /** System calls made by the instruction at `step` (default: the current one). */
  syscallsAt(step = this.position): TraceSyscall[] {
    return this.trace.syscalls.filter((s) => s.step === step);
  }

  eventsAt(step = this.position): TraceEvent[] {
    return this.trace.events.filter((e) => e.step === step);
  }

  /** The instruction at the current position (undefined at the end). */
  instruction(at = this.position): PlayerInstruction | undefined {
    if (at >= this.trace.steps) return undefined;
    const pc = this.trace.pc[at]!;
    const version = this.codeAt(pc, at);
    if (!version) throw new Error(`damaged trace: no code recorded at 0x${pc.toString(16)} (step ${at})`);
    version.text ??= disassemble(version.bytes, pc, this.trace.arch).text;
    return { pc, bytes: version.bytes, text: version.text };
  }

  private codeAt(pc: number, step: number): CodeVersion | undefined {
    const list = this.code.get(pc);
    if (!list) return undefined;
    let found: CodeVersion | undefined;
    for (const v of list) if (v.step <= step) found = v;
    return found ?? list[0];
  }
}

function applyChanges(state: string[], changes: (number | string)[]): void {
  for (let i = 0; i < changes.length; i += 2) state[changes[i] as number] = changes[i + 1] as string;
}

function hexNumber(n: number): string {
  return `0x${n.toString(16)}`;
}

function pageOf(address: number): number {
  return address - (address % PAGE);
}
