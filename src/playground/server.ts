/**
 * The playground's HTTP server (node:http, no framework):
 *
 *   GET  /                   web/index.html, its `<!-- shimulator:importmap -->` marker replaced by the import map
 *   GET  /vendor/<path>      the browser builds of lit, lit-html, lit-element, @lit/reactive-element, pako, capstone-js
 *   GET  /web/<path>         project files; .ts transpiled to JavaScript on the fly (esbuild)
 *   GET  /src/<path>         the same, for the library sources the UI imports (src/trace, …)
 *   GET  /api/info           { arches, libraries }
 *   GET  /api/catalog        ?q=&limit=  → { entries }
 *   POST /api/plan           { arch, prototype, args?, decls? } → { spec, table, explanations }
 *   POST /api/call           { arch, library?, upload?, prototype, args, decls?, check?, tls?, thread? } → { result, spec, trace, symbols,
 *                            truncated? } (run in a worker process, pool.ts; `truncated` when the trace limit cut the call)
 *   POST /api/upload         { name, arch?, data: base64 } → { id, name, arch, soname, exports } (a user's shared object, ≤ 8 MiB;
 *                            /api/plan and /api/call take its id as "upload")
 *   GET  /api/lessons        { lessons: [{ id, title, summary }] }
 *   GET  /api/lessons/<id>   the lesson with its steps and their recordings: recorded once, kept on disk (lesson-cache.ts)
 *                            and sent gzip-compressed from the server's memory (lesson-store.ts), never from a worker
 *
 * API errors answer 400 with `{ "error": "…" }` (404 for unknown routes and lessons) — a call whose guest faulted
 * adds `partial`: the call answer with its recording up to the fault and `fault` set; nothing a request sends can
 * crash the server. Requests from other origins or under other Host names answer 403, and so do API POSTs without
 * the server's token (guard.ts).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import {
  capstoneModule, CAPSTONE_ESM, contentType, ForbiddenPathError, IMPORTMAP_MARKER, importMap, importMapScript, PROJECT_ROOT,
  safeJoin, transpile, vendorFile,
} from './assets.ts';
import { catalogQuery, errorMessage, info, MAX_UPLOAD_BYTES, plan, PlaygroundError, upload } from './api.ts';
import { lessonList, LessonNotFoundError } from './lessons.ts';
import { type LessonBody, type LessonStats, LessonStore } from './lesson-store.ts';
import type { CacheOption } from '../snapshot/image-cache.ts';
import { GuestJobError, GuestPool, type PoolOptions } from './pool.ts';
import { allowedHosts, ForbiddenRequestError, type Guard, guardRequest, newToken, tokenMeta } from './guard.ts';

export interface PlaygroundOptions {
  /** 0 = any free port; default 4280. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** The UI folder (default: the project's web/); tests point it elsewhere. */
  webDir?: string;
  /** The guest workers: how many, and their wall-clock limits (pool.ts). */
  pool?: PoolOptions;
  /** Where lesson recordings (and the workers' boot images) are kept on disk: false for nowhere (image-cache.ts). */
  cache?: CacheOption;
  /** Where lesson recordings alone are kept (default: `cache`); false records each lesson once per server. */
  lessonCache?: CacheOption;
  /** Make every lesson right after starting (load it from the cache, else record it), not on its first request. */
  prepareLessons?: boolean;
}

export interface Playground {
  url: string;
  port: number;
  /** The token API POSTs must send in the x-shimulator-token header (the served page carries it). */
  token: string;
  /** How many lessons were recorded and how many loaded from the disk cache, so far. */
  lessonStats: Readonly<LessonStats>;
  /** The live guest workers' process ids (measurements read their resident memory). */
  workerPids(): number[];
  close(): Promise<void>;
}

export const DEFAULT_PORT = 4280;
const MAX_BODY_BYTES = 1 << 20;
/** /api/upload carries the object in base64 (4/3 of its size) plus the JSON around it. */
const MAX_UPLOAD_BODY_BYTES = Math.ceil(MAX_UPLOAD_BYTES / 3) * 4 + 64 * 1024;

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** A lesson's answer: its gzip bytes as they are when the client takes gzip (browsers do), else inflated. */
async function sendLesson(req: IncomingMessage, res: ServerResponse, body: LessonBody): Promise<void> {
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const bytes = gzip ? body.gzip : await body.json();
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', vary: 'accept-encoding',
    'content-length': bytes.length, ...(gzip ? { 'content-encoding': 'gzip' } : {}),
  });
  res.end(bytes);
}

function sendBody(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-cache', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function readJson(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      throw new HttpError(413, limit === MAX_BODY_BYTES ? `request body larger than ${limit} bytes`
        : `request body larger than ${limit} bytes: the playground takes shared objects of at most ${MAX_UPLOAD_BYTES} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new PlaygroundError('the request body is empty: send a JSON object');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new PlaygroundError(`the request body is not JSON: ${(error as Error).message}`);
  }
}

/** Serves a project file below `root`; .ts files as transpiled JavaScript. */
async function serveFile(res: ServerResponse, root: string, rest: string, urlPath: string): Promise<void> {
  const file = safeJoin(root, rest);
  if (!existsSync(file) || !statSync(file).isFile()) throw new HttpError(404, `not found: ${urlPath}`);
  if (file.endsWith('.ts') && !file.endsWith('.d.ts')) {
    let code: string;
    try {
      code = await transpile(file, urlPath);
    } catch (error) {
      const message = `shimulator playground: ${urlPath} does not compile: ${(error as Error).message}`;
      sendBody(res, 500, 'text/javascript; charset=utf-8', `throw new SyntaxError(${JSON.stringify(message)});\n`);
      return;
    }
    sendBody(res, 200, 'text/javascript; charset=utf-8', code);
    return;
  }
  sendBody(res, 200, contentType(file), readFileSync(file));
}

function indexHtml(webDir: string, token: string): string {
  const file = join(webDir, 'index.html');
  if (!existsSync(file)) throw new HttpError(404, `the playground UI is missing: ${file} does not exist`);
  const html = readFileSync(file, 'utf8');
  const script = `${tokenMeta(token)}\n${importMapScript(importMap())}`;
  return html.includes(IMPORTMAP_MARKER) ? html.replace(IMPORTMAP_MARKER, script) : html.replace(/<head([^>]*)>/i, `<head$1>\n${script}`);
}

interface Context {
  webDir: string;
  guard: Guard;
  pool: GuestPool;
  lessons: LessonStore;
}

async function route(req: IncomingMessage, res: ServerResponse, { webDir, guard, pool, lessons }: Context): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname;
  const method = req.method ?? 'GET';
  const isGet = method === 'GET' || method === 'HEAD';
  guardRequest(req, guard, path.startsWith('/api/') && !isGet);

  if (path.startsWith('/api/')) {
    const endpoint = path.slice('/api/'.length);
    const needs = (wanted: 'GET' | 'POST') => {
      if ((wanted === 'GET' && !isGet) || (wanted === 'POST' && method !== 'POST')) {
        throw new HttpError(405, `${method} is not allowed on ${path}: use ${wanted}`);
      }
    };
    if (endpoint === 'info') {
      needs('GET');
      return sendJson(res, 200, info());
    }
    if (endpoint === 'catalog') {
      needs('GET');
      return sendJson(res, 200, catalogQuery(url.searchParams.get('q'), url.searchParams.get('limit')));
    }
    if (endpoint === 'plan') {
      needs('POST');
      return sendJson(res, 200, plan(await readJson(req)));
    }
    if (endpoint === 'call') {
      needs('POST');
      return sendJson(res, 200, await pool.call(await readJson(req)));
    }
    if (endpoint === 'upload') {
      needs('POST');
      return sendJson(res, 200, upload(await readJson(req, MAX_UPLOAD_BODY_BYTES)));
    }
    if (endpoint === 'lessons') {
      needs('GET');
      return sendJson(res, 200, lessonList());
    }
    if (endpoint.startsWith('lessons/')) {
      needs('GET');
      return sendLesson(req, res, await lessons.body(decodeURIComponent(endpoint.slice('lessons/'.length))));
    }
    throw new HttpError(404, `unknown API route: ${method} ${path}`);
  }

  if (!isGet) throw new HttpError(405, `${method} is not allowed on ${path}`);
  if (path === '/' || path === '/index.html') {
    return sendBody(res, 200, 'text/html; charset=utf-8', indexHtml(webDir, guard.token));
  }
  if (path.startsWith('/vendor/')) {
    const { name, inner, file } = vendorFile(path.slice('/vendor/'.length));
    if (name === '@alexaltea/capstone-js' && inner === CAPSTONE_ESM) {
      return sendBody(res, 200, 'text/javascript; charset=utf-8', capstoneModule());
    }
    if (!existsSync(file) || !statSync(file).isFile()) throw new HttpError(404, `not found: ${path}`);
    return sendBody(res, 200, contentType(file), readFileSync(file));
  }
  if (path.startsWith('/web/')) return serveFile(res, webDir, path.slice('/web/'.length), path);
  if (path.startsWith('/src/')) return serveFile(res, join(PROJECT_ROOT, 'src'), path.slice('/src/'.length), path);
  if (path === '/favicon.ico') {
    res.writeHead(204);
    res.end();
    return;
  }
  throw new HttpError(404, `not found: ${path}`);
}

/** Errors whose message is already the answer (guest errors from a worker were formatted there). */
function passesMessage(error: unknown): boolean {
  return [HttpError, ForbiddenPathError, ForbiddenRequestError, GuestJobError].some((kind) => error instanceof kind);
}

function statusOf(error: unknown): number {
  if (error instanceof HttpError || error instanceof GuestJobError) return error.status;
  if (error instanceof ForbiddenPathError || error instanceof ForbiddenRequestError) return 403;
  if (error instanceof LessonNotFoundError) return 404;
  return 400;
}

/** Starts the playground server; resolves once it listens. */
export async function startPlayground(options: PlaygroundOptions = {}): Promise<Playground> {
  const host = options.host ?? '127.0.0.1';
  const webDir = options.webDir ?? join(PROJECT_ROOT, 'web');
  // The allowed Host names need the port, known once the server listens; no request arrives before that.
  const guard: Guard = { hosts: new Set(), token: newToken() };
  const pool = new GuestPool({ cache: options.cache, ...options.pool });
  // A lesson's recording goes ahead of waiting calls: it is made once, and every student opening it waits for it.
  const lessons = new LessonStore((body) => pool.call(body, { first: true }), options.lessonCache ?? options.cache);
  const context: Context = { webDir, guard, pool, lessons };
  const server = createServer((req, res) => {
    route(req, res, context).catch((error: unknown) => {
      const status = statusOf(error);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const partial = error instanceof GuestJobError ? error.partial : undefined;
      sendJson(res, status, { error: passesMessage(error) ? (error as Error).message : errorMessage(error), ...(partial ? { partial } : {}) });
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', (error) => {
      pool.close();
      reject(error);
    });
    server.listen(options.port ?? DEFAULT_PORT, host, () => {
      server.off('error', reject);
      resolvePromise();
    });
  });
  const port = (server.address() as AddressInfo).port;
  for (const allowed of allowedHosts(host, port)) guard.hosts.add(allowed);
  const shownHost = host.includes(':') ? `[${host}]` : host;
  if (options.prepareLessons) void lessons.prepareAll();
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    token: guard.token,
    lessonStats: lessons.stats,
    workerPids: () => pool.workerPids,
    close: () =>
      new Promise<void>((resolvePromise, reject) => {
        pool.close();
        server.close((error) => (error ? reject(error) : resolvePromise()));
        server.closeAllConnections();
      }),
  };
}
