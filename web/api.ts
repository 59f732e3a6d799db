/**
 * The playground's data source: the HTTP API of `shimulator playground` (src/playground/server.ts), or, in an
 * exported lesson site, the lessons embedded in the page (`window.SHIMULATOR_STATIC`) — then no request is made.
 */
import type { CallSpec } from '../src/callspec/types.ts';
import type { Violation } from '../src/check/rules.ts';
import type { TlsReport } from '../src/check/tls-watch.ts';

export type Arch = 'amd64' | 'i386';

export interface CatalogParam {
  name?: string;
  type: string;
  kind: string;
}

export interface CatalogEntry {
  name: string;
  library: string;
  header?: string;
  prototype: string;
  variadic: boolean;
  params: CatalogParam[];
}

export interface PlanResponse {
  spec: CallSpec;
  table?: unknown;
  explanations?: Record<string, string>;
}

export interface CallResultJson {
  function?: string;
  arch?: Arch;
  return?: number | string | null | Record<string, unknown>;
  errno?: number;
  out?: Record<string, string>;
  string?: string;
  instructions?: number;
  abi?: { ok: boolean; violations: Violation[] };
  /** printf-family calls: where the format and the typed variadic arguments disagree (checked on every call). */
  formatWarnings?: Violation[];
  tls?: TlsReport;
  stdout?: string;
  stderr?: string;
  error?: string;
}

export interface CallResponse {
  result: CallResultJson;
  spec: CallSpec;
  /** base64 of the encoded trace. */
  trace: string;
  symbols?: unknown;
  explanations?: Record<string, string>;
  /** Set when the recording was cut at the server's trace limit: why the trace ends before the call returned. */
  truncated?: string;
  /** Set when the guest faulted: the error; the trace ends at the faulting instruction. */
  fault?: string;
}

export interface CallRequest {
  arch: Arch;
  library?: string;
  /** The id of an uploaded shared object (POST /api/upload) to run the call in. */
  upload?: string;
  prototype: string;
  args: string[];
  check?: boolean;
  tls?: boolean;
}

/** A user's shared object, as POST /api/upload describes it. */
export interface UploadInfo {
  id: string;
  name: string;
  arch: Arch;
  soname: string | null;
  /** Defined functions, sorted (at most 500). */
  exports: string[];
}

export interface LessonSummary {
  id: string;
  title: string;
  summary: string;
}

export interface LessonStep {
  title: string;
  text: string;
  arch: Arch;
  call?: { prototype: string; args: string[]; library?: string };
  plan?: PlanResponse | { prototype: string; args?: string[] };
  focus?: unknown;
  /** A recorded call: the same shape as a /api/call response. */
  recording?: CallResponse;
}

export interface Lesson extends LessonSummary {
  steps: LessonStep[];
}

export interface StaticData {
  lessons: Lesson[];
}

/** An error the API reported (its message is meant for people). */
export class ApiError extends Error {
  override name = 'ApiError';
  /** For a call whose guest faulted: the recording up to the fault (`fault` set). */
  constructor(message: string, readonly partial?: CallResponse) {
    super(message);
  }
}

declare global {
  interface Window {
    SHIMULATOR_STATIC?: StaticData;
  }
}

export function staticData(): StaticData | undefined {
  return typeof window !== 'undefined' ? window.SHIMULATOR_STATIC : undefined;
}

export function isStatic(): boolean {
  return staticData() !== undefined;
}

/** The server's per-run token, which it writes into the page it serves; API POSTs without it are refused. */
function serverToken(): string {
  return document.querySelector<HTMLMetaElement>('meta[name="shimulator-token"]')?.content ?? '';
}

async function request<T>(path: string, body?: unknown): Promise<T> {
  if (isStatic()) throw new ApiError('this is an exported lesson site: running new calls needs `shimulator playground`');
  let response: Response;
  try {
    response = await fetch(path, body === undefined
      ? { headers: { accept: 'application/json' } }
      : {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', 'x-shimulator-token': serverToken() },
        body: JSON.stringify(body),
      });
  } catch (error) {
    throw new ApiError(`cannot reach the playground server (${error instanceof Error ? error.message : String(error)})`);
  }
  const text = await response.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    throw new ApiError(`${path}: the server answered ${response.status} with something that is not JSON: ${text.slice(0, 200)}`);
  }
  if (!response.ok || (data && typeof data === 'object' && 'error' in data && !('result' in data))) {
    const message = data && typeof data === 'object' && 'error' in data ? (data as { error: unknown }).error : `HTTP ${response.status}`;
    const partial = data && typeof data === 'object' && 'partial' in data ? (data as { partial: CallResponse }).partial : undefined;
    throw new ApiError(typeof message === 'string' ? message : JSON.stringify(message), partial);
  }
  return data as T;
}

export const api = {
  catalog(q: string, limit = 200): Promise<{ entries: CatalogEntry[] }> {
    return request(`/api/catalog?q=${encodeURIComponent(q)}&limit=${limit}`);
  },
  plan(body: { arch: Arch; prototype: string; args?: string[]; decls?: string; upload?: string }): Promise<PlanResponse> {
    return request('/api/plan', body);
  },
  call(body: CallRequest): Promise<CallResponse> {
    return request('/api/call', body);
  },
  upload(body: { name: string; data: string; arch?: Arch }): Promise<UploadInfo> {
    return request('/api/upload', body);
  },
  async lessons(): Promise<{ lessons: LessonSummary[] }> {
    const s = staticData();
    if (s) return { lessons: s.lessons.map(({ id, title, summary }) => ({ id, title, summary })) };
    return request('/api/lessons');
  },
  async lesson(id: string): Promise<Lesson> {
    const s = staticData();
    if (s) {
      const lesson = s.lessons.find((l) => l.id === id);
      if (!lesson) throw new ApiError(`no lesson "${id}" in this site`);
      return lesson;
    }
    return request(`/api/lessons/${encodeURIComponent(id)}`);
  },
};

export function base64ToBytes(b64: string): Uint8Array {
  const binary = atob(b64);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
