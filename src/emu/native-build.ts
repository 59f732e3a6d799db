/**
 * Builds the native block counter (native/shimcount.c) on first use, for copies of shimulator that have no build of
 * their own: an installed npm package has no build/ (npm 11 runs no install scripts unless the user allows them),
 * so the first machine of a process compiles the shipped source into the cache directory with the system's C
 * compiler, once per source and flags, and every later process loads that file.
 *
 * The file is named after a hash of the source, the flags and the platform (a new version of the source gets a new
 * file; finding it costs one `stat`, no compiler probe), written under a temporary name and renamed into place (a
 * concurrent or interrupted build never leaves half a library where a loader looks), and verified by loading it
 * (native-counter.ts checks its version and layout). Without a compiler, or when the build fails, the caller falls
 * back to JavaScript counting — the same counts, slower — and `machine.counting` says why in one line. A failed
 * build leaves a `.failed` note beside it so that later processes do not pay for the attempt again.
 */
import type * as ChildProcess from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultCacheDir } from '../snapshot/cache-dir.ts';

/** The C source the package ships (native/ at the package root, two levels above every compiled module). */
export const HELPER_SOURCE = fileURLToPath(new URL('../../native/shimcount.c', import.meta.url));
/**
 * node:child_process, loaded when a build runs: loading it (with net and dgram) costs ~1.5 ms of every process that
 * boots a machine, and only a first build needs it.
 */
const childProcess = () => createRequire(import.meta.url)('node:child_process') as typeof ChildProcess;
/** The same flags as scripts/setup.mjs builds with. */
export const HELPER_FLAGS = ['-O2', '-std=c99', '-Wall', '-Wextra', '-shared', '-fPIC'];
const EXTENSION = process.platform === 'darwin' ? 'dylib' : 'so';
/** The compiler's own output is not shown; a failure is summed up by this many characters of it. */
const ERROR_EXCERPT = 200;

export interface HelperBuildOptions {
  /** Where built helpers are kept (default: `native/` in the boot image cache's directory). */
  dir?: string;
  source?: string;
  /** Compilers to try, in order (default: $CC, cc, gcc, clang). */
  compilers?: string[];
}

/** The built helper's path, or a sentence saying why there is none. */
export type HelperBuild = { path: string; built: boolean } | { reason: string };

function defaultCompilers(): string[] {
  return [process.env.CC, 'cc', 'gcc', 'clang'].filter((cc): cc is string => Boolean(cc));
}

/** The file a build of `source` goes to in `dir`. */
export function helperBuildPath(dir: string, source: string): string {
  const key = createHash('sha256').update(readFileSync(source)).update(`\0${HELPER_FLAGS.join(' ')}\0${process.platform}-${process.arch}`).digest('hex');
  return join(dir, `libshimcount-${key.slice(0, 24)}.${EXTENSION}`);
}

/** The helper built from `source` in the cache, built now if it is not there yet. */
export function ensureHelperBuild(options: HelperBuildOptions = {}): HelperBuild {
  const source = options.source ?? HELPER_SOURCE;
  const dir = options.dir ?? join(defaultCacheDir(), 'native');
  if (!existsSync(source)) return { reason: `its source ${source} is missing` };
  const path = helperBuildPath(dir, source);
  if (existsSync(path)) return { path, built: false };
  const failed = `${path}.failed`;
  if (existsSync(failed)) return { reason: `building it failed before (${readFileSync(failed, 'utf8').trim()}; delete ${failed} to try again)` };
  const compiler = (options.compilers ?? defaultCompilers()).find((cc) => childProcess().spawnSync(cc, ['--version'], { stdio: 'ignore' }).status === 0);
  if (!compiler) return { reason: 'no C compiler (cc, gcc or clang) to build native/shimcount.c' };
  const partial = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(dir, { recursive: true });
    const run = childProcess().spawnSync(compiler, [...HELPER_FLAGS, '-o', partial, source], { encoding: 'utf8' });
    if (run.status !== 0) {
      const why = `${compiler} exited with ${run.status ?? run.signal}: ${(run.stderr || run.error?.message || '').trim().slice(0, ERROR_EXCERPT)}`;
      writeFileSync(failed, `${why.replace(/\s+/g, ' ')}\n`);
      return { reason: `building native/shimcount.c failed (${why.split('\n')[0]})` };
    }
    renameSync(partial, path);
    return { path, built: true };
  } catch (error) {
    return { reason: `the cache directory ${dir} is not writable (${(error as Error).message.split('\n')[0]})` };
  } finally {
    try {
      rmSync(partial, { force: true });
    } catch {
      // its folder cannot be read: nothing was written there
    }
  }
}
