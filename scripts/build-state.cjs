// Whether dist/ (the compiled JavaScript, see scripts/build.mjs) is up to date with the sources it is built from.
// Shared by the build (skip when fresh) and by bin/shimulator.cjs in a checkout (fall back to the TypeScript
// sources when dist/ is stale, so that an edit is never run as its previous build).
//
// CommonJS, as bin/shimulator.cjs is: it loads this file at every start in a checkout, and an ES module there would
// start Node's ES module loader (~3 ms). The build's scripts import it as any CommonJS module.
'use strict';

/** @type {typeof import('node:fs')} */
const { readdirSync, statSync } = require('node:fs');
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
    return statSync(path, { throwIfNoEntry: false })?.mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * The files under DIR, into FILES. Not readdirSync's `recursive` (JavaScript in Node 20) nor path.join: on the
 * ~190 paths of a start in a checkout, before either is optimized, they cost ~3 ms where this costs ~0.4.
 */
function filesUnder(dir, files) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) filesUnder(path, files);
    else if (entry.isFile()) files.push(path);
  }
  return files;
}

/** The build's input files under ROOT: everything in src/ and INPUT_FILES. */
function inputs(root) {
  return filesUnder(join(root, 'src'), INPUT_FILES.map((file) => join(root, file)));
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

module.exports = { STAMP, BUILD_ID, CLI_SCRIPT, LAUNCHER, newestInput, distIsFresh };
