/**
 * Recording cost of `recordTrace(…, { reads: true })` (what the playground records for its memory view): a long
 * snprintf ("%.300f" of 1.5e300, ~130,000 instructions) recorded without and with loads, interleaved, median of each.
 */
import { OutBuffer, vararg } from '../src/callspec/values.ts';
import { Machine } from '../src/machine.ts';
import { recordTrace } from '../src/trace/recorder.ts';

const ROUNDS = 5;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export async function benchTraceReads(write: (line: string) => void): Promise<void> {
  const m = await Machine.boot({ arch: 'amd64' });
  try {
    const f = m.fn('libc.so.6', 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)');
    const call = () => f(new OutBuffer(4096), 4096, '%.300f', vararg.double(1.5e300));
    call();
    const times = { plain: [] as number[], reads: [] as number[] };
    let steps = 0;
    for (let i = 0; i < ROUNDS; i++) {
      for (const reads of [false, true]) {
        const started = performance.now();
        steps = recordTrace(m, 'bench', call, { reads, maxSteps: 1_000_000 }).trace.steps;
        times[reads ? 'reads' : 'plain'].push(performance.now() - started);
      }
    }
    const plain = median(times.plain);
    const reads = median(times.reads);
    write(`trace recording of ${steps} instructions: ${reads.toFixed(0)} ms with loads recorded (the playground's memory view)`
      + ` (reference: ${plain.toFixed(0)} ms without; ${(((reads - plain) / plain) * 100).toFixed(0)} % more)`);
  } finally {
    m.close();
  }
}
