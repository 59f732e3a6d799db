// Builds dist/: the compiled ES modules and .d.ts types of src/ that `bin/shimulator.cjs` and the package's
// `exports` use. Run by scripts/setup.mjs in a checkout and by `prepack` for the package; a no-op (a few ms) when
// dist/ is newer than every source. --force rebuilds anyway.
//
// Two steps:
//  1. tsc compiles src/ file by file to dist/ with .d.ts types: the library (`import … from 'shimulator'`). tsc emits
//     the JavaScript and the declarations in one pass and rewrites the sources' `./x.ts` imports to `./x.js`
//     (rewriteRelativeImportExtensions); esbuild alone keeps the `.ts` specifiers of unbundled files, and the
//     declarations would need tsc anyway.
//  2. esbuild bundles that JavaScript into dist/bundle/: the command as one classic script, cli.cjs (compiled with a
//     V8 code cache by src/cli/launch.ts, itself bundled as launch.cjs; see the README's "Build, and the start of a
//     command"), and worker.js, the
//     playground's guest workers, as an ES module. Node resolves and compiles ~110 small modules in about twice the
//     CPU time of a bundle. dist/bundle/ is two levels below the package like every compiled module, so the paths
//     the code finds relative to its own file (`../../fixtures/`, `../catalog/`) are the same in both.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILD_ID, CLI_SCRIPT, distIsFresh, LAUNCHER, STAMP } from './build-state.cjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** A character that is not ASCII. */
const NON_ASCII = /[^\x00-\x7f]/g;
/** Source files tsc does not emit but dist/ needs: hand-written declarations and data files read at run time. */
const COPIED = /(\.d\.ts|\.h)$/;
/** A relative module specifier with a .ts extension, in a declaration file (tsc rewrites only the JavaScript). */
const TS_SPECIFIER = /((?:from\s+|import\s*\(\s*)(['"])\.{1,2}\/[^'"]*?)\.ts\2/g;

function fail(message) {
  console.error(`shimulator build: ${message}`);
  process.exit(1);
}

function files(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name));
}

/**
 * Makes the command's script pure ASCII, which the launcher reads as Latin-1: ~2 ms faster than UTF-8, and a string
 * outside V8's heap where a decoded 1 MB one cost a young-generation collection. esbuild writes strings and templates
 * ASCII-only but leaves comments, regular expressions and tagged templates as they are: a non-ASCII character in
 * code (seen in the script with its comments minified away) is an error to fix in the source (`\u00a7`); those
 * in comments are written as `\uXXXX`, which changes nothing.
 */
function asciiScript(file) {
  const text = readFileSync(file, 'utf8');
  const code = require('esbuild').transformSync(text, { minifyWhitespace: true, logLevel: 'silent' }).code;
  const at = code.search(NON_ASCII);
  if (at >= 0) throw new Error(`a non-ASCII character in code, in ${JSON.stringify(code.slice(Math.max(0, at - 60), at + 20))}: write it as \\uXXXX in the source`);
  writeFileSync(file, text.replace(NON_ASCII, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

if (!process.argv.includes('--force') && distIsFresh(root)) process.exit(0);

let tsc;
try {
  tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
} catch {
  fail('TypeScript is not installed: run `npm install` in the checkout first');
}

const started = new Date();
const out = join(root, `dist.tmp-${process.pid}`);
rmSync(out, { recursive: true, force: true });
console.error('shimulator build: compiling src/ to dist/ (tsc -p tsconfig.build.json)');
const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', out], { cwd: root, stdio: 'inherit' });
if (result.status !== 0) {
  rmSync(out, { recursive: true, force: true });
  fail('tsc reported errors (see above); dist/ was left as it was');
}

const src = join(root, 'src');
for (const file of files(src).filter((f) => COPIED.test(f))) {
  const target = join(out, relative(src, file));
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(file, target);
}
for (const file of files(out).filter((f) => f.endsWith('.d.ts'))) {
  const text = readFileSync(file, 'utf8');
  const rewritten = text.replace(TS_SPECIFIER, '$1.js$2');
  if (rewritten !== text) writeFileSync(file, rewritten);
}

const require = createRequire(join(root, 'package.json'));
try {
  await require('esbuild').build({
    entryPoints: { worker: join(out, 'playground/worker.js') },
    outdir: join(out, 'bundle'),
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Bundled: the pure-JavaScript dependencies the CLI loads at start (pako, as its single-file ES module, and
    // elfy): ~9 ms of CPU through Node's CommonJS loader, ~4 ms bundled. Left to Node: koffi and esbuild (native code)
    // and capstone-js (loaded on demand, and found as a file next to its wasm).
    external: ['koffi', 'esbuild', '@alexaltea/capstone-js'],
    mainFields: ['module', 'main'],
    // elfy require()s Node's built-ins (assert), which an ES module can only do through a require of its own.
    banner: { js: "import { createRequire as shimulatorCreateRequire } from 'node:module';\nconst require = shimulatorCreateRequire(import.meta.url);" },
    chunkNames: 'chunk-[hash]',
    logLevel: 'warning',
  });
  // The command itself: one classic script (CommonJS), which src/cli/launch.ts compiles with a V8 code cache. Node
  // 20 caches no compiled code for ES modules (no module.enableCompileCache before Node 22): compiling the ES
  // bundle cost ~18 ms of every call, and its functions compiled lazily while it ran as much again. One file, no
  // splitting (esbuild splits ES modules only): the lazily imported commands stay in esbuild's lazy wrappers, so
  // that `call` never runs (nor compiles, nor caches) them.
  await require('esbuild').build({
    entryPoints: { cli: join(out, 'cli/main.js') },
    outfile: join(out, 'bundle', CLI_SCRIPT),
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: ['koffi', 'esbuild', '@alexaltea/capstone-js'],
    mainFields: ['module', 'main'],
    // The modules find their files relative to their own URL; in the script that is the script's own file.
    define: { 'import.meta.url': 'shimulatorScriptUrl' },
    // The file is a CommonJS module's body inside the function that Node's loader would wrap it in (so that the
    // launcher compiles the file's own text, not a 1 MB copy joined to a wrapper), strict as the ES modules it holds.
    banner: { js: `(function (exports, require, module, __filename, __dirname) {'use strict';\nconst shimulatorScriptUrl = require('node:url').pathToFileURL(__filename).href;` },
    footer: { js: '})' },
    // import() of a package (capstone-js, esbuild: both CommonJS) as require(): a script compiled by node:vm has no
    // module loader of its own to resolve them against.
    supported: { 'dynamic-import': false },
    logLevel: 'warning',
  });
  asciiScript(join(out, 'bundle', CLI_SCRIPT));
  // What bin/shimulator.cjs loads first: the launcher, one CommonJS file, which require()s Node's built-ins (an ES
  // module's import of node:fs builds a module namespace of its ~100 exports: ~1.4 ms, where require() costs 0.1).
  await require('esbuild').build({
    entryPoints: [join(out, 'cli/launch.js')],
    outfile: join(out, 'bundle', LAUNCHER),
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    logLevel: 'warning',
  });
} catch (error) {
  rmSync(out, { recursive: true, force: true });
  fail(`esbuild could not bundle the CLI (${error.message}); dist/ was left as it was`);
}

// The build's identity for the boot image cache (src/snapshot/image-cache.ts): a hash of everything built, read
// with one small file read where hashing or stat-ing dist/ at every boot would cost ~10 ms of a CLI call.
const identity = createHash('sha256');
for (const file of files(out).sort()) identity.update(`${relative(out, file)}\0`).update(readFileSync(file));
writeFileSync(join(out, BUILD_ID), `${identity.digest('hex')}\n`);

const dist = join(root, 'dist');
rmSync(dist, { recursive: true, force: true });
renameSync(out, dist);
// The stamp carries the time the build started: a source saved while tsc ran is newer, so the next build redoes it.
writeFileSync(join(root, STAMP), '');
utimesSync(join(root, STAMP), started, started);
