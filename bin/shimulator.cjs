#!/usr/bin/env node
// The `shimulator` command. It runs the compiled JavaScript in dist/ (built by `prepack` for the package and by
// scripts/setup.mjs in a checkout): the command's script dist/bundle/cli.cjs, compiled with a V8 code cache by the
// launcher dist/bundle/launch.cjs (src/cli/launch.ts). In a checkout whose dist/ is missing or older than its
// sources it runs the TypeScript sources through tsx instead (slower to start, never stale).
//
// CommonJS, like everything it loads on the way to dist/: an ES module here (or an import of one) starts Node's ES
// module loader, ~3 ms of every start (see the README's "Build, and the start of a command").
'use strict';

const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const script = join(root, 'dist/bundle/cli.cjs');

async function start(argv) {
  // Whether dist/ is to be run: always in an installed package (dist/ is what it shipped); in a checkout when it is
  // not older than src/ — a promise, whose `stat`s run while the launcher reads and compiles the script.
  let fresh;
  if (!existsSync(script)) fresh = false;
  else if (!existsSync(join(root, '.git'))) fresh = true;
  else fresh = require('../scripts/build-state.cjs').distIsFreshAsync(`${root}/`);

  const status = fresh === false ? undefined : await require('../dist/bundle/launch.cjs').launch(script, argv, fresh);
  if (status !== undefined) return status;
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    console.error('shimulator: dist/ is missing or older than src/, and tsx (a development dependency) is not installed: run `npm run build`');
    return 1;
  }
  register();
  const { main } = await import('../src/cli/main.ts');
  return main(argv);
}

start(process.argv.slice(2)).then((status) => {
  process.exitCode = status;
});
