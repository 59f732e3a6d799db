/**
 * The guest's file system: only the files it was given (the bundled fixtures and what the user mounts), all
 * read-only, each with its own inode so ld.so's (st_dev, st_ino) identity checks tell them apart. Directories exist
 * implicitly as the parents of files.
 */

export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFIFO = 0o010000;
const MODE_FILE = S_IFREG | 0o755;
const MODE_DIR = S_IFDIR | 0o755;

/** The virtual device number every file reports (st_dev). */
export const VFS_DEVICE = 0x801;
const FIRST_INODE = 2;

export interface VfsNode {
  readonly path: string;
  readonly inode: number;
  readonly mode: number;
  readonly size: number;
  readonly isDirectory: boolean;
  /** File contents, produced on first use (inflating a fixture costs time). */
  contents(): Uint8Array;
  /** For directories: the names of the direct children. */
  children(): string[];
  /** Modification time, for files that change (tmpfs); read-only files report the current time. */
  readonly mtime?: { seconds: bigint; nanoseconds: bigint };
}

/** A file system mounted at a directory of the tree (the writable /tmp): it answers every path below it. */
export interface MountedFileSystem {
  readonly root: VfsNode;
  lookup(path: string): VfsNode | undefined;
}

export class VfsError extends Error {
  override name = 'VfsError';
}

/** Normalises an absolute path: collapses `//`, `.` and `..`. */
export function normalizePath(path: string, cwd = '/'): string {
  const parts: string[] = [];
  for (const part of (path.startsWith('/') ? path : `${cwd}/${path}`).split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

export class VirtualFileSystem {
  private readonly nodes = new Map<string, VfsNode>();
  private nextInode = FIRST_INODE;
  private readonly mounts = new Map<string, MountedFileSystem>();

  constructor() {
    this.ensureDirectory('/');
  }

  /** Adds a read-only file. `load` is called once, on first read; `size` must be the length it returns. */
  addFile(path: string, size: number, load: () => Uint8Array): VfsNode {
    const normalized = normalizePath(path);
    if (this.nodes.has(normalized)) throw new VfsError(`${normalized} is already mounted in the guest file system`);
    this.ensureDirectory(parentOf(normalized));
    let cached: Uint8Array | undefined;
    const node: VfsNode = {
      path: normalized,
      inode: this.nextInode++,
      mode: MODE_FILE,
      size,
      isDirectory: false,
      contents: () => (cached ??= load()),
      children: () => [],
    };
    this.nodes.set(normalized, node);
    return node;
  }

  addBytes(path: string, bytes: Uint8Array): VfsNode {
    return this.addFile(path, bytes.length, () => bytes);
  }

  /** A node outside the tree, like the pipe behind a captured stdout: it has an inode and a stat, no path. */
  pipe(label: string): VfsNode {
    return {
      path: label, inode: this.nextInode++, mode: S_IFIFO | 0o600, size: 0, isDirectory: false,
      contents: () => new Uint8Array(0), children: () => [],
    };
  }

  /** Mounts `fs` at `path` (a directory that must not exist yet): lookups below it go to `fs`. */
  mount(path: string, fs: MountedFileSystem): void {
    const normalized = normalizePath(path);
    if (this.nodes.has(normalized)) throw new VfsError(`${normalized} already exists in the guest file system`);
    this.ensureDirectory(parentOf(normalized));
    this.nodes.set(normalized, fs.root);
    this.mounts.set(normalized, fs);
  }

  /** The next inode number to hand out (snapshots carry it). */
  get inodeCounter(): number {
    return this.nextInode;
  }

  set inodeCounter(value: number) {
    this.nextInode = value;
  }

  /** A fresh inode number (for nodes created after boot). */
  allocateInode(): number {
    return this.nextInode++;
  }

  /** A node for an anonymous-inode file (eventfd, epoll): no file type bits, like Linux's anon_inode. */
  anonymous(label: string): VfsNode {
    return { ...this.pipe(label), mode: 0o600 };
  }

  lookup(path: string, cwd = '/'): VfsNode | undefined {
    const normalized = normalizePath(path, cwd);
    for (const [at, fs] of this.mounts) if (normalized.startsWith(`${at}/`)) return fs.lookup(normalized);
    return this.nodes.get(normalized);
  }

  files(): VfsNode[] {
    return [...this.nodes.values()].filter((node) => !node.isDirectory);
  }

  private ensureDirectory(path: string): void {
    if (this.nodes.has(path)) return;
    if (path !== '/') this.ensureDirectory(parentOf(path));
    const prefix = path === '/' ? '/' : `${path}/`;
    this.nodes.set(path, {
      path,
      inode: this.nextInode++,
      mode: MODE_DIR,
      size: 4096,
      isDirectory: true,
      contents: () => new Uint8Array(0),
      children: () =>
        [...this.nodes.keys()]
          .filter((p) => p !== path && p.startsWith(prefix) && !p.slice(prefix.length).includes('/'))
          .map((p) => p.slice(prefix.length))
          .sort(),
    });
  }
}
