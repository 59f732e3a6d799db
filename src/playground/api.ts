/**
 * The playground's JSON API, independent of HTTP: the function catalog, call plans (CallSpecs with teaching
 * notes) and recorded calls on long-lived machines. `server.ts` maps routes to these functions; `lessons.ts` and
 * `export.ts` use them to precompute lesson recordings.
 *
 * Machines. One booted Machine per (profile, arch), booted lazily and reused:
 *   default  libc + libpcap, checking and the TLS watch on;
 *   abi      the same plus the ABI test fixtures (fixtures/abi: libabi-targets.so, libabi-callees.so,
 *            libabi-shims.so — deliberately broken shims and their correct twins; fixtures/abi/lessons:
 *            liblessons.so — gcc-compiled callees of the calling-convention lessons);
 *   threads  libc + libpcap with one guest thread started the fakecgo way (calls with `thread: true` run on it;
 *            kept apart so that the other machines stay single-threaded, as glibc behaves differently once a
 *            second thread exists).
 * Calls on one machine run one at a time (a promise queue per machine). A machine whose guest run failed
 * (fault, budget, trace limit) is discarded and booted again on the next request, so its state cannot leak; so is one
 * whose recordings have grown it too much (recycle.ts).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Arch } from '../emu/arch.ts';
import { callSpec, CallSpecError } from '../callspec/classify.ts';
import { containsAlignedValue } from '../callspec/classify-i386.ts';
import { typeName, LayoutError } from '../callspec/layout.ts';
import { DeclarationError, type Declarations } from '../callspec/parse.ts';
import { renderCallSpec } from '../callspec/render.ts';
import type { ArgSpec, CallSpec, CType, Prototype, ReturnSpec } from '../callspec/types.ts';
import { ArgumentError, completeVariadicType, type HostValue, isCharPointer, OutBuffer, TypedValue } from '../callspec/values.ts';
import { catalog, catalogDeclarations, type CatalogEntry, searchCatalog } from '../catalog/catalog.ts';
import { argumentsFor, resultJson } from '../cli/call.ts';
import { parseToken } from '../cli/tokens.ts';
import { formatError } from '../cli/errors.ts';
import { type GuestThreadHandle, Machine } from '../machine.ts';
import { SymbolNotFoundError } from '../loader/symbols.ts';
import { ElfError, parseElf } from '../loader/elf.ts';
import type { CacheOption } from '../snapshot/image-cache.ts';
import { encodeTrace, type Trace } from '../trace/format.ts';
import { recordTrace, TraceLimitError } from '../trace/recorder.ts';
import { globalsTouched } from './globals.ts';
import { noteRecording, wornOut } from './recycle.ts';

export const ARCHES: readonly Arch[] = ['amd64', 'i386'];
export const LIBRARIES = ['libc.so.6', 'libpcap.so.0.8'] as const;
/** The ABI test fixtures a call may name as its library (they live on the `abi` machines). */
export const TEST_LIBRARIES = ['libabi-targets.so', 'libabi-callees.so', 'libabi-shims.so', 'liblessons.so'] as const;
/** Functions listed first by an empty catalog query. */
export const POPULAR = ['snprintf', 'printf', 'strlen', 'open', 'qsort', 'pcap_lib_version', 'pcap_compile'];

/** Instructions one recorded call may execute (a trace of this size takes ~50 MB while recording); past it the
 * call is stopped and the recording so far is answered, marked `truncated`. */
export const MAX_TRACE_STEPS = 400_000;
/** Largest encoded trace an answer carries (before base64): the browser must hold and decode it. */
export const MAX_TRACE_BYTES = 16 << 20;
const CALL_BUDGET = 2_000_000;
/** Bytes a playground guest may write to stdout + stderr per machine: a flood stops here, not in the server's memory. */
export const PLAYGROUND_OUTPUT_LIMIT = 1 << 20;
/** Bytes of guest mappings per machine (beyond it mmap answers ENOMEM): ample for any libc call, far below the host's RAM. */
export const PLAYGROUND_MEMORY_LIMIT = 1 << 30;
/** The limits every playground machine boots with. */
const LIMITS = { callBudget: CALL_BUDGET, outputLimit: PLAYGROUND_OUTPUT_LIMIT, memoryLimit: PLAYGROUND_MEMORY_LIMIT };
/** The boot image cache this process's machines use (the server's `--cache-dir` / `--no-cache`; default: the default). */
let bootCache: CacheOption | undefined;

export function setBootCache(option: CacheOption | undefined): void {
  bootCache = option;
}
const MAX_TOKENS = 64;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A request the API refuses (bad JSON shape, unknown arch, …): answered with 400 and the message. */
export class PlaygroundError extends Error {
  override name = 'PlaygroundError';
}

/** A recording cut at MAX_TRACE_STEPS: carries the answer with the partial trace (thrown so that the machine, stopped
 * in the middle of the call, is discarded; call() answers with `response`). */
class RecordingCut extends Error {
  override name = 'RecordingCut';
  constructor(readonly response: Json) {
    super(String(response.truncated));
  }
}

/**
 * A call whose guest stopped with an error (a fault, a violation that led to one, the budget): the error's message,
 * and the recording up to where it stopped (`partial`, a call answer with `fault` set) for the stepper to show.
 * Thrown so that the machine, stopped in the middle of the call, is discarded.
 */
export class CallFailedError extends Error {
  override name = 'CallFailedError';
  constructor(message: string, readonly partial: Json) {
    super(message);
  }
}

/** An encoded trace larger than MAX_TRACE_BYTES. */
export class TraceTooLargeError extends PlaygroundError {
  override name = 'TraceTooLargeError';
}

// ---------------------------------------------------------------------------------------------------------------
// request validation

type Json = Record<string, unknown>;

function object(body: unknown, what: string): Json {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new PlaygroundError(`${what}: expected a JSON object`);
  return body as Json;
}

function archOf(value: unknown): Arch {
  if (value === undefined) return 'amd64';
  if (value === 'amd64' || value === 'i386') return value;
  throw new PlaygroundError(`"arch" must be "amd64" or "i386", got ${JSON.stringify(value)}`);
}

function stringOf(value: unknown, name: string, required: true): string;
function stringOf(value: unknown, name: string, required?: false): string | undefined;
function stringOf(value: unknown, name: string, required = false): string | undefined {
  if (value === undefined || value === null) {
    if (required) throw new PlaygroundError(`"${name}" is required`);
    return undefined;
  }
  if (typeof value !== 'string') throw new PlaygroundError(`"${name}" must be a string`);
  if (required && value.trim() === '') throw new PlaygroundError(`"${name}" is empty`);
  return value;
}

function tokensOf(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new PlaygroundError('"args" must be an array of argument tokens (strings), e.g. ["out:64", "64", "%f", "double:1.5"]');
  if (value.length > MAX_TOKENS) throw new PlaygroundError(`at most ${MAX_TOKENS} arguments`);
  return value.map((token, i) => {
    if (typeof token === 'string') return token;
    if (typeof token === 'number' && Number.isFinite(token)) return String(token);
    throw new PlaygroundError(`"args"[${i}] must be a string token (like "42", "1.5", "out:64", "double:1.5")`);
  });
}

function booleanOf(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw new PlaygroundError(`"${name}" must be true or false`);
  return value;
}

// ---------------------------------------------------------------------------------------------------------------
// declarations

let sharedScope: Declarations | undefined;

/** A scope with the catalog's types (pcap_t, struct tm, …) plus the request's own declarations. */
function scopeFor(decls: string | undefined): Declarations {
  if (!decls || decls.trim() === '') {
    sharedScope ??= catalogDeclarations();
    return sharedScope;
  }
  const scope = catalogDeclarations();
  scope.addDeclarations(decls);
  return scope;
}

function parsePrototype(text: string, decls: string | undefined): Prototype {
  return scopeFor(decls).parsePrototype(text);
}

// ---------------------------------------------------------------------------------------------------------------
// GET /api/info, /api/catalog

export function info(): Json {
  return { arches: [...ARCHES], libraries: [...LIBRARIES], testLibraries: [...TEST_LIBRARIES] };
}

export type ParamKind = 'int' | 'float' | 'pointer' | 'string' | 'struct' | 'function';

export function paramKind(type: CType): ParamKind {
  switch (type.kind) {
    case 'int':
    case 'enum':
      return 'int';
    case 'float':
      return 'float';
    case 'struct':
    case 'union':
    case 'complex': // {re, im}
    case 'vector': // {e0, e1, …}
      return 'struct';
    case 'function':
      return 'function';
    case 'pointer':
      if (type.to.kind === 'function') return 'function';
      return isCharPointer(type) ? 'string' : 'pointer';
    default:
      return 'pointer';
  }
}

function entryJson(entry: CatalogEntry): Json {
  const p = entry.prototype;
  return {
    name: entry.name,
    library: entry.library,
    header: entry.header,
    prototype: entry.text,
    variadic: p.variadic,
    returns: typeName(p.ret),
    params: p.params.map((param, i) => ({ name: param.name ?? `arg${i + 1}`, type: typeName(param.type), kind: paramKind(param.type) })),
  };
}

export function catalogQuery(q: string | null | undefined, limitText: string | null | undefined): Json {
  let limit = 50;
  if (limitText !== null && limitText !== undefined && limitText !== '') {
    limit = Number(limitText);
    if (!Number.isInteger(limit) || limit < 1) throw new PlaygroundError(`"limit" must be a positive integer, got "${limitText}"`);
    limit = Math.min(limit, 2000);
  }
  const query = (q ?? '').trim();
  let entries: readonly CatalogEntry[];
  if (query === '') {
    const all = catalog();
    const popular = POPULAR.map((name) => all.find((e) => e.name === name)).filter((e): e is CatalogEntry => e !== undefined);
    entries = [...popular, ...all.filter((e) => !POPULAR.includes(e.name))].slice(0, limit);
  } else {
    entries = searchCatalog(query, limit);
  }
  return { entries: entries.map(entryJson) };
}

// ---------------------------------------------------------------------------------------------------------------
// POST /api/plan: explanations

/** Short teaching texts, by explanation key (each ArgSpec / the ReturnSpec carries its key in `explain`). */
export const EXPLANATIONS: Record<string, string> = {
  'amd64-integer':
    'INTEGER class (integers, pointers, enums): the next free register of rdi, rsi, rdx, rcx, r8, r9. Once those six are taken, further INTEGER arguments go to the stack.',
  'amd64-sse':
    'SSE class (float, double): the next free register of xmm0–xmm7 (a float in the low 4 bytes, a double in the low 8). A variadic double goes there too, which is why the caller must also set %al.',
  'amd64-x87':
    'long double is class X87/X87UP: it is never passed in a register. The caller copies its 10 bytes into a 16-byte, 16-byte-aligned stack slot.',
  'amd64-memory':
    'Class MEMORY (an aggregate larger than 16 bytes, or one with unaligned fields): the caller copies the whole value onto the stack and no register is used.',
  'amd64-eightbytes':
    'A struct of at most 16 bytes is cut into 8-byte chunks ("eightbytes"). A chunk holding only float/double is SSE, anything else INTEGER, and each chunk takes the next free register of its class, so one struct can straddle an xmm and a general-purpose register.',
  'amd64-stack':
    'The registers of this class are used up, so the argument goes to the next 8-byte stack slot, in order; a struct that does not fit entirely into the remaining registers goes to the stack as a whole.',
  'i386-stack':
    'i386 (System V cdecl): every argument goes on the stack, the first at the lowest address ([esp+4] at the callee\'s entry), each slot rounded up to 4 bytes: a double takes 8, a long double 12, a struct is copied whole. The caller removes the arguments after the call.',
  'amd64-return-integer':
    'Integers and pointers come back in rax; a 16-byte INTEGER result uses rax for the first eightbyte and rdx for the second.',
  'amd64-return-sse':
    'float and double come back in xmm0 (a second SSE eightbyte in xmm1); a small struct mixing both classes comes back in xmm0 and rax, one eightbyte each.',
  'amd64-x87-return':
    'long double comes back in st0, the top of the x87 register stack, as an 80-bit value; the caller must pop it.',
  'amd64-sseup':
    '__float128 and the 16-byte vectors (__m128, __m128d, __m128i) are classes SSE + SSEUP: the whole 16-byte value travels in one xmm register (all of xmm0 for a result), never split across two.',
  'amd64-complex':
    '_Complex float and _Complex double are classified as a struct of their real and imaginary parts: a complex float is one SSE eightbyte (both parts in the low 8 bytes of one xmm register), a complex double two (real part in one xmm register, imaginary part in the next).',
  'amd64-complex-x87':
    '_Complex long double is class COMPLEX_X87: like long double it is never passed in registers — the caller copies both 16-byte parts into a 32-byte, 16-byte-aligned stack slot.',
  'amd64-complex-x87-return':
    '_Complex long double comes back on the x87 stack: the real part in st0 and the imaginary part in st1; the caller pops both.',
  'i386-16-aligned':
    'A __float128 or a 16-byte vector (or a struct holding one) is 16-byte aligned, and GCC gives it a 16-byte-aligned stack slot: padding is left after the previous argument (GCC 4.6 changed this; older compilers and other ABIs disagree).',
  'i386-return-complex-float':
    '_Complex float comes back in edx:eax, like a 64-bit integer: the real part in eax, the imaginary part in edx. _Complex double and long double, __float128 and vectors come back in memory, like structs.',
  'i386-return-eax':
    'Integers and pointers come back in eax; 64-bit integers in edx:eax (high half in edx).',
  'i386-x87-return':
    'float, double and long double come back in st0, the top of the x87 stack, at 80-bit precision, and the caller pops it (fstp). A caller that looks in xmm0 reads garbage; one that forgets to pop leaks an x87 register.',
  'hidden-pointer':
    'The struct is returned in memory: the caller reserves the space and passes its address as a hidden first argument (amd64: rdi, shifting the others along; i386: the first stack slot). The callee fills it in and returns the same address in rax/eax; on i386 it also pops the pointer itself with `ret $4`.',
  al:
    'Variadic call on amd64: %al must hold an upper bound of the number of vector registers (xmm0–xmm7) that carry arguments. glibc\'s variadic functions test %al in their prologue and skip saving the xmm registers when it is 0, so a double passed with %al = 0 is lost (purego\'s bug).',
  variadic:
    'Arguments passed for `...` have no declared type: C\'s default promotions apply (float → double, char/short → int), and the promoted type decides the location exactly as for a fixed parameter.',
  'void-return': 'void: nothing is returned; whatever the callee left in rax/eax means nothing.',
  'stack-alignment':
    'At the call instruction the stack pointer must be 16-byte aligned (amd64, and i386 on Linux since GCC 4.5), so at the callee\'s entry (rsp+8) and (esp+4) are multiples of 16. SSE code that spills to aligned stack slots crashes otherwise — but only sometimes.',
};

function isAggregate(type: CType): boolean {
  return type.kind === 'struct' || type.kind === 'union' || type.kind === 'array';
}

export function argKey(spec: CallSpec, arg: ArgSpec): string {
  if (spec.arch === 'i386') return arg.locations.some((l) => l.kind === 'stack') && containsAlignedValue(arg.type) ? 'i386-16-aligned' : 'i386-stack';
  if (arg.classes.includes('MEMORY')) return 'amd64-memory';
  if (arg.classes.includes('X87')) return 'amd64-x87';
  if (arg.classes.includes('COMPLEX_X87')) return 'amd64-complex-x87';
  const inRegisters = arg.locations.every((l) => l.kind === 'reg');
  if (!inRegisters) return 'amd64-stack';
  if (isAggregate(arg.type)) return 'amd64-eightbytes';
  if (arg.type.kind === 'complex') return 'amd64-complex';
  if (arg.classes.includes('SSEUP')) return 'amd64-sseup';
  return arg.classes.includes('SSE') ? 'amd64-sse' : 'amd64-integer';
}

export function returnKey(spec: CallSpec, ret: ReturnSpec): string {
  if (ret.kind === 'void') return 'void-return';
  if (ret.kind === 'memory') return 'hidden-pointer';
  if (ret.kind === 'x87' && ret.locations.length > 1) return 'amd64-complex-x87-return';
  if (ret.kind === 'x87') return spec.arch === 'amd64' ? 'amd64-x87-return' : 'i386-x87-return';
  if (spec.arch === 'i386') return ret.type.kind === 'complex' ? 'i386-return-complex-float' : 'i386-return-eax';
  if (ret.type.kind === 'complex') return 'amd64-complex';
  if (ret.classes.includes('SSEUP')) return 'amd64-sseup';
  return ret.classes.includes('SSE') ? 'amd64-return-sse' : 'amd64-return-integer';
}

/** The spec with an `explain` key on every ArgSpec and on `ret`, and the texts for every key it uses. */
export function annotate(spec: CallSpec): { spec: CallSpec; explanations: Record<string, string> } {
  const keys: string[] = [];
  const use = (key: string) => {
    if (!keys.includes(key)) keys.push(key);
    return key;
  };
  const args = spec.args.map((a) => ({ ...a, explain: use(argKey(spec, a)) }));
  const ret = { ...spec.ret, explain: use(returnKey(spec, spec.ret)) };
  if (spec.hiddenPointer) use('hidden-pointer');
  if (spec.args.some((a) => a.variadic)) use('variadic');
  if (spec.al !== undefined) use('al');
  use('stack-alignment');
  return { spec: { ...spec, args, ret }, explanations: Object.fromEntries(keys.map((k) => [k, EXPLANATIONS[k]!])) };
}

/** The type of a variadic token (`double:1.5`, `str:ok`, `out:16`). */
function variadicTypeOf(token: string, position: number, decls: string | undefined): CType {
  const value = parseToken(token, undefined, position, {});
  if (value instanceof TypedValue) return completeVariadicType(value.type, (kind, tag) => scopeFor(decls).tag(kind, tag), position);
  if (value instanceof OutBuffer) return { kind: 'pointer', to: { kind: 'void' } };
  throw new ArgumentError(`argument ${position} ("${token}") is variadic and needs a type prefix, e.g. double:1.5, int:42, str:text`);
}

export interface PlanRequest {
  arch?: Arch;
  prototype: string;
  args?: string[];
  decls?: string;
}

export function plan(body: unknown): Json {
  const o = object(body, 'plan request');
  const upload = uploadOf(o.upload);
  const arch = upload ? uploadArch(upload, o.arch) : archOf(o.arch);
  const prototype = stringOf(o.prototype, 'prototype', true);
  const tokens = tokensOf(o.args);
  const decls = stringOf(o.decls, 'decls');
  const proto = parsePrototype(prototype, decls);
  const variadic = proto.variadic
    ? tokens.slice(proto.params.length).map((token, i) => variadicTypeOf(token, proto.params.length + i + 1, decls))
    : [];
  if (!proto.variadic && tokens.length > proto.params.length) {
    throw new ArgumentError(`${proto.name} takes ${proto.params.length} argument(s), got ${tokens.length}: ${proto.text}`);
  }
  // The tokens given for fixed parameters must parse as they would for the call (a bad out:N shows while typing).
  proto.params.forEach((param, i) => {
    if (i < tokens.length) parseToken(tokens[i]!, param.type, i + 1);
  });
  const raw = callSpec(proto, arch, variadic);
  const { spec, explanations } = annotate(raw);
  return { spec, table: renderCallSpec(raw), explanations };
}

// ---------------------------------------------------------------------------------------------------------------
// machines

export type Profile = 'default' | 'abi' | 'threads' | `upload:${string}`;

interface Slot {
  machine?: Machine;
  /** The worker thread of a `threads` machine. */
  thread?: GuestThreadHandle;
  queue: Promise<unknown>;
}

/** By (profile, arch), least recently used first. */
const slots = new Map<string, Slot>();
/** Machines one process keeps booted (each holds a whole glibc process, ~20–65 MiB resident plus at most ~32 MiB of
 * translated code, recycle.ts: `npm run bench`): the least recently used beyond this is closed, so that many uploads
 * or profiles cannot grow a server or worker without end. Six: the five the lessons use (libc + libpcap on both
 * architectures, the ABI fixtures on both, the guest thread on amd64) and one upload, so that recording lessons
 * does not evict the machines students call. */
export const MAX_BOOTED_MACHINES = 6;

/** Closes a slot's machine once the tasks already queued on it are done. */
function retireSlot(slot: Slot): void {
  void slot.queue.then(() => {
    slot.machine?.close();
    slot.machine = undefined;
  });
}

/** The slot for `key`, now the most recently used; evicts the least recently used beyond MAX_BOOTED_MACHINES. */
function slotFor(key: string): Slot {
  const slot = slots.get(key) ?? { queue: Promise.resolve() };
  slots.delete(key);
  slots.set(key, slot);
  while (slots.size > MAX_BOOTED_MACHINES) {
    const [oldest, evicted] = slots.entries().next().value!;
    slots.delete(oldest);
    retireSlot(evicted);
  }
  return slot;
}

function abiFixture(arch: Arch, name: string): string {
  return `${ROOT}fixtures/abi/libabi-${name}-${arch}.so`;
}

let abiDecls: string | undefined;
function abiDeclarations(): string {
  abiDecls ??= (JSON.parse(readFileSync(`${ROOT}fixtures/abi/manifest.json`, 'utf8')) as { decls: string }).decls;
  return abiDecls;
}

async function bootMachine(profile: Profile, arch: Arch): Promise<{ machine: Machine; thread?: GuestThreadHandle }> {
  if (profile.startsWith('upload:')) {
    const upload = uploads.get(profile.slice('upload:'.length));
    if (!upload) throw new PlaygroundError('the uploaded object is gone (the server keeps the latest uploads only): upload it again');
    const machine = await Machine.boot({ arch, libs: [upload.path], check: true, watchTls: true, cache: bootCache, ...LIMITS });
    machine.tlsLayout();
    return { machine };
  }
  const libs = ['libpcap.so.0.8'];
  if (profile === 'abi') libs.push(...['targets', 'callees', 'shims'].map((n) => abiFixture(arch, n)), `${ROOT}fixtures/abi/lessons/liblessons-${arch}.so`);
  const machine = await Machine.boot({
    arch, libs, check: true, watchTls: true, cache: bootCache, ...LIMITS, decls: profile === 'abi' ? abiDeclarations() : undefined,
  });
  // Warm up: the first instrumented call computes the TLS layout (through dlinfo) and resolves IFUNCs; done here,
  // it does not show up in the first recording.
  machine.tlsLayout();
  machine.fn('libc.so.6', 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)')(new OutBuffer(16), 16, 'warm-up');
  machine.takeOutput();
  let thread: GuestThreadHandle | undefined;
  if (profile === 'threads') {
    thread = machine.startThread({ detached: true });
    const self = machine.onThread(thread).fn('libc.so.6', 'unsigned long pthread_self(void)');
    self();
    machine.takeOutput();
  }
  return { machine, thread };
}

/** Runs `task` on the (profile, arch) machine, after every earlier task on it; boots the machine first if needed. */
function onMachine<T>(profile: Profile, arch: Arch, task: (machine: Machine, thread: GuestThreadHandle | undefined) => T): Promise<T> {
  const s = slotFor(`${profile}:${arch}`);
  const run = async () => {
    if (!s.machine) {
      const booted = await bootMachine(profile, arch);
      s.machine = booted.machine;
      s.thread = booted.thread;
    }
    const machine = s.machine;
    const discard = () => {
      try {
        machine.close();
      } catch {
        /* already broken */
      }
      s.machine = undefined;
      s.thread = undefined;
    };
    try {
      const result = task(machine, s.thread);
      if (wornOut(machine)) discard();
      return result;
    } catch (error) {
      // The guest stopped somewhere in the middle: its heap or locks may be inconsistent. Start afresh next time.
      if (!keepsMachine(error)) discard();
      throw error;
    }
  };
  const result = s.queue.then(run, run);
  s.queue = result.catch(() => undefined);
  return result;
}

/** Errors raised before the guest ran (bad prototype, arguments, unknown symbol): the machine is still fine. */
function keepsMachine(error: unknown): boolean {
  return [PlaygroundError, ArgumentError, DeclarationError, CallSpecError, LayoutError, SymbolNotFoundError].some((kind) => error instanceof kind);
}

/** Closes every booted machine (the next request boots them again). */
export async function closeMachines(): Promise<void> {
  const pending = [...slots.values()];
  slots.clear();
  for (const upload of uploads.values()) rmSync(upload.dir, { recursive: true, force: true });
  uploads.clear();
  for (const slot of pending) {
    await slot.queue;
    slot.machine?.close();
    slot.machine = undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// POST /api/call

export interface CallRequest {
  arch?: Arch;
  library?: string;
  prototype: string;
  args?: string[];
  decls?: string;
  check?: boolean;
  tls?: boolean;
  /** Run the call on a guest thread started the fakecgo way (Machine.startThread) instead of the main thread. */
  thread?: boolean;
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/**
 * Labels for the trace: the callee, the trampoline, the host's return trap, and the start of every function the
 * steps are in (`trace.functions`: glibc's internal ones named from the bundled debug symbols), also those entered
 * only by returning into them.
 */
function symbolsFor(trace: Trace, callee: number, name: string): Record<string, string> {
  const symbols: Record<string, string> = {};
  for (const f of trace.functions ?? []) symbols[hex(f.address)] = f.name;
  const begin = trace.runs[0]?.begin;
  if (begin !== undefined) symbols[hex(begin)] = 'trampoline';
  const until = trace.runs[0]?.until;
  if (until !== undefined) symbols[hex(until)] = 'host (return trap)';
  symbols[hex(callee)] = name;
  return symbols;
}

/** What a caller learns while a call is under way (the worker pool starts its wall-clock deadline at `onGuestStart`). */
export interface CallHooks {
  /** The machine is booted and the guest is about to run. */
  onGuestStart?(): void;
}

/**
 * What the playground's memory view needs in a trace: every byte the call read (besides what it wrote), and errno
 * (the thread's, at its fixed offset from the thread pointer) even when the call never touches it.
 */
function memoryViewOptions(machine: Machine, thread: GuestThreadHandle | undefined): { reads: true; include: { address: number; size: number }[] } {
  const layout = machine.tlsLayout();
  const threadPointer = thread ? thread.threadPointer : layout.threadPointer;
  return { reads: true, include: [{ address: Number(threadPointer) + (layout.errno - layout.threadPointer), size: 4 }] };
}

export async function call(body: unknown, hooks: CallHooks = {}): Promise<Json> {
  const o = object(body, 'call request');
  const upload = uploadOf(o.upload);
  const arch = upload ? uploadArch(upload, o.arch) : archOf(o.arch);
  const library = stringOf(o.library, 'library');
  const prototype = stringOf(o.prototype, 'prototype', true);
  const tokens = tokensOf(o.args);
  const decls = stringOf(o.decls, 'decls');
  const check = booleanOf(o.check, 'check', true);
  const tls = booleanOf(o.tls, 'tls', true);
  const onThread = booleanOf(o.thread, 'thread', false);
  const proto = parsePrototype(prototype, decls);
  let profile: Profile = 'default';
  if (upload) {
    if (library) throw new PlaygroundError('"library" and "upload" cannot be combined: a call on an uploaded object runs in that object');
    if (onThread) throw new PlaygroundError('"thread": true works for libc and libpcap calls only');
    profile = `upload:${upload.id}`;
  } else if (library !== undefined && library !== '') {
    if ((TEST_LIBRARIES as readonly string[]).includes(library)) profile = 'abi';
    else if (!(LIBRARIES as readonly string[]).includes(library)) {
      throw new PlaygroundError(`unknown library "${library}": the playground has ${[...LIBRARIES, ...TEST_LIBRARIES].join(', ')}`);
    }
  }
  if (onThread) {
    if (profile === 'abi') throw new PlaygroundError('"thread": true works for libc and libpcap calls only');
    profile = 'threads';
  }
  const args = argumentsFor(proto, tokens, {});
  return onMachine(profile, arch, (machine, thread) => {
    hooks.onGuestStart?.();
    machine.checking = check;
    machine.watchTls = tls;
    const lib = upload ? machine.process.mountedLibraries[0] : library || undefined;
    const f = thread ? machine.onThread(thread).fn(lib, proto) : machine.fn(lib, proto);
    const spec = annotate(f.spec(...args)).spec;
    const label = `${proto.text}${thread ? ` on thread ${thread.tid}` : ''} (${arch})`;
    let recorded;
    try {
      recorded = recordTrace(machine, label, () => f(...(args as HostValue[])), { maxSteps: MAX_TRACE_STEPS, ...memoryViewOptions(machine, thread) });
    } catch (error) {
      const call = { arch, proto, spec, callee: f.address };
      if (error instanceof TraceLimitError) throw new RecordingCut(cutResponse(machine, error, call));
      const trace = (error as { trace?: Trace }).trace;
      if (!trace || trace.steps === 0 || keepsMachine(error)) throw error;
      const message = errorMessage(error);
      const response = partialResponse(machine, trace, call, { fault: message });
      // The host printf check's warnings often explain the fault (%s with an int).
      const { formatWarnings } = error as { formatWarnings?: unknown };
      if (formatWarnings) (response.result as Json).formatWarnings = formatWarnings;
      throw new CallFailedError(message, response);
    }
    const { result, trace } = recorded;
    noteRecording(machine, trace);
    const json = resultJson(null, arch, proto, args, result, machine.takeOutput());
    const response: Json = {
      result: json, spec, trace: encodedTrace(trace, label), symbols: symbolsFor(trace, f.address, proto.name),
      globals: globalsTouched(trace, machine.symbols.objects()),
    };
    if (thread) {
      response.thread = { tid: thread.tid, pthread: hex(thread.pthread), threadPointer: hex(thread.threadPointer), mainThreadPointer: hex(machine.tlsLayout().threadPointer) };
    }
    return response;
  }).catch((error: unknown) => {
    if (error instanceof RecordingCut) return error.response;
    throw error;
  });
}

/** The trace in base64, refused when its encoding is larger than the browser is asked to hold. */
function encodedTrace(trace: Trace, label: string): string {
  const bytes = encodeTrace(trace);
  if (bytes.length > MAX_TRACE_BYTES) {
    throw new TraceTooLargeError(`the recording of ${label} is ${bytes.length} bytes encoded, more than the playground sends (${MAX_TRACE_BYTES}); try a smaller input`);
  }
  return Buffer.from(bytes).toString('base64');
}

/** The answer for a call stopped at MAX_TRACE_STEPS: the recording up to there, and `truncated` saying why it ends. */
function cutResponse(machine: Machine, error: TraceLimitError, call: StoppedCall): Json {
  const trace = (error as TraceLimitError & { trace?: Trace }).trace;
  if (!trace) throw error;
  const truncated = `the recording was cut at ${MAX_TRACE_STEPS} instructions (the playground's trace limit) and the call stopped there: it had not returned; try a smaller input`;
  return partialResponse(machine, trace, call, { truncated });
}

interface StoppedCall { arch: Arch; proto: Prototype; spec: CallSpec; callee: number }

/** The answer for a call that did not return: the recording up to where it stopped, and why (`truncated` or `fault`). */
function partialResponse(machine: Machine, trace: Trace, call: StoppedCall, why: { truncated: string } | { fault: string }): Json {
  const output = machine.takeOutput();
  return {
    result: { function: call.proto.name, arch: call.arch, instructions: trace.steps, stdout: output.stdout, stderr: output.stderr },
    spec: call.spec,
    trace: encodedTrace(trace, `${call.proto.text} (${call.arch})`),
    symbols: symbolsFor(trace, call.callee, call.proto.name),
    globals: globalsTouched(trace, machine.symbols.objects()),
    ...why,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// POST /api/upload: a user's shared object, kept in memory (and in a temp file, as Machine.boot takes host paths)

/** Largest accepted object (decoded). */
export const MAX_UPLOAD_BYTES = 8 << 20;
/** Uploads kept at once; the oldest (and its machine) goes first. */
const MAX_UPLOADS = 16;
const MAX_EXPORTS = 500;

export interface Upload {
  id: string;
  name: string;
  arch: Arch;
  soname?: string;
  exports: string[];
  /** The temp folder holding the bytes, and the file in it Machine.boot loads. */
  dir: string;
  path: string;
}

const uploads = new Map<string, Upload>();
let uploadRoot: string | undefined;

function uploadOf(value: unknown): Upload | undefined {
  const id = stringOf(value, 'upload');
  if (id === undefined || id === '') return undefined;
  const upload = uploads.get(id);
  if (!upload) throw new PlaygroundError(`no uploaded object with id "${id}" (the server keeps the latest ${MAX_UPLOADS} uploads, until it restarts): upload it again`);
  return upload;
}

function uploadArch(upload: Upload, requested: unknown): Arch {
  if (requested === undefined || requested === null) return upload.arch;
  const arch = archOf(requested);
  if (arch !== upload.arch) throw new PlaygroundError(`${upload.name} is an ${upload.arch} object: it cannot run on ${arch}`);
  return arch;
}

function uploadJson(u: Upload): Json {
  return { id: u.id, name: u.name, arch: u.arch, soname: u.soname ?? null, exports: u.exports };
}

export function upload(body: unknown): Json {
  const o = object(body, 'upload request');
  const rawName = stringOf(o.name, 'name', true);
  const name = rawName.split(/[\\/]/).pop()!.replace(/[^A-Za-z0-9._+-]/g, '_').slice(0, 100);
  if (name === '' || name === '.' || name === '..') throw new PlaygroundError(`"name" must be a file name like libfoo.so, got ${JSON.stringify(rawName)}`);
  const requested = o.arch === undefined || o.arch === null ? undefined : archOf(o.arch);
  const data = stringOf(o.data, 'data', true);
  if (!/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(data)) throw new PlaygroundError('"data" must be the file\'s bytes in base64');
  const bytes = new Uint8Array(Buffer.from(data, 'base64'));
  if (bytes.length === 0) throw new PlaygroundError(`${name} is empty`);
  if (bytes.length > MAX_UPLOAD_BYTES) throw new PlaygroundError(`${name} is ${bytes.length} bytes: the playground takes shared objects of at most ${MAX_UPLOAD_BYTES} bytes`);
  let elf;
  try {
    elf = parseElf(bytes, name);
  } catch (error) {
    if (error instanceof ElfError) throw new PlaygroundError(`${name} is not a usable ELF shared object: ${error.detail}`);
    throw error;
  }
  if (elf.type !== 'DYN') {
    throw new PlaygroundError(`${name} is an ${elf.arch} ELF ${elf.type === 'EXEC' ? 'executable' : elf.type} (type ${elf.type}), not a shared object: build it with gcc -shared -fPIC`);
  }
  if (elf.interp && !elf.soname) {
    throw new PlaygroundError(`${name} is an ${elf.arch} position-independent executable (it has an interpreter, ${elf.interp}, and no soname), not a shared object: build it with gcc -shared -fPIC`);
  }
  if (requested && requested !== elf.arch) {
    throw new PlaygroundError(`${name} is an ${elf.arch} object, not ${requested}: build it with gcc ${requested === 'i386' ? '-m32' : '-m64'} or pick ${elf.arch}`);
  }
  const names = new Set<string>();
  for (const sym of elf.dynsym) {
    if (sym.defined && (sym.type === 'FUNC' || sym.type === 'GNU_IFUNC') && sym.bind !== 'LOCAL' && sym.visibility !== 'HIDDEN' && sym.visibility !== 'INTERNAL' && sym.name) {
      names.add(sym.name);
    }
  }
  const id = createHash('sha256').update(bytes).update(name).digest('hex').slice(0, 16);
  const known = uploads.get(id);
  if (known) {
    uploads.delete(id);
    uploads.set(id, known);
    return uploadJson(known);
  }
  uploadRoot ??= mkdtempSync(join(tmpdir(), 'shimulator-uploads-'));
  const dir = join(uploadRoot, id);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, bytes);
  const entry: Upload = { id, name, arch: elf.arch, soname: elf.soname, exports: [...names].sort().slice(0, MAX_EXPORTS), dir, path };
  uploads.set(id, entry);
  while (uploads.size > MAX_UPLOADS) forgetUpload(uploads.keys().next().value!);
  return uploadJson(entry);
}

/** Who wants to know when an upload is dropped (the worker pool, whose workers hold machines for it). */
const forgetListeners: Array<(id: string) => void> = [];

export function onUploadForgotten(listener: (id: string) => void): void {
  forgetListeners.push(listener);
}

/** The upload `id`, as a worker needs it to run calls in it (undefined when unknown: the worker then says so). */
export function uploadEntry(id: unknown): Upload | undefined {
  return typeof id === 'string' ? uploads.get(id) : undefined;
}

/** Makes an upload known to this thread's machines (a worker receives it with the call that needs it). */
export function adoptUpload(entry: Upload): void {
  if (!uploads.has(entry.id)) uploads.set(entry.id, entry);
}

/** Drops an upload's machines; its files go too unless another thread owns them (`keepFiles`). */
export function forgetUpload(id: string, keepFiles = false): void {
  const upload = uploads.get(id);
  uploads.delete(id);
  if (!upload) return;
  for (const listener of forgetListeners) listener(id);
  for (const arch of ARCHES) {
    const key = `upload:${id}:${arch}`;
    const slot = slots.get(key);
    if (!slot) continue;
    slots.delete(key);
    retireSlot(slot);
  }
  if (!keepFiles) rmSync(upload.dir, { recursive: true, force: true });
}

/** The message for an error answer (guest faults with their registers, violations that led to a fault). */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    if (error instanceof CallFailedError) return error.message;
    if (error.name === 'TraceLimitError') {
      return `the call ran longer than the playground records (${MAX_TRACE_STEPS} instructions, the trace limit); try a smaller input`;
    }
    return formatError(error);
  }
  return String(error);
}
