/**
 * Files beyond the read-only image, both architectures, through real glibc: pipes between guest threads (blocking
 * both ways, EOF, EAGAIN, EPIPE), epoll and eventfd (a waiter woken by another thread, edge- and level-triggered,
 * timeouts on the virtual clock), poll, the writable in-memory /tmp, and streamed, bounded stdout.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { out, vararg } from '../src/callspec/values.ts';
import { ARCHES } from '../src/emu/arch.ts';
import { ERRNO } from '../src/kernel/errno.ts';
import { OutputLimitError, type OutputSink } from '../src/kernel/output.ts';
import { Machine } from '../src/machine.ts';

const SOURCE = join(import.meta.dirname, 'io-guest.c');
const hasGcc = spawnSync('gcc', ['--version']).status === 0;
const MiB = 1024 * 1024;
const EPOLLIN = 1;
const POLLIN = 1;

let dir = '';
const lib = (arch: string) => join(dir, `libio-${arch}.so`);
beforeAll(() => {
  if (!hasGcc) return;
  dir = mkdtempSync(join(tmpdir(), 'shim-io-'));
  for (const [arch, flag] of [['amd64', '-m64'], ['i386', '-m32']]) {
    execFileSync('gcc', [flag!, '-O1', '-shared', '-fPIC', '-o', lib(arch!), SOURCE, '-lpthread']);
  }
});
afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

const ints = (bytes: Uint8Array, size: 4 | 8) => {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: bytes.length / size }, (_, i) => (size === 4 ? view.getInt32(i * 4, true) : Number(view.getBigInt64(i * 8, true))));
};

describe.skipIf(!hasGcc).each(ARCHES)('pipes, epoll and /tmp on %s', (arch) => {
  let m: Machine;
  const long = arch === 'amd64' ? 8 : 4;
  beforeAll(async () => {
    m = await Machine.boot({ arch, libs: [lib(arch)] });
  });
  afterAll(() => m?.close());

  it('moves 1 MiB between two threads through a 64 KiB pipe, exactly, then sees EOF', () => {
    const r = m.fn(undefined, 'long pipe_transfer(void)')();
    expect(r.value).toBe(MiB);
    // Both ends waited: the writer on a full pipe, the reader on an empty one.
    expect(m.process.threads.threads.length).toBeGreaterThanOrEqual(2);
  });

  it('pipe semantics: EAGAIN, F_GETFL, FIONREAD, EOF, S_IFIFO, EPIPE, dup\'ed ends, F_SETFL', () => {
    const r = m.fn(undefined, 'void pipe_semantics(int *r)')(out(12 * 4));
    expect(ints(r.out[0]!, 4)).toEqual([ERRNO.EAGAIN, 1, 5, 5, 5, 0, 1, ERRNO.EPIPE, 1, 1, 0, ERRNO.EAGAIN]);
  });

  it('a write to a pipe nobody reads raises SIGPIPE on the writer: a handler runs once and write fails with EPIPE', () => {
    const r = m.fn(undefined, 'int sigpipe_handled(int *err)')(out(4));
    expect(r.value).toBe(1);
    expect(ints(r.out[0]!, 4)).toEqual([ERRNO.EPIPE]);
  });

  it('without a handler, SIGPIPE ends the process (status 141, signal 13), as on Linux', async () => {
    const fresh = await Machine.boot({ arch, libs: [lib(arch)] });
    try {
      expect(() => fresh.fn(undefined, 'int sigpipe_default(void)')()).toThrow(expect.objectContaining({ status: 141, signal: 13 }));
    } finally {
      fresh.close();
    }
  });

  it('a read interrupted by a signal runs again after a SA_RESTART handler and fails with EINTR after another, as natively', () => {
    // Native x86 (the same C, both architectures): "3 0 1" with SA_RESTART, "-1 4 1" without.
    const restarted = m.fn(undefined, 'void restart_read(int sa_restart, int *r)')(1, out(12));
    expect(ints(restarted.out[1]!, 4)).toEqual([3, 0, 1]);
    const interrupted = m.fn(undefined, 'void restart_read(int sa_restart, int *r)')(0, out(12));
    expect(ints(interrupted.out[1]!, 4)).toEqual([-1, ERRNO.EINTR, 1]);
  });

  it('epoll: a waiter woken by another thread, level and edge triggered, timeouts; eventfd counters; poll', () => {
    const raw = m.fn(undefined, 'void epoll_semantics(long long *r)')(out(23 * 8)).out[0]!;
    const r = ints(raw, 8);
    expect(r[0]).toBe(ERRNO.EEXIST);
    expect(r.slice(1, 3)).toEqual([1, EPOLLIN]);
    expect(new DataView(raw.buffer, raw.byteOffset).getBigUint64(3 * 8, true)).toBe(0x1122334455667788n);
    expect(r.slice(4, 9)).toEqual([1, 1, 0, 1, 0]);
    expect(r[9]).toBeGreaterThanOrEqual(50_000_000); // the timeout passed on the virtual clock
    expect(r[10]).toBe(ERRNO.ENOENT);
    expect(r.slice(11, 16)).toEqual([7, ERRNO.EAGAIN, 1, 1, ERRNO.EAGAIN]);
    expect(r.slice(16, 20)).toEqual([0, 1, 7, ERRNO.EPERM]);
    expect(r.slice(20, 23)).toEqual([0, 1, POLLIN]);
  });

  it('/tmp is writable: create, write, read back, lseek past the end, ftruncate, rename, getdents, unlink, rmdir', () => {
    const r = m.fn(undefined, 'void tmp_semantics(long *r, char *names)')(out(20 * long), out(256));
    expect(ints(r.out[0]!, long)).toEqual([
      0, 11, ERRNO.EEXIST, 101, 1, 5, 0, ERRNO.ENOENT, 1, 2, ERRNO.ENOTEMPTY, 0, 0, 0,
      ERRNO.EROFS, ERRNO.EROFS, ERRNO.EROFS, ERRNO.EEXIST, ERRNO.ENOENT, 0,
    ]);
    expect(new TextDecoder().decode(r.out[1]!).replace(/\0+$/, '')).toBe('.,..,b.txt,c.txt,');
  });
});

describe.skipIf(!hasGcc).each(ARCHES)('streamed, bounded output on %s', (arch) => {
  it('64 MiB written to stdout stream through the sink; host memory stays bounded', async () => {
    let received = 0;
    const sink: OutputSink = { write: (bytes) => void (received += bytes.length) };
    const m = await Machine.boot({ arch, libs: [lib(arch)], stdout: sink, outputLimit: 128 * MiB });
    try {
      const spew = m.fn(undefined, 'long spew(long total, long chunk)');
      spew(MiB, MiB); // warm up (the guest buffer, the engine's read path)
      const before = process.memoryUsage().rss;
      expect(spew(64 * MiB, MiB).value).toBe(64 * MiB);
      expect(process.memoryUsage().rss - before).toBeLessThan(100 * MiB);
      expect(received).toBe(65 * MiB);
      expect(m.stdout).toBe(''); // the host took it
    } finally {
      m.close();
    }
  });

  it('beyond outputLimit the call ends with OutputLimitError', async () => {
    const m = await Machine.boot({ arch, libs: [lib(arch)], outputLimit: 10_000 });
    try {
      expect(() => m.fn(undefined, 'long spew(long total, long chunk)')(100_000, 1000)).toThrow(OutputLimitError);
      expect(m.stdout.length).toBe(10_000); // everything up to the limit arrived
    } finally {
      m.close();
    }
  });

  it('the default sink keeps what a normal call printed for Machine.stdout and takeOutput', async () => {
    const m = await Machine.boot({ arch });
    try {
      m.fn('libc.so.6', 'int printf(const char *fmt, ...)')('hello %s\n', vararg.str('out'));
      expect(m.takeOutput().stdout).toBe('hello out\n');
      expect(m.stdout).toBe('hello out\n');
    } finally {
      m.close();
    }
  });
});
