/**
 * Boot images and snapshots (src/snapshot): per architecture, a fresh boot (ld.so, libc, constructors), a boot
 * restored from the image cache, `restore()` of a snapshot after a call changed the machine, and `fork()` — medians,
 * measured side by side in this run. Goals: cache ≤ 10 ms, snapshot restore ≤ 2 ms.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { out, vararg } from '../src/callspec/values.ts';
import { ARCHES } from '../src/emu/arch.ts';
import { Machine } from '../src/machine.ts';

const ROUNDS = 15;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Median and best of `rounds` runs of `make` (the best shows the cost on a machine nobody else is using); what it
 *  makes is closed outside the timing. */
async function timed(rounds: number, make: () => Promise<Machine> | Machine, seen?: (m: Machine) => void): Promise<string> {
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    const m = await make();
    times.push(performance.now() - started);
    seen?.(m);
    m.close();
  }
  return spread(times);
}

function spread(times: number[]): string {
  const digits = median(times) < 10 ? 2 : 1;
  return `${median(times).toFixed(digits)} ms (best ${Math.min(...times).toFixed(digits)})`;
}

export async function runSnapshotBench(write: (line: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shimulator-bench-cache-'));
  try {
    for (const arch of ARCHES) {
      (await Machine.boot({ arch, cache: { dir } })).close(); // writes the image
      const fresh = await timed(5, () => Machine.boot({ arch, cache: false }));
      let origin = '';
      const cached = await timed(ROUNDS, () => Machine.boot({ arch, cache: { dir } }), (m) => (origin = m.origin));
      const m = await Machine.boot({ arch, cache: false });
      const snapshot = m.snapshot();
      const snprintf = m.fn('libc.so.6', 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)');
      const malloc = m.fn('libc.so.6', 'void *malloc(unsigned long n)');
      // Each restore undoes a call and a malloc of 100 kB (the timing is of the restore alone).
      const restoreOnly: number[] = [];
      for (let i = 0; i < ROUNDS * 4; i++) {
        snprintf(out(64), 64, '%f', vararg.double(1.5));
        malloc(100_000);
        const started = performance.now();
        m.restore(snapshot);
        restoreOnly.push(performance.now() - started);
      }
      const fork = await timed(5, () => m.fork());
      m.close();
      write(
        `${arch}: boot fresh ${fresh} | from the image cache ${cached} (origin: ${origin}; goal ≤ 10 ms) | ` +
          `snapshot restore ${spread(restoreOnly)} (goal ≤ 2 ms; ${(snapshot.memoryBytes / 2 ** 20).toFixed(1)} MiB of non-zero pages) | ` +
          `fork ${fork}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
