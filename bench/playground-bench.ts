/**
 * Resident memory of a playground guest worker (src/playground/pool.ts), per booted machine: the started worker
 * (Node, tsx and the modules: the reference), then after booting and calling each kind of machine a worker keeps —
 * amd64 and i386 with libc + libpcap (ABI checking and TLS watch on, each call recorded, as every playground
 * machine), the ABI fixtures' machine and the guest-thread machine the lessons use — then after many more recorded
 * calls (a worker must not grow with them: recycle.ts). Linux only (it reads /proc/PID/status).
 */
import { readFileSync } from 'node:fs';
import { GuestPool } from '../src/playground/pool.ts';

const KIB_PER_MIB = 1024;
/** Recorded calls after the machines are booted: their RSS shows whether recording calls keeps memory. */
const REPEATED_CALLS = 300;
const GOAL_MIB_PER_MACHINE = 150;
/** How often the repeated calls' RSS is read for its peak. */
const RSS_EVERY_CALLS = 10;
const SNPRINTF = 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)';

/** VmRSS of a process in MiB, or undefined where /proc is not there. */
export function residentMiB(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / KIB_PER_MIB : undefined;
  } catch {
    return undefined;
  }
}

/** The machines, in the order they are booted, and a call that boots each. */
const MACHINES: Array<{ label: string; body: unknown }> = [
  { label: 'amd64', body: { arch: 'amd64', prototype: 'unsigned long strlen(const char *s)', args: ['memory'] } },
  { label: 'i386', body: { arch: 'i386', prototype: 'unsigned long strlen(const char *s)', args: ['memory'] } },
  { label: 'amd64 ABI fixtures', body: { arch: 'amd64', library: 'libabi-targets.so', prototype: 'struct pair make_pair(double x, long n)', args: ['2.5', '7'], decls: 'struct pair { double x; long n; };' } },
  { label: 'amd64 guest thread', body: { arch: 'amd64', prototype: 'unsigned long pthread_self(void)', args: [], thread: true } },
];

export async function benchPlaygroundWorker(write: (line: string) => void): Promise<void> {
  const pool = new GuestPool({ workers: 1 });
  try {
    const started = await waitForWorker(pool);
    const pid = started.pid;
    const figures: string[] = [];
    let previous = started.rss;
    for (const { label, body } of MACHINES) {
      await pool.call(body);
      const now = residentMiB(pid);
      if (now === undefined || previous === undefined) break;
      figures.push(`${label} +${(now - previous).toFixed(0)}`);
      previous = now;
    }
    const booted = previous;
    const snprintf = (i: number) => pool.call({ arch: i % 2 === 0 ? 'amd64' : 'i386', library: 'libc.so.6', prototype: SNPRINTF, args: ['out:64', '64', '%d %f', `int:${i}`, 'double:1.5'] });
    let peak = booted ?? 0;
    for (let i = 0; i < REPEATED_CALLS; i++) {
      await snprintf(i);
      if (i % RSS_EVERY_CALLS === 0) peak = Math.max(peak, residentMiB(pid) ?? 0);
    }
    const later = residentMiB(pid);
    if (started.rss === undefined || booted === undefined || later === undefined || figures.length < MACHINES.length) {
      write('playground worker memory: skipped (needs /proc to read a process\'s resident memory)');
      return;
    }
    const perMachine = (booted - started.rss) / MACHINES.length;
    write(`playground worker RSS per booted machine (MiB, booted and called in this order): ${figures.join(', ')};`
      + ` mean ${perMachine.toFixed(0)} MiB per machine (goal ≤ ${GOAL_MIB_PER_MACHINE}), ${booted.toFixed(0)} MiB with all ${MACHINES.length}`
      + ` (reference: ${started.rss.toFixed(0)} MiB for the started worker without a machine)`);
    const signed = (mib: number) => `${mib >= 0 ? '+' : ''}${mib.toFixed(0)}`;
    write(`playground worker RSS during ${REPEATED_CALLS} more recorded snprintf calls (both machines): peak ${peak.toFixed(0)} MiB`
      + ` (${signed(peak - booted)}), ${later.toFixed(0)} MiB after them (${signed(later - booted)}; machines are replaced as their recordings grow them, recycle.ts)`);
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
