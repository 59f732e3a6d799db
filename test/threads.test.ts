/**
 * Threads the fakecgo way, both architectures: guest pthread_create/clone/futex under the deterministic scheduler
 * (a mutex-contended counter, a condition-variable handoff, a deadlock), fakecgo-style worker threads started by
 * the guest's own pthread_create, per-thread TLS and errno, per-thread ABI checks and TLS watch, determinism.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHES } from '../src/emu/arch.ts';
import { GuestDeadlockError } from '../src/kernel/threads.ts';
import { out, vararg } from '../src/callspec/values.ts';
import { Machine } from '../src/machine.ts';

const PTHREADS = `
#include <pthread.h>
#include <unistd.h>
#include <errno.h>
#include <fcntl.h>
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static void *work(void *arg) {
  long n = (long)arg;
  for (long i = 0; i < n; i++) {
    pthread_mutex_lock(&m);
    long c = counter;
    for (volatile int k = 0; k < 50; k++) {}   /* widen the critical section so preemption lands inside it */
    counter = c + 1;
    pthread_mutex_unlock(&m);
  }
  return 0;
}
long count_with_threads(int threads, long per) {
  pthread_t t[16]; counter = 0;
  for (int i = 0; i < threads; i++) pthread_create(&t[i], 0, work, (void *)per);
  for (int i = 0; i < threads; i++) pthread_join(t[i], 0);
  return counter;
}
static pthread_cond_t c = PTHREAD_COND_INITIALIZER; static int ready, value;
static void *producer(void *a) { usleep(500); pthread_mutex_lock(&m); value = 42; ready = 1; pthread_cond_signal(&c); pthread_mutex_unlock(&m); return 0; }
int handoff(void) {
  pthread_t t; ready = 0; pthread_create(&t, 0, producer, 0);
  pthread_mutex_lock(&m); while (!ready) pthread_cond_wait(&c, &m); int v = value; pthread_mutex_unlock(&m);
  pthread_join(t, 0); return v;
}
static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;
static void *lock_ba(void *x) { pthread_mutex_lock(&b); usleep(1000); pthread_mutex_lock(&a); return 0; }
int deadlock(void) { pthread_t t; pthread_create(&t, 0, lock_ba, 0); pthread_mutex_lock(&a); usleep(1000); pthread_mutex_lock(&b); pthread_join(t, 0); return 0; }
`;

const SNPRINTF = 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)';
const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes).replace(/\0+$/, '');
const hasGcc = spawnSync('gcc', ['--version']).status === 0;

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shim-threads-'));
  writeFileSync(join(dir, 'pthreads.c'), PTHREADS);
  for (const [arch, flag] of [['amd64', '-m64'], ['i386', '-m32']]) {
    execFileSync('gcc', [flag!, '-O1', '-shared', '-fPIC', '-o', join(dir, `libpthreads-${arch}.so`), join(dir, 'pthreads.c')]);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!hasGcc).each(ARCHES)('guest pthreads on %s', (arch) => {
  let m: Machine;
  beforeAll(async () => {
    m = await Machine.boot({ arch, libs: [join(dir, `libpthreads-${arch}.so`)] });
  });
  afterAll(() => m?.close());

  it('a mutex-contended counter ends with the exact count', () => {
    const r = m.fn(undefined, 'long count_with_threads(int threads, long per)')(4, 300);
    expect(r.value).toBe(1200);
    expect(m.process.threads.threads.length).toBeGreaterThanOrEqual(5);
  });

  it('a condition-variable handoff works (with a sleep on the virtual clock)', () => {
    expect(m.fn(undefined, 'int handoff(void)')().value).toBe(42);
  });

  it('a deliberate deadlock is reported with every thread\'s state, not hung', () => {
    let error: unknown;
    try {
      m.fn(undefined, 'int deadlock(void)')();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GuestDeadlockError);
    const report = (error as GuestDeadlockError).threads.filter((t) => t.state === 'blocked');
    expect(report.length).toBe(2);
    expect((error as Error).message).toMatch(/deadlock: no guest thread can run — thread 1000 \(main\) blocked on futex 0x[0-9a-f]+/);
  });
});

describe.each(ARCHES)('fakecgo-style threads on %s', (arch) => {
  let m: Machine;
  beforeAll(async () => {
    m = await Machine.boot({ arch });
  });
  afterAll(() => m?.close());

  it('snprintf("%f %d") on 8 threads: each correct, each with its own tid and TLS base', () => {
    const threads = Array.from({ length: 8 }, () => m.startThread());
    expect(new Set(threads.map((t) => t.tid)).size).toBe(8);
    expect(new Set(threads.map((t) => t.threadPointer)).size).toBe(8);
    const snprintf = m.fn('libc.so.6', SNPRINTF);
    const results = m.concurrently(threads.map((thread, i) => ({
      thread, address: snprintf.address, proto: snprintf.prototype, args: [out(64), 64, '%f %d', vararg.double(i + 0.25), vararg.int(i)],
    })));
    results.forEach((r, i) => {
      expect(text(r.out[0])).toBe(`${(i + 0.25).toFixed(6)} ${i}`);
      expect(r.errno).toBe(0);
    });
    // Each thread's pthread_self is its own thread pointer (fs base / gs segment base).
    for (const t of threads) expect(m.onThread(t).fn('libc.so.6', 'void *pthread_self(void)')().value).toBe(t.threadPointer);
  });

  it('errno is per thread: open of a missing file gives 2 on each, another thread\'s errno is untouched', () => {
    const threads = Array.from({ length: 9 }, () => m.startThread());
    const open = m.fn('libc.so.6', 'int open(const char *path, int flags, ...)');
    const [bystander, ...workers] = threads; // 8 threads open a missing file; the 9th looks on
    const results = m.concurrently(workers.map((thread) => ({ thread, address: open.address, proto: open.prototype, args: ['/missing/file', 0] })));
    expect(results.map((r) => [r.value, r.errno])).toEqual(workers.map(() => [-1, 2]));
    expect(new DataView(m.read(bystander!.errnoAddress, 4).buffer).getInt32(0, true)).toBe(0);
    expect(workers).toHaveLength(8);
    expect(new Set(threads.map((t) => t.errnoAddress)).size).toBe(9);
  });

  it('answers _cgo_init\'s stack-bounds query (pthread_getattr_np + pthread_attr_getstack)', () => {
    const t = m.startThread();
    const on = m.onThread(t);
    const attr = m.onThread(t).fn('libc.so.6', 'int pthread_getattr_np(unsigned long thread, void *attr)')(t.pthread, out(64));
    expect(attr.value).toBe(0);
    const stack = on.fn('libc.so.6', 'int pthread_attr_getstack(const void *attr, void **addr, unsigned long *size)')(attr.out[1]!, out(8), out(8));
    expect(stack.value).toBe(0);
    const word = arch === 'amd64' ? 8 : 4;
    const size = Number(new DataView(stack.out[2]!.buffer).getBigUint64(0, true)) || new DataView(stack.out[2]!.buffer).getUint32(0, true);
    const base = word === 8 ? Number(new DataView(stack.out[1]!.buffer).getBigUint64(0, true)) : new DataView(stack.out[1]!.buffer).getUint32(0, true);
    expect(size).toBeGreaterThanOrEqual(64 * 1024);
    expect(m.process.space.find(base)?.label).toBe('[anon]'); // glibc mmapped the thread stack
  });
});

describe.each(ARCHES)('determinism with threads on %s', (arch) => {
  it('the schedule hash and every thread\'s instruction count are identical over runs', async () => {
    const runs = [];
    for (let run = 0; run < 2; run++) {
      const m = await Machine.boot({ arch });
      const threads = Array.from({ length: 4 }, () => m.startThread());
      const snprintf = m.fn('libc.so.6', SNPRINTF);
      const results = m.concurrently(threads.map((thread, i) => ({ thread, address: snprintf.address, proto: snprintf.prototype, args: [out(64), 64, '%e %d', vararg.double(i * 3.5), vararg.int(i)] })));
      runs.push({ schedule: m.schedule, instructions: results.map((r) => r.instructions), perThread: m.process.threads.threads.map((t) => t.instructions) });
      m.close();
    }
    expect(runs[0]).toEqual(runs[1]);
  });
});

describe('ABI checks and the TLS watch per thread', () => {
  it('amd64: a violation on a worker thread is reported for that thread', async () => {
    const lib = (name: string) => new URL(`../fixtures/abi/libabi-${name}-amd64.so`, import.meta.url).pathname;
    const m = await Machine.boot({ arch: 'amd64', libs: [lib('targets'), lib('shims')], check: true });
    const [clean, broken] = [m.startThread(), m.startThread()];
    const shim = (name: string) => m.fn('libabi-shims.so', `int ${name}(char *buf, unsigned long n, const char *fmt, double x)`);
    const good = shim('shim_snprintf_good');
    const bad = shim('shim_snprintf_al0');
    const [r1, r2] = m.concurrently([
      { thread: clean, address: good.address, proto: good.prototype, args: [out(64), 64, '%f', 1.5] },
      { thread: broken, address: bad.address, proto: bad.prototype, args: [out(64), 64, '%f', 1.5] },
    ]);
    expect(r1!.abi).toEqual({ ok: true, violations: [] });
    expect(r2!.abi!.violations.map((v) => [v.rule, v.thread])).toEqual([['varargs-al', broken.tid]]);
    m.close();
  });

  it.each(ARCHES)('%s: each thread\'s TLS report is about its own thread pointer and errno', async (arch) => {
    const m = await Machine.boot({ arch, watchTls: true });
    const threads = [m.startThread(), m.startThread()];
    const open = m.fn('libc.so.6', 'int open(const char *path, int flags, ...)');
    const results = m.concurrently(threads.map((thread) => ({ thread, address: open.address, proto: open.prototype, args: ['/missing', 0] })));
    results.forEach((r, i) => {
      expect(r.tls!.layout.threadPointer).toBe(threads[i]!.threadPointer);
      expect(r.tls!.layout.errno).toBe(threads[i]!.errnoAddress);
      expect(r.tls!.accesses).toContainEqual(expect.objectContaining({ access: 'write', name: 'errno', count: 1 }));
    });
    m.close();
  });
});
