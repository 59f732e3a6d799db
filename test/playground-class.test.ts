/**
 * Serving a class (issue 13): lesson recordings kept on disk across server starts (and rebuilt when the file is
 * corrupt), 30 concurrent clients against one real server with its real worker pool all answered correctly, and
 * the pool's queue bound answering 503 beyond its limit. Correctness only: latencies are `npm run bench`'s.
 */
import { readdirSync, readFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { request } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { startPlayground, type Playground } from '../src/playground/server.ts';
import { GuestPool } from '../src/playground/pool.ts';

const cacheDir = mkdtempSync(join(tmpdir(), 'shimulator-class-'));
const SNPRINTF = 'int snprintf(char *buf, unsigned long n, const char *fmt, ...)';
const STRLEN = 'unsigned long strlen(const char *s)';
/** A lesson with recorded calls on both architectures that records quickly. */
const LESSON = 'errno-tls';
const STUDENTS = 30;

afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

async function withServer<T>(options: Parameters<typeof startPlayground>[0], use: (pg: Playground) => Promise<T>): Promise<T> {
  const pg = await startPlayground({ port: 0, ...options });
  try {
    return await use(pg);
  } finally {
    await pg.close();
  }
}

async function call(pg: Playground, body: unknown): Promise<{ status: number; json: Record<string, any> }> {
  const response = await fetch(new URL('/api/call', pg.url), {
    method: 'POST', headers: { 'content-type': 'application/json', 'x-shimulator-token': pg.token }, body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, any> };
}

/** GET a lesson; fetch inflates the gzip answer, so the raw bytes are also read to see how it was sent. */
function getLessonRaw(pg: Playground, id: string, gzip: boolean): Promise<{ status: number; encoding?: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: pg.port, path: `/api/lessons/${id}`, headers: gzip ? { 'accept-encoding': 'gzip' } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** What a recording must reproduce: each step's title and call result. */
function outline(lesson: { id: string; steps: Array<{ title?: string; recording?: { result: { return: number } } }> }): unknown {
  return { id: lesson.id, steps: lesson.steps.map((step) => ({ title: step.title, return: step.recording?.result.return })) };
}

function lessonFiles(): string[] {
  return readdirSync(cacheDir).filter((name) => name.startsWith(`lesson-${LESSON}-`) && name.endsWith('.lesson'));
}

describe('lesson recordings on disk', () => {
  it('records a lesson once; the next server start loads it; a corrupt file is rebuilt', { timeout: 180_000 }, async () => {
    const first = await withServer({ cache: { dir: cacheDir } }, async (pg) => {
      const gz = await getLessonRaw(pg, LESSON, true);
      expect(gz.status).toBe(200);
      expect(gz.encoding).toBe('gzip');
      const plain = await getLessonRaw(pg, LESSON, false);
      expect(plain.encoding).toBeUndefined();
      expect(gunzipSync(gz.body).equals(plain.body)).toBe(true);
      expect(pg.lessonStats).toEqual({ recorded: 1, loaded: 0 });
      return JSON.parse(plain.body.toString('utf8')) as { id: string; steps: Array<{ recording?: { result: { return: number } } }> };
    });
    expect(first.id).toBe(LESSON);
    expect(first.steps[0]!.recording!.result.return).toBe(-1); // open("/nonexistent/file") fails
    expect(lessonFiles()).toHaveLength(1);

    // A second server, the same cache: the lesson comes from disk, identical, and no call is recorded.
    await withServer({ cache: { dir: cacheDir } }, async (pg) => {
      const again = await getLessonRaw(pg, LESSON, false);
      expect(again.status).toBe(200);
      expect(JSON.parse(again.body.toString('utf8'))).toEqual(first);
      expect(pg.lessonStats).toEqual({ recorded: 0, loaded: 1 });
    });

    // Corrupt the file (one flipped byte in the payload): the next server records the lesson again and rewrites it.
    const file = join(cacheDir, lessonFiles()[0]!);
    const bytes = readFileSync(file);
    bytes[bytes.length - 10] ^= 0xff;
    writeFileSync(file, bytes);
    await withServer({ cache: { dir: cacheDir } }, async (pg) => {
      const rebuilt = await getLessonRaw(pg, LESSON, false);
      // Recorded again: the same lesson (its traces may differ in detail: they depend on what the machine ran before).
      expect(outline(JSON.parse(rebuilt.body.toString('utf8')) as typeof first)).toEqual(outline(first));
      expect(pg.lessonStats).toEqual({ recorded: 1, loaded: 0 });
    });
    expect(readFileSync(file).equals(bytes)).toBe(false);

    // Truncated to its header: the same.
    writeFileSync(file, readFileSync(file).subarray(0, readFileSync(file).indexOf(0x0a) + 1));
    await withServer({ cache: { dir: cacheDir } }, async (pg) => {
      expect((await getLessonRaw(pg, LESSON, false)).status).toBe(200);
      expect(pg.lessonStats).toEqual({ recorded: 1, loaded: 0 });
    });
    await withServer({ cache: { dir: cacheDir } }, async (pg) => {
      expect((await getLessonRaw(pg, LESSON, false)).status).toBe(200);
      expect(pg.lessonStats).toEqual({ recorded: 0, loaded: 1 });
    });
  });

  it('writes nothing to the default cache with cache: false (lessons, nor the workers\' boot images)', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shimulator-class-none-'));
    const saved = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = dir; // the default cache would be here (the workers inherit it)
    try {
      await withServer({ cache: false }, async (pg) => {
        expect((await getLessonRaw(pg, LESSON, false)).status).toBe(200);
        expect(pg.lessonStats).toEqual({ recorded: 1, loaded: 0 });
      });
      expect(readdirSync(dir)).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = saved;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a class on one server', () => {
  it(`answers ${STUDENTS} concurrent students correctly`, { timeout: 300_000 }, async () => {
    await withServer({ cache: { dir: cacheDir } }, async (pg) => {
      const student = async (n: number) => {
        const word = 'x'.repeat(n + 1);
        const length = await call(pg, { arch: n % 2 === 0 ? 'amd64' : 'i386', prototype: STRLEN, args: [word] });
        const printed = await call(pg, { arch: 'amd64', library: 'libc.so.6', prototype: SNPRINTF, args: ['out:32', '32', '%d', `int:${n}`] });
        const lesson = await fetch(new URL(`/api/lessons/${LESSON}`, pg.url));
        return { n, length, printed, lesson: { status: lesson.status, id: ((await lesson.json()) as { id: string }).id } };
      };
      const answers = await Promise.all(Array.from({ length: STUDENTS }, (_, n) => student(n)));
      for (const { n, length, printed, lesson } of answers) {
        expect(length.status, `student ${n} strlen`).toBe(200);
        expect(length.json.result.return, `student ${n} strlen`).toBe(n + 1);
        expect(printed.status, `student ${n} snprintf`).toBe(200);
        expect(printed.json.result).toMatchObject({ return: String(n).length, out: { 0: String(n) } });
        expect(lesson).toEqual({ status: 200, id: LESSON });
      }
      // One recording at most (none when the earlier test left it on disk), however many asked at once.
      expect(pg.lessonStats.recorded + pg.lessonStats.loaded).toBe(1);
    });
  });

  it('answers 503 with a clear message beyond the queue bound', { timeout: 120_000 }, async () => {
    await withServer({ cache: { dir: cacheDir }, pool: { workers: 1, maxQueued: 2 } }, async (pg) => {
      const answers = await Promise.all(Array.from({ length: 8 }, () => call(pg, { arch: 'amd64', prototype: STRLEN, args: ['abc'] })));
      const busy = answers.filter((a) => a.status === 503);
      const done = answers.filter((a) => a.status === 200);
      expect(busy.length).toBeGreaterThan(0);
      expect(done.length).toBeGreaterThanOrEqual(2);
      for (const a of done) expect(a.json.result.return).toBe(3);
      for (const a of busy) expect(a.json.error).toMatch(/the playground is busy \(2 calls waiting for its 1 guest worker\(s\)\): try again shortly/);
    });
  });

  it('runs a lesson recording\'s calls ahead of the calls already waiting', { timeout: 120_000 }, async () => {
    const pool = new GuestPool({ workers: 1, cache: { dir: cacheDir } });
    try {
      const done: string[] = [];
      const strlen = (name: string, first = false) =>
        pool.call({ arch: 'amd64', prototype: STRLEN, args: [name] }, { first }).then((value) => {
          expect((value as { result: { return: number } }).result.return).toBe(name.length);
          done.push(name);
        });
      // All queued before the worker is ready: it takes them in queue order, one at a time.
      await Promise.all([strlen('a'), strlen('bb'), strlen('lesson', true), strlen('ccc'), strlen('lesson2', true)]);
      expect(done).toEqual(['lesson', 'lesson2', 'a', 'bb', 'ccc']);
    } finally {
      pool.close();
    }
  });
});
