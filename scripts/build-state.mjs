// Whether dist/ (the compiled JavaScript, see scripts/build.mjs) is up to date with the sources it is built from.
// Shared by the build (skip when fresh) and by bin/shimulator.mjs in a checkout (fall back to the TypeScript
// sources when dist/ is stale, so that an edit is never run as its previous build).
import { createRequire } from 'node:module';

// require(), not import: bin/shimulator.mjs loads this file at every start in a checkout, and an ES module's import
// of node:fs builds a namespace of its ~100 exports (~1.4 ms), where require() costs ~0.1 ms.
const require = createRequire(import.meta.url);
/** @type {typeof import('node:fs')} */
const { readdirSync, statSync, promises: { stat } } = require('node:fs');
/** @type {typeof import('node:path')} */
const { join } = require('node:path');

/** Written last by the build; its modification time is the moment the build read its sources. */
export const STAMP = join('dist', '.stamp');
/** In dist/: a hash of the built files (the boot image cache keys images by it; src/snapshot/image-cache.ts). */
export const BUILD_ID = 'build-id';
/** In dist/bundle/: the command as one classic script (bin/shimulator.mjs runs it through src/cli/launch.ts). */
export const CLI_SCRIPT = 'cli.cjs';
/** In dist/bundle/: src/cli/launch.ts as one CommonJS file, what bin/shimulator.mjs loads first. */
export const LAUNCHER = 'launch.cjs';
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
export function newestInput(root) {
  return Math.max(0, ...inputs(root).map((file) => mtime(file) ?? 0));
}

/** True when ROOT/dist was built after its inputs last changed. */
export function distIsFresh(root) {
  const built = mtime(join(root, STAMP));
  return built !== undefined && built >= newestInput(root);
}

/**
 * distIsFresh, its ~170 `stat`s run on libuv's threads: bin/shimulator.mjs starts it and reads and compiles the
 * command's script meanwhile (~3 ms of a start in a checkout).
 */
export async function distIsFreshAsync(root) {
  const times = await Promise.all([join(root, STAMP), ...inputs(root)].map((file) => stat(file).then((s) => s.mtimeMs, () => undefined)));
  const [built, ...rest] = times;
  return built !== undefined && rest.every((time) => (time ?? 0) <= built);
}
