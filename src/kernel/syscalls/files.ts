/**
 * Files and descriptors: open/read/write/stat/getdents/lseek/fcntl/dup over the virtual file system (read-only,
 * except the in-memory /tmp), pipes, and stdout/stderr, which the host reads. Reads and writes that must wait
 * (an empty or full blocking pipe) block the thread and are restarted when the pipe changes.
 */
import { ERRNO, ErrnoError } from '../errno.ts';
import { FileTable, type FileOps, MAX_OPEN_FILES, type OpenFile, WOULD_BLOCK } from '../fd-table.ts';
import type { Kernel } from '../kernel.ts';
import { Pipe, pipeReader, pipeWriter, POLLOUT } from '../pipe.ts';
import { encodeDirent64, encodeStat, encodeStatx, encodeWords, statOf } from '../structs.ts';
import { BLOCKED, num, s32, type SyscallTable, u32 } from '../syscall.ts';
import { TmpNode } from '../tmpfs.ts';
import { normalizePath, S_IFIFO, type VfsNode } from '../vfs.ts';

export const AT_FDCWD = -100;
const AT_EMPTY_PATH = 0x1000;
const AT_REMOVEDIR = 0x200;
/** open flags (asm-generic/fcntl.h; the same on i386 and amd64). */
const O_ACCMODE = 3;
const O_WRONLY = 1;
const O_RDWR = 2;
const O_CREAT = 0o100;
const O_EXCL = 0o200;
const O_TRUNC = 0o1000;
const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
const O_DIRECTORY = 0o200000;
export const O_CLOEXEC = 0o2000000;
/** The status flags F_SETFL may change (Linux's SETFL_MASK, minus O_ASYNC/O_DIRECT/O_NOATIME, which do nothing here). */
const SETFL_MASK = O_APPEND | O_NONBLOCK;
const F_DUPFD = 0;
const F_GETFD = 1;
const F_SETFD = 2;
const F_GETFL = 3;
const F_SETFL = 4;
const F_DUPFD_CLOEXEC = 1030;
const FD_CLOEXEC = 1;
const SEEK_SET = 0;
const SEEK_CUR = 1;
const SEEK_END = 2;
const S_IFMT = 0o170000;
/** ioctls (asm-generic/ioctls.h). */
const FIONREAD = 0x541b;
const FIONBIO = 0x5421;
/** renameat2 flags (linux/fs.h). */
const RENAME_NOREPLACE = 1;

export function isPipe(node: VfsNode): boolean {
  return (node.mode & S_IFMT) === S_IFIFO;
}

/** The absolute, normalized path `path` names relative to `dirfd`. */
function absolutePath(k: Kernel, dirfd: number, path: string): string {
  if (path === '') throw new ErrnoError(ERRNO.ENOENT);
  if (!path.startsWith('/') && dirfd !== AT_FDCWD) {
    const dir = k.files.file(dirfd).node;
    if (!dir?.isDirectory) throw new ErrnoError(ERRNO.ENOTDIR);
    path = `${dir.path}/${path}`;
  }
  return normalizePath(path, k.cwd);
}

/** chdir/fchdir: the directory must exist (in the guest's file system). */
function changeDirectory(k: Kernel, node: VfsNode): number {
  if (!node.isDirectory) throw new ErrnoError(ERRNO.ENOTDIR);
  k.cwd = node.path;
  return 0;
}

function getcwd(k: Kernel, address: number, size: number): number {
  const bytes = new TextEncoder().encode(`${k.cwd}\0`);
  if (size < bytes.length) throw new ErrnoError(ERRNO.ERANGE);
  k.writeGuest(address, bytes);
  return bytes.length;
}

export function resolve(k: Kernel, dirfd: number, path: string): VfsNode {
  const node = k.options.vfs.lookup(absolutePath(k, dirfd, path));
  if (!node) throw new ErrnoError(ERRNO.ENOENT);
  return node;
}

function parentExists(k: Kernel, path: string): boolean {
  return k.options.vfs.lookup(path.slice(0, path.lastIndexOf('/')) || '/')?.isDirectory ?? false;
}

/**
 * A change to the read-only part of the file system: Linux reports EEXIST/ENOENT when the path's state already
 * decides the answer, and EROFS (a read-only mount) otherwise.
 */
function readOnly(k: Kernel, path: string, want: 'new' | 'existing'): never {
  const exists = k.options.vfs.lookup(path) !== undefined;
  if (want === 'new' && exists) throw new ErrnoError(ERRNO.EEXIST);
  if (want === 'existing' && !exists) throw new ErrnoError(ERRNO.ENOENT);
  if (want === 'new' && !parentExists(k, path)) throw new ErrnoError(ERRNO.ENOENT);
  throw new ErrnoError(ERRNO.EROFS);
}

const writable = (flags: number) => (flags & O_ACCMODE) === O_WRONLY || (flags & O_ACCMODE) === O_RDWR;

export function open(k: Kernel, dirfd: number, path: string, flags: number, mode = 0o644): number {
  const full = absolutePath(k, dirfd, path);
  let node = k.options.vfs.lookup(full);
  if (node && (flags & O_CREAT) !== 0 && (flags & O_EXCL) !== 0) throw new ErrnoError(ERRNO.EEXIST);
  if (!node && (flags & O_CREAT) === 0) throw new ErrnoError(ERRNO.ENOENT);
  if (k.tmp.contains(full)) {
    node ??= k.tmp.create(full, mode);
    if (node.isDirectory && writable(flags)) throw new ErrnoError(ERRNO.EISDIR);
    if ((flags & O_TRUNC) !== 0 && writable(flags) && node instanceof TmpNode) k.tmp.resize(node, 0);
  } else if (!node || writable(flags)) {
    // The rest of the guest file system is read-only: report it the way Linux does for a read-only mount.
    readOnly(k, full, node ? 'existing' : 'new');
  }
  if ((flags & O_DIRECTORY) !== 0 && !node!.isDirectory) throw new ErrnoError(ERRNO.ENOTDIR);
  return k.files.allocate({ node, offset: 0, flags: flags & ~O_CLOEXEC }, 0, (flags & O_CLOEXEC) !== 0);
}

/** What a call that would wait does: O_NONBLOCK answers EAGAIN; otherwise the thread waits for the file. */
function waitOrAgain(k: Kernel, f: OpenFile, progress = 0): typeof BLOCKED {
  if ((f.flags & O_NONBLOCK) !== 0) throw new ErrnoError(ERRNO.EAGAIN);
  return k.waitFor([f.ops!.channel], undefined, progress);
}

/** Reads up to `count` bytes (at `at` for pread), or waits. */
export function readBytes(k: Kernel, fd: number, count: number, at?: number): Uint8Array | typeof BLOCKED {
  const f = k.files.file(fd);
  if ((f.flags & O_ACCMODE) === O_WRONLY) throw new ErrnoError(ERRNO.EBADF);
  if (f.ops) {
    if (!f.ops.read) throw new ErrnoError(ERRNO.EINVAL);
    if (at !== undefined) throw new ErrnoError(ERRNO.ESPIPE);
    const bytes = f.ops.read(k, f, count);
    return bytes === WOULD_BLOCK ? waitOrAgain(k, f) : bytes;
  }
  if (!f.node) return new Uint8Array(0);
  if (f.node.isDirectory) throw new ErrnoError(ERRNO.EISDIR);
  const data = f.node.contents();
  const start = at ?? f.offset;
  const chunk = data.subarray(Math.min(start, data.length), Math.min(start + count, data.length));
  if (at === undefined) f.offset += chunk.length;
  return chunk;
}

export function read(k: Kernel, fd: number, address: number, count: number, at?: number): number | typeof BLOCKED {
  const bytes = readBytes(k, fd, count, at);
  if (bytes === BLOCKED) return BLOCKED;
  k.writeGuest(address, bytes);
  return bytes.length;
}

/**
 * Bytes to write: an array, or guest memory read a window at a time (a gigabyte `write` or `writev` must not
 * take a gigabyte of host memory, nor read it again on every restart of a blocked pipe write).
 */
export interface ByteSource {
  readonly length: number;
  subarray(from: number, to: number): Uint8Array;
}

/**
 * Writes `bytes` (at `at` for pwrite), or waits. A blocking write into a pipe waits until all of it went in,
 * carrying what already went in over each restart (`resumed.progress`); a non-blocking one writes what fits.
 */
export function write(k: Kernel, fd: number, bytes: ByteSource, at?: number): number | typeof BLOCKED {
  const f = k.files.file(fd);
  if (!writable(f.flags)) throw new ErrnoError(ERRNO.EBADF);
  if (f.ops) {
    if (!f.ops.write) throw new ErrnoError(ERRNO.EINVAL);
    if (at !== undefined) throw new ErrnoError(ERRNO.ESPIPE);
    return writeSpecial(k, f, f.ops, bytes);
  }
  if (!(f.node instanceof TmpNode)) throw new ErrnoError(ERRNO.EBADF);
  const offset = at ?? ((f.flags & O_APPEND) !== 0 ? f.node.size : f.offset);
  const n = k.tmp.write(f.node, offset, bytes.subarray(0, bytes.length));
  if (at === undefined) f.offset = offset + n;
  return n;
}

function writeSpecial(k: Kernel, f: OpenFile, ops: FileOps, bytes: ByteSource): number | typeof BLOCKED {
  let done = k.resumed?.progress ?? 0;
  do {
    let n: number | typeof WOULD_BLOCK;
    try {
      // A stream (a pipe takes 64 KiB at most) gets a window; the rest waits for room.
      n = ops.write!(k, f, bytes.subarray(done, ops.streams ? Math.min(bytes.length, done + WRITE_CHUNK) : bytes.length));
    } catch (error) {
      if (done > 0 && error instanceof ErrnoError) return done; // EPIPE or EFAULT after a partial write: report the part
      throw error;
    }
    if (n === WOULD_BLOCK) return done > 0 && (f.flags & O_NONBLOCK) !== 0 ? done : waitOrAgain(k, f, done);
    done += n;
    if (k.failure) return done;
  } while (ops.streams && done < bytes.length && (f.flags & O_NONBLOCK) === 0);
  return done;
}

/** Bytes a write moves out of guest memory at a time: writing a mapped gigabyte must not take a host gigabyte. */
const WRITE_CHUNK = 1 << 20;
/** Linux's MAX_RW_COUNT: one read or write moves at most this many bytes (INT_MAX rounded down to a page). */
const MAX_RW_COUNT = 0x7ffff000;
/** Linux's UIO_MAXIOV: the most iovecs readv/writev take. */
export const IOV_MAX = 1024;

/** Guest memory pieces (write: one; writev: its iovecs) as one byte sequence, read only where asked. */
class GuestBytes implements ByteSource {
  readonly length: number;

  constructor(
    private readonly k: Kernel,
    private readonly pieces: { base: number; length: number }[],
  ) {
    this.length = Math.min(MAX_RW_COUNT, pieces.reduce((sum, p) => sum + p.length, 0));
  }

  subarray(from: number, to: number): Uint8Array {
    const out = new Uint8Array(Math.max(0, Math.min(to, this.length) - from));
    let offset = 0;
    for (const piece of this.pieces) {
      const start = Math.max(from - offset, 0);
      const end = Math.min(piece.length, from + out.length - offset);
      if (start < end) out.set(this.k.readGuest(piece.base + start, end - start), offset + start - from);
      offset += piece.length;
      if (offset >= from + out.length) break;
    }
    return out;
  }
}

/**
 * write(2)/writev(2) from guest memory. Large writes to files and to stdout/stderr go a chunk at a time (so the
 * output limit stops a runaway one after its first chunks); a fault or error after some chunks reports what was
 * written, as Linux does. A pipe gets one write, which its blocking and restart logic expects (read from guest
 * memory a window at a time).
 */
function writeFromGuest(k: Kernel, fd: number, pieces: { base: number; length: number }[], at?: number): number | typeof BLOCKED {
  const bytes = new GuestBytes(k, pieces);
  const length = bytes.length;
  if (length <= WRITE_CHUNK) return write(k, fd, bytes.subarray(0, length), at);
  if (k.files.file(fd).ops?.streams) return write(k, fd, bytes, at);
  let done = 0;
  while (done < length) {
    const size = Math.min(WRITE_CHUNK, length - done);
    let n: number | typeof BLOCKED;
    try {
      n = write(k, fd, bytes.subarray(done, done + size), at === undefined ? undefined : at + done);
    } catch (error) {
      if (done > 0 && error instanceof ErrnoError) return done;
      throw error;
    }
    if (n === BLOCKED) return done > 0 ? done : BLOCKED;
    done += n;
    if (n < size || k.failure) break;
  }
  return done;
}

/** stdout/stderr: every write goes to the host's sink at once. */
export function outputOps(write: (bytes: Uint8Array) => number): FileOps {
  return { channel: {}, write: (_k, _f, bytes) => write(bytes), poll: () => POLLOUT };
}

/** Reads an iovec array (readv/writev). */
export function iovecs(k: Kernel, address: number, count: number): { base: number; length: number }[] {
  // Linux (rw_copy_check_uvector): more than UIO_MAXIOV vectors, or a length that is negative as ssize_t, is EINVAL.
  if (count > IOV_MAX) throw new ErrnoError(ERRNO.EINVAL);
  const ptr = k.pointerSize;
  const raw = k.readGuest(address, count * ptr * 2);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const vectors = Array.from({ length: count }, (_, i) =>
    ptr === 8
      ? { base: Number(view.getBigUint64(i * 16, true)), length: Number(view.getBigUint64(i * 16 + 8, true)) }
      : { base: view.getUint32(i * 8, true), length: view.getUint32(i * 8 + 4, true) },
  );
  if (vectors.some((v) => v.length >= 2 ** (ptr * 8 - 1))) throw new ErrnoError(ERRNO.EINVAL);
  return vectors;
}

function stat(k: Kernel, node: VfsNode): Uint8Array {
  return encodeStat(k.arch, statOf(node, k.options.clock.realtime()));
}

function statTarget(k: Kernel, dirfd: number, path: string, flags: number): VfsNode {
  if (path === '' && (flags & AT_EMPTY_PATH) !== 0) {
    const node = k.files.file(dirfd).node;
    if (!node) throw new ErrnoError(ERRNO.EBADF);
    return node;
  }
  return resolve(k, dirfd, path);
}

function getdents(k: Kernel, fd: number, address: number, count: number): number {
  const f = k.files.file(fd);
  if (!f.node?.isDirectory) throw new ErrnoError(ERRNO.ENOTDIR);
  const names = ['.', '..', ...f.node.children()];
  const chunks: Uint8Array[] = [];
  let used = 0;
  while (f.offset < names.length) {
    const name = names[f.offset]!;
    const child = name === '.' || name === '..' ? f.node : k.options.vfs.lookup(`${f.node.path}/${name}`)!;
    const record = encodeDirent64(child.inode, f.offset + 1, name, child.isDirectory);
    if (used + record.length > count) break;
    chunks.push(record);
    used += record.length;
    f.offset++;
  }
  if (chunks.length === 0 && f.offset < names.length) throw new ErrnoError(ERRNO.EINVAL);
  const out = new Uint8Array(used);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  k.writeGuest(address, out);
  return used;
}

function lseek(k: Kernel, fd: number, offset: number, whence: number): number {
  const f = k.files.file(fd);
  if (!f.node || f.ops || isPipe(f.node)) throw new ErrnoError(ERRNO.ESPIPE);
  const base = whence === SEEK_SET ? 0 : whence === SEEK_CUR ? f.offset : whence === SEEK_END ? f.node.size : NaN;
  if (Number.isNaN(base) || base + offset < 0) throw new ErrnoError(ERRNO.EINVAL);
  f.offset = base + offset;
  return f.offset;
}

function fcntl(k: Kernel, fd: number, cmd: number, arg: number): number {
  const d = k.files.descriptor(fd);
  switch (cmd) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
      return k.files.allocate(d.file, arg, cmd === F_DUPFD_CLOEXEC);
    case F_GETFD:
      return d.cloexec ? FD_CLOEXEC : 0;
    case F_SETFD:
      d.cloexec = (arg & FD_CLOEXEC) !== 0;
      return 0;
    case F_GETFL:
      return d.file.flags;
    case F_SETFL:
      d.file.flags = (d.file.flags & ~SETFL_MASK) | (arg & SETFL_MASK);
      return 0;
    default:
      throw new ErrnoError(ERRNO.EINVAL);
  }
}

function dup3(files: FileTable, oldfd: number, newfd: number, cloexec = false): number {
  const f: OpenFile = files.file(oldfd);
  if (oldfd === newfd) return newfd;
  if (newfd < 0 || newfd >= MAX_OPEN_FILES) throw new ErrnoError(ERRNO.EBADF);
  if (files.isOpen(newfd)) files.close(newfd);
  return files.allocate(f, newfd, cloexec);
}

function readlink(k: Kernel, path: string, address: number, size: number): number {
  if (normalizePath(path) !== '/proc/self/exe') throw new ErrnoError(k.options.vfs.lookup(path) ? ERRNO.EINVAL : ERRNO.ENOENT);
  const bytes = new TextEncoder().encode(k.options.exePath).subarray(0, size);
  k.writeGuest(address, bytes);
  return bytes.length;
}

/** pipe(2) / pipe2: two descriptions sharing one Pipe. */
function pipe(k: Kernel, address: number, flags: number): number {
  if ((flags & ~(O_CLOEXEC | O_NONBLOCK)) !== 0) throw new ErrnoError(ERRNO.EINVAL);
  const shared = new Pipe();
  const node = k.options.vfs.pipe('pipe:[pipe]');
  const status = flags & O_NONBLOCK;
  const cloexec = (flags & O_CLOEXEC) !== 0;
  const readEnd = k.files.allocate({ node, ops: pipeReader(shared), offset: 0, flags: status }, 0, cloexec);
  let writeEnd: number;
  try {
    writeEnd = k.files.allocate({ node, ops: pipeWriter(shared), offset: 0, flags: O_WRONLY | status }, 0, cloexec);
  } catch (error) {
    k.files.close(readEnd);
    throw error;
  }
  k.writeGuest(address, encodeWords([readEnd, writeEnd], 4));
  return 0;
}

function ioctl(k: Kernel, fd: number, request: number, arg: number): number {
  const f = k.files.file(fd);
  switch (request) {
    case FIONREAD: {
      const available = f.ops ? f.ops.readable?.() : f.node && !f.node.isDirectory ? Math.max(0, f.node.size - f.offset) : undefined;
      if (available === undefined) throw new ErrnoError(ERRNO.ENOTTY);
      k.writeGuest(arg, encodeWords([available], 4));
      return 0;
    }
    case FIONBIO: {
      const on = new DataView(k.readGuest(arg, 4).buffer).getInt32(0, true) !== 0;
      f.flags = on ? f.flags | O_NONBLOCK : f.flags & ~O_NONBLOCK;
      return 0;
    }
    default:
      throw new ErrnoError(ERRNO.ENOTTY); // no terminals: stdio buffers fully, deterministically
  }
}

function mkdir(k: Kernel, dirfd: number, path: string, mode: number): number {
  const full = absolutePath(k, dirfd, path);
  if (!k.tmp.contains(full)) readOnly(k, full, 'new');
  k.tmp.mkdir(full, mode);
  return 0;
}

function unlink(k: Kernel, dirfd: number, path: string, flags: number): number {
  if ((flags & ~AT_REMOVEDIR) !== 0) throw new ErrnoError(ERRNO.EINVAL);
  const full = absolutePath(k, dirfd, path);
  if (!k.tmp.contains(full)) readOnly(k, full, 'existing');
  if ((flags & AT_REMOVEDIR) !== 0) k.tmp.rmdir(full);
  else k.tmp.unlink(full);
  return 0;
}

function rename(k: Kernel, olddirfd: number, oldpath: string, newdirfd: number, newpath: string, flags = 0): number {
  if ((flags & ~RENAME_NOREPLACE) !== 0) throw new ErrnoError(ERRNO.EINVAL);
  const from = absolutePath(k, olddirfd, oldpath);
  const to = absolutePath(k, newdirfd, newpath);
  if (!k.options.vfs.lookup(from)) throw new ErrnoError(ERRNO.ENOENT);
  if (!k.tmp.contains(from)) readOnly(k, from, 'existing');
  if (!k.tmp.contains(to)) throw new ErrnoError(ERRNO.EXDEV); // between mounts
  if ((flags & RENAME_NOREPLACE) !== 0 && k.tmp.lookup(to)) throw new ErrnoError(ERRNO.EEXIST);
  k.tmp.rename(from, to);
  return 0;
}

function ftruncate(k: Kernel, fd: number, length: number): number {
  const f = k.files.file(fd);
  if (length < 0 || !writable(f.flags) || !(f.node instanceof TmpNode) || f.node.isDirectory) throw new ErrnoError(ERRNO.EINVAL);
  k.tmp.resize(f.node, length);
  return 0;
}

/** Reads into each iovec in turn from one read (a pipe is read once, as Linux does). */
function readv(k: Kernel, fd: number, address: number, count: number): number | typeof BLOCKED {
  const vectors = iovecs(k, address, count);
  const bytes = readBytes(k, fd, vectors.reduce((sum, v) => sum + v.length, 0));
  if (bytes === BLOCKED) return BLOCKED;
  let at = 0;
  for (const v of vectors) {
    if (at >= bytes.length) break;
    const part = bytes.subarray(at, at + v.length);
    k.writeGuest(v.base, part);
    at += part.length;
  }
  return bytes.length;
}

/** Writes the iovecs as one write (so a pipe gets them in one piece), read from guest memory as it goes. */
function writev(k: Kernel, fd: number, address: number, count: number): number | typeof BLOCKED {
  return writeFromGuest(k, fd, iovecs(k, address, count));
}

/** A 64-bit file offset argument: one register on amd64, two (low, high) on i386. */
function offset64(k: Kernel, a: bigint[], index: number): number {
  return k.arch === 'amd64' ? Number(BigInt.asIntN(64, a[index]!)) : u32(a[index]!) + s32(a[index + 1]!) * 2 ** 32;
}

const statInto = (k: Kernel, address: bigint, node: VfsNode) => (k.writeGuest(num(address), stat(k, node)), 0);
const path = (k: Kernel, address: bigint) => k.readString(num(address));

export const FILE_SYSCALLS: SyscallTable = {
  read: (k, a) => read(k, s32(a[0]!), num(a[1]!), num(a[2]!)),
  pread64: (k, a) => read(k, s32(a[0]!), num(a[1]!), num(a[2]!), offset64(k, a, 3)),
  write: (k, a) => writeFromGuest(k, s32(a[0]!), [{ base: num(a[1]!), length: num(a[2]!) }]),
  pwrite64: (k, a) => writeFromGuest(k, s32(a[0]!), [{ base: num(a[1]!), length: num(a[2]!) }], offset64(k, a, 3)),
  readv: (k, a) => readv(k, s32(a[0]!), num(a[1]!), num(a[2]!)),
  writev: (k, a) => writev(k, s32(a[0]!), num(a[1]!), num(a[2]!)),
  open: (k, a) => open(k, AT_FDCWD, path(k, a[0]!), s32(a[1]!), u32(a[2]!)),
  creat: (k, a) => open(k, AT_FDCWD, path(k, a[0]!), O_CREAT | O_WRONLY | O_TRUNC, u32(a[1]!)),
  openat: (k, a) => open(k, s32(a[0]!), path(k, a[1]!), s32(a[2]!), u32(a[3]!)),
  close: (k, a) => k.files.close(s32(a[0]!)),
  pipe: (k, a) => pipe(k, num(a[0]!), 0),
  pipe2: (k, a) => pipe(k, num(a[0]!), s32(a[1]!)),
  lseek: (k, a) => lseek(k, s32(a[0]!), k.arch === 'amd64' ? Number(BigInt.asIntN(64, a[1]!)) : s32(a[1]!), s32(a[2]!)),
  _llseek: (k, a) => {
    const position = lseek(k, s32(a[0]!), u32(a[1]!) * 2 ** 32 + u32(a[2]!), s32(a[4]!));
    k.writeGuest(num(a[3]!), encodeWords([BigInt(position)], 8));
    return 0;
  },
  ftruncate: (k, a) => ftruncate(k, s32(a[0]!), k.arch === 'amd64' ? Number(BigInt.asIntN(64, a[1]!)) : s32(a[1]!)),
  ftruncate64: (k, a) => ftruncate(k, s32(a[0]!), offset64(k, a, 1)),
  fsync: (k, a) => (k.files.file(s32(a[0]!)), 0),
  fdatasync: (k, a) => (k.files.file(s32(a[0]!)), 0),
  mkdir: (k, a) => mkdir(k, AT_FDCWD, path(k, a[0]!), u32(a[1]!)),
  mkdirat: (k, a) => mkdir(k, s32(a[0]!), path(k, a[1]!), u32(a[2]!)),
  unlink: (k, a) => unlink(k, AT_FDCWD, path(k, a[0]!), 0),
  unlinkat: (k, a) => unlink(k, s32(a[0]!), path(k, a[1]!), s32(a[2]!)),
  rmdir: (k, a) => unlink(k, AT_FDCWD, path(k, a[0]!), AT_REMOVEDIR),
  rename: (k, a) => rename(k, AT_FDCWD, path(k, a[0]!), AT_FDCWD, path(k, a[1]!)),
  renameat: (k, a) => rename(k, s32(a[0]!), path(k, a[1]!), s32(a[2]!), path(k, a[3]!)),
  renameat2: (k, a) => rename(k, s32(a[0]!), path(k, a[1]!), s32(a[2]!), path(k, a[3]!), u32(a[4]!)),
  fstat: (k, a) => statInto(k, a[1]!, statTarget(k, s32(a[0]!), '', AT_EMPTY_PATH)),
  fstat64: (k, a) => statInto(k, a[1]!, statTarget(k, s32(a[0]!), '', AT_EMPTY_PATH)),
  stat: (k, a) => statInto(k, a[1]!, resolve(k, AT_FDCWD, path(k, a[0]!))),
  lstat: (k, a) => statInto(k, a[1]!, resolve(k, AT_FDCWD, path(k, a[0]!))),
  stat64: (k, a) => statInto(k, a[1]!, resolve(k, AT_FDCWD, path(k, a[0]!))),
  lstat64: (k, a) => statInto(k, a[1]!, resolve(k, AT_FDCWD, path(k, a[0]!))),
  newfstatat: (k, a) => statInto(k, a[2]!, statTarget(k, s32(a[0]!), path(k, a[1]!), s32(a[3]!))),
  fstatat64: (k, a) => statInto(k, a[2]!, statTarget(k, s32(a[0]!), path(k, a[1]!), s32(a[3]!))),
  statx: (k, a) => {
    const node = statTarget(k, s32(a[0]!), path(k, a[1]!), s32(a[2]!));
    k.writeGuest(num(a[4]!), encodeStatx(statOf(node, k.options.clock.realtime())));
    return 0;
  },
  access: (k, a) => (resolve(k, AT_FDCWD, path(k, a[0]!)), 0),
  faccessat: (k, a) => (resolve(k, s32(a[0]!), path(k, a[1]!)), 0),
  faccessat2: (k, a) => (resolve(k, s32(a[0]!), path(k, a[1]!)), 0),
  readlink: (k, a) => readlink(k, path(k, a[0]!), num(a[1]!), num(a[2]!)),
  readlinkat: (k, a) => readlink(k, path(k, a[1]!), num(a[2]!), num(a[3]!)),
  getcwd: (k, a) => getcwd(k, num(a[0]!), num(a[1]!)),
  chdir: (k, a) => changeDirectory(k, resolve(k, AT_FDCWD, path(k, a[0]!))),
  fchdir: (k, a) => {
    const node = k.files.file(s32(a[0]!)).node;
    if (!node) throw new ErrnoError(ERRNO.ENOTDIR);
    return changeDirectory(k, node);
  },
  getdents64: (k, a) => getdents(k, s32(a[0]!), num(a[1]!), num(a[2]!)),
  ioctl: (k, a) => ioctl(k, s32(a[0]!), u32(a[1]!), num(a[2]!)),
  fcntl: (k, a) => fcntl(k, s32(a[0]!), s32(a[1]!), s32(a[2]!)),
  fcntl64: (k, a) => fcntl(k, s32(a[0]!), s32(a[1]!), s32(a[2]!)),
  dup: (k, a) => k.files.allocate(k.files.file(s32(a[0]!))),
  dup2: (k, a) => dup3(k.files, s32(a[0]!), s32(a[1]!)),
  dup3: (k, a) => dup3(k.files, s32(a[0]!), s32(a[1]!), (s32(a[2]!) & O_CLOEXEC) !== 0),
};
