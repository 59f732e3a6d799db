/**
 * Finds the native Unicorn 2 shared library. Order: $SHIMULATOR_UNICORN (a path), then the platform's usual
 * library directories, then the dynamic linker's own search (by soname).
 */
import { existsSync } from 'node:fs';
import { EngineUnavailableError } from './errors.ts';

export const UNICORN_ENV = 'SHIMULATOR_UNICORN';

const LINUX_CANDIDATES = [
  '/usr/lib/x86_64-linux-gnu/libunicorn.so.2',
  '/usr/lib/aarch64-linux-gnu/libunicorn.so.2',
  '/usr/lib64/libunicorn.so.2',
  '/usr/lib/libunicorn.so.2',
  '/usr/local/lib/libunicorn.so.2',
];

const MACOS_CANDIDATES = ['/opt/homebrew/lib/libunicorn.2.dylib', '/usr/local/lib/libunicorn.2.dylib'];

export const INSTALL_HINT =
  process.platform === 'darwin'
    ? 'install it with `brew install unicorn`'
    : 'install it with `sudo apt-get install -y libunicorn2` (Debian/Ubuntu), or set ' +
      `${UNICORN_ENV}=/path/to/libunicorn.so.2`;

/** The candidates tried, in order: a path, or a bare soname left to the system's dynamic linker. */
export function unicornCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const fromEnv = env[UNICORN_ENV];
  if (fromEnv) return [fromEnv];
  if (process.platform === 'darwin') return [...MACOS_CANDIDATES, 'libunicorn.2.dylib'];
  return [...LINUX_CANDIDATES.filter((path) => existsSync(path)), 'libunicorn.so.2'];
}

/** Loads the first candidate that works with `load`; throws one message saying how to install it otherwise. */
export function locateUnicorn<T>(load: (path: string) => T, env: NodeJS.ProcessEnv = process.env): T {
  const failures: string[] = [];
  for (const candidate of unicornCandidates(env)) {
    try {
      return load(candidate);
    } catch (error) {
      failures.push(`${candidate}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  const where = env[UNICORN_ENV] ? `${UNICORN_ENV}=${env[UNICORN_ENV]}` : 'the usual library paths';
  throw new EngineUnavailableError(
    `Unicorn 2 (libunicorn.so.2) was not found in ${where}: ${INSTALL_HINT}.\n  tried: ${failures.join('\n  tried: ')}`,
  );
}
