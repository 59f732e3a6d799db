/**
 * Boot images and snapshots (src/snapshot): per architecture, a fresh boot (ld.so, libc, constructors), a boot
 * restored from the image cache, `restore()` of a snapshot after a call changed the machine, and `fork()` — medians,
 * measured side by side in this run. Goals: cache ≤ 10 ms, snapshot restore ≤ 2 ms.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { out, vararg } from '../src/callspec/values.ts';
import { type Arch, ARCHES } from '../src/emu/arch.ts';
import { Machine } from '../src/machine.ts';
import { show, timeInterleaved } from './counting-bench.ts';

const ROUNDS = 15;
/** Issue 11: a warm snprintf("%f %d"), however the machine started. */
const WARM_SNPRINTF_GOAL_US = 40;

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
      await warmCallsByStart(arch, dir, write);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A warm snprintf on machines that started each way — booted, restored from the image cache, forked — timed
 * interleaved. Unicorn 2.0.1's stores are cheaper or dearer depending on where its RAM blocks lie
 * (src/emu/ram-layout.ts); every start path lays them out alike, so the three should match.
 */
async function warmCallsByStart(arch: Arch, dir: string, write: (line: string) => void): Promise<void> {
  const booted = await Machine.boot({ arch, cache: false });
  const cached = await Machine.boot({ arch, cache: { dir } });
  const forked = booted.fork();
  const call = (m: Machine) => {
    const snprintf = m.fn('libc.so.6', 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)');
    return () => snprintf(out(64), 64, '%f %d', vararg.double(1.5), 7);
  };
  const r = timeInterleaved({ booted: call(booted), cached: call(cached), forked: call(forked) });
  const counts = new Set([r.booted.instructions, r.cached.instructions, r.forked.instructions]).size === 1 ? 'same counts' : 'COUNTS DIFFER';
  write(
    `${arch}: warm snprintf("%f %d") by how the machine started (goal ≤ ${WARM_SNPRINTF_GOAL_US} µs each): booted ${show(r.booted)}, ` +
      `from the image cache ${show(r.cached)}, forked ${show(r.forked)} (${r.booted.instructions} instructions, ${counts})`,
  );
  for (const m of [booted, cached, forked]) m.close();
}
