// First-run set-up for `npm start`, `npm test` and `npm run bench` (plain Node, no dependencies):
// installs the npm dependencies when they are missing, and makes sure the native Unicorn 2 library is there —
// installing it with apt-get when running as root on Debian/Ubuntu, otherwise saying exactly how to. With --test
// (what `npm test` runs) also what the tests need: gcc with 32-bit support (the tests compile C for both
// architectures) and Debian's Chromium (the playground's browser tests). Builds the native block counter
// (native/shimcount.c) when a C compiler is present; without one shimulator counts in JavaScript: same counts, slower.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MIN_NODE_MAJOR = 20;

function fail(message) {
  console.error(`shimulator setup: ${message}`);
  process.exit(1);
}

function run(command, args) {
  console.error(`shimulator setup: ${command} ${args.join(' ')}`);
  return spawnSync(command, args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] }).status === 0;
}

const major = Number(process.versions.node.split('.')[0]);
if (major < MIN_NODE_MAJOR) fail(`Node ${MIN_NODE_MAJOR} or newer is required (this is ${process.version})`);

const needed = ['koffi', 'pako', 'elfy', 'tsx', 'vitest', 'playwright-core', 'axe-core'];
if (needed.some((name) => !existsSync(join(root, 'node_modules', name, 'package.json')))) {
  // `npm install` (not `npm ci`): it follows package-lock.json too, and npm 11 writes locks without other
  // platforms' optional packages, which `npm ci` then rejects as out of sync.
  if (!run('npm', ['install', '--no-audit', '--no-fund'])) fail('npm could not install the dependencies (see above)');
}

const UNICORN_PATHS = process.platform === 'darwin'
  ? ['/opt/homebrew/lib/libunicorn.2.dylib', '/usr/local/lib/libunicorn.2.dylib']
  : ['/usr/lib/x86_64-linux-gnu/libunicorn.so.2', '/usr/lib/aarch64-linux-gnu/libunicorn.so.2', '/usr/lib64/libunicorn.so.2', '/usr/lib/libunicorn.so.2', '/usr/local/lib/libunicorn.so.2'];

function haveUnicorn() {
  if (process.env.SHIMULATOR_UNICORN) return existsSync(process.env.SHIMULATOR_UNICORN);
  if (UNICORN_PATHS.some((p) => existsSync(p))) return true;
  const ldconfig = spawnSync('ldconfig', ['-p'], { encoding: 'utf8' });
  return ldconfig.status === 0 && ldconfig.stdout.includes('libunicorn.so.2');
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
let aptUpdated = false;

/** Installs Debian packages as root; false when this machine cannot (then the caller says the exact command). */
function aptInstall(packages) {
  if (process.platform !== 'linux' || !isRoot || !hasApt) return false;
  if (!aptUpdated) run('apt-get', ['update']); // a partial index failure (mirror sync) must not stop the install
  aptUpdated = true;
  return run('apt-get', ['install', '-y', '--no-install-recommends', ...packages]);
}

if (!haveUnicorn()) {
  if (aptInstall(['libunicorn2'])) {
    if (!haveUnicorn()) fail('apt-get could not install libunicorn2 (see above)');
  } else if (process.platform === 'darwin') {
    fail('the Unicorn 2 library is missing: install it with `brew install unicorn`');
  } else {
    fail('the Unicorn 2 library (libunicorn.so.2) is missing: install it with `sudo apt-get install -y libunicorn2`, ' +
      'or point SHIMULATOR_UNICORN at your libunicorn.so.2');
  }
}

/** gcc that builds and links 32-bit and static programs (gcc-multilib brings libc6-dev-i386). */
function haveMultilibGcc() {
  const probe = spawnSync('gcc', ['-m32', '-static', '-x', 'c', '-', '-o', '/dev/null'], { input: 'int main(void){return 0;}', stdio: ['pipe', 'ignore', 'ignore'] });
  return probe.status === 0;
}

if (process.argv.includes('--test')) {
  const missing = [];
  if (!haveMultilibGcc()) missing.push('gcc-multilib');
  if (!existsSync('/usr/bin/chromium')) missing.push('chromium');
  if (missing.length > 0 && !(aptInstall(missing) && haveMultilibGcc() && existsSync('/usr/bin/chromium'))) {
    fail(`the tests need ${missing.join(' and ')}: install with \`sudo apt-get install -y ${missing.join(' ')}\` (Debian/Ubuntu)`);
  }
}

// The native block counter (src/emu/native-counter.ts loads it). Rebuilt when its source, the flags or the compiler
// change (a stamp file beside it records what built it); written under a temporary name and renamed, so that an
// interrupted build never leaves a half-written library. A failure only warns: counting then runs in JavaScript.
const NATIVE_SOURCE = join(root, 'native', 'shimcount.c');
const NATIVE_DIR = join(root, 'build', 'native');
const NATIVE_LIBRARY = join(NATIVE_DIR, process.platform === 'darwin' ? 'libshimcount.dylib' : 'libshimcount.so');
const NATIVE_FLAGS = ['-O2', '-std=c99', '-Wall', '-Wextra', '-shared', '-fPIC'];

function findCompiler() {
  for (const cc of [process.env.CC, 'cc', 'gcc', 'clang'].filter(Boolean)) {
    const probe = spawnSync(cc, ['--version'], { encoding: 'utf8' });
    if (probe.status === 0) return { cc, version: probe.stdout.split('\n')[0] };
  }
  return undefined;
}

function buildNativeCounter() {
  if (!existsSync(NATIVE_SOURCE)) return; // (built even with SHIMULATOR_NATIVE=0: that only stops loading it)
  const compiler = findCompiler();
  if (!compiler) {
    console.error('shimulator setup: no C compiler (cc, gcc or clang): instructions are counted in JavaScript (same counts, slower runs)');
    return;
  }
  const stamp = createHash('sha256').update(readFileSync(NATIVE_SOURCE)).update(NATIVE_FLAGS.join(' ')).update(compiler.version).digest('hex');
  const stampFile = `${NATIVE_LIBRARY}.stamp`;
  if (existsSync(NATIVE_LIBRARY) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return;
  mkdirSync(NATIVE_DIR, { recursive: true });
  const partial = `${NATIVE_LIBRARY}.${process.pid}.tmp`;
  if (run(compiler.cc, [...NATIVE_FLAGS, '-o', partial, NATIVE_SOURCE])) {
    renameSync(partial, NATIVE_LIBRARY);
    writeFileSync(stampFile, stamp);
  } else {
    rmSync(partial, { force: true });
    console.error('shimulator setup: the native block counter did not build (see above): instructions are counted in JavaScript (same counts, slower runs)');
  }
}

buildNativeCounter();

// ---- Build (scripts/build.mjs): compile src/ to dist/, which bin/shimulator.cjs runs; a no-op when dist/ is up to
// date. Where it cannot be built, bin/shimulator.cjs runs the TypeScript sources through tsx instead (slower start).
if (spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' }).status !== 0) {
  console.error('shimulator setup: dist/ could not be built (see above); the CLI runs the TypeScript sources through tsx (slower)');
}
