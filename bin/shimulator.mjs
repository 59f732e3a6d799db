#!/usr/bin/env node
// The `shimulator` command. It runs the compiled JavaScript in dist/ (built by `prepack` for the package and by
// scripts/setup.mjs in a checkout): the command's script dist/bundle/cli.cjs, compiled with a V8 code cache by the
// launcher dist/bundle/launch.cjs (src/cli/launch.ts). In a checkout whose dist/ is missing or older than its
// sources it runs the TypeScript sources through tsx instead (slower to start, never stale).
//
// Node's built-ins are require()d: an ES module's import of node:fs builds a namespace of its ~100 exports, ~1.4 ms
// of every start where require() costs ~0.1 ms (see the README's "Build, and the start of a command").
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { existsSync } = require('node:fs');
const { fileURLToPath } = require('node:url');

const root = fileURLToPath(new URL('..', import.meta.url));
const script = fileURLToPath(new URL('../dist/bundle/cli.cjs', import.meta.url));

// Whether dist/ is to be run: always in an installed package (dist/ is what it shipped); in a checkout when it is
// not older than src/ — a promise, whose `stat`s run while the launcher reads and compiles the script.
let fresh;
if (!existsSync(script)) fresh = false;
else if (!existsSync(`${root}.git`)) fresh = true;
else fresh = (await import('../scripts/build-state.mjs')).distIsFreshAsync(root);

const status = fresh === false ? undefined : await require('../dist/bundle/launch.cjs').launch(script, process.argv.slice(2), fresh);
if (status !== undefined) {
  process.exitCode = status;
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    console.error('shimulator: dist/ is missing or older than src/, and tsx (a development dependency) is not installed: run `npm run build`');
    process.exit(1);
  }
  register();
  const { main } = await import('../src/cli/main.ts');
  process.exitCode = await main(process.argv.slice(2));
}
