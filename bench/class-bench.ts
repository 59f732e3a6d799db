/**
 * A class on one playground server (issue 13): 30 simulated students on loopback against a real server started
 * here with its real worker pool, each running calls (strlen, snprintf), plans, and opening lessons — the first
 * opening of each lesson records it while the others keep calling. Prints the median and worst latency per request
 * kind beside the same figures for one student alone (measured in the same run, on the same kind of server), and
 * the resident memory of the server and its workers during the load. Linux only for memory (/proc).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LESSONS } from '../src/playground/lessons.ts';
import { residentMiB } from './playground-bench.ts';

const STUDENTS = 30;
/** Rounds of the request mix each student runs under load (one student alone runs the same). */
const ROUNDS = 4;
const RSS_SAMPLE_MS = 250;
/** The goal the issue sets: every kind of request answered in under this at the median under a class's load. */
const MEDIAN_GOAL_MS = 2000;

type Kind = 'call strlen' | 'call snprintf' | 'plan' | 'lesson (first open)' | 'lesson';

interface Request {
  kind: Kind;
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
  /** What the answer must hold (a wrong answer counts as a failure, not a latency). */
  check(json: any): boolean;
}

function requestMix(student: number, round: number): Request[] {
  const word = 'x'.repeat(1 + ((student + round) % 40));
  const arch = (student + round) % 2 === 0 ? 'amd64' : 'i386';
  const lessonId = LESSONS[(student + round) % LESSONS.length]!.id;
  return [
    { kind: 'call strlen', method: 'POST', path: '/api/call', body: { arch, prototype: 'unsigned long strlen(const char *s)', args: [word] },
      check: (j) => j.result?.return === word.length && typeof j.trace === 'string' },
    { kind: 'call snprintf', method: 'POST', path: '/api/call',
      body: { arch, library: 'libc.so.6', prototype: 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)', args: ['out:64', '64', '%d %f', `int:${student}`, 'double:1.5'] },
      check: (j) => j.result?.out?.[0] === `${student} 1.500000` },
    { kind: 'plan', method: 'POST', path: '/api/plan', body: { arch, prototype: 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)', args: ['out:64', '64', '%f', 'double:1.5'] },
      check: (j) => j.spec !== undefined },
    { kind: 'lesson', method: 'GET', path: `/api/lessons/${lessonId}`, check: (j) => j.id === lessonId && Array.isArray(j.steps) },
  ];
}

/** One answered request: when it was sent (performance.now()), how long it took, and whether it was right. */
interface Sample { kind: Kind; at: number; ms: number; ok: boolean; status: number }

/** The server under test, in its own process (class-server.mjs). */
interface Server {
  url: string;
  token: string;
  child: ChildProcess;
}

async function startServer(dir: string): Promise<Server> {
  const child = fork(join(import.meta.dirname, 'class-server.mjs'), [dir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [hello] = (await once(child, 'message')) as [{ url: string; token: string }];
  return { ...hello, child };
}

async function stopServer(server: Server): Promise<void> {
  const exited = once(server.child, 'exit');
  server.child.disconnect();
  await exited;
}

/** The server's workers' process ids, and its lesson counters. */
async function serverState(server: Server): Promise<{ pids: number[]; stats: { recorded: number; loaded: number } }> {
  const answer = once(server.child, 'message');
  server.child.send('pids');
  return ((await answer) as [{ pids: number[]; stats: { recorded: number; loaded: number } }])[0];
}

async function send(pg: Server, request: Request, firstOpens: Set<string>): Promise<Sample> {
  // The first request for a lesson on this server is its recording (or wait for it): a kind of its own.
  const kind = request.kind === 'lesson' && !firstOpens.has(request.path) ? 'lesson (first open)' : request.kind;
  firstOpens.add(request.path);
  const started = performance.now();
  const response = await fetch(new URL(request.path, pg.url), {
    method: request.method,
    headers: request.body === undefined ? {} : { 'content-type': 'application/json', 'x-shimulator-token': pg.token },
    body: request.body === undefined ? undefined : JSON.stringify(request.body),
  });
  const json = await response.json().catch(() => undefined);
  const ms = performance.now() - started;
  return { kind, at: started, ms, status: response.status, ok: response.status === 200 && request.check(json) };
}

async function student(pg: Server, n: number, firstOpens: Set<string>, samples: Sample[]): Promise<void> {
  for (let round = 0; round < ROUNDS; round++) {
    for (const request of requestMix(n, round)) samples.push(await send(pg, request, firstOpens));
  }
}

/** Peak resident memory of the server (this process) and of all its workers together, sampled while `run` runs. */
async function sampleMemory<T>(pg: Server, run: () => Promise<T>): Promise<{ value: T; server: number; workers: number; perWorker: number }> {
  const peak = { server: 0, workers: 0, perWorker: 0 };
  const sample = async () => {
    const workers = (await serverState(pg)).pids.map((pid) => residentMiB(pid) ?? 0);
    peak.server = Math.max(peak.server, residentMiB(pg.child.pid!) ?? 0);
    peak.workers = Math.max(peak.workers, workers.reduce((a, b) => a + b, 0));
    peak.perWorker = Math.max(peak.perWorker, ...workers);
  };
  const timer = setInterval(() => void sample(), RSS_SAMPLE_MS);
  try {
    const value = await run();
    await sample();
    return { value, ...peak };
  } finally {
    clearInterval(timer);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const worst = (xs: number[]) => Math.max(...xs);

/** A server on `dir` whose workers have booted their machines (from the boot image cache when it holds them). */
async function warmServer(dir: string): Promise<Server> {
  const pg = await startServer(dir);
  const firstOpens = new Set<string>();
  // Several at once, so that every worker boots both architectures' machines.
  await Promise.all(Array.from({ length: 8 }, (_, i) => send(pg, requestMix(i, 0)[0]!, firstOpens)));
  return pg;
}

/** The class on a fresh server over `dir`'s boot images (and lessons, when they are there). */
async function runClass(dir: string): Promise<{ samples: Sample[]; started: number; seconds: number; recorded: number; workers: number; memory: { server: number; workers: number; perWorker: number } }> {
  const pg = await warmServer(dir);
  const started = performance.now();
  try {
    const firstOpens = new Set<string>();
    const load = await sampleMemory(pg, async () => {
      const samples: Sample[] = [];
      await Promise.all(Array.from({ length: STUDENTS }, (_, n) => student(pg, n, firstOpens, samples)));
      return samples;
    });
    const state = await serverState(pg);
    const { value: samples, ...memory } = load;
    return { samples, started, seconds: (performance.now() - started) / 1000, recorded: state.stats.recorded, workers: state.pids.length, memory };
  } finally {
    await stopServer(pg);
  }
}

function report(write: (line: string) => void, title: string, run: Awaited<ReturnType<typeof runClass>>, alone: Sample[]): void {
  const { samples, started } = run;
  const failed = samples.filter((s) => !s.ok);
  write(`playground class, ${title}: ${STUDENTS} students × ${ROUNDS} rounds (${samples.length} requests in ${run.seconds.toFixed(1)} s, ${failed.length} failed`
    + `${failed.length ? `: statuses ${[...new Set(failed.map((f) => f.status))].join(', ')}` : ''}; ${run.recorded} lessons recorded during the load), ${run.workers} workers;`
    + ' latency median / worst, beside one student alone:');
  const kinds: Kind[] = ['call strlen', 'call snprintf', 'plan', 'lesson (first open)', 'lesson'];
  let slowest = 0;
  for (const kind of kinds) {
    const kindSamples = samples.filter((s) => s.kind === kind);
    if (kindSamples.length === 0) continue;
    const under = kindSamples.map((s) => s.ms);
    const slowestAt = (kindSamples.reduce((a, b) => (b.ms > a.ms ? b : a)).at - started) / 1000;
    const single = alone.filter((s) => s.kind === kind).map((s) => s.ms);
    slowest = Math.max(slowest, median(under));
    const ratio = single.length ? ` (${(median(under) / median(single)).toFixed(1)}× alone)` : '';
    write(`  ${kind.padEnd(20)} class ${median(under).toFixed(0).padStart(5)} / ${worst(under).toFixed(0).padStart(5)} ms${ratio};`
      + ` alone ${single.length ? `${median(single).toFixed(0)} / ${worst(single).toFixed(0)} ms` : '—'}`
      + ` (${under.length} requests; the worst sent ${slowestAt.toFixed(1)} s into the load)`);
  }
  write(`  every kind's median under ${MEDIAN_GOAL_MS} ms: ${slowest < MEDIAN_GOAL_MS ? 'yes' : 'NO'} (slowest median ${slowest.toFixed(0)} ms);`
    + ` resident memory during the load (peak): server ${run.memory.server.toFixed(0)} MiB, workers ${run.memory.workers.toFixed(0)} MiB together`
    + ` (largest worker ${run.memory.perWorker.toFixed(0)} MiB)`);
}

export async function benchClass(write: (line: string) => void): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shimulator-class-bench-'));
  try {
    // One student alone: the request mix, then every lesson's first opening (a recording).
    const pg = await warmServer(dir);
    const alone: Sample[] = [];
    try {
      const opened = new Set<string>();
      await student(pg, 0, opened, alone);
      for (const { id } of LESSONS) alone.push(await send(pg, { ...requestMix(0, 0)[3]!, path: `/api/lessons/${id}`, check: (j) => j.id === id }, opened));
    } finally {
      await stopServer(pg);
    }
    // The class on a fresh server with the same boot images but no lesson on disk: every lesson is recorded under load.
    for (const name of readdirSync(dir)) if (name.startsWith('lesson-')) unlinkSync(join(dir, name));
    report(write, 'lessons recorded during the class', await runClass(dir), alone);
    // And on the next start: the lessons come from disk.
    report(write, 'lessons on disk (any later start)', await runClass(dir), alone);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
