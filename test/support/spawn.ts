/**
 * Child processes for tests, without blocking the test worker: vitest's worker answers its runner over RPC, and a
 * long synchronous wait (spawnSync of a whole `shimulator run`) on a loaded machine makes that RPC time out.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '../..');

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function spawnAsync(command: string, args: string[], options: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    // A command that ends without reading its input closes the pipe: EPIPE here is not the test's failure.
    child.stdin.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE') reject(error);
    });
    child.on('close', (status) => resolve({ status, stdout: Buffer.concat(stdout).toString('utf8'), stderr: Buffer.concat(stderr).toString('utf8') }));
    child.stdin.end(options.input ?? '');
  });
}

/** `node bin/shimulator.cjs ARGS…` from the repository root. */
export function shimulatorCli(...args: string[]): Promise<Run> {
  return spawnAsync(process.execPath, [join(ROOT, 'bin/shimulator.cjs'), ...args]);
}
