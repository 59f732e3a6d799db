/**
 * The process's file descriptors: open file descriptions (shared by every descriptor dup()ed from one open()) and
 * the per-descriptor close-on-exec flag. stdin is an empty pipe; stdout and stderr are pipes the host reads.
 */
import { ERRNO, ErrnoError } from './errno.ts';
import type { VfsNode } from './vfs.ts';

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const MAX_OPEN_FILES = 1024;

/** An open file description. */
export interface OpenFile {
  node?: VfsNode;
  /** stdout/stderr: where writes go. */
  sink?: number[];
  offset: number;
  flags: number;
}

/** A file descriptor: an open file description plus its own close-on-exec flag. */
export interface Descriptor {
  file: OpenFile;
  cloexec: boolean;
}

export class FileTable {
  private readonly descriptors = new Map<number, Descriptor>();

  file(fd: number): OpenFile {
    return this.descriptor(fd).file;
  }

  descriptor(fd: number): Descriptor {
    const d = this.descriptors.get(fd);
    if (!d) throw new ErrnoError(ERRNO.EBADF);
    return d;
  }

  /** Installs `file` at the lowest free descriptor ≥ `lowest` (dup'ed descriptors share the description). */
  allocate(file: OpenFile, lowest = 0, cloexec = false): number {
    for (let fd = lowest; fd < MAX_OPEN_FILES; fd++) {
      if (!this.descriptors.has(fd)) {
        this.descriptors.set(fd, { file, cloexec });
        return fd;
      }
    }
    throw new ErrnoError(ERRNO.EMFILE);
  }

  /** Installs `file` exactly at `fd` (dup2, the standard streams). */
  install(fd: number, file: OpenFile, cloexec = false): void {
    this.descriptors.set(fd, { file, cloexec });
  }

  close(fd: number): number {
    if (!this.descriptors.delete(fd)) throw new ErrnoError(ERRNO.EBADF);
    return 0;
  }

  isOpen(fd: number): boolean {
    return this.descriptors.has(fd);
  }
}
