/**
 * Pipes (pipe(2), pipe2): a bounded byte buffer between a read end and a write end, with Linux's semantics —
 * reads wait while the pipe is empty and a writer exists, and see end of file once every write end is closed;
 * writes wait while it is full and, once every read end is closed, raise SIGPIPE on the writer and fail with EPIPE.
 */
import { ERRNO, ErrnoError } from './errno.ts';
import { type FileOps, type OpenFile, WOULD_BLOCK } from './fd-table.ts';
import type { Kernel } from './kernel.ts';
import { SI_USER, SIGPIPE } from './signals/numbers.ts';

/** Linux's default pipe capacity: 16 pages (PIPE_DEF_BUFFERS in linux/pipe_fs_i.h). */
export const PIPE_CAPACITY = 64 * 1024;
/** Writes up to PIPE_BUF bytes are atomic (linux/limits.h). */
export const PIPE_BUF = 4096;
/** Poll bits (asm-generic/poll.h); epoll's EPOLLIN… have the same values. */
export const POLLIN = 0x1;
export const POLLOUT = 0x4;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLRDHUP = 0x2000;

/** The shared state of one pipe: its buffered bytes and how many descriptions hold each end. */
export class Pipe {
  private chunks: Uint8Array[] = [];
  /** Bytes buffered. */
  size = 0;
  readers = 1;
  writers = 1;

  constructor(readonly capacity = PIPE_CAPACITY) {}

  get room(): number {
    return this.capacity - this.size;
  }

  /** Appends a copy of `bytes` (the caller made sure they fit). */
  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes.slice());
    this.size += bytes.length;
  }

  /** Takes up to `count` bytes from the front. */
  take(count: number): Uint8Array {
    const out = new Uint8Array(Math.min(count, this.size));
    let at = 0;
    while (at < out.length) {
      const chunk = this.chunks[0]!;
      const n = Math.min(chunk.length, out.length - at);
      out.set(chunk.subarray(0, n), at);
      at += n;
      if (n === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(n);
    }
    this.size -= out.length;
    return out;
  }
}

/** The read end's operations. */
export function pipeReader(pipe: Pipe): FileOps {
  return {
    channel: pipe,
    read(k: Kernel, _file: OpenFile, count: number) {
      if (pipe.size === 0) return pipe.writers === 0 || count === 0 ? new Uint8Array(0) : WOULD_BLOCK;
      const bytes = pipe.take(count);
      k.notify(pipe); // room for a waiting writer
      return bytes;
    },
    poll: () => (pipe.size > 0 ? POLLIN : 0) | (pipe.writers === 0 ? POLLHUP | POLLRDHUP : 0),
    readable: () => pipe.size,
    release(k: Kernel) {
      pipe.readers--;
      k.notify(pipe);
    },
  };
}

/** The write end's operations. */
export function pipeWriter(pipe: Pipe): FileOps {
  return {
    channel: pipe,
    streams: true,
    write(k: Kernel, _file: OpenFile, bytes: Uint8Array) {
      if (pipe.readers === 0) {
        // Linux's pipe_write: send_sig(SIGPIPE, current, 0) — to the writing thread, SI_USER from this process (by
        // default it ends the process) — and EPIPE for a writer that ignores, blocks or handles it.
        k.signals.send(k.threads.current, { signo: SIGPIPE, code: SI_USER, pid: k.options.pid, uid: 0 });
        throw new ErrnoError(ERRNO.EPIPE);
      }
      // Small writes are atomic: all of them fits, or the writer waits.
      const fits = bytes.length <= PIPE_BUF ? (pipe.room >= bytes.length ? bytes.length : 0) : pipe.room;
      if (fits === 0 && bytes.length > 0) return WOULD_BLOCK;
      pipe.push(bytes.subarray(0, fits));
      k.notify(pipe);
      return fits;
    },
    poll: () => (pipe.room >= PIPE_BUF || pipe.room === pipe.capacity ? POLLOUT : 0) | (pipe.readers === 0 ? POLLERR : 0),
    release(k: Kernel) {
      pipe.writers--;
      k.notify(pipe);
    },
  };
}
