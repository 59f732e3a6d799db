/**
 * The process's file descriptors: open file descriptions (shared by every descriptor dup()ed from one open(),
 * reference-counted so the last close releases a pipe end) and the per-descriptor close-on-exec flag. stdin is an
 * empty pipe at end of file; stdout and stderr are pipes the host reads.
 */
import { ERRNO, ErrnoError } from './errno.ts';
import type { Kernel } from './kernel.ts';
import type { VfsNode } from './vfs.ts';

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const MAX_OPEN_FILES = 1024;

/** Returned by FileOps.read/write when the call would have to wait (EAGAIN for O_NONBLOCK, else the thread waits). */
export const WOULD_BLOCK: unique symbol = Symbol('would block');

/**
 * What a special open file (pipe end, eventfd, epoll instance, stdout) does instead of reading and writing a node's
 * bytes. Readiness uses the poll bits of asm-generic/poll.h (the same values as EPOLLIN…).
 */
export interface FileOps {
  /** What a thread waiting on this file waits on: `kernel.notify(channel)` wakes it. */
  readonly channel: object;
  read?(k: Kernel, file: OpenFile, count: number): Uint8Array | typeof WOULD_BLOCK;
  write?(k: Kernel, file: OpenFile, bytes: Uint8Array): number | typeof WOULD_BLOCK;
  /** A blocking write waits until all of it was taken (pipes); otherwise one write() is one record (eventfd). */
  readonly streams?: boolean;
  /** The POLLIN/POLLOUT/POLLHUP/POLLERR bits that hold now. */
  poll(file: OpenFile): number;
  /** ioctl(FIONREAD): bytes readable now. */
  readable?(): number;
  /** The last descriptor referring to the description was closed. */
  release?(k: Kernel): void;
}

/** An open file description. */
export interface OpenFile {
  node?: VfsNode;
  ops?: FileOps;
  offset: number;
  /** Access mode and status flags (O_NONBLOCK, O_APPEND: fcntl F_SETFL changes them). */
  flags: number;
  /** Descriptors referring to this description. */
  refs?: number;
}

/** A file descriptor: an open file description plus its own close-on-exec flag. */
export interface Descriptor {
  file: OpenFile;
  cloexec: boolean;
}

export class FileTable {
  private readonly descriptors = new Map<number, Descriptor>();
  /** Called when a description loses its last descriptor (the Kernel releases pipe ends there). */
  onRelease: ((file: OpenFile) => void) | undefined;

  /** Every descriptor in order (snapshots). */
  entries(): [number, Descriptor][] {
    return [...this.descriptors].sort((a, b) => a[0] - b[0]);
  }

  /** Replaces every descriptor (descriptions carry their own `refs`). */
  restoreEntries(entries: readonly [number, Descriptor][]): void {
    this.descriptors.clear();
    for (const [fd, d] of entries) this.descriptors.set(fd, d);
  }

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
        this.set(fd, file, cloexec);
        return fd;
      }
    }
    throw new ErrnoError(ERRNO.EMFILE);
  }

  /** Installs `file` exactly at `fd` (dup2, the standard streams), closing what was there. */
  install(fd: number, file: OpenFile, cloexec = false): void {
    if (this.descriptors.has(fd)) this.close(fd);
    this.set(fd, file, cloexec);
  }

  close(fd: number): number {
    const d = this.descriptors.get(fd);
    if (!d) throw new ErrnoError(ERRNO.EBADF);
    this.descriptors.delete(fd);
    d.file.refs = (d.file.refs ?? 1) - 1;
    if (d.file.refs === 0) this.onRelease?.(d.file);
    return 0;
  }

  isOpen(fd: number): boolean {
    return this.descriptors.has(fd);
  }

  private set(fd: number, file: OpenFile, cloexec: boolean): void {
    file.refs = (file.refs ?? 0) + 1;
    this.descriptors.set(fd, { file, cloexec });
  }
}
