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
  // not older than src/ (~190 `stat`s, ~1.5 ms; made on libuv's threads they cost more of the main thread, ~5 ms).
  const fresh = existsSync(script) && (!existsSync(join(root, '.git')) || require('../scripts/build-state.cjs').distIsFresh(root));
  if (fresh) return require('../dist/bundle/launch.cjs').launch(script, argv);
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
