/**
 * The server's lessons: each answer of GET /api/lessons/<id> is made once — loaded from the disk cache
 * (lesson-cache.ts), else recorded through the worker pool and saved there — and then kept in memory as the
 * gzip-compressed JSON the server sends. Requests for a lesson never reach a worker once it is made, concurrent
 * first requests share one recording, and a recording's calls queue for the workers together.
 */
import { promisify } from 'node:util';
import { gunzip as gunzipCallback, gzip as gzipCallback } from 'node:zlib';
import type { CacheOption } from '../snapshot/image-cache.ts';
import { LessonCache, lessonKey } from './lesson-cache.ts';
import { buildLesson, type CallRunner, type LessonDefinition, LESSONS, lessonDefinition } from './lessons.ts';

const gzip = promisify(gzipCallback);
const gunzip = promisify(gunzipCallback);

/** A lesson's answer, ready to send. */
export interface LessonBody {
  gzip: Buffer;
  /** The uncompressed JSON, for a client that does not take gzip (made when first asked for). */
  json(): Promise<Buffer>;
}

/** How the lessons were made (tests and `npm run bench` read it). */
export interface LessonStats {
  /** Lessons recorded by running their calls. */
  recorded: number;
  /** Lessons loaded from the disk cache. */
  loaded: number;
}

export class LessonStore {
  readonly stats: LessonStats = { recorded: 0, loaded: 0 };
  private readonly bodies = new Map<string, Promise<LessonBody>>();
  private readonly cache: LessonCache | undefined;

  constructor(private readonly runCall: CallRunner, cache?: CacheOption) {
    this.cache = cache === false ? undefined : new LessonCache(cache);
  }

  /** The answer for lesson `id` (LessonNotFoundError when there is none). */
  body(id: string): Promise<LessonBody> {
    const definition = lessonDefinition(id);
    let pending = this.bodies.get(id);
    if (!pending) {
      pending = this.make(definition);
      this.bodies.set(id, pending);
      pending.catch(() => this.bodies.delete(id)); // a failed recording is tried again on the next request
    }
    return pending;
  }

  /** Makes every lesson in turn (one recording at a time: the other workers stay free for calls); failures wait
   * for the request that needs the lesson, which reports them. */
  async prepareAll(): Promise<void> {
    for (const { id } of LESSONS) await this.body(id).catch(() => undefined);
  }

  private async make(definition: LessonDefinition): Promise<LessonBody> {
    const key = lessonKey(definition);
    let compressed = this.cache?.load(definition.id, key);
    if (compressed) {
      this.stats.loaded++;
    } else {
      const lesson = await buildLesson(definition, concurrentCalls(definition, this.runCall));
      compressed = await gzip(JSON.stringify(lesson));
      this.stats.recorded++;
      this.cache?.save(definition.id, key, compressed);
    }
    const body = compressed;
    let json: Promise<Buffer> | undefined;
    return { gzip: body, json: () => (json ??= gunzip(body)) };
  }
}

/**
 * A runner for buildLesson whose calls were all sent at once: a lesson's steps then wait in the pool's queue
 * together rather than one after another behind every student's calls, and a call two steps share is recorded once.
 * (buildLesson still takes them in order; a call it asks for that was not foreseen simply runs then.)
 */
function concurrentCalls(definition: LessonDefinition, runCall: CallRunner): CallRunner {
  const started = new Map<string, Promise<unknown>>();
  for (const step of definition.steps) {
    if (!step.call) continue;
    const body = { arch: step.arch, ...step.call };
    const key = JSON.stringify(body);
    if (!started.has(key)) {
      const pending = runCall(body);
      pending.catch(() => undefined); // reported when buildLesson asks for it
      started.set(key, pending);
    }
  }
  return (body) => started.get(JSON.stringify(body)) ?? runCall(body);
}
