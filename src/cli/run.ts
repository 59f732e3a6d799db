/**
 * `shimulator run [options] [--] PROGRAM [ARG...]`: a whole x86 program under the emulator. The guest's output
 * goes to the host's stdout/stderr; the exit status is the guest's own (128+N when signal N ended it); when the
 * emulator had to stop the run (bad program, budget, time limit, deadlock), one message and exit status 125.
 */
import { CommandLineFileError, readInputText, writeOutputFile } from './files.ts';
import { parseArch } from '../emu/arch.ts';
import { formatViolationGroups } from '../check/group.ts';
import { ProgramError } from '../run/image.ts';
import { type RunProgramOptions, type RunReport, runProgram } from '../run/program.ts';
import { UsageError } from './call.ts';
import { parseSeconds, parseSize, SIZE_OPTIONS, TIMEOUT_EXIT_STATUS } from './sizes.ts';
import { writeTraceFile } from './trace.ts';

/** The exit status when the emulator, not the guest, ended the run (as `env`/`timeout` use 125–127); 124 for --timeout. */
export const EMULATOR_EXIT_STATUS = 125;

export const RUN_USAGE = `usage: shimulator run [--arch amd64|i386] [--check] [--calls] [--trace FILE [--trace-limit N]]
                      [--report FILE] [--decls FILE.h]
                      [--budget N] [--time-limit SECONDS] [--timeout SECONDS] [--memory-limit SIZE]
                      [--output-limit SIZE] [--seed N]
                      [--env NAME=VALUE]... [--mount HOST[:GUEST]]... [--cwd DIR] [--] PROGRAM [ARG...]`;

interface RunCliOptions extends RunProgramOptions {
  report?: string;
  declsFile?: string;
}

export function parseRunOptions(argv: string[]): RunCliOptions {
  const o: RunCliOptions = { program: '', args: [], env: {}, mounts: [] };
  const value = (i: number, flag: string) => {
    const v = argv[i + 1];
    if (v === undefined) throw new UsageError(`${flag} needs a value\n${RUN_USAGE}`);
    return v;
  };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('--')) break;
    switch (a) {
      case '--arch':
        o.arch = parseArch(value(i++, a));
        break;
      case '--check':
        o.check = true;
        break;
      case '--calls':
        o.calls = (line) => process.stderr.write(`${line}\n`);
        break;
      case '--report':
        o.report = value(i++, a);
        break;
      case '--decls':
        o.declsFile = value(i++, a);
        break;
      case '--budget':
        o.budget = positiveInteger(value(i++, a), a);
        break;
      case '--time-limit':
        o.timeLimitSeconds = parseSeconds(value(i++, a), a);
        break;
      case '--timeout':
        o.timeoutSeconds = parseSeconds(value(i++, a), a);
        break;
      case '--memory-limit':
      case '--output-limit':
        o[SIZE_OPTIONS[a]] = parseSize(value(i++, a), a);
        break;
      case '--seed':
        o.seed = positiveInteger(value(i++, a), a);
        break;
      case '--env': {
        const pair = value(i++, a);
        const eq = pair.indexOf('=');
        if (eq <= 0) throw new UsageError(`--env takes NAME=VALUE, got "${pair}"`);
        o.env![pair.slice(0, eq)] = pair.slice(eq + 1);
        break;
      }
      case '--trace': {
        const file = value(i++, a);
        o.trace = (trace) => writeTraceFile(file, trace);
        break;
      }
      case '--trace-limit':
        o.traceLimit = positiveInteger(value(i++, a), a);
        break;
      case '--cwd':
        o.cwd = value(i++, a);
        break;
      case '--mount': {
        const spec = value(i++, a);
        const colon = spec.indexOf(':');
        o.mounts!.push(colon < 0 ? { host: spec } : { host: spec.slice(0, colon), guest: spec.slice(colon + 1) });
        break;
      }
      default:
        throw new UsageError(`unknown option ${a}\n${RUN_USAGE}`);
    }
  }
  const program = argv[i];
  if (program === undefined) throw new UsageError(`a PROGRAM is required\n${RUN_USAGE}`);
  o.program = program;
  o.args = argv.slice(i + 1);
  return o;
}

function positiveInteger(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`${flag} takes a positive integer, got "${text}"`);
  return n;
}

/** Runs the command; returns the process exit status. Bad programs are reported here (exit 125), not thrown. */
export async function runRun(argv: string[]): Promise<number> {
  const options = parseRunOptions(argv);
  let report: RunReport;
  try {
    if (options.declsFile) options.decls = readText(options.declsFile);
    report = await runProgram({
      ...options,
      stdout: (bytes) => process.stdout.write(bytes),
      stderr: (bytes) => process.stderr.write(bytes),
    });
  } catch (error) {
    if (!(error instanceof ProgramError)) throw error;
    process.stderr.write(`shimulator: ${error.message}\n`);
    return EMULATOR_EXIT_STATUS;
  }
  if (options.report) writeOutputFile(options.report, '--report', `${JSON.stringify(report, null, 2)}\n`);
  if (options.check) process.stderr.write(checkSummary(report));
  if (report.error) {
    process.stderr.write(`shimulator: ${report.error.message}\n`);
    if (report.error.kind === 'WallTimeoutError') return TIMEOUT_EXIT_STATUS;
    if (report.exit === null) return EMULATOR_EXIT_STATUS;
  }
  return report.exit ?? EMULATOR_EXIT_STATUS;
}

function checkSummary(report: RunReport): string {
  const { violations, total } = report.abi;
  const head = `shimulator: --check: ${report.calls} cross-object calls checked, ${total} violation(s)` +
    (total > 0 ? ` in ${violations.length} group(s)` : '');
  return total === 0 ? `${head}\n` : `${head}:\n${formatViolationGroups(violations, '  ')}\n`;
}

/** The --decls file: a problem with it ends the run like a bad program does (one message, exit 125). */
function readText(path: string): string {
  try {
    return readInputText(path, '--decls');
  } catch (error) {
    throw error instanceof CommandLineFileError ? new ProgramError(error.message) : error;
  }
}
