/**
 * Files and descriptors: open/read/write/stat/getdents/lseek/fcntl/dup over the read-only virtual file system,
 * and stdout/stderr, which the host reads.
 */
import { ERRNO, ErrnoError } from '../errno.ts';
import { FileTable, MAX_OPEN_FILES, type OpenFile } from '../fd-table.ts';
import type { Kernel } from '../kernel.ts';
import { encodeDirent64, encodeStat, encodeStatx, encodeWords, statOf } from '../structs.ts';
import { num, s32, type SyscallTable, u32 } from '../syscall.ts';
import { normalizePath, S_IFIFO, type VfsNode } from '../vfs.ts';

export const AT_FDCWD = -100;
const AT_EMPTY_PATH = 0x1000;
const O_ACCMODE = 3;
const O_WRONLY = 1;
const O_RDWR = 2;
const O_CREAT = 0o100;
const O_DIRECTORY = 0o200000;
export const O_CLOEXEC = 0o2000000;
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

export function isPipe(node: VfsNode): boolean {
  return (node.mode & S_IFMT) === S_IFIFO;
}

export function resolve(k: Kernel, dirfd: number, path: string): VfsNode {
  if (!path.startsWith('/') && dirfd !== AT_FDCWD) {
    const dir = k.files.file(dirfd).node;
    if (!dir?.isDirectory) throw new ErrnoError(ERRNO.ENOTDIR);
    path = `${dir.path}/${path}`;
  }
  const node = k.options.vfs.lookup(normalizePath(path));
  if (!node) throw new ErrnoError(ERRNO.ENOENT);
  return node;
}

function resolveOrNull(k: Kernel, dirfd: number, path: string): VfsNode | undefined {
  try {
    return resolve(k, dirfd, path);
  } catch {
    return undefined;
  }
}

export function open(k: Kernel, dirfd: number, path: string, flags: number): number {
  if ((flags & O_CREAT) !== 0 || (flags & O_ACCMODE) === O_WRONLY || (flags & O_ACCMODE) === O_RDWR) {
    // The guest file system is read-only: report it the way Linux does for a read-only mount.
    if (!resolveOrNull(k, dirfd, path) && (flags & O_CREAT) === 0) throw new ErrnoError(ERRNO.ENOENT);
    throw new ErrnoError(ERRNO.EROFS);
  }
  const node = resolve(k, dirfd, path);
  if ((flags & O_DIRECTORY) !== 0 && !node.isDirectory) throw new ErrnoError(ERRNO.ENOTDIR);
  return k.files.allocate({ node, offset: 0, flags }, 0, (flags & O_CLOEXEC) !== 0);
}

export function read(k: Kernel, fd: number, address: number, count: number, at?: number): number {
  const f = k.files.file(fd);
  if (f.sink) throw new ErrnoError(ERRNO.EBADF); // stdout/stderr are write-only
  if (!f.node) return 0;
  if (f.node.isDirectory) throw new ErrnoError(ERRNO.EISDIR);
  const data = f.node.contents();
  const start = at ?? f.offset;
  const chunk = data.subarray(Math.min(start, data.length), Math.min(start + count, data.length));
  k.writeGuest(address, chunk);
  if (at === undefined) f.offset += chunk.length;
  return chunk.length;
}

export function write(k: Kernel, fd: number, bytes: Uint8Array): number {
  const f = k.files.file(fd);
  if (!f.sink) throw new ErrnoError(ERRNO.EBADF); // files are read-only, stdin is not writable
  for (const b of bytes) f.sink.push(b);
  return bytes.length;
}

/** Reads an iovec array (readv/writev). */
export function iovecs(k: Kernel, address: number, count: number): { base: number; length: number }[] {
  const ptr = k.pointerSize;
  const raw = k.readGuest(address, count * ptr * 2);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  return Array.from({ length: count }, (_, i) =>
    ptr === 8
      ? { base: Number(view.getBigUint64(i * 16, true)), length: Number(view.getBigUint64(i * 16 + 8, true)) }
      : { base: view.getUint32(i * 8, true), length: view.getUint32(i * 8 + 4, true) },
  );
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
  if (!f.node || isPipe(f.node)) throw new ErrnoError(ERRNO.ESPIPE);
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

function readAt(k: Kernel, a: bigint[], offset: number): number {
  return read(k, s32(a[0]!), num(a[1]!), num(a[2]!), offset);
}

const statInto = (k: Kernel, address: bigint, node: VfsNode) => (k.writeGuest(num(address), stat(k, node)), 0);

export const FILE_SYSCALLS: SyscallTable = {
  read: (k, a) => read(k, s32(a[0]!), num(a[1]!), num(a[2]!)),
  pread64: (k, a) =>
    readAt(k, a, k.arch === 'amd64' ? Number(a[3]!) : u32(a[3]!) + u32(a[4]!) * 2 ** 32),
  write: (k, a) => write(k, s32(a[0]!), k.readGuest(num(a[1]!), num(a[2]!))),
  readv: (k, a) => {
    let total = 0;
    for (const v of iovecs(k, num(a[1]!), num(a[2]!))) {
      const n = read(k, s32(a[0]!), v.base, v.length);
      total += n;
      if (n < v.length) break;
    }
    return total;
  },
  writev: (k, a) => {
    let total = 0;
    for (const v of iovecs(k, num(a[1]!), num(a[2]!))) total += write(k, s32(a[0]!), k.readGuest(v.base, v.length));
    return total;
  },
  open: (k, a) => open(k, AT_FDCWD, k.readString(num(a[0]!)), s32(a[1]!)),
  openat: (k, a) => open(k, s32(a[0]!), k.readString(num(a[1]!)), s32(a[2]!)),
  close: (k, a) => k.files.close(s32(a[0]!)),
  lseek: (k, a) => lseek(k, s32(a[0]!), k.arch === 'amd64' ? Number(BigInt.asIntN(64, a[1]!)) : s32(a[1]!), s32(a[2]!)),
  _llseek: (k, a) => {
    const position = lseek(k, s32(a[0]!), u32(a[1]!) * 2 ** 32 + u32(a[2]!), s32(a[4]!));
    k.writeGuest(num(a[3]!), encodeWords([BigInt(position)], 8));
    return 0;
  },
  fstat: (k, a) => statInto(k, a[1]!, statTarget(k, s32(a[0]!), '', AT_EMPTY_PATH)),
  fstat64: (k, a) => statInto(k, a[1]!, statTarget(k, s32(a[0]!), '', AT_EMPTY_PATH)),
  stat: (k, a) => statInto(k, a[1]!, resolve(k, AT_FDCWD, k.readString(num(a[0]!)))),
  lstat: (k, a) => statInto(k, a[1]!, resolve(k, AT_FDCWD, k.readString(num(a[0]!)))),
  stat64: (k, a) => statInto(k, a[1]!, resolve(k, AT_FDCWD, k.readString(num(a[0]!)))),
  lstat64: (k, a) => statInto(k, a[1]!, resolve(k, AT_FDCWD, k.readString(num(a[0]!)))),
  newfstatat: (k, a) => statInto(k, a[2]!, statTarget(k, s32(a[0]!), k.readString(num(a[1]!)), s32(a[3]!))),
  fstatat64: (k, a) => statInto(k, a[2]!, statTarget(k, s32(a[0]!), k.readString(num(a[1]!)), s32(a[3]!))),
  statx: (k, a) => {
    const node = statTarget(k, s32(a[0]!), k.readString(num(a[1]!)), s32(a[2]!));
    k.writeGuest(num(a[4]!), encodeStatx(statOf(node, k.options.clock.realtime())));
    return 0;
  },
  access: (k, a) => (resolve(k, AT_FDCWD, k.readString(num(a[0]!))), 0),
  faccessat: (k, a) => (resolve(k, s32(a[0]!), k.readString(num(a[1]!))), 0),
  faccessat2: (k, a) => (resolve(k, s32(a[0]!), k.readString(num(a[1]!))), 0),
  readlink: (k, a) => readlink(k, k.readString(num(a[0]!)), num(a[1]!), num(a[2]!)),
  readlinkat: (k, a) => readlink(k, k.readString(num(a[1]!)), num(a[2]!), num(a[3]!)),
  getcwd: (k, a) => {
    if (num(a[1]!) < 2) throw new ErrnoError(ERRNO.ERANGE);
    k.writeGuest(num(a[0]!), Uint8Array.from([0x2f, 0]));
    return 2;
  },
  getdents64: (k, a) => getdents(k, s32(a[0]!), num(a[1]!), num(a[2]!)),
  ioctl: (k, a) => {
    k.files.file(s32(a[0]!));
    throw new ErrnoError(ERRNO.ENOTTY); // no terminals: stdio buffers fully, deterministically
  },
  fcntl: (k, a) => fcntl(k, s32(a[0]!), s32(a[1]!), s32(a[2]!)),
  fcntl64: (k, a) => fcntl(k, s32(a[0]!), s32(a[1]!), s32(a[2]!)),
  dup: (k, a) => k.files.allocate(k.files.file(s32(a[0]!))),
  dup2: (k, a) => dup3(k.files, s32(a[0]!), s32(a[1]!)),
  dup3: (k, a) => dup3(k.files, s32(a[0]!), s32(a[1]!), (s32(a[2]!) & O_CLOEXEC) !== 0),
};
