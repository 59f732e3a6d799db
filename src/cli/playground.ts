/**
 * `shimulator playground [--port N] [--host H] [--no-open] [--no-cache | --cache-dir DIR] [--workers N]`: starts the
 * playground server (with N guest worker processes, pool.ts), prints its URL, opens a browser (xdg-open / open /
 * start, failures ignored) and runs until SIGINT/SIGTERM. It makes every lesson right away (from the disk cache,
 * else by recording it), in the background.
 * `shimulator export-lesson [ID|all] [--out DIR]`: writes a lesson (default: all) as a static site (default
 * ./lesson-site).
 */
import { spawn } from 'node:child_process';
import type { CacheOption } from '../snapshot/image-cache.ts';
import { UsageError } from './call.ts';

/** More worker processes than this would only compete for the cores (each is single-threaded) and memory. */
const MAX_WORKERS = 64;

export const PLAYGROUND_USAGE = `usage: shimulator playground [--port N] [--host HOST] [--no-open] [--no-cache | --cache-dir DIR] [--workers N]
       shimulator export-lesson [ID|all] [--out DIR]`;

function openBrowser(url: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'cmd' : 'xdg-open';
  const args = process.platform === 'win32' ? ['/c', 'start', '', url] : [url];
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.on('error', () => undefined); // no browser opener on this host: the URL is printed anyway
    child.unref();
  } catch {
    /* ignored */
  }
}

export async function runPlayground(argv: string[], write: (line: string) => void): Promise<number> {
  let port: number | undefined;
  let host: string | undefined;
  let open = true;
  let cache: CacheOption | undefined;
  let workers: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--port') {
      const value = argv[++i];
      const n = Number(value);
      if (value === undefined || !Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port takes a port number (0-65535)\n${PLAYGROUND_USAGE}`);
      port = n;
    } else if (a === '--host') {
      host = argv[++i];
      if (!host) throw new UsageError(`--host needs a value\n${PLAYGROUND_USAGE}`);
    } else if (a === '--no-open') {
      open = false;
    } else if (a === '--workers') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1 || n > MAX_WORKERS) throw new UsageError(`--workers takes a number of guest worker processes (1-${MAX_WORKERS})\n${PLAYGROUND_USAGE}`);
      workers = n;
    } else if (a === '--no-cache') {
      cache = false;
    } else if (a === '--cache-dir') {
      const dir = argv[++i];
      if (!dir) throw new UsageError(`--cache-dir needs a directory\n${PLAYGROUND_USAGE}`);
      cache = { dir };
    } else {
      throw new UsageError(`unknown argument ${a}\n${PLAYGROUND_USAGE}`);
    }
  }
  const { startPlayground } = await import('../playground/server.ts');
  const { closeMachines } = await import('../playground/api.ts');
  const server = await startPlayground({ port, host, cache, prepareLessons: true, pool: { workers } });
  write(`shimulator playground: ${server.url}  (Ctrl-C to stop)`);
  if (open) openBrowser(server.url);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close();
  await closeMachines();
  return 0;
}

export async function runExportLesson(argv: string[], write: (line: string) => void): Promise<number> {
  let id: string | undefined;
  let out = 'lesson-site';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--out') {
      const value = argv[++i];
      if (!value) throw new UsageError(`--out needs a directory\n${PLAYGROUND_USAGE}`);
      out = value;
    } else if (a.startsWith('--')) {
      throw new UsageError(`unknown option ${a}\n${PLAYGROUND_USAGE}`);
    } else if (id === undefined) {
      id = a;
    } else {
      throw new UsageError(`give one lesson id (or all), got "${id}" and "${a}"\n${PLAYGROUND_USAGE}`);
    }
  }
  const { exportLesson } = await import('../playground/export.ts');
  const { LESSONS } = await import('../playground/lessons.ts');
  const { closeMachines } = await import('../playground/api.ts');
  const lessonId = id ?? 'all';
  if (lessonId !== 'all' && !LESSONS.some((l) => l.id === lessonId)) {
    throw new UsageError(`no lesson "${lessonId}"; lessons: ${LESSONS.map((l) => l.id).join(', ')}, or all`);
  }
  try {
    const { files } = await exportLesson(lessonId, out);
    write(`exported ${lessonId === 'all' ? 'all lessons' : `lesson ${lessonId}`} to ${out} (${files.length} files); serve it with any static file server, e.g. python3 -m http.server -d ${out}`);
  } finally {
    await closeMachines();
  }
  return 0;
}
