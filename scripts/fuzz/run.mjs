// `npm run fuzz`: the fuzz and abuse tests of `npm test`, run longer. The tests read SHIMULATOR_FUZZ_ROUNDS
// (mutations per file and structure; `npm test` uses a few) and SHIMULATOR_FUZZ_SEED (replays a run); the
// abuse programs also run on i386. Plain Node, so it starts the same way everywhere:
//
//   npm run fuzz                         200 rounds, seed 0x5eed
//   npm run fuzz -- --rounds 1000 --seed 42
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const DEFAULT_ROUNDS = 200;
const DEFAULT_SEED = 0x5eed;
const FUZZ_TESTS = ['test/elf-fuzz.test.ts', 'test/dlopen-fuzz.test.ts', 'test/abuse.test.ts'];
/** Per-test timeout: a long run of mutations is one test. */
const TEST_TIMEOUT_MS = 3_600_000;

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value <= 0) {
    console.error(`shimulator fuzz: --${name} needs a positive integer`);
    process.exit(2);
  }
  return value;
}

const rounds = option('rounds', DEFAULT_ROUNDS);
const seed = option('seed', DEFAULT_SEED);
console.error(`shimulator fuzz: ${rounds} rounds, seed ${seed}`);
const result = spawnSync(
  process.execPath,
  [join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', `--testTimeout=${TEST_TIMEOUT_MS}`, ...FUZZ_TESTS],
  { cwd: root, stdio: 'inherit', env: { ...process.env, SHIMULATOR_FUZZ_ROUNDS: String(rounds), SHIMULATOR_FUZZ_SEED: String(seed) } },
);
process.exit(result.status ?? 1);
