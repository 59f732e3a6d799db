/**
 * `npm run bench`: boot time per architecture (cold = first boot in this process, including inflating the
 * fixtures; warm = later boots) and per-call latency of snprintf("%f") once warm. Prints what it measures; it
 * asserts nothing (speed goals live here, not in tests).
 */
import { join } from 'node:path';
import { ARCHES } from '../src/emu/arch.ts';
import { out, vararg } from '../src/callspec/values.ts';
import { Machine } from '../src/machine.ts';
import { describeCounting } from '../src/emu/native-counter.ts';

const WARM_BOOTS = 5;
const CALLS = 2000;
const WARM_UP_MS = 300;

/**
 * Calls `call` for WARM_UP_MS at least: a hundred calls left V8 still optimizing, so that whichever variant came
 * first measured slower (the unchecked call, making `--check` look up to 2× dearer than the interleaved counting
 * bench finds).
 */
function warmUp(call: () => unknown): void {
  const started = performance.now();
  for (let i = 0; i < 100 || performance.now() - started < WARM_UP_MS; i++) call();
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export async function runBench(write: (line: string) => void): Promise<number> {
  write('shimulator bench (goals: boot < 50 ms, snprintf < 20 µs once warm)');
  (await import('./cli-start.ts')).benchCliStart(join(import.meta.dirname, '..'), write);
  for (const arch of ARCHES) {
    let started = performance.now();
    let m = await Machine.boot({ arch, cache: false });
    const cold = performance.now() - started;
    if (arch === ARCHES[0]) write(`instruction counting in use: ${describeCounting(m.counting)}`);
    m.close();
    const warm: number[] = [];
    for (let i = 0; i < WARM_BOOTS; i++) {
      started = performance.now();
      m = await Machine.boot({ arch, cache: false });
      warm.push(performance.now() - started);
      if (i < WARM_BOOTS - 1) m.close();
    }
    write(`${arch}: boot cold ${cold.toFixed(1)} ms, warm median ${median(warm).toFixed(1)} ms (${m.bootInstructions} guest instructions)`);

    const snprintf = m.fn('libc.so.6', 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)');
    const call = () => snprintf(out(64), 64, '%f', vararg.double(1.5));
    warmUp(call); // the JIT and the translation cache
    started = performance.now();
    let instructions = 0;
    for (let i = 0; i < CALLS; i++) instructions = call().instructions;
    const perCall = ((performance.now() - started) * 1000) / CALLS;
    write(`${arch}: snprintf("%f", 1.5) ${perCall.toFixed(1)} µs per call (${instructions} guest instructions, ${CALLS} calls)`);

    // The same call with ABI checking on (goal: at most 2× the unchecked time).
    m.checking = true;
    warmUp(call);
    started = performance.now();
    for (let i = 0; i < CALLS; i++) call();
    const checkedPerCall = ((performance.now() - started) * 1000) / CALLS;
    m.checking = false;
    write(`${arch}: snprintf("%f", 1.5) with --check ${checkedPerCall.toFixed(1)} µs per call (${(checkedPerCall / perCall).toFixed(2)}× unchecked; goal ≤ 2×)`);

    const pcapBoot = performance.now();
    const p = await Machine.boot({ arch, libs: ['libpcap.so.0.8'], cache: false });
    write(`${arch}: boot with libpcap.so.0.8 (dlopen of 9 more libraries) ${(performance.now() - pcapBoot).toFixed(1)} ms`);
    p.close();
    m.close();
  }

  await (await import('./counting-bench.ts')).benchCounting(write);
  (await import('./call-bench.ts')).benchCalls(write);
  await (await import('./callback-bench.ts')).benchCallbacks(write);
  await (await import('./snapshot-bench.ts')).runSnapshotBench(write);
  await (await import('./memory-bench.ts')).runMemoryBench(write);
  await (await import('./trace-reads-bench.ts')).benchTraceReads(write);
  await (await import('./playground-bench.ts')).benchPlaygroundWorker(write);
  await (await import('./class-bench.ts')).benchClass(write);

  // The conformance corpus: every signature called once per architecture (goal: 1,000 × 2 arches under 10 s).
  const { bootCorpusMachine, runCorpus } = await import('../test/conformance/runner.ts');
  let total = 0;
  for (const arch of ARCHES) {
    const machine = await bootCorpusMachine(arch);
    const run = runCorpus(machine, arch);
    machine.close();
    total += run.milliseconds;
    write(`${arch}: conformance corpus ${run.passed}/${run.total} signatures match in ${(run.milliseconds / 1000).toFixed(2)} s`);
  }
  write(`conformance corpus, both architectures: ${(total / 1000).toFixed(2)} s (goal < 10 s)`);
  await (await import('./run-bench.ts')).benchPrograms(join(import.meta.dirname, '..'), write);
  return 0;
}
