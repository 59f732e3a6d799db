#!/usr/bin/env node
// The `shimulator` command. It runs the compiled JavaScript in dist/ (built by `prepack` for the package and by
// scripts/setup.mjs in a checkout). In a checkout whose dist/ is missing or older than its sources it runs the
// TypeScript sources through tsx instead (slower to start, never stale).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const compiled = new URL('../dist/bundle/cli.js', import.meta.url);

async function useCompiled() {
  if (!existsSync(fileURLToPath(compiled))) return false;
  if (!existsSync(`${root}.git`)) return true; // an installed package: dist/ is what it shipped
  const { distIsFresh } = await import('../scripts/build-state.mjs');
  return distIsFresh(root);
}

let main;
if (await useCompiled()) {
  ({ main } = await import(compiled.href));
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    console.error('shimulator: dist/ is missing or older than src/, and tsx (a development dependency) is not installed: run `npm run build`');
    process.exit(1);
  }
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
