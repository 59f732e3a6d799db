/**
 * The uploaded shared objects this thread knows (uploads.ts takes them in over POST /api/upload; a worker adopts
 * the one a call needs), and a request's `upload` and `arch` fields checked against them.
 */
import type { Arch } from '../emu/arch.ts';
import { archOf, PlaygroundError, stringOf } from './request.ts';

/** Uploads kept at once; the oldest (and its machine) goes first. */
export const MAX_UPLOADS = 16;

export interface Upload {
  id: string;
  name: string;
  arch: Arch;
  soname?: string;
  exports: string[];
  /** The temp folder holding the bytes, and the file in it Machine.boot loads. */
  dir: string;
  path: string;
}

/** The uploads this thread knows, by id, least recently uploaded first. */
export const uploads = new Map<string, Upload>();

export function uploadOf(value: unknown): Upload | undefined {
  const id = stringOf(value, 'upload');
  if (id === undefined || id === '') return undefined;
  const upload = uploads.get(id);
  if (!upload) throw new PlaygroundError(`no uploaded object with id "${id}" (the server keeps the latest ${MAX_UPLOADS} uploads, until it restarts): upload it again`);
  return upload;
}

export function uploadArch(upload: Upload, requested: unknown): Arch {
  if (requested === undefined || requested === null) return upload.arch;
  const arch = archOf(requested);
  if (arch !== upload.arch) throw new PlaygroundError(`${upload.name} is an ${upload.arch} object: it cannot run on ${arch}`);
  return arch;
}

/** The upload `id`, as a worker needs it to run calls in it (undefined when unknown: the worker then says so). */
export function uploadEntry(id: unknown): Upload | undefined {
  return typeof id === 'string' ? uploads.get(id) : undefined;
}

/** Makes an upload known to this thread's machines (a worker receives it with the call that needs it). */
export function adoptUpload(entry: Upload): void {
  if (!uploads.has(entry.id)) uploads.set(entry.id, entry);
}
