/**
 * The `shimulator` command line: `call`, `run`, `trace`, `playground` (what `npm start` runs), `export-lesson`, `demo`.
 * Each command loads its own modules on first use, so that `call` does not load the playground, esbuild or Capstone.
 * Every failure the user can cause prints one clear message and exits non-zero; unexpected errors keep their stack.
 */
import { CALL_USAGE, parseCallOptions, runCall, UsageError } from './call.ts';
import { formatError, isUserError } from './errors.ts';
import { CommandLineFileError } from './files.ts';
import { RUN_USAGE } from './run.ts';
import { TIMEOUT_EXIT_STATUS } from './sizes.ts';
import { WallTimeoutError } from '../loader/limits.ts';
import { defaultCacheDir } from '../snapshot/cache-dir.ts';

const USAGE = `shimulator — run real glibc and libpcap (i386, amd64) in an emulated x86 process and call C functions

commands:
  shimulator call …      call a C function (see below)
  shimulator run …       run a whole x86 program (a Go program and its shims, a C program), checking its C calls
  shimulator trace FILE  print a trace recorded with call --trace FILE [--limit N]
  shimulator playground [--port N] [--no-open]
                         the browser playground and teaching tool (npm start)
  shimulator export-lesson [ID|all] [--out DIR]
                         write lessons as a static site (no server needed)
  shimulator demo        boot both architectures and make the example calls

${CALL_USAGE}

${RUN_USAGE}
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const write = (line: string) => process.stdout.write(`${line}\n`);
  try {
    requireUtf8Arguments(argv);
    switch (command) {
      case 'call':
        return await runCall(rest, write);
      case 'run':
        return await (await import('./run.ts')).runRun(rest);
      case 'playground':
        return await (await import('./playground.ts')).runPlayground(rest, write);
      case 'export-lesson':
        return await (await import('./playground.ts')).runExportLesson(rest, write);
      case 'trace':
        return await (await import('./trace.ts')).runTraceCommand(rest, write);
      case 'demo':
        return await (await import('./demo.ts')).runDemo(write);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}"\n${USAGE}`);
    }
  } catch (error) {
    if (!isUserError(error)) throw error;
    process.stderr.write(`shimulator: ${formatError(error)}\n`);
    if (error instanceof WallTimeoutError) return TIMEOUT_EXIT_STATUS;
    return error instanceof UsageError || error instanceof CommandLineFileError ? 2 : 1;
  }
}

/**
 * Where the command `argv` keeps its caches, as its own options say (undefined: `--no-cache`, or not known): the
 * launcher (launch.ts) writes the command's code cache there after it succeeded.
 */
export function codeCacheDir(argv: string[]): string | undefined {
  const [command, ...rest] = argv;
  if (command === 'call') {
    const o = parseCallOptions(rest);
    return o.cache ? (o.cacheDir ?? defaultCacheDir()) : undefined;
  }
  // The other commands' options are rarer: an option about caches, or an argument spelled like one, writes none.
  return rest.includes('--no-cache') || rest.includes('--cache-dir') ? undefined : defaultCacheDir();
}

/**
 * Node decodes the command line as UTF-8 and turns each invalid byte into U+FFFD, so a non-UTF-8 argument would
 * reach the guest changed. Refuse it instead, naming the argument (1-based, after `shimulator`).
 */
function requireUtf8Arguments(argv: string[]): void {
  const bad = argv.findIndex((arg) => arg.includes('\uFFFD'));
  if (bad >= 0) {
    throw new UsageError(
      `argument ${bad + 1} (${JSON.stringify(argv[bad])}) is not valid UTF-8: shimulator passes text arguments on as UTF-8 and would change it`,
    );
  }
}
