#!/usr/bin/env node
// The `shimulator` command. It runs the compiled JavaScript in dist/ (built by `prepack` for the package and by
// scripts/setup.mjs in a checkout): the command's script dist/bundle/cli.cjs, compiled with a V8 code cache by
// dist/cli/launch.js. In a checkout whose dist/ is missing or older than its sources it runs the
// TypeScript sources through tsx instead (slower to start, never stale).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const compiled = new URL('../dist/bundle/cli.cjs', import.meta.url);

async function useCompiled() {
  if (!existsSync(fileURLToPath(compiled))) return false;
  if (!existsSync(`${root}.git`)) return true; // an installed package: dist/ is what it shipped
  const { distIsFresh } = await import('../scripts/build-state.mjs');
  return distIsFresh(root);
}

if (await useCompiled()) {
  const { launch } = await import('../dist/cli/launch.js');
  process.exitCode = await launch(fileURLToPath(compiled), process.argv.slice(2));
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
