/**
 * `shimulator call`: boots a machine, calls one prototype (or a batch of calls on the same machine) and prints
 * the result as text or as JSON (see the README's CLI contract).
 */
import type { Arch } from '../emu/arch.ts';
import { parseArch } from '../emu/arch.ts';
import { callSpec } from '../callspec/classify.ts';
import { Declarations } from '../callspec/parse.ts';
import { renderCallSpec } from '../callspec/render.ts';
import type { CType, Prototype } from '../callspec/types.ts';
import { ArgumentError, completeVariadicType, type DecodedValue, type HostValue, isCharPointer, TypedValue } from '../callspec/values.ts';
import { type CallResult, Machine } from '../machine.ts';
import { callPrinter } from '../check/calls.ts';
import { formatViolations } from '../check/report.ts';
import type { AbiReport, Violation } from '../check/rules.ts';
import { formatTlsReport, type TlsReport } from '../check/tls-watch.ts';
import { parseToken, type TokenContext } from './tokens.ts';
import { LongDouble } from '../callspec/long-double.ts';
import { FLOAT80_BYTES } from '../callspec/float80.ts';
import { writeTraceFile } from './trace.ts';
import { readInputText } from './files.ts';
import { parseSeconds, parseSize, SIZE_OPTIONS, TIMEOUT_EXIT_STATUS } from './sizes.ts';
import { recordTrace, TraceLimitError } from '../trace/recorder.ts';
import { WallTimeoutError } from '../loader/limits.ts';
import type { Trace } from '../trace/format.ts';

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface CallOptions {
  arch: Arch;
  libs: string[];
  decls?: string;
  json: boolean;
  batch?: string;
  spec: boolean;
  budget?: number;
  memoryLimit?: number;
  outputLimit?: number;
  /** `--timeout SECONDS`: host wall-clock seconds each call may take. */
  timeout?: number;
  seed?: number;
  check: boolean;
  /** `--calls`: an ltrace-like line per cross-object call (and the host's call). */
  calls: boolean;
  tls: boolean;
  trace?: string;
  /** `--trace-limit N`: instructions `--trace` records at most (the call stops there). */
  traceLimit?: number;
  threads?: number;
  /** `--no-cache`: boot afresh; `--cache-dir DIR`: where boot images are kept (default: see image-cache.ts). */
  cache: boolean;
  cacheDir?: string;
  positional: string[];
}

export const CALL_USAGE = `usage: shimulator call [--arch amd64|i386] [--lib NAME|PATH]... [--decls FILE.h] [--json]
                       [--batch FILE.jsonl] [--spec] [--check] [--calls] [--tls]
                       [--trace FILE [--trace-limit N]] [--threads N] [--budget N] [--timeout SECONDS]
                       [--memory-limit SIZE] [--output-limit SIZE] [--seed N] [--no-cache | --cache-dir DIR]
                       [PROTOTYPE ARG...]`;

/** Threads `--threads` may start (each gets a glibc thread stack of 8 MiB of guest address space). */
const MAX_THREADS = 64;

export function parseCallOptions(argv: string[]): CallOptions {
  const o: CallOptions = { arch: 'amd64', libs: [], json: false, spec: false, check: false, calls: false, tls: false, cache: true, positional: [] };
  const value = (i: number, flag: string) => {
    const v = argv[i + 1];
    if (v === undefined) throw new UsageError(`${flag} needs a value\n${CALL_USAGE}`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (o.positional.length > 0) {
      // After the prototype everything is an argument token, even "-1"; a "--" separator is simply skipped.
      if (a !== '--' || o.positional.length > 1 || argv[i - 1] !== o.positional[0]) o.positional.push(a);
      continue;
    }
    switch (a) {
      case '--arch':
        o.arch = parseArch(value(i++, a));
        break;
      case '--lib':
        o.libs.push(value(i++, a));
        break;
      case '--decls':
        o.decls = value(i++, a);
        break;
      case '--json':
        o.json = true;
        break;
      case '--batch':
        o.batch = value(i++, a);
        break;
      case '--spec':
        o.spec = true;
        break;
      case '--check':
        o.check = true;
        break;
      case '--calls':
        o.calls = true;
        break;
      case '--tls':
        o.tls = true;
        break;
      case '--trace':
        o.trace = value(i++, a);
        break;
      case '--trace-limit':
        o.traceLimit = positiveInteger(value(i++, a), a);
        break;
      case '--threads':
        o.threads = positiveInteger(value(i++, a), a);
        if (o.threads < 1 || o.threads > MAX_THREADS) throw new UsageError(`--threads takes 1 to ${MAX_THREADS}`);
        break;
      case '--memory-limit':
      case '--output-limit':
        o[SIZE_OPTIONS[a]] = parseSize(value(i++, a), a);
        break;
      case '--budget':
        o.budget = positiveInteger(value(i++, a), a);
        break;
      case '--timeout':
        o.timeout = parseSeconds(value(i++, a), a);
        break;
      case '--seed':
        o.seed = positiveInteger(value(i++, a), a);
        break;
      case '--no-cache':
        o.cache = false;
        break;
      case '--cache-dir':
        o.cacheDir = value(i++, a);
        break;
      case '--':
        o.positional.push(...argv.slice(i + 1));
        i = argv.length;
        break;
      default:
        if (a.startsWith('--')) throw new UsageError(`unknown option ${a}\n${CALL_USAGE}`);
        o.positional.push(a);
    }
  }
  if (!o.batch && o.positional.length === 0) throw new UsageError(`a PROTOTYPE (or --batch FILE) is required\n${CALL_USAGE}`);
  if (o.batch && o.positional.length > 0) throw new UsageError(`give either --batch FILE or a PROTOTYPE, not both\n${CALL_USAGE}`);
  return o;
}

function positiveInteger(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`${flag} takes a non-negative integer, got "${text}"`);
  return n;
}

interface BatchLine {
  id: string;
  proto: string;
  args: string[];
}

/** A batch line that is not a call: it fails on its own (`{id, arch, error}`), the others still run. */
interface BadBatchLine {
  id: string;
  error: string;
}

function readBatch(path: string): (BatchLine | BadBatchLine)[] {
  return readInputText(path, '--batch')
    .split('\n')
    .map((line, n) => [line.trim(), n + 1] as const)
    .filter(([line]) => line !== '' && !line.startsWith('//'))
    .map(([line, n]) => batchLine(line, `${path}:${n}`, String(n)));
}

/** One line of a batch; `lineId` (its line number) when it has no id of its own. */
function batchLine(line: string, where: string, lineId: string): BatchLine | BadBatchLine {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    return { id: lineId, error: `${where}: not a JSON object (${(error as Error).message})` };
  }
  const p = parsed as Partial<BatchLine>;
  const id = typeof p === 'object' && p !== null && p.id !== undefined ? String(p.id) : lineId;
  if (typeof p !== 'object' || p === null || typeof p.proto !== 'string' || (p.args !== undefined && !Array.isArray(p.args))) {
    return { id, error: `${where}: expected {"id": "...", "proto": "...", "args": ["token", ...]}` };
  }
  return { id, proto: p.proto, args: (p.args ?? []).map(String) };
}

/** Host values for the tokens of one call, by the prototype's parameter types. */
export function argumentsFor(proto: Prototype, tokens: string[], context: TokenContext): HostValue[] {
  const fixed = proto.params.length;
  if (tokens.length < fixed || (!proto.variadic && tokens.length > fixed)) {
    throw new ArgumentError(
      `${proto.name} takes ${fixed}${proto.variadic ? ' or more' : ''} argument(s), got ${tokens.length}: ${proto.text}`,
    );
  }
  return tokens.map((token, i) => parseToken(token, proto.params[i]?.type, i + 1, context));
}

/** The JSON form of a decoded value: integers beyond 2^53 become decimal strings, non-finite floats strings. */
export function jsonValue(value: DecodedValue): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' && !Number.isFinite(value)) return Number.isNaN(value) ? 'nan' : value > 0 ? 'inf' : '-inf';
  if (Array.isArray(value)) return value.map(jsonValue);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonValue(v)]));
  return value ?? null;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function cString(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  return new TextDecoder().decode(nul >= 0 ? bytes.subarray(0, nul) : bytes);
}

/** What the guest printed during a call (present in the result only when it printed something). */
interface GuestOutput {
  stdout: string;
  stderr: string;
}

export function resultJson(
  id: string | null, arch: Arch, proto: Prototype, args: HostValue[], r: CallResult, output?: GuestOutput,
): Record<string, unknown> {
  const outs: Record<string, string> = {};
  for (const [index, bytes] of Object.entries(r.out)) {
    const param = proto.params[Number(index)];
    const arg = args[Number(index)];
    const type = param?.type ?? (arg instanceof TypedValue ? arg.type : undefined);
    outs[index] = type && isCharPointer(type) ? cString(bytes) : hex(bytes);
  }
  const json: Record<string, unknown> = {
    id,
    arch,
    function: proto.name,
    return: jsonValue(r.value),
    errno: r.errno,
    out: outs,
  };
  // A long double result exactly, as an x87: token, with the nearest double beside it.
  if (proto.ret.kind === 'float' && proto.ret.name === 'long double') {
    json.return = new LongDouble(r.returnBytes.subarray(0, FLOAT80_BYTES)).toString();
    json.returnApprox = jsonValue(r.value);
  }
  if (r.string !== undefined) json.string = r.string;
  json.instructions = r.instructions;
  if (r.abi) json.abi = r.abi;
  if (r.formatWarnings) json.formatWarnings = r.formatWarnings;
  if (r.tls) json.tls = r.tls;
  if (output?.stdout) json.stdout = output.stdout;
  if (output?.stderr) json.stderr = output.stderr;
  return json;
}

/**
 * The host printf check's warnings on stderr, with or without --check: they come from the command line's own
 * arguments (an int: token for %f), cost nothing to find, and explain garbage output or a fault, as gcc's -Wformat
 * does by default. With --check they are in the ABI report already.
 */
function warnFormat(found: { formatWarnings?: Violation[] }, check: boolean, warn: (line: string) => void, id?: string): void {
  if (check || !found.formatWarnings) return;
  for (const w of found.formatWarnings) warn(`shimulator: warning${id === undefined ? '' : ` (${id})`}: ${w.message.split('. Rule: ')[0]!.replace(/^printf-format: /, '')} [printf-format]`);
}

function resultText(arch: Arch, proto: Prototype, json: Record<string, unknown>): string {
  const lines = [`${proto.name} (${arch}) = ${JSON.stringify(json.return)}   errno ${json.errno}   ${json.instructions} instructions`];
  if (json.string !== undefined) lines.push(`  string: ${JSON.stringify(json.string)}`);
  for (const [index, text] of Object.entries(json.out as Record<string, string>)) lines.push(`  out[${index}]: ${JSON.stringify(text)}`);
  if (json.stdout !== undefined) lines.push(`  guest stdout: ${JSON.stringify(json.stdout)}`);
  if (json.stderr !== undefined) lines.push(`  guest stderr: ${JSON.stringify(json.stderr)}`);
  if (Array.isArray(json.calls)) lines.push('  calls:', ...(json.calls as string[]).map((line) => `    ${line}`));
  const abi = json.abi as AbiReport | undefined;
  if (abi) lines.push(abi.violations.length === 0 ? '  ABI: ok (no violations)' : formatViolations(abi.violations, '  '));
  const tls = json.tls as TlsReport | undefined;
  if (tls) lines.push(`  TLS: ${formatTlsReport(tls).split('\n').join('\n  ')}`);
  return lines.join('\n');
}

/**
 * `--threads N`: starts N guest threads the fakecgo way and runs the call on all of them at once. The result is
 * the first thread's, plus `threads` (one entry per thread) and `schedule` (a hash of the interleaving).
 */
function runOnThreads(
  machine: Machine, o: CallOptions, proto: Prototype, address: number, args: HostValue[], traced: <T>(label: string, run: () => T) => T,
): Record<string, unknown> {
  const threads = Array.from({ length: o.threads! }, () => machine.startThread());
  const results = traced(`${proto.text} on ${threads.length} threads`, () =>
    machine.concurrently(threads.map((thread) => ({ thread, address, proto, args }))),
  );
  const output = machine.takeOutput();
  const perThread = results.map((r, i) => {
    const json = resultJson(null, o.arch, proto, args, r);
    return {
      tid: threads[i]!.tid,
      tlsBase: threads[i]!.threadPointer,
      return: json.return,
      errno: json.errno,
      out: json.out,
      ...(json.string !== undefined ? { string: json.string } : {}),
      instructions: json.instructions,
      ...(json.abi ? { abi: json.abi } : {}),
      ...(json.tls ? { tls: json.tls } : {}),
    };
  });
  return { ...resultJson(null, o.arch, proto, args, results[0]!, output), threads: perThread, schedule: machine.schedule };
}

function returnHostValue(value: DecodedValue): HostValue {
  return typeof value === 'number' || typeof value === 'bigint' ? value : null;
}

/** Runs the `call` command; writes results to `write`. Returns the exit code. */
export async function runCall(
  argv: string[], write: (line: string) => void, warn: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<number> {
  const o = parseCallOptions(argv);
  const decls = o.decls ? readInputText(o.decls, '--decls') : undefined;
  // Read before the boot: a missing file is reported at once.
  const batch = o.batch ? readBatch(o.batch) : [];
  if (o.spec) {
    const scope = new Declarations({ arch: o.arch });
    if (decls) scope.addDeclarations(decls);
    const proto = scope.parsePrototype(o.positional[0]!);
    // Only the variadic tokens matter for the plan (their type prefixes); fixed arguments may be omitted.
    const variadic: CType[] = o.positional
      .slice(1 + proto.params.length)
      .map((token, i) => {
        const position = proto.params.length + i + 1;
        return completeVariadicType((parseToken(token, undefined, position, {}) as TypedValue).type, (kind, tag) => scope.tag(kind, tag), i + 1);
      });
    write(renderCallSpec(callSpec(proto, o.arch, variadic)));
    return 0;
  }
  const machine = await Machine.boot({
    arch: o.arch, libs: o.libs, decls, callBudget: o.budget, seed: o.seed, check: o.check, watchTls: o.tls,
    memoryLimit: o.memoryLimit, outputLimit: o.outputLimit, callTimeoutSeconds: o.timeout, cache: o.cache && { dir: o.cacheDir },
  });
  // --calls: the lines of each call, taken (and reset) when its result is written.
  let callLines: string[] = [];
  if (o.calls) machine.onCall = callPrinter((line) => callLines.push(line));
  const takeCalls = () => {
    const lines = callLines;
    callLines = [];
    return lines;
  };
  // The lines are taken before the result is built: its takeOutput() makes a call of its own (fflush).
  const withCalls = (lines: string[], json: Record<string, unknown>) => {
    takeCalls();
    if (o.calls) json.calls = lines;
    return json;
  };
  // --trace records everything the calls execute; a failing call still leaves its partial trace in the file.
  const traced = <T>(label: string, run: () => T): T => {
    if (!o.trace) return run();
    try {
      const { result, trace } = recordTrace(machine, label, run, { maxSteps: o.traceLimit });
      writeTraceFile(o.trace, trace);
      return result;
    } catch (error) {
      const partial = (error as { trace?: Trace }).trace;
      if (partial) writeTraceFile(o.trace, partial);
      if (error instanceof TraceLimitError) {
        error.message = `the trace reached its limit of ${error.maxSteps} instructions and the call was stopped there (${o.trace} holds them; raise --trace-limit to record further)`;
      }
      throw error;
    }
  };
  try {
    if (!o.batch) {
      const proto = machine.declarations.parsePrototype(o.positional[0]!);
      const args = argumentsFor(proto, o.positional.slice(1), {});
      const f = machine.fn(undefined, proto);
      if (o.threads) {
        write(JSON.stringify(runOnThreads(machine, o, proto, f.address, args, traced), null, o.json ? undefined : 2));
        return 0;
      }
      let result: CallResult;
      try {
        result = traced(proto.text, () => f(...args));
      } catch (error) {
        warnFormat(error as { formatWarnings?: Violation[] }, o.check, warn); // e.g. %s with an int faults in printf
        throw error;
      }
      warnFormat(result, o.check, warn);
      const json = withCalls(takeCalls(), resultJson(null, o.arch, proto, args, result, machine.takeOutput()));
      write(o.json ? JSON.stringify(json) : resultText(o.arch, proto, json));
      return 0;
    }
    const results = new Map<string, HostValue>();
    let failures = 0;
    let timedOut = false;
    return traced(`batch ${o.batch}`, () => {
    for (const line of batch) {
      try {
        if ('error' in line) throw new UsageError(line.error);
        const proto = machine.declarations.parsePrototype(line.proto);
        const args = argumentsFor(proto, line.args, { results });
        let r: CallResult;
        try {
          r = machine.fn(undefined, proto)(...args);
        } catch (error) {
          warnFormat(error as { formatWarnings?: Violation[] }, o.check, warn, line.id);
          throw error;
        }
        warnFormat(r, o.check, warn, line.id);
        results.set(line.id, returnHostValue(r.value));
        write(JSON.stringify(withCalls(takeCalls(), resultJson(line.id, o.arch, proto, args, r, machine.takeOutput()))));
      } catch (error) {
        failures++;
        timedOut ||= error instanceof WallTimeoutError;
        write(JSON.stringify({ id: line.id, arch: o.arch, error: (error as Error).message }));
      }
    }
    return timedOut ? TIMEOUT_EXIT_STATUS : failures === 0 ? 0 : 1;
    });
  } finally {
    machine.close();
  }
}
