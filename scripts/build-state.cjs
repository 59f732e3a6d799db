// Whether dist/ (the compiled JavaScript, see scripts/build.mjs) is up to date with the sources it is built from.
// Shared by the build (skip when fresh) and by bin/shimulator.cjs in a checkout (fall back to the TypeScript
// sources when dist/ is stale, so that an edit is never run as its previous build).
//
// CommonJS, as bin/shimulator.cjs is: it loads this file at every start in a checkout, and an ES module there would
// start Node's ES module loader (~3 ms). The build's scripts import it as any CommonJS module.
'use strict';

/** @type {typeof import('node:fs')} */
const { readdirSync, statSync, promises: { stat } } = require('node:fs');
/** @type {typeof import('node:path')} */
const { join } = require('node:path');

/** Written last by the build; its modification time is the moment the build read its sources. */
const STAMP = join('dist', '.stamp');
/** In dist/: a hash of the built files (the boot image cache keys images by it; src/snapshot/image-cache.ts). */
const BUILD_ID = 'build-id';
/** In dist/bundle/: the command as one classic script (bin/shimulator.cjs runs it through src/cli/launch.ts). */
const CLI_SCRIPT = 'cli.cjs';
/** In dist/bundle/: src/cli/launch.ts as one CommonJS file, what bin/shimulator.cjs loads first. */
const LAUNCHER = 'launch.cjs';
/** What the build reads besides src/: a change to any of them makes dist/ stale. */
const INPUT_FILES = ['tsconfig.json', 'tsconfig.build.json', 'scripts/build.mjs'];

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** The build's input files under ROOT: everything in src/ and INPUT_FILES. */
function inputs(root) {
  const sources = readdirSync(join(root, 'src'), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name));
  return [...sources, ...INPUT_FILES.map((file) => join(root, file))];
}

/** The newest modification time among the build's inputs under ROOT. */
function newestInput(root) {
  return Math.max(0, ...inputs(root).map((file) => mtime(file) ?? 0));
}

/** True when ROOT/dist was built after its inputs last changed. */
function distIsFresh(root) {
  const built = mtime(join(root, STAMP));
  return built !== undefined && built >= newestInput(root);
}

/**
 * distIsFresh, its ~170 `stat`s run on libuv's threads: bin/shimulator.cjs starts it and reads and compiles the
 * command's script meanwhile (~3 ms of a start in a checkout).
 */
async function distIsFreshAsync(root) {
  const times = await Promise.all([join(root, STAMP), ...inputs(root)].map((file) => stat(file).then((s) => s.mtimeMs, () => undefined)));
  const [built, ...rest] = times;
  return built !== undefined && rest.every((time) => (time ?? 0) <= built);
}

module.exports = { STAMP, BUILD_ID, CLI_SCRIPT, LAUNCHER, newestInput, distIsFresh, distIsFreshAsync };
