/**
 * `npm run bench`, whole programs: the Go fixture under `shimulator run` (guest instructions, wall time,
 * instructions per second) beside the same binary run natively and, when Debian's qemu-user is installed, under
 * qemu-user — all measured in this run, on this machine.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ARCHES } from '../src/emu/arch.ts';
import { runProgram } from '../src/run/program.ts';

const PROGRAM = 'go-nocgo';
const ARGS = ['alpha', 'beta'];
const QEMU: Record<string, string> = { amd64: '/usr/bin/qemu-x86_64', i386: '/usr/bin/qemu-i386' };

function timeCommand(command: string, args: string[]): number {
  const start = performance.now();
  spawnSync(command, args, { stdio: 'ignore', env: { PATH: '/usr/bin:/bin', HOME: '/tmp', LANG: 'C', TZ: 'UTC' } });
  return performance.now() - start;
}

export async function benchPrograms(root: string, write: (line: string) => void): Promise<void> {
  for (const arch of ARCHES) {
    const binary = join(root, 'fixtures/programs', arch, PROGRAM);
    const start = performance.now();
    const report = await runProgram({ program: binary, args: ARGS, stdout: () => {}, stderr: () => {} });
    const ms = performance.now() - start;
    const rate = report.instructions / (ms / 1000);
    const native = timeCommand(binary, ARGS);
    const qemu = existsSync(QEMU[arch]!)
      ? `, qemu-user ${timeCommand(QEMU[arch]!, [binary, ...ARGS]).toFixed(0)} ms`
      : ', qemu-user not installed (apt-get install qemu-user)';
    write(
      `${arch}: run ${PROGRAM}: ${report.instructions} guest instructions in ${ms.toFixed(0)} ms ` +
        `(${(rate / 1e6).toFixed(2)} M instructions/s; goal < 1 s) — native ${native.toFixed(0)} ms${qemu}`,
    );
  }
}
