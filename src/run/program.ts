/**
 * Whole-program runs: an x86 executable (a Go program with its shims, a C program) exec'd the way Linux does,
 * run from its entry point to its exit under the deterministic scheduler, with every call between loaded objects
 * checked against the ABI when asked. `runProgram` is the library API; `shimulator run` is its command line.
 *
 *   const report = await runProgram({ program: './myprog', args: ['x'], check: true });
 *   report.exit;            // the guest's own exit status (128+N when signal N ended it)
 *   report.abi.violations;  // grouped: one entry per (rule, caller site, callee), with a count
 */
import { posix } from 'node:path';
import type { Arch } from '../emu/arch.ts';
import type { CountingChoice } from '../emu/block-counter.ts';
import { BudgetExceededError, GuestFault } from '../emu/errors.ts';
import { AddressSpaceError } from '../kernel/memory-errors.ts';
import { CapturedOutput, OutputLimitError, type OutputSink } from '../kernel/output.ts';
import { GuestDeadlockError } from '../kernel/threads.ts';
import { AbiChecker } from '../check/checker.ts';
import { callPrinter } from '../check/calls.ts';
import { groupViolations, type ViolationGroup } from '../check/group.ts';
import { precomputeIfuncImplementations } from '../check/ifunc.ts';
import { lookupPrototype } from '../catalog/catalog.ts';
import { Declarations } from '../callspec/parse.ts';
import { DEFAULT_RUN_TIMEOUT_SECONDS, type TimeLimits, TimeLimitError, WallTimeoutError, wallTimeLimit } from '../loader/limits.ts';
import { Process } from '../loader/process.ts';
import { SymbolTable } from '../loader/symbols.ts';
import type { Trace } from '../trace/format.ts';
import { recordTrace, TraceLimitError } from '../trace/recorder.ts';
import { loadAbiChecker } from '../machine.ts';
import { loadProgram, type Mount, mountFiles, ProgramError } from './image.ts';

/** The environment every run starts with (nothing comes from the host); `env` adds to it or overrides it. */
export const DEFAULT_ENVIRONMENT: Readonly<Record<string, string>> = {
  PATH: '/usr/bin:/bin',
  HOME: '/tmp',
  LANG: 'C',
  TZ: 'UTC',
};

/** Guest instructions a run may execute by default (all threads together). */
export const DEFAULT_RUN_BUDGET = 20_000_000_000;
/** Virtual seconds a run may last by default. */
export const DEFAULT_TIME_LIMIT_SECONDS = 600;
/** Host wall-clock seconds a run may take by default. */
export const DEFAULT_TIMEOUT_SECONDS = DEFAULT_RUN_TIMEOUT_SECONDS;
const SIGSEGV = 11;
const SIGNAL_EXIT_BASE = 128;

export interface RunProgramOptions {
  /** Host path of the executable; it appears in the guest at the same absolute path. */
  program: string;
  /** Arguments after argv[0]. */
  args?: string[];
  /** When given, must match the program's ELF header. */
  arch?: Arch;
  /** Added to (or overriding) DEFAULT_ENVIRONMENT. */
  env?: Record<string, string>;
  /** Host files or directories to show the guest, read-only. */
  mounts?: Mount[];
  /** The guest's working directory (default `/`): a directory the guest can see (e.g. one mounted with `mounts`). */
  cwd?: string;
  seed?: number;
  /** Instruction budget for the whole run. */
  budget?: number;
  /** Virtual seconds after which the run stops (a program that only sleeps). */
  timeLimitSeconds?: number;
  /** Host wall-clock seconds after which the run stops. */
  timeoutSeconds?: number;
  /** Check every cross-object call against the ABI. */
  check?: boolean;
  /** How instructions are counted (default 'auto': natively when the helper is built; the counts are the same). */
  counting?: CountingChoice;
  /** Receives an ltrace-like line per cross-object call (`llabs(4294967291) = 4294967291`). */
  calls?: (line: string) => void;
  /** Extra C declarations (prototypes of the program's own exports, structs) for the checker. */
  decls?: string;
  /** Receives what the guest writes to stdout / stderr, as it writes (default: kept for the report). */
  stdout?: (bytes: Uint8Array) => void;
  stderr?: (bytes: Uint8Array) => void;
  /**
   * Record the run instruction by instruction (the `call --trace` format, for `shimulator trace` and the player), up to
   * `traceLimit` instructions (default 1,000,000): a longer run stops there, with the trace of what ran.
   */
  trace?: (trace: Trace) => void;
  traceLimit?: number;
  /** Bytes the guest may write to stdout and stderr together (default 64 MiB). */
  outputLimit?: number;
  /** Bytes of accessible guest memory (default 4 GiB amd64, 3 GiB i386). */
  memoryLimit?: number;
}

export interface ThreadReport {
  tid: number;
  name: string;
  state: string;
  instructions: number;
}

export interface RunReport {
  program: string;
  arch: Arch;
  argv: string[];
  /** The exit status as a shell sees it (128+N when signal N ended the program); null when the emulator stopped it. */
  exit: number | null;
  /** The signal that ended the program, if one did. */
  signal: number | null;
  /** Why the emulator stopped the run (budget, time limit, deadlock), when it did. */
  error: { kind: string; message: string } | null;
  /** Guest instructions, all threads (identical on every run). */
  instructions: number;
  /** A hash of the thread interleaving (identical on every run). */
  schedule: string;
  threads: ThreadReport[];
  /** System calls made, by name. */
  syscalls: Record<string, number>;
  /** Cross-object calls the checker saw (0 without --check). */
  calls: number;
  /** Violations grouped by (rule, caller site, callee), knock-on violations folded under their cause. */
  abi: { ok: boolean; total: number; violations: ViolationGroup[] };
  /** System calls the guest made that shimulator does not implement (answered -ENOSYS), with counts. */
  unimplemented: { name: string; count: number }[];
  /** What the guest wrote, when no `stdout`/`stderr` callback took it (the last 16 MiB of each). */
  stdout?: string;
  stderr?: string;
}

/** Errors that end a run without the guest's consent: the report says why, the CLI exits 125. */
const EMULATOR_STOPS = [BudgetExceededError, TimeLimitError, WallTimeoutError, GuestDeadlockError, OutputLimitError, TraceLimitError];

export async function runProgram(options: RunProgramOptions): Promise<RunReport> {
  const image = loadProgram(options.program, options.arch);
  const watch = options.check || options.calls !== undefined;
  // IFUNC'd functions (strlen, memcpy…) are watched at their implementations, learnt before the run: no resolver
  // can be called from inside a running program.
  if (watch) {
    await precomputeIfuncImplementations(image.arch);
    await loadAbiChecker(); // Capstone, for x87-empty-pop's look at the code after each return
  }
  const argv = [image.guestPath, ...(options.args ?? [])];
  const env = { ...DEFAULT_ENVIRONMENT, ...options.env };
  const process = execOrExplain(options, () => Process.exec({
    arch: image.arch,
    program: image,
    argv,
    envp: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    seed: options.seed,
    files: mountFiles(options.mounts ?? []),
    stdout: sinkFor(options.stdout),
    stderr: sinkFor(options.stderr),
    outputLimit: options.outputLimit,
    memoryLimit: options.memoryLimit,
    counting: options.counting,
  }));
  try {
    if (options.cwd !== undefined) process.kernel.cwd = guestDirectory(process, options.cwd);
    const symbols = new SymbolTable(process);
    const checker = watch ? startChecker(process, symbols, options.decls) : undefined;
    if (checker && options.calls) checker.onCall = callPrinter(options.calls);
    const limits: TimeLimits = {
      virtualTimeNs: BigInt(Math.round((options.timeLimitSeconds ?? DEFAULT_TIME_LIMIT_SECONDS) * 1e9)),
      ...wallTimeLimit(options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS, 'run'),
    };
    let exit: number | null = null;
    let signal: number | null = null;
    let error: RunReport['error'] = null;
    try {
      const run = () => process.runToExit(options.budget ?? DEFAULT_RUN_BUDGET, limits);
      const result = options.trace ? traced(process, image.guestPath, run, options.trace, options.traceLimit) : run();
      exit = result.signal !== undefined ? SIGNAL_EXIT_BASE + result.signal : result.status & 0xff;
      signal = result.signal ?? null;
    } catch (caught) {
      if (caught instanceof GuestFault) {
        // A fault no handler took ends the program the way SIGSEGV does natively.
        exit = SIGNAL_EXIT_BASE + SIGSEGV;
        signal = SIGSEGV;
        error = { kind: caught.name, message: caught.message };
      } else if (EMULATOR_STOPS.some((kind) => caught instanceof kind)) {
        error = { kind: (caught as Error).name, message: (caught as Error).message };
      } else {
        throw caught;
      }
    }
    const found = checker?.end() ?? [];
    const violations = options.check ? found : []; // --calls alone watches calls but reports no rules
    return {
      program: image.guestPath,
      arch: image.arch,
      argv,
      exit,
      signal,
      error,
      instructions: process.instructions,
      schedule: process.threads.scheduleHash(),
      threads: process.threads.threads.map((t) => ({ tid: t.tid, name: t.name, state: t.state, instructions: t.instructions })),
      syscalls: Object.fromEntries([...process.kernel.syscallCounts].sort(([a], [b]) => a.localeCompare(b))),
      calls: checker?.checkedCalls ?? 0,
      abi: { ok: violations.every((v) => v.severity !== 'error'), total: violations.length, violations: groupViolations(violations) },
      unimplemented: [...process.kernel.unimplemented].map(([name, count]) => ({ name, count })),
      ...captured(process),
    };
  } finally {
    process.close();
  }
}

/** The checker over the whole run: every call between loaded objects whose callee's prototype is known. */
function startChecker(process: Process, symbols: SymbolTable, decls: string | undefined): AbiChecker {
  const declarations = new Declarations();
  if (decls) declarations.addDeclarations(decls);
  const checker = new AbiChecker({
    process,
    objects: () => symbols.objects(),
    prototypeOf: (name) => declarations.prototype(name) ?? lookupPrototype(name)?.prototype,
    isHostCode: () => false,
    readCString: (address) => symbols.readCString(address),
    currentThread: () => process.threads.current.tid,
  });
  checker.watchRun();
  return checker;
}

/** Runs `run` under the trace recorder; the trace (partial when the run failed) goes to `save` either way. */
function traced<T>(process: Process, label: string, run: () => T, save: (trace: Trace) => void, maxSteps?: number): T {
  try {
    const { result, trace } = recordTrace({ process }, label, run, { maxSteps });
    save(trace);
    return result;
  } catch (error) {
    const partial = (error as { trace?: Trace }).trace;
    if (partial) save(partial);
    if (error instanceof TraceLimitError) error.message = `the trace reached its limit of ${error.maxSteps} instructions and the run was stopped there (the trace holds them; raise --trace-limit to record further)`;
    throw error;
  }
}

/** Process.exec, with a memory limit too small for the program itself said as such. */
function execOrExplain(options: RunProgramOptions, exec: () => Process): Process {
  try {
    return exec();
  } catch (error) {
    if (!(error instanceof AddressSpaceError)) throw error;
    throw new ProgramError(`${options.program} cannot even be loaded within its limits (${error.message}): raise --memory-limit`);
  }
}

function guestDirectory(process: Process, path: string): string {
  const node = posix.isAbsolute(path) ? process.vfs.lookup(posix.normalize(path)) : undefined;
  if (!node?.isDirectory) {
    throw new ProgramError(`--cwd ${path} is not a directory the guest can see: give an absolute path inside the program's directory or a --mount`);
  }
  return node.path;
}

/** A callback as the kernel's output sink; without one, the output is captured for the report. */
function sinkFor(write: ((bytes: Uint8Array) => void) | undefined): OutputSink {
  return write ? { write } : new CapturedOutput();
}

function captured(process: Process): { stdout?: string; stderr?: string } {
  const { stdout, stderr } = process.kernel.options;
  return {
    ...(stdout instanceof CapturedOutput ? { stdout: stdout.text() } : {}),
    ...(stderr instanceof CapturedOutput ? { stderr: stderr.text() } : {}),
  };
}
