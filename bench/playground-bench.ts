/**
 * Resident memory of a playground guest worker (src/playground/pool.ts): right after it started (Node, tsx and the
 * modules: the reference), then with its amd64 machine booted and called (libc + libpcap, ABI checking and TLS
 * watch on, each call recorded, as every playground machine), then with the i386 one as well, then after more calls. Linux only (it reads /proc/PID/status).
 */
import { readFileSync } from 'node:fs';
import { GuestPool } from '../src/playground/pool.ts';

const KIB_PER_MIB = 1024;
/** Calls made after both machines are booted: their RSS shows whether recording calls keeps memory. */
const REPEATED_CALLS = 40;

/** VmRSS of a process in MiB, or undefined where /proc is not there. */
function residentMiB(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / KIB_PER_MIB : undefined;
  } catch {
    return undefined;
  }
}

export async function benchPlaygroundWorker(write: (line: string) => void): Promise<void> {
  const pool = new GuestPool({ workers: 1 });
  try {
    // The first call waits for the worker to be ready; `strlen` of nothing needs no machine work worth counting.
    const call = (arch: string) => pool.call({ arch, prototype: 'unsigned long strlen(const char *s)', args: ['memory'] });
    const started = await waitForWorker(pool);
    const pid = started.pid;
    await call('amd64');
    const amd64 = residentMiB(pid);
    await call('i386');
    const both = residentMiB(pid);
    for (let i = 0; i < REPEATED_CALLS; i++) await call(i % 2 === 0 ? 'amd64' : 'i386');
    const later = residentMiB(pid);
    if (started.rss === undefined || amd64 === undefined || both === undefined || later === undefined) {
      write('playground worker memory: skipped (needs /proc to read a process\'s resident memory)');
      return;
    }
    write(`playground worker RSS: ${amd64.toFixed(0)} MiB with its amd64 machine booted and called, ${both.toFixed(0)} MiB with i386 too`
      + `, ${later.toFixed(0)} MiB after ${REPEATED_CALLS} more recorded calls`
      + ` (reference: ${started.rss.toFixed(0)} MiB for the started worker without a machine; goal ≤ ~150 MiB per machine)`);
  } finally {
    pool.close();
  }
}

/** The worker's pid and resident memory once it has started (polls: the pool spawns it in its constructor). */
async function waitForWorker(pool: GuestPool): Promise<{ pid: number; rss: number | undefined }> {
  // A call on an unknown architecture is refused by the worker itself: its answer means the worker is up.
  await pool.call({ arch: 'none', prototype: 'int abs(int x)', args: ['1'] }).catch(() => undefined);
  const pid = pool.workerPids[0]!;
  return { pid, rss: residentMiB(pid) };
}
