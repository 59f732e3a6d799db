/**
 * Guest calls off the server's thread: a small pool of child processes (worker.ts), each holding its own booted
 * machines, and a queue of calls. Guest code runs synchronously inside Unicorn, so in the server process one slow
 * call would stall every request; here the server only waits on a message.
 *
 * Limits. Inside a worker every machine has an instruction budget, an output limit and a memory limit (api.ts),
 * and recordings are capped (MAX_TRACE_STEPS, MAX_TRACE_BYTES). The pool adds what a guest cannot enforce on
 * itself: a wall-clock deadline (the worker is killed when a call runs longer), and a crash boundary (a worker
 * that dies — engine crash, out of memory — fails its call with 500). A killed or dead worker is replaced by a
 * fresh one; the server lives on.
 *
 * Workers are child processes rather than worker threads: a native crash in the engine ends the child only, and
 * each child's memory goes back to the system when it is replaced.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { onUploadForgotten, uploadEntry } from './api.ts';
import type { CacheOption } from '../snapshot/image-cache.ts';
import type { FromWorker, ToWorker } from './worker.ts';

/** Workers started by default: one per core, at least two (a call runs while another waits on a slow one) and at
 * most four (each holds ~100 MiB plus ~35 MiB per booted machine; `npm run bench`). */
export const DEFAULT_WORKERS = Math.min(4, Math.max(2, availableParallelism()));
/** Wall-clock time a guest may run once its machine is booted: a backstop above what MAX_TRACE_STEPS takes to record. */
export const DEFAULT_GUEST_TIMEOUT_MS = 30_000;
/** Wall-clock time for starting the worker and booting the machines a call needs (two architectures' glibc). */
export const DEFAULT_BOOT_TIMEOUT_MS = 120_000;
/** Calls waiting for a worker at most (by default); beyond that the server answers 503 rather than queueing without end. */
export const DEFAULT_MAX_QUEUED = 500;
/** JavaScript heap of one worker: recordings are capped well below it; a worker that still outgrows it dies. */
const WORKER_HEAP_MB = 2048;
/** Pause before replacing a worker that died while starting: a broken install must not become a fork loop. */
const STARTUP_RETRY_MS = 1000;

/**
 * The worker's entry: compiled (dist/, or the command's script dist/bundle/cli.cjs) it is worker.js beside this file;
 * from the TypeScript sources, a stub that loads tsx.
 */
const ENTRY = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? './worker-entry.mjs' : './worker.js', import.meta.url));

export interface PoolOptions {
  workers?: number;
  guestTimeoutMs?: number;
  bootTimeoutMs?: number;
  /** Calls that may wait for a worker; one more is answered 503 (default DEFAULT_MAX_QUEUED). */
  maxQueued?: number;
  /** The workers' boot image cache (image-cache.ts): false to boot afresh, or its folder. */
  cache?: CacheOption;
}

/** A call the pool could not complete; `status` is the HTTP status to answer with, `partial` the recording up to a fault. */
export class GuestJobError extends Error {
  override name = 'GuestJobError';
  constructor(readonly status: number, message: string, readonly partial?: unknown) {
    super(message);
  }
}

interface Job {
  id: number;
  body: unknown;
  /** Queued ahead of ordinary calls (behind earlier `first` ones). */
  first?: boolean;
  resolve(value: unknown): void;
  reject(error: GuestJobError): void;
}

interface WorkerSlot {
  child: ChildProcess;
  ready: boolean;
  job?: Job;
  timer?: NodeJS.Timeout;
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

export class GuestPool {
  private readonly slots = new Set<WorkerSlot>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  private readonly size: number;
  private readonly guestTimeoutMs: number;
  private readonly bootTimeoutMs: number;
  private readonly maxQueued: number;
  private readonly cache: CacheOption | undefined;

  constructor(options: PoolOptions = {}) {
    this.size = Math.max(1, options.workers ?? DEFAULT_WORKERS);
    this.guestTimeoutMs = options.guestTimeoutMs ?? DEFAULT_GUEST_TIMEOUT_MS;
    this.bootTimeoutMs = options.bootTimeoutMs ?? DEFAULT_BOOT_TIMEOUT_MS;
    this.maxQueued = Math.max(0, options.maxQueued ?? DEFAULT_MAX_QUEUED);
    this.cache = options.cache;
    onUploadForgotten((upload) => this.broadcast({ kind: 'forget', upload }));
    for (let i = 0; i < this.size; i++) this.spawn();
  }

  /**
   * Runs POST /api/call's request in a worker; rejects with GuestJobError when a limit or a crash stopped it.
   * `first`: ahead of the calls already waiting (a lesson's recording: made once per lesson, while students wait).
   */
  call(body: unknown, { first = false }: { first?: boolean } = {}): Promise<unknown> {
    if (this.closed) return Promise.reject(new GuestJobError(503, 'the playground is shutting down'));
    if (this.queue.length >= this.maxQueued) {
      return Promise.reject(new GuestJobError(503, `the playground is busy (${this.queue.length} calls waiting for its ${this.size} guest worker(s)): try again shortly`));
    }
    return new Promise((resolve, reject) => {
      const job = { id: this.nextId++, body, resolve, reject };
      const ordinary = this.queue.findIndex((waiting) => !waiting.first);
      if (first && ordinary >= 0) this.queue.splice(ordinary, 0, { ...job, first });
      else this.queue.push({ ...job, first });
      this.dispatch();
    });
  }

  /** The process ids of the live workers (for measurements: `npm run bench` reads their resident memory). */
  get workerPids(): number[] {
    return [...this.slots].map((slot) => slot.child.pid).filter((pid): pid is number => pid !== undefined);
  }

  /** Kills every worker; waiting and running calls fail. */
  close(): void {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new GuestJobError(503, 'the playground is shutting down'));
    for (const slot of [...this.slots]) this.retire(slot, new GuestJobError(503, 'the playground is shutting down'));
  }

  private spawn(): void {
    if (this.closed) return;
    const child = fork(ENTRY, this.cache === undefined ? [] : [JSON.stringify(this.cache)], {
      execArgv: [`--max-old-space-size=${WORKER_HEAP_MB}`],
      serialization: 'advanced',
      // The worker's own output is the engine's diagnostics, not the guest's (that is captured): keep the server's.
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const slot: WorkerSlot = { child, ready: false };
    this.slots.add(slot);
    child.on('message', (message: FromWorker) => this.onMessage(slot, message));
    child.on('exit', (code, signal) => {
      if (!this.slots.has(slot)) return; // retired on purpose
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      if (!slot.ready) return this.failedToStart(slot, how);
      this.retire(slot, new GuestJobError(500, `the guest's worker process ${how} during the call (the engine crashed or ran out of memory); the playground started a fresh one`));
    });
    child.on('error', () => {
      /* followed by 'exit', which reports it */
    });
  }

  /** A worker that dies before it is ready cannot run anything: fail the waiting calls, retry a little later. */
  private failedToStart(slot: WorkerSlot, how: string): void {
    this.slots.delete(slot);
    const error = new GuestJobError(500, `a guest worker process ${how} while starting, so calls cannot run (see the server's output)`);
    if (![...this.slots].some((s) => s.ready)) for (const job of this.queue.splice(0)) job.reject(error);
    setTimeout(() => this.spawn(), STARTUP_RETRY_MS).unref();
  }

  private onMessage(slot: WorkerSlot, message: FromWorker): void {
    if (message.kind === 'ready') {
      slot.ready = true;
      this.dispatch();
      return;
    }
    const job = slot.job;
    if (!job || job.id !== message.id) return;
    if (message.kind === 'running') {
      this.arm(slot, this.guestTimeoutMs, `the guest ran longer than ${seconds(this.guestTimeoutMs)} (the playground's wall-clock limit per call): its worker was stopped`);
      return;
    }
    clearTimeout(slot.timer);
    slot.job = undefined;
    if (message.kind === 'done') job.resolve(message.value);
    else job.reject(new GuestJobError(400, message.message, message.partial));
    this.dispatch();
  }

  /** Starts (or restarts) the wall-clock deadline of the slot's job: past it the worker is killed. */
  private arm(slot: WorkerSlot, ms: number, message: string): void {
    clearTimeout(slot.timer);
    slot.timer = setTimeout(() => this.retire(slot, new GuestJobError(400, message)), ms);
  }

  /** Kills the worker, fails its job, and (unless closing) starts a replacement. */
  private retire(slot: WorkerSlot, error: GuestJobError): void {
    if (!this.slots.delete(slot)) return;
    clearTimeout(slot.timer);
    slot.child.kill('SIGKILL');
    slot.job?.reject(error);
    slot.job = undefined;
    this.spawn();
    this.dispatch();
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (!slot.ready || slot.job) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      const upload = uploadEntry((job.body as { upload?: unknown } | null)?.upload);
      this.arm(slot, this.bootTimeoutMs, `booting the machine for this call took longer than ${seconds(this.bootTimeoutMs)}: its worker was stopped`);
      this.send(slot, { kind: 'call', id: job.id, body: job.body, upload });
    }
  }

  private broadcast(message: ToWorker): void {
    for (const slot of this.slots) if (slot.ready) this.send(slot, message);
  }

  private send(slot: WorkerSlot, message: ToWorker): void {
    try {
      slot.child.send(message);
    } catch {
      /* the worker is gone; its 'exit' fails the job */
    }
  }
}
