/**
 * Starts the command from its compiled script, dist/bundle/cli.cjs (scripts/build.mjs), with a V8 code cache: the
 * bytecode of every function the last run of the same command compiled, kept in `<cache dir>/code/`. Node 20 caches
 * no compiled code of ES modules (module.enableCompileCache came in Node 22), and compiling the bundle and then its
 * functions one by one as they first ran was ~40 ms of the ~140 ms of a `shimulator call` (see the README's "Build,
 * and the start of a command").
 *
 * A cache file is named by the command, the build (dist/build-id), Node's version, the CPU and Node's options; it is
 * checked by its own checksum and then by V8 (its version, flags and the script's source), and rewritten, atomically,
 * whenever it is missing or refused. It is written only after the command succeeded, into the cache directory the command itself
 * resolved from its options (`--no-cache` writes none); reading looks where a `--cache-dir` option points, anything
 * it finds there being checked like any cache file. Any failure to read or write it only costs speed.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';
import { checksum, CHECKSUM_BYTES } from '../snapshot/checksum.ts';
import { defaultCacheDir, keepNewest } from '../snapshot/cache-dir.ts';

/** What the script exports (src/cli/main.ts). */
interface CliScript {
  main(argv: string[]): Promise<number>;
  codeCacheDir(argv: string[]): string | undefined;
}

/** "SHIMV8C\n", then the checksum of the V8 data that follows. */
const MAGIC = Buffer.from('SHIMV8C\n');
const HEADER_BYTES = MAGIC.length + CHECKSUM_BYTES;
/**
 * Built-in modules that the script's dependencies require as they load but use later or never: koffi's `https`
 * (below), elfy's `assert` (one `assert.equal` on a path a bundled fixture's lookup does not take; ~2 ms to load).
 */
const LAZY_BUILTINS = ['https', 'assert'];
/** Under the cache directory. */
const CODE_DIR = 'code';
const CODE_SUFFIX = '.v8';
/** Cache files kept (one per command and build, ~0.75 MiB for `call`): other builds' files go, oldest first. */
const MAX_CODE_FILES = 16;
/** The commands with a cache file each (what one runs is what its cache holds); anything else shares one. */
const COMMANDS = new Set(['call', 'run', 'trace', 'playground', 'export-lesson', 'demo', 'help']);

/** Runs the command in `scriptPath` (dist/bundle/cli.cjs) on `argv`; resolves to its exit status. */
export async function launch(scriptPath: string, argv: string[]): Promise<number> {
  // Latin-1 (the build makes the script ASCII): a string outside V8's heap, ~2 ms less than decoding UTF-8.
  const source = readFileSync(scriptPath, 'latin1');
  const name = cacheFileName(dirname(dirname(scriptPath)), argv[0]);
  const cached = name === undefined ? undefined : readCode(readCacheDir(argv), name);
  // The file is a function expression: `(function (exports, require, module, __filename, __dirname) {…})`.
  const script = new Script(source, { filename: scriptPath, cachedData: cached });
  const module = { exports: {} as CliScript };
  const require = createRequire(scriptPath);
  withLazyBuiltins(require, () => script.runInThisContext()(module.exports, require, module, scriptPath, dirname(scriptPath)));
  const status = await module.exports.main(argv);
  if (name !== undefined && (cached === undefined || script.cachedDataRejected) && status === 0) {
    const dir = module.exports.codeCacheDir(argv);
    if (dir !== undefined) writeCode(dir, name, script);
  }
  return status;
}

/**
 * Runs `load` (the script's modules loading) with require('https') answered by a stand-in that loads the real module
 * on the first use of any of its properties. koffi 2 requires node:https as it loads, for the download helpers of
 * its build tool, which a program never calls: tls, net and http cost ~4 ms of every start. Node documents the
 * means: "if a name matching a built-in module is added to [require.cache], only node:-prefixed require calls are
 * going to receive the built-in module".
 */
function withLazyBuiltins(require: NodeJS.Require, load: () => void): void {
  const ids = LAZY_BUILTINS.filter((id) => require.cache[id] === undefined);
  for (const id of ids) require.cache[id] = lazyBuiltin(require, id);
  try {
    load();
  } finally {
    for (const id of ids) delete require.cache[id];
  }
}

function lazyBuiltin(require: NodeJS.Require, id: string): NodeJS.Module {
  let real: (...args: unknown[]) => unknown;
  const load = () => (real ??= require(`node:${id}`) as typeof real);
  // A function, so that a module that is one (`assert(…)`) can be called through its stand-in.
  const exports = new Proxy(() => undefined, {
    get: (_, key) => Reflect.get(load(), key),
    has: (_, key) => Reflect.has(load(), key),
    apply: (_, self, args) => Reflect.apply(load(), self, args),
  });
  return { id, filename: id, loaded: true, exports, children: [], paths: [] } as unknown as NodeJS.Module;
}

/** The cache file of this command, build, Node and CPU; undefined when dist/ has no build id. */
function cacheFileName(dist: string, command: string | undefined): string | undefined {
  let build: string;
  try {
    build = readFileSync(join(dist, 'build-id'), 'latin1').trim();
  } catch {
    return undefined;
  }
  if (!/^[0-9a-f]{64}$/.test(build)) return undefined;
  const kind = command !== undefined && COMMANDS.has(command) ? command : 'other';
  // V8 refuses code cached under other flags: Node's options get files of their own rather than taking turns at one.
  const options = createHash('sha256').update(`${process.execArgv.join('\0')}\n${process.env.NODE_OPTIONS ?? ''}`).digest('hex');
  return `cli-${kind}-${build.slice(0, 16)}-node${process.versions.node}-${process.arch}-${options.slice(0, 8)}${CODE_SUFFIX}`;
}

/**
 * Where to look for the cache before the command has parsed its options: none after `--no-cache`, the value of
 * `--cache-dir`, else the default. A C argument spelled like an option only makes this run look elsewhere.
 */
function readCacheDir(argv: string[]): string | undefined {
  if (argv.includes('--no-cache')) return undefined;
  const at = argv.indexOf('--cache-dir');
  return at < 0 ? defaultCacheDir() : argv[at + 1];
}

function readCode(dir: string | undefined, name: string): Buffer | undefined {
  if (dir === undefined) return undefined;
  let file: Buffer;
  try {
    file = readFileSync(join(dir, CODE_DIR, name));
  } catch {
    return undefined;
  }
  if (file.length <= HEADER_BYTES || !file.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const data = file.subarray(HEADER_BYTES);
  return checksum(data).equals(file.subarray(MAGIC.length, HEADER_BYTES)) ? data : undefined;
}

function writeCode(dir: string, name: string, script: Script): void {
  const codeDir = join(dir, CODE_DIR);
  const temporary = join(codeDir, `.${name}.${process.pid}.tmp`);
  try {
    const data = script.createCachedData();
    mkdirSync(codeDir, { recursive: true });
    writeFileSync(temporary, Buffer.concat([MAGIC, checksum(data), data]));
    renameSync(temporary, join(codeDir, name));
    keepNewest(codeDir, CODE_SUFFIX, MAX_CODE_FILES);
  } catch {
    // a read-only or full cache directory: the next start compiles again
    try {
      rmSync(temporary, { force: true });
    } catch {
      // nothing was written
    }
  }
}
