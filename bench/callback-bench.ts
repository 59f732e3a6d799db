/**
 * `npm run bench`, callbacks: µs per TypeScript comparator call under glibc's qsort (each one a trap that stops the
 * engine, the callback run outside Unicorn's hook, and a restart — see Process.onInterrupt), and µs per nested
 * guest call made from such a comparator (`memcmp` of the two elements) beside the same `memcmp` called from the
 * host at top level, measured in this run.
 */
import { ARCHES } from '../src/emu/arch.ts';
import { Machine } from '../src/machine.ts';

const ELEMENTS = 4000;
const TOP_LEVEL_CALLS = 20_000;
const QSORT = 'void qsort(void *base, unsigned long n, unsigned long size, int (*cmp)(const void *, const void *))';

export async function benchCallbacks(write: (line: string) => void): Promise<void> {
  for (const arch of ARCHES) {
    const m = await Machine.boot({ arch });
    const data = new Uint8Array(ELEMENTS * 4);
    const view = new DataView(data.buffer);
    for (let i = 0; i < ELEMENTS; i++) view.setInt32(i * 4, (i * 7919) % 10007, true);
    const qsort = m.fn('libc.so.6', QSORT);
    const memcmp = m.fn('libc.so.6', 'int memcmp(const void *a, const void *b, unsigned long n)');
    let calls = 0;
    const inHost = m.callback('int (*)(const void *, const void *)', (a, b) => {
      calls++;
      return new DataView(m.read(a as number, 4).buffer).getInt32(0, true) - new DataView(m.read(b as number, 4).buffer).getInt32(0, true);
    });
    const nested = m.callback('int (*)(const void *, const void *)', (a, b) => {
      calls++;
      return memcmp(a as number, b as number, 4).value as number;
    });
    const perCallback = (cb: typeof inHost) => {
      qsort(data, ELEMENTS, 4, cb); // warm
      calls = 0;
      const started = performance.now();
      qsort(data, ELEMENTS, 4, cb);
      return ((performance.now() - started) * 1000) / calls;
    };
    const plain = perCallback(inHost);
    const withNested = perCallback(nested);
    const x = m.fn('libc.so.6', 'void *malloc(unsigned long n)')(8).value as number;
    for (let i = 0; i < 500; i++) memcmp(x, x + 4, 4);
    const started = performance.now();
    for (let i = 0; i < TOP_LEVEL_CALLS; i++) memcmp(x, x + 4, 4);
    const topLevel = ((performance.now() - started) * 1000) / TOP_LEVEL_CALLS;
    write(`${arch}: qsort callback ${plain.toFixed(2)} µs per comparison (TypeScript reads the elements); with a nested guest memcmp ${withNested.toFixed(2)} µs, i.e. ${(withNested - plain).toFixed(2)} µs per nested call vs ${topLevel.toFixed(2)} µs for memcmp called from the host`);
    m.close();
  }
}
