/**
 * The writable in-memory /tmp (a tmpfs): files and directories the guest creates, per process, gone when the
 * process ends. Everything else in the guest file system stays read-only. Its total size is bounded (`limit`):
 * beyond it writes fail with ENOSPC, as on a full tmpfs.
 */
import type { Timespec } from './clock.ts';
import { ERRNO, ErrnoError } from './errno.ts';
import { type MountedFileSystem, S_IFDIR, S_IFREG, type VfsNode } from './vfs.ts';

/** Default size limit of /tmp, in bytes. */
export const DEFAULT_TMP_LIMIT = 256 * 1024 * 1024;
const DIRECTORY_SIZE = 4096;
const S_IFMT = 0o170000;

/** A tmpfs node as a snapshot keeps it. */
export interface TmpNodeState {
  path: string;
  inode: number;
  mode: number;
  mtime: Timespec;
  data: Uint8Array;
}

/** A file or directory in the tmpfs: its bytes live in a growing buffer. */
export class TmpNode implements VfsNode {
  private data = new Uint8Array(0);
  private length = 0;

  constructor(
    public path: string,
    readonly inode: number,
    readonly mode: number,
    public mtime: Timespec,
    private readonly list: (node: TmpNode) => string[],
  ) {}

  get isDirectory(): boolean {
    return (this.mode & S_IFMT) === S_IFDIR;
  }

  get size(): number {
    return this.isDirectory ? DIRECTORY_SIZE : this.length;
  }

  contents(): Uint8Array {
    return this.data.subarray(0, this.length);
  }

  children(): string[] {
    return this.isDirectory ? this.list(this) : [];
  }

  /** Writes at `offset` (past the end leaves a zero-filled hole), growing the buffer geometrically. */
  writeAt(offset: number, bytes: Uint8Array): void {
    this.resize(Math.max(this.length, offset + bytes.length));
    this.data.set(bytes, offset);
  }

  /** Sets the length: growing zero-fills, shrinking drops the tail. */
  resize(length: number): void {
    if (length > this.data.length) {
      const grown = new Uint8Array(Math.max(length, this.data.length * 2, 256));
      grown.set(this.data.subarray(0, this.length));
      this.data = grown;
    } else if (length < this.length) {
      this.data.fill(0, length, this.length);
    }
    this.length = length;
  }
}

function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/')) || '/';
}

export class TmpFs implements MountedFileSystem {
  readonly root: TmpNode;
  private readonly nodes = new Map<string, TmpNode>();
  /** Bytes of file data stored. */
  used = 0;

  constructor(
    readonly mountPoint: string,
    readonly limit: number,
    private readonly allocateInode: () => number,
    private readonly now: () => Timespec,
  ) {
    this.root = this.add(mountPoint, S_IFDIR | 0o1777);
  }

  /** Every node, with a copy of its bytes (snapshots). */
  state(): TmpNodeState[] {
    return [...this.nodes.values()].map((n) => ({ path: n.path, inode: n.inode, mode: n.mode, mtime: { ...n.mtime }, data: n.contents().slice() }));
  }

  /** Replaces every node with those of `state` (from `state()`); returns them by path. */
  restoreState(state: readonly TmpNodeState[]): void {
    this.nodes.clear();
    this.used = 0;
    for (const s of state) {
      // The root stays the same object: the file system tree holds it as the mount point.
      const node = s.path === this.mountPoint ? this.root : new TmpNode(s.path, s.inode, s.mode, { ...s.mtime }, (dir) => this.list(dir));
      node.mtime = { ...s.mtime };
      if (!node.isDirectory) node.writeAt(0, s.data);
      this.used += node.isDirectory ? 0 : s.data.length;
      this.nodes.set(s.path, node);
    }
  }

  /** Whether `path` (normalized) is this file system's. */
  contains(path: string): boolean {
    return path === this.mountPoint || path.startsWith(`${this.mountPoint}/`);
  }

  lookup(path: string): TmpNode | undefined {
    return this.nodes.get(path);
  }

  /** Creates an empty regular file (the caller checked it does not exist). */
  create(path: string, mode: number): TmpNode {
    this.requireParent(path);
    return this.add(path, S_IFREG | (mode & 0o7777));
  }

  mkdir(path: string, mode: number): void {
    if (this.nodes.has(path)) throw new ErrnoError(ERRNO.EEXIST);
    this.requireParent(path);
    this.add(path, S_IFDIR | (mode & 0o7777));
  }

  unlink(path: string): void {
    const node = this.require(path);
    if (node.isDirectory) throw new ErrnoError(ERRNO.EISDIR);
    this.used -= node.size;
    this.nodes.delete(path);
    this.touch(parentOf(path));
  }

  rmdir(path: string): void {
    const node = this.require(path);
    if (!node.isDirectory) throw new ErrnoError(ERRNO.ENOTDIR);
    if (node === this.root) throw new ErrnoError(ERRNO.EBUSY);
    if (node.children().length > 0) throw new ErrnoError(ERRNO.ENOTEMPTY);
    this.nodes.delete(path);
    this.touch(parentOf(path));
  }

  /** rename(2): replaces a target of the same kind (an empty directory only), moves a directory's subtree. */
  rename(from: string, to: string): void {
    const node = this.require(from);
    if (from === to) return;
    if (node === this.root || to.startsWith(`${from}/`)) throw new ErrnoError(ERRNO.EINVAL);
    this.requireParent(to);
    const target = this.nodes.get(to);
    if (target) {
      if (target.isDirectory && !node.isDirectory) throw new ErrnoError(ERRNO.EISDIR);
      if (!target.isDirectory && node.isDirectory) throw new ErrnoError(ERRNO.ENOTDIR);
      if (target.isDirectory) this.rmdir(to);
      else this.unlink(to);
    }
    for (const [path, moved] of [...this.nodes]) {
      if (path !== from && !path.startsWith(`${from}/`)) continue;
      this.nodes.delete(path);
      moved.path = to + path.slice(from.length);
      this.nodes.set(moved.path, moved);
    }
    this.touch(parentOf(from));
    this.touch(parentOf(to));
  }

  /** Writes into a file, within the size limit. */
  write(node: TmpNode, offset: number, bytes: Uint8Array): number {
    this.resize(node, Math.max(node.size, offset + bytes.length));
    node.writeAt(offset, bytes);
    return bytes.length;
  }

  /** ftruncate(2) / O_TRUNC. */
  resize(node: TmpNode, length: number): void {
    const grow = length - node.size;
    if (this.used + grow > this.limit) throw new ErrnoError(ERRNO.ENOSPC);
    node.resize(length);
    this.used += grow;
    node.mtime = this.now();
  }

  private add(path: string, mode: number): TmpNode {
    const node = new TmpNode(path, this.allocateInode(), mode, this.now(), (dir) => this.list(dir));
    this.nodes.set(path, node);
    if (path !== this.mountPoint) this.touch(parentOf(path));
    return node;
  }

  private list(dir: TmpNode): string[] {
    const prefix = `${dir.path}/`;
    return [...this.nodes.keys()]
      .filter((p) => p.startsWith(prefix) && !p.slice(prefix.length).includes('/'))
      .map((p) => p.slice(prefix.length))
      .sort();
  }

  private require(path: string): TmpNode {
    const node = this.nodes.get(path);
    if (!node) throw new ErrnoError(ERRNO.ENOENT);
    return node;
  }

  private requireParent(path: string): void {
    const parent = this.nodes.get(parentOf(path));
    if (!parent) throw new ErrnoError(ERRNO.ENOENT);
    if (!parent.isDirectory) throw new ErrnoError(ERRNO.ENOTDIR);
  }

  private touch(path: string): void {
    const node = this.nodes.get(path);
    if (node) node.mtime = this.now();
  }
}
