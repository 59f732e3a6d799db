/**
 * CLI start: one `shimulator call` of snprintf("%f %d") per architecture, each in a fresh process as a user runs
 * it, beside `node -e 0` timed in the same rounds (interleaved, so that the machine's load hits all alike).
 * Goal (issue 11): ≤ 2× `node -e 0`. The launcher's V8 code cache (src/cli/launch.ts) and the start work it made
 * visible took a call from ~2.7× to ~2.1× here, a CommonJS bin and fewer modules and hashes at start to ~1.9–2.0×
 * (README, "Build, and the start of a command": the figures and what is left); the first run of a new build writes the command's code cache, which the warm-up round below does.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ARCHES } from '../src/emu/arch.ts';
import { distIsFresh } from '../scripts/build-state.cjs';

const ROUNDS = 9;
const PROTOTYPE = 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)';
const EXPECTED = '"1.500000 7"';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Wall time of one process, in ms; throws when it fails or prints something else than expected. */
function timeProcess(args: string[], expect: string | undefined): number {
  const started = performance.now();
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  const ms = performance.now() - started;
  if (r.status !== 0 || (expect !== undefined && !r.stdout.includes(expect))) {
    throw new Error(`bench: node ${args.join(' ')} failed (status ${r.status}, signal ${r.signal}):\n${r.stdout}${r.stderr}`);
  }
  return ms;
}

export function benchCliStart(root: string, write: (line: string) => void): void {
  const bin = join(root, 'bin/shimulator.cjs');
  const runs: { label: string; args: string[]; expect?: string; ms: number[] }[] = [
    { label: 'node -e 0', args: ['-e', '0'], ms: [] },
    // Everything of a start but the boot and the call: Node, the bundle, koffi and Unicorn's library.
    { label: 'shimulator help (start, no boot)', args: [bin, 'help'], expect: 'commands:', ms: [] },
    ...ARCHES.map((arch) => ({
      label: `shimulator call --arch ${arch} snprintf("%f %d")`,
      args: [bin, 'call', '--arch', arch, PROTOTYPE, 'out:64', '64', '%f %d', 'double:1.5', 'int:7'],
      expect: EXPECTED,
      ms: [] as number[],
    })),
    // For comparison: the same call from the TypeScript sources through tsx (how the CLI started before dist/).
    {
      label: 'the same amd64 call from src/ through tsx',
      args: ['--import', 'tsx', '--input-type=module', '-e', `const { main } = await import(${JSON.stringify(join(root, 'src/cli/main.ts'))});
process.exitCode = await main(${JSON.stringify(['call', PROTOTYPE, 'out:64', '64', '%f %d', 'double:1.5', 'int:7'])});`],
      expect: EXPECTED,
      ms: [],
    },
  ];
  const source = distIsFresh(root) ? 'compiled dist/' : 'TypeScript through tsx: dist/ is stale, run `node scripts/build.mjs`';
  for (const run of runs) timeProcess(run.args, run.expect); // warm the file cache (and any boot cache) first
  for (let round = 0; round < ROUNDS; round++) {
    for (const run of runs) run.ms.push(timeProcess(run.args, run.expect));
  }
  const reference = median(runs[0]!.ms);
  write(`CLI start (${source}; median of ${ROUNDS} fresh processes each, interleaved; goal ≤ 2× node -e 0):`);
  write(`  node -e 0: ${reference.toFixed(0)} ms`);
  for (const run of runs.slice(1)) {
    const ms = median(run.ms);
    write(`  ${run.label}: ${ms.toFixed(0)} ms (${(ms / reference).toFixed(2)}× node -e 0)`);
  }
}
