/**
 * The trace format: a deterministic record of one or more guest calls, instruction by instruction. Plain data
 * (JSON-compatible, no classes, no bigints, no host pointers), so the same object can be written by the recorder,
 * stored, loaded in a browser and replayed by `TracePlayer`. This file has no Node dependencies.
 *
 * Positions and steps. A trace of N executed instructions ("steps") has N + 1 positions. Position p < N is the
 * machine state just before instruction p executes (pc = `pc[p]`); position N is the state after the last one
 * (for a call that returned: pc = the host's trap address). Going from position p to p + 1 executes step p:
 * `regs[p + 1]` lists the registers that changed, `writes` with step p the memory it stored (including what the
 * kernel wrote during a system call at step p, and what the host wrote between two calls, after the last step of
 * the first). `syscalls` and `events` name the step they happened in (a system call's step is its `syscall` /
 * `int 0x80` instruction; its result shows in `regs` of the next position). The first position of a later run
 * includes, in `regs`, what the host set up for it (its CPU reset and argument registers).
 *
 * Register values are strings: `int` registers as lowercase hex with `0x` and no leading zeros (`0x7fffffffe930`);
 * `bytes` registers (xmm: 16 bytes, st: 10 bytes of x87 extended precision) as the lowercase hex of their bytes in
 * memory order (little-endian; `xmm0` = `0000000000c0f83f…` holds the double 1.5 in its low 8 bytes).
 * `rip`/`eip` never appears in `regs`: it is `pc[p]`. Memory bytes are lowercase hex strings too.
 *
 * Memory. `initial.memory` holds, as of position 0, the bytes the trace knows: every byte it writes (guest
 * stores, the kernel, the host between calls), what the host prepared for the call before it started (argument
 * block, strings, buffers, the return address and i386 stack arguments) and the first 64 bytes at the thread
 * pointer (TLS header: self pointer, stack guard). Every write holds its old and its new bytes, so memory at any
 * position is `initial` with the writes of steps < p applied — or the end state with later writes undone. Other
 * bytes (what the code only reads, stale stack contents) are unknown to the trace; code is in `code`.
 * (Byte ranges rather than whole pages: whole stack pages would carry stale data from earlier calls and from boot,
 * and a trace would depend on everything that ran before the call, not on the call.)
 *
 * Encoding (`encodeTrace`): the ASCII magic `SHIMTRACE`, one byte holding `TRACE_VERSION`, then the zlib stream
 * (pako.deflate, level 6) of `JSON.stringify` of the trace with its keys in the order of the interfaces below.
 * The same call on machines booted the same way, after the same earlier calls, gives byte-identical files on
 * any host (the old bytes of writes are whatever earlier calls left in memory).
 */
import pako from 'pako';
import type { Arch } from '../emu/arch.ts';
import { containing } from '../loader/containing.ts';

export const TRACE_FORMAT = 'shimulator-trace';
/** Bumped on any incompatible change; `decodeTrace` refuses other versions. */
export const TRACE_VERSION = 1;
export const TRACE_MAGIC = 'SHIMTRACE';
export const TRACE_PAGE_SIZE = 4096;
/** zlib level of the encoding: part of the format's determinism (the same pako and level give the same bytes). */
const DEFLATE_LEVEL = 6;

export interface TraceRegister {
  name: string;
  /** `int`: a number as `0x…` hex; `bytes`: raw bytes as hex (memory order). */
  kind: 'int' | 'bytes';
  /** Bytes of the register. */
  size: number;
  /**
   * `gpr`: general-purpose registers, pc and flags (recorded at every step); `segment`: selectors and fs/gs bases
   * (i386: the base of the GDT descriptor the selector names); `vector`: xmm and mxcsr; `x87`: st0–7, fpcw, fpsw,
   * fptag (as Unicorn reports them).
   */
  group: 'gpr' | 'segment' | 'vector' | 'x87';
}

/** One distinct instruction. Keyed by address; a second entry for the same address means the code was rewritten. */
export interface TraceCode {
  address: number;
  /** The instruction's bytes as hex. */
  bytes: string;
  /** The first step that executed these bytes at this address. */
  step: number;
}

/** A range of known memory as of position 0. */
export interface TraceMemory {
  address: number;
  /** The bytes as hex. */
  bytes: string;
}

/** A memory write: made during `step`; `old` and `new` are hex of the same length (the write's size). */
export type TraceWrite = [step: number, address: number, old: string, new: string];

export interface TraceSyscall {
  step: number;
  nr: number;
  name: string;
  /** The six argument registers as `0x…` hex (unused ones included). */
  args: string[];
  /** The result as a signed decimal string (`-2` is -ENOENT). */
  result: string;
}

/** Something attached to a step by a tool (an ABI check's finding, …). `data` is canonical JSON data. */
export interface TraceEvent {
  step: number;
  kind: string;
  data: unknown;
}

/** One guest run (one machine call, or an IFUNC resolver, an errno lookup…): where it began and where it returns. */
export interface TraceRun {
  /** The first step of the run (= `steps` when the run executed nothing). */
  step: number;
  begin: number;
  /** The return (trap) address that ends the run. */
  until: number;
}

/**
 * A function the trace executes instructions of, named when it was recorded from the loaded objects' symbols
 * (glibc's internal functions from the bundled debug symbols). By ascending `address`.
 */
export interface TraceFunction {
  /** Where it starts (absolute). */
  address: number;
  /** Its size in bytes (0 for a bare label: then only `address` itself is in it). */
  size: number;
  name: string;
  /** The object's path in the guest (`/lib/x86_64-linux-gnu/libc.so.6`). */
  object: string;
}

export interface Trace {
  format: typeof TRACE_FORMAT;
  version: typeof TRACE_VERSION;
  label: string;
  arch: Arch;
  /** The register table: `initial.registers` and `regs` refer to registers by their index here. */
  registers: TraceRegister[];
  /** Number of executed instructions. */
  steps: number;
  /** The program counter at every position (length `steps + 1`). */
  pc: number[];
  /**
   * Register changes on arriving at each position (length `steps + 1`; `regs[0]` is empty): a flat list of
   * register index and new value, `[3, "0x1", 17, "0x246"]`.
   */
  regs: (number | string)[][];
  initial: {
    /** Every register's value at position 0, by register index. */
    registers: string[];
    /** Known bytes: ascending, non-overlapping, non-adjacent ranges. */
    memory: TraceMemory[];
  };
  /** Distinct instructions by ascending address, then step. */
  code: TraceCode[];
  /** In the order they happened (so by step). */
  writes: TraceWrite[];
  syscalls: TraceSyscall[];
  /** By step; events of the same step in the order they were added. */
  events: TraceEvent[];
  runs: TraceRun[];
  /** How the recording ended: `error` is the error's `name: message` when the recorded code threw. */
  end: { error: string | null };
  /** The functions the steps are in (absent in traces recorded before names were recorded). */
  functions?: TraceFunction[];
}

/** Input that is not a trace, a damaged trace, or a trace of another format version. */
export class TraceFormatError extends Error {
  override name = 'TraceFormatError';
}

const encoder = new TextEncoder();

/** The trace's compressed encoding (see the file comment); deterministic. */
export function encodeTrace(trace: Trace): Uint8Array {
  const json = JSON.stringify(canonicalTrace(trace));
  const body = pako.deflate(encoder.encode(json), { level: DEFLATE_LEVEL });
  const out = new Uint8Array(TRACE_MAGIC.length + 1 + body.length);
  out.set(encoder.encode(TRACE_MAGIC), 0);
  out[TRACE_MAGIC.length] = TRACE_VERSION;
  out.set(body, TRACE_MAGIC.length + 1);
  return out;
}

/** Decodes `encodeTrace` output; throws TraceFormatError (with the reason) for anything else. */
export function decodeTrace(bytes: Uint8Array): Trace {
  const magic = encoder.encode(TRACE_MAGIC);
  if (bytes.length < magic.length + 1 || magic.some((b, i) => bytes[i] !== b)) {
    throw new TraceFormatError('not a shimulator trace (it does not start with "SHIMTRACE")');
  }
  const version = bytes[magic.length]!;
  if (version !== TRACE_VERSION) {
    throw new TraceFormatError(
      `unsupported trace format version ${version}: this shimulator reads version ${TRACE_VERSION} (record the trace again)`,
    );
  }
  let json: string;
  try {
    json = pako.inflate(bytes.subarray(magic.length + 1), { to: 'string' });
  } catch (error) {
    throw new TraceFormatError(`damaged trace: the compressed data is corrupt (${describe(error)})`);
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new TraceFormatError(`damaged trace: the decompressed data is not JSON (${describe(error)})`);
  }
  validateTrace(value);
  return value;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Checks the structure (not every value) of a decoded trace. */
export function validateTrace(value: unknown): asserts value is Trace {
  const fail = (why: string): never => {
    throw new TraceFormatError(`damaged trace: ${why}`);
  };
  if (typeof value !== 'object' || value === null) fail('the document is not an object');
  const t = value as Record<string, unknown>;
  if (t.format !== TRACE_FORMAT) fail(`format is ${JSON.stringify(t.format)}, expected "${TRACE_FORMAT}"`);
  if (t.version !== TRACE_VERSION) {
    throw new TraceFormatError(`unsupported trace format version ${String(t.version)}: this shimulator reads version ${TRACE_VERSION}`);
  }
  if (t.arch !== 'amd64' && t.arch !== 'i386') fail(`unknown architecture ${JSON.stringify(t.arch)}`);
  const steps = t.steps;
  if (typeof steps !== 'number' || !Number.isInteger(steps) || steps < 0) fail('steps is not a count');
  const n = steps as number;
  for (const key of ['registers', 'pc', 'regs', 'code', 'writes', 'syscalls', 'events', 'runs']) {
    if (!Array.isArray(t[key])) fail(`${key} is not an array`);
  }
  if ((t.pc as unknown[]).length !== n + 1) fail(`pc has ${(t.pc as unknown[]).length} entries for ${n} steps`);
  if ((t.regs as unknown[]).length !== n + 1) fail(`regs has ${(t.regs as unknown[]).length} entries for ${n} steps`);
  const initial = t.initial as Record<string, unknown> | undefined;
  if (!initial || !Array.isArray(initial.registers) || !Array.isArray(initial.memory)) fail('initial state missing');
  if ((initial!.registers as unknown[]).length !== (t.registers as unknown[]).length) fail('initial registers do not match the register table');
  if (typeof t.end !== 'object' || t.end === null) fail('end missing');
  if (t.functions !== undefined && !Array.isArray(t.functions)) fail('functions is not an array');
}

/** A copy with the keys in the documented order (so that encoding does not depend on how the object was built). */
function canonicalTrace(t: Trace): Trace {
  return {
    format: t.format,
    version: t.version,
    label: t.label,
    arch: t.arch,
    registers: t.registers.map((r) => ({ name: r.name, kind: r.kind, size: r.size, group: r.group })),
    steps: t.steps,
    pc: t.pc,
    regs: t.regs,
    initial: {
      registers: t.initial.registers,
      memory: t.initial.memory.map((p) => ({ address: p.address, bytes: p.bytes })),
    },
    code: t.code.map((c) => ({ address: c.address, bytes: c.bytes, step: c.step })),
    writes: t.writes,
    syscalls: t.syscalls.map((s) => ({ step: s.step, nr: s.nr, name: s.name, args: s.args, result: s.result })),
    events: t.events.map((e) => ({ step: e.step, kind: e.kind, data: canonicalData(e.data) })),
    runs: t.runs.map((r) => ({ step: r.step, begin: r.begin, until: r.until })),
    end: { error: t.end.error },
    ...(t.functions ? { functions: t.functions.map((f) => ({ address: f.address, size: f.size, name: f.name, object: f.object })) } : {}),
  };
}

/** The function of `trace.functions` that `pc` is in, with the offset into it (`functions` is sorted by address). */
export function functionAt(trace: Pick<Trace, 'functions'>, pc: number): { fn: TraceFunction; offset: number } | undefined {
  const list = trace.functions ?? [];
  const fn = containing(list, pc, (f) => f.address, (f) => f.size, list.reduce((max, f) => Math.max(max, f.size), 0));
  return fn && { fn, offset: pc - fn.address };
}

/**
 * Event data as canonical JSON data: object keys sorted, bigints as decimal strings, byte arrays as hex strings,
 * undefined members dropped, non-finite numbers as strings ("NaN", "Infinity").
 */
export function canonicalData(value: unknown): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint') return value.toString();
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return null;
  if (value instanceof Uint8Array) return toHex(value);
  if (Array.isArray(value)) return value.map(canonicalData);
  if (value instanceof Error) return { message: value.message, name: value.name };
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value as object).sort()) {
    const member = (value as Record<string, unknown>)[key];
    if (member !== undefined && typeof member !== 'function') out[key] = canonicalData(member);
  }
  return out;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]!]!;
  return s;
}

export function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}
