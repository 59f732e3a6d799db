/**
 * The playground as a service (src/playground/pool.ts, guard.ts): guests run in worker processes with limits, so a
 * spinning or flooding guest is stopped and reported while the server keeps answering everyone else.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPlayground, type Playground } from '../src/playground/server.ts';
import { decodeTrace } from '../src/trace/format.ts';

const RUNAWAY_C = `#include <unistd.h>
void spin(void) { for (;;) { } }
static char block[65536];
/* write(2) straight away: no stdio buffer between the flood and the output limit */
void flood(void) { for (;;) write(1, block, sizeof block); }
`;
const CONCURRENT_CALLS = 50;
const INFO_LIMIT_MS = 1000;

let temp: string;
let pg: Playground;

function compileSo(source: string): Buffer {
  const c = join(temp, 'runaway.c');
  const so = join(temp, 'librunaway.so');
  writeFileSync(c, source);
  execFileSync('gcc', ['-shared', '-fPIC', '-O1', '-o', so, c]);
  return readFileSync(so);
}

async function post(server: Playground, path: string, body: unknown): Promise<{ status: number; json: Record<string, any> }> {
  const response = await fetch(new URL(path, server.url), {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-shimulator-token': server.token }, body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, any> };
}

async function uploadRunaway(server: Playground): Promise<string> {
  const up = await post(server, '/api/upload', { name: 'librunaway.so', data: compileSo(RUNAWAY_C).toString('base64') });
  expect(up.status).toBe(200);
  return up.json.id as string;
}

/** Times GET /api/info every 50 ms until `done` settles; resolves with the slowest answer's milliseconds. */
async function slowestInfo(done: Promise<unknown>): Promise<number> {
  let finished = false;
  void done.finally(() => (finished = true));
  let slowest = 0;
  while (!finished) {
    const started = performance.now();
    const r = await fetch(new URL('/api/info', pg.url));
    expect(r.status).toBe(200);
    await r.json();
    slowest = Math.max(slowest, performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return slowest;
}

beforeAll(async () => {
  temp = mkdtempSync(join(tmpdir(), 'shimulator-sandbox-'));
  pg = await startPlayground({ port: 0 });
});

afterAll(async () => {
  await pg?.close();
  rmSync(temp, { recursive: true, force: true });
});

describe('guests in workers', () => {
  it(`a spinning and a flooding guest are stopped by their limits while ${CONCURRENT_CALLS} other calls answer and /api/info stays fast`, async () => {
    const id = await uploadRunaway(pg);
    const spin = post(pg, '/api/call', { upload: id, prototype: 'void spin(void)' });
    const flood = post(pg, '/api/call', { upload: id, prototype: 'void flood(void)' });
    const others = Array.from({ length: CONCURRENT_CALLS }, (_, i) =>
      post(pg, '/api/call', { arch: 'amd64', prototype: 'unsigned long strlen(const char *s)', args: ['x'.repeat(i + 1)] }));
    const all = Promise.allSettled([spin, flood, ...others]);
    const slowest = await slowestInfo(all);
    expect(slowest).toBeLessThan(INFO_LIMIT_MS);

    // The spin is stopped at the trace limit (or, on a slow machine, the wall-clock limit); a cut recording is
    // answered with the trace so far and says so.
    const spun = await spin;
    if (spun.status === 200) {
      expect(spun.json.truncated).toMatch(/cut at 400000 instructions \(the playground's trace limit\)/);
      expect(decodeTrace(Buffer.from(spun.json.trace as string, 'base64')).steps).toBe(400_000);
    } else {
      expect(spun.json.error).toMatch(/wall-clock/);
    }
    const flooded = await flood;
    expect(flooded.status).toBe(400);
    expect(flooded.json.error).toMatch(/output limit/);
    const answers = await Promise.all(others);
    answers.forEach((r, i) => {
      expect(r.status, `call ${i}`).toBe(200);
      expect(r.json.result.return, `call ${i}`).toBe(i + 1);
    });
    // The uploaded object still works after its machines were stopped.
    const again = await post(pg, '/api/call', { upload: id, prototype: 'void flood(void)' });
    expect(again.json.error).toMatch(/output limit/);
  }, 180_000);

  it('kills a guest that passes the wall-clock deadline, reports it, and answers the next call from a fresh worker', async () => {
    const strict = await startPlayground({ port: 0, pool: { workers: 1, guestTimeoutMs: 100 } });
    try {
      const id = await uploadRunaway(strict);
      const spun = await post(strict, '/api/call', { upload: id, prototype: 'void spin(void)' });
      expect(spun.status).toBe(400);
      expect(spun.json.error).toMatch(/wall-clock limit/);
      const info = await fetch(new URL('/api/info', strict.url));
      expect(info.status).toBe(200);
      const plan = await post(strict, '/api/plan', { upload: id, prototype: 'void spin(void)' });
      expect(plan.status).toBe(200);
    } finally {
      await strict.close();
    }
  }, 180_000);

  it('answers 500 when a worker dies under a call (here: SIGKILL from outside, as the OOM killer would), and the next call runs in a fresh worker', async () => {
    const othersWorkers = workerPids(); // the shared server's
    const single = await startPlayground({ port: 0, pool: { workers: 1 } });
    try {
      const [worker, ...more] = workerPids().filter((pid) => !othersWorkers.includes(pid));
      expect(worker).toBeDefined();
      expect(more).toEqual([]);
      const id = await uploadRunaway(single);
      // A first call makes sure the worker is up, so that the spin is on it (booting or running) when it dies.
      expect((await post(single, '/api/call', { arch: 'amd64', prototype: 'int abs(int x)', args: ['-1'] })).json.result.return).toBe(1);
      const spin = post(single, '/api/call', { upload: id, prototype: 'void spin(void)' });
      await new Promise((resolve) => setTimeout(resolve, 500));
      process.kill(worker!, 'SIGKILL');
      const crashed = await spin;
      expect(crashed.status).toBe(500);
      expect(crashed.json.error).toMatch(/worker process was killed by SIGKILL/);
      const next = await post(single, '/api/call', { arch: 'amd64', prototype: 'unsigned long strlen(const char *s)', args: ['abc'] });
      expect(next.json.result.return).toBe(3);
    } finally {
      await single.close();
    }
  }, 180_000);
});

/** This process's guest workers (pool.ts forks them from worker-entry.mjs). */
function workerPids(): number[] {
  let out = '';
  try {
    out = execFileSync('pgrep', ['-P', String(process.pid), '-f', 'worker-entry.mjs'], { encoding: 'utf8' });
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
  return out.split('\n').filter(Boolean).map(Number);
}
