/**
 * Host memory that backs guest pages: one large private anonymous reservation per guest "slab", made with the
 * host's mmap through koffi (Linux: libc.so.6; macOS: libSystem — both export mmap/madvise with these flags'
 * semantics, though only Linux is tested). MAP_NORESERVE and lazily committed anonymous pages mean an untouched
 * reservation costs address space only, no RSS.
 *
 * The engine maps windows of it into the guest (`Engine.mapHost`); guest bytes then live here, so re-arranging the
 * engine's regions (splitting, merging, changing protection) never copies them.
 */
import koffi from 'koffi';
import type { HostMemory } from './engine.ts';

const PROT_READ_WRITE = 0x1 | 0x2;
const MAP_PRIVATE = 0x02;
const IS_MAC = process.platform === 'darwin';
const MAP_ANONYMOUS = IS_MAC ? 0x1000 : 0x20;
/** Linux: do not count the reservation against overcommit (it is mostly never touched). macOS has no such flag. */
const MAP_NORESERVE = IS_MAC ? 0 : 0x4000;
/** Linux: private anonymous pages read as zero afterwards and their RSS is freed. macOS: MADV_FREE_REUSABLE-like
 *  semantics differ, so there we overwrite with zeros instead (see `discard`). */
const MADV_DONTNEED = 4;
const MAP_FAILED = -1n;
/** The host's page size as mincore counts it (4 KiB on x86-64 Linux; guest pages are 4 KiB too). */
const HOST_PAGE = 4096;
/**
 * Bytes per JavaScript view of a reservation. V8 counts a view's ArrayBuffer as external memory: one view of a whole
 * 4 GiB reservation made it run a full mark-compact GC ("external memory pressure", 10–17 ms, once per slab: two
 * per amd64 CLI call, found with --trace-gc). Views of 1 MiB chunks are accounted at their size.
 */
const VIEW_CHUNK = 2 ** 16;

export class HostMemoryError extends Error {
  override name = 'HostMemoryError';
}

interface LibcMemory {
  mmap: koffi.KoffiFunction;
  munmap: koffi.KoffiFunction;
  madvise: koffi.KoffiFunction;
  memset: koffi.KoffiFunction;
  memcpy: koffi.KoffiFunction;
  /** memcpy(p, p, 0) declared to return `void *`: turns an address into the pointer object koffi.view wants. */
  pointer: koffi.KoffiFunction;
  mincore: koffi.KoffiFunction;
}

let libc: LibcMemory | undefined;

function loadLibc(): LibcMemory {
  if (libc) return libc;
  const lib = koffi.load(IS_MAC ? '/usr/lib/libSystem.B.dylib' : 'libc.so.6');
  libc = {
    // A pointer result (not an integer): koffi.view needs it to make a JavaScript view of the memory.
    mmap: lib.func('void *mmap(uintptr_t addr, size_t length, int prot, int flags, int fd, intptr_t offset)'),
    munmap: lib.func('int munmap(uintptr_t addr, size_t length)'),
    madvise: lib.func('int madvise(uintptr_t addr, size_t length, int advice)'),
    memset: lib.func('uintptr_t memset(uintptr_t dest, int c, size_t n)'),
    memcpy: lib.func('uintptr_t memcpy(uintptr_t dest, const uint8_t *src, size_t n)'),
    pointer: lib.func('void *memcpy(uintptr_t dest, uintptr_t src, size_t n)'),
    mincore: lib.func('int mincore(uintptr_t addr, size_t length, _Out_ uint8_t *vec)'),
  };
  return libc;
}

/** A host mmap reservation; `pointer` is its host address (what uc_mem_map_ptr wants). */
export class NativeHostMemory implements HostMemory {
  readonly pointer: bigint;
  private released = false;
  /** JavaScript views of the reservation, VIEW_CHUNK bytes each, made on first use (one native call each). */
  private readonly chunks = new Map<number, Uint8Array>();
  private viewFailed = false;

  constructor(readonly size: number) {
    const c = loadLibc();
    const external: unknown = c.mmap(0, size, PROT_READ_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    const address = external === null ? 0n : BigInt.asIntN(64, BigInt(koffi.address(external)));
    if (address === MAP_FAILED || address === 0n) throw new HostMemoryError(`the host could not reserve ${size} bytes of address space`);
    this.pointer = address;
  }

  bytes(offset: number, size: number): Uint8Array | undefined {
    this.checkRange(offset, size);
    if (this.viewFailed) return undefined;
    const index = Math.floor(offset / VIEW_CHUNK);
    const start = index * VIEW_CHUNK;
    if (offset + size > start + VIEW_CHUNK) {
      // Across a chunk boundary: a view of just this range (callers keep the windows they use often).
      try {
        return new Uint8Array(koffi.view(pointerAt(this.at(offset)), size));
      } catch {
        return undefined;
      }
    }
    let chunk = this.chunks.get(index);
    if (chunk === undefined) {
      try {
        chunk = new Uint8Array(koffi.view(pointerAt(this.at(start)), Math.min(VIEW_CHUNK, this.size - start)));
      } catch {
        this.viewFailed = true; // a host whose typed arrays cannot view native memory: no views
        return undefined;
      }
      this.chunks.set(index, chunk);
    }
    return chunk.subarray(offset - start, offset - start + size);
  }

  /** The host address of `offset`, for the engine. */
  at(offset: number): bigint {
    return this.pointer + BigInt(offset);
  }

  write(offset: number, bytes: Uint8Array): void {
    this.checkRange(offset, bytes.length);
    if (bytes.length > 0) loadLibc().memcpy(this.at(offset), bytes, bytes.length);
  }

  discard(offset: number, size: number): void {
    this.checkRange(offset, size);
    if (size === 0) return;
    const c = loadLibc();
    // Linux MADV_DONTNEED on private anonymous memory: the next read sees zero-filled pages, RSS is returned.
    if (IS_MAC || c.madvise(this.at(offset), size, MADV_DONTNEED) !== 0) c.memset(this.at(offset), 0, size);
  }

  view(offset: number, size: number): Uint8Array {
    // A chunk's view when the host could make one (see `bytes`); else a view of just this range.
    const live = this.bytes(offset, size);
    if (live) return live;
    if (size === 0) return new Uint8Array(0);
    return new Uint8Array(koffi.view(pointerAt(this.at(offset)), size));
  }

  residentPages(offset: number, size: number): Uint8Array {
    this.checkRange(offset, size);
    const pages = new Uint8Array(Math.ceil(size / HOST_PAGE));
    // Where mincore fails (another platform's semantics), every page counts as touched: slower, still right.
    if (pages.length > 0 && loadLibc().mincore(this.at(offset), size, pages) !== 0) pages.fill(1);
    return pages;
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.chunks.clear(); // views handed out must not be used after this (the caller's contract)
    loadLibc().munmap(this.pointer, this.size);
  }

  private checkRange(offset: number, size: number): void {
    if (this.released || offset < 0 || offset + size > this.size) {
      throw new HostMemoryError(`host memory range ${offset}+${size} is outside the ${this.size}-byte reservation`);
    }
  }
}

/** A koffi pointer object for a host address (what koffi.view takes). */
export function pointerAt(address: bigint): unknown {
  return loadLibc().pointer(address, address, 0);
}
