/**
 * `npm run bench`, whole programs: the Go fixture under `shimulator run` (guest instructions, wall time,
 * instructions per second) with native instruction counting beside the JavaScript fallback, and the same binary
 * run natively and, when Debian's qemu-user is installed, under qemu-user — all measured in this run, on this
 * machine, interleaved and as medians (the machine may be shared).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ARCHES } from '../src/emu/arch.ts';
import type { CountingMode } from '../src/emu/block-counter.ts';
import { runProgram } from '../src/run/program.ts';

/**
 * The programs: go-nocgo as it is, and go-cgo with Go's asynchronous preemption off — for every run, so that all
 * three run the same program: qemu-i386 crashes multithreaded Go 386 programs in its signal handling otherwise
 * ("bad g in signal handler"), and go-nocgo's recovered nil dereference crashes it either way.
 */
const CASES: readonly { program: string; args: string[]; env: Record<string, string> }[] = [
  { program: 'go-nocgo', args: ['alpha', 'beta'], env: {} },
  { program: 'go-cgo', args: [], env: { GODEBUG: 'asyncpreemptoff=1' } },
];
const QEMU: Record<string, string> = { amd64: '/usr/bin/qemu-x86_64', i386: '/usr/bin/qemu-i386' };
/** Runs of each kind per architecture (the median is printed). */
const REPEATS = 3;
/** Goal: `shimulator run` within this factor of qemu-user's wall time. */
const QEMU_FACTOR_GOAL = 3;

/**
 * Wall and CPU (user + system) milliseconds of a command, measured by bash's `time` (CPU NaN without bash), and
 * its exit status (bash's own when the command was killed by a signal: 128 + N).
 */
function timeCommand(command: string, args: string[], env: Record<string, string>): { wall: number; cpu: number; status: number | null } {
  const start = performance.now();
  const quoted = [command, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const r = spawnSync('bash', ['-c', `TIMEFORMAT='%3U %3S'; time ${quoted} >/dev/null 2>&1; exit $?`], {
    encoding: 'utf8', env: { PATH: '/usr/bin:/bin', HOME: '/tmp', LANG: 'C', TZ: 'UTC', ...env },
  });
  const wall = performance.now() - start;
  const [user, system] = (r.stderr ?? '').trim().split(/\s+/).map(Number);
  return { wall, cpu: r.status === null || user === undefined || system === undefined ? NaN : (user + system) * 1000, status: r.status };
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

export async function benchPrograms(root: string, write: (line: string) => void): Promise<void> {
  for (const { program, args, env } of CASES) for (const arch of ARCHES) {
    const binary = join(root, 'fixtures/programs', arch, program);
    const times: Record<CountingMode | 'native binary' | 'qemu', number[]> = { native: [], js: [], 'native binary': [], qemu: [] };
    const cpu: Record<CountingMode | 'qemu', number[]> = { native: [], js: [], qemu: [] };
    const instructions: Record<CountingMode, number> = { native: 0, js: 0 };
    const hasQemu = existsSync(QEMU[arch]!);
    // qemu-user's time is a reference only when it runs the program as the CPU does (qemu-i386 7.2 crashes go-nocgo:
    // "fatal: bad g in signal handler", exit 2, after ~60 ms).
    const statuses = { binary: new Set<number | null>(), qemu: new Set<number | null>() };
    for (let i = 0; i < REPEATS; i++) {
      for (const counting of ['native', 'js'] as const) {
        const start = performance.now();
        const cpuStart = process.cpuUsage();
        const report = await runProgram({ program: binary, args: args, env, counting, stdout: () => {}, stderr: () => {} });
        times[counting].push(performance.now() - start);
        const used = process.cpuUsage(cpuStart);
        cpu[counting].push((used.user + used.system) / 1000);
        instructions[counting] = report.instructions;
      }
      const itself = timeCommand(binary, args, env);
      times['native binary'].push(itself.wall);
      statuses.binary.add(itself.status);
      if (hasQemu) {
        const qemu = timeCommand(QEMU[arch]!, [binary, ...args], env);
        statuses.qemu.add(qemu.status);
        times.qemu.push(qemu.wall);
        cpu.qemu.push(qemu.cpu);
      }
    }
    const [native, js] = [median(times.native), median(times.js)];
    const rate = instructions.native / (native / 1000);
    const qemu = hasQemu ? median(times.qemu) : undefined;
    const expected = [...statuses.binary].join('/');
    const qemuFails = [...statuses.qemu].some((status) => !statuses.binary.has(status));
    const versus = qemu === undefined
      ? 'qemu-user not installed (apt-get install qemu-user)'
      : qemuFails
        ? `qemu-user fails on this program (exit ${[...statuses.qemu].join('/')} where the binary exits ${expected}, after ${qemu.toFixed(0)} ms): no reference`
        : `qemu-user ${qemu.toFixed(0)} ms (CPU ${median(cpu.qemu).toFixed(0)}): ${(native / qemu).toFixed(1)}× qemu-user's wall time, ` +
        `${(median(cpu.native) / median(cpu.qemu)).toFixed(1)}× its CPU time (goal ≤ ${QEMU_FACTOR_GOAL}×)`;
    const same = instructions.native === instructions.js ? '' : ` — COUNTS DIFFER (JavaScript: ${instructions.js})`;
    write(
      `${arch}: run ${program}${env.GODEBUG ? ` (GODEBUG=${env.GODEBUG})` : ''}: ${instructions.native} guest instructions${same}; native counting ${native.toFixed(0)} ms ` +
        `(CPU ${median(cpu.native).toFixed(0)}; ${(rate / 1e6).toFixed(2)} M instructions/s), JavaScript counting ${js.toFixed(0)} ms ` +
        `(CPU ${median(cpu.js).toFixed(0)}; ${(js / native).toFixed(2)}×); ` +
        `the binary natively ${median(times['native binary']).toFixed(0)} ms, ${versus}`,
    );
  }
}
