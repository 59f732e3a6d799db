/**
 * POST /api/upload: a user's shared object, kept in memory (upload-store.ts) and in a temp file, as Machine.boot
 * takes host paths; and dropping one with its machines.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ElfError, parseElf } from '../loader/elf.ts';
import { retireMachines } from './machines.ts';
import { archOf, type Json, object, PlaygroundError, stringOf } from './request.ts';
import { MAX_UPLOADS, type Upload, uploads } from './upload-store.ts';

/** Largest accepted object (decoded). */
export const MAX_UPLOAD_BYTES = 8 << 20;
const MAX_EXPORTS = 500;

let uploadRoot: string | undefined;

function uploadJson(u: Upload): Json {
  return { id: u.id, name: u.name, arch: u.arch, soname: u.soname ?? null, exports: u.exports };
}

export function upload(body: unknown): Json {
  const o = object(body, 'upload request');
  const rawName = stringOf(o.name, 'name', true);
  const name = rawName.split(/[\\/]/).pop()!.replace(/[^A-Za-z0-9._+-]/g, '_').slice(0, 100);
  if (name === '' || name === '.' || name === '..') throw new PlaygroundError(`"name" must be a file name like libfoo.so, got ${JSON.stringify(rawName)}`);
  const requested = o.arch === undefined || o.arch === null ? undefined : archOf(o.arch);
  const data = stringOf(o.data, 'data', true);
  if (!/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(data)) throw new PlaygroundError('"data" must be the file\'s bytes in base64');
  const bytes = new Uint8Array(Buffer.from(data, 'base64'));
  if (bytes.length === 0) throw new PlaygroundError(`${name} is empty`);
  if (bytes.length > MAX_UPLOAD_BYTES) throw new PlaygroundError(`${name} is ${bytes.length} bytes: the playground takes shared objects of at most ${MAX_UPLOAD_BYTES} bytes`);
  let elf;
  try {
    elf = parseElf(bytes, name);
  } catch (error) {
    if (error instanceof ElfError) throw new PlaygroundError(`${name} is not a usable ELF shared object: ${error.detail}`);
    throw error;
  }
  if (elf.type !== 'DYN') {
    throw new PlaygroundError(`${name} is an ${elf.arch} ELF ${elf.type === 'EXEC' ? 'executable' : elf.type} (type ${elf.type}), not a shared object: build it with gcc -shared -fPIC`);
  }
  if (elf.interp && !elf.soname) {
    throw new PlaygroundError(`${name} is an ${elf.arch} position-independent executable (it has an interpreter, ${elf.interp}, and no soname), not a shared object: build it with gcc -shared -fPIC`);
  }
  if (requested && requested !== elf.arch) {
    throw new PlaygroundError(`${name} is an ${elf.arch} object, not ${requested}: build it with gcc ${requested === 'i386' ? '-m32' : '-m64'} or pick ${elf.arch}`);
  }
  const names = new Set<string>();
  for (const sym of elf.dynsym) {
    if (sym.defined && (sym.type === 'FUNC' || sym.type === 'GNU_IFUNC') && sym.bind !== 'LOCAL' && sym.visibility !== 'HIDDEN' && sym.visibility !== 'INTERNAL' && sym.name) {
      names.add(sym.name);
    }
  }
  const id = createHash('sha256').update(bytes).update(name).digest('hex').slice(0, 16);
  const known = uploads.get(id);
  if (known) {
    uploads.delete(id);
    uploads.set(id, known);
    return uploadJson(known);
  }
  uploadRoot ??= mkdtempSync(join(tmpdir(), 'shimulator-uploads-'));
  const dir = join(uploadRoot, id);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, bytes);
  const entry: Upload = { id, name, arch: elf.arch, soname: elf.soname, exports: [...names].sort().slice(0, MAX_EXPORTS), dir, path };
  uploads.set(id, entry);
  while (uploads.size > MAX_UPLOADS) forgetUpload(uploads.keys().next().value!);
  return uploadJson(entry);
}

/** Who wants to know when an upload is dropped (the worker pool, whose workers hold machines for it). */
const forgetListeners: Array<(id: string) => void> = [];

export function onUploadForgotten(listener: (id: string) => void): void {
  forgetListeners.push(listener);
}

/** Drops an upload's machines; its files go too unless another thread owns them (`keepFiles`). */
export function forgetUpload(id: string, keepFiles = false): void {
  const upload = uploads.get(id);
  uploads.delete(id);
  if (!upload) return;
  for (const listener of forgetListeners) listener(id);
  retireMachines(`upload:${id}`);
  if (!keepFiles) rmSync(upload.dir, { recursive: true, force: true });
}
