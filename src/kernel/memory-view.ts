/**
 * The engine's view of guest memory. Guest bytes live in host memory the process owns (one reservation per
 * 4 GiB-aligned guest "slab", see src/emu/host-memory.ts); the engine's regions only say which pages are
 * accessible and how, so re-arranging them never copies a byte.
 *
 * Why regions are kept few and large: Unicorn 2.0.1 (QEMU 5) aborts the host once it holds ~4,070 regions
 * (exec.c phys_section_add), and every map/unmap re-renders the whole flat view (O(regions)). So the view is the
 * maximal runs of pages with one protection (PROT_NONE and unmapped pages have no region and fault), each run cut
 * into aligned power-of-two blocks (a buddy decomposition). The blocks are what make re-syncs cheap:
 * uc_mem_unmap flushes the TLB page by page (~0.5 µs per 4 KiB page, measured: 144 ms per GiB), so re-mapping a
 * whole run on every change would make N adjacent mmaps cost O(N²). With aligned blocks, a change only replaces the
 * blocks whose alignment it breaks — growing a run page by page re-maps O(log n) pages per step amortized, like a
 * binary counter — and a run of n pages needs at most 2·log2(n) regions.
 */
import type { Engine, HostMemory } from '../emu/engine.ts';
import { TooManyRegionsError } from './memory-errors.ts';
import { firstEndingAfter } from './spans.ts';

const PAGE = 0x1000;
/** Guest bytes per host reservation; also the largest engine region. i386's whole address space is one slab. */
export const SLAB_BYTES = 2 ** 32;
/**
 * At most this many engine regions: well below the ~4,070 where QEMU 5's phys-section table overflows and aborts
 * the host (the table also holds sections for region edges QEMU splits itself).
 */
export const MAX_ENGINE_REGIONS = 3000;
/** Runs up to this size are one engine region: re-mapping one whole costs at most a few hundred pages' TLB flushes. */
const SINGLE_REGION_BYTES = 256 * PAGE;

/** An accessible run, or one engine region. */
interface Span {
  start: number;
  end: number;
  prot: number;
}

/** A planned re-sync: the runs that replace runs[first, first+count) and the engine regions to swap. */
interface Plan {
  first: number;
  count: number;
  runs: Span[];
  remove: Span[];
  add: Span[];
}

export class MemoryView {
  /** Maximal runs of accessible pages with one protection: sorted, disjoint, adjacent runs differ in prot. */
  private readonly runs: Span[] = [];
  private readonly slabs = new Map<number, HostMemory>();
  private regions = 0;

  constructor(
    private readonly engine: Engine,
    private readonly maxRegions = MAX_ENGINE_REGIONS,
  ) {}

  /** Engine regions currently mapped. */
  get regionCount(): number {
    return this.regions;
  }

  /**
   * Gives [start, end) the protection `prot` (0: not accessible, no region) and re-syncs the engine's regions of
   * the neighbourhood. Throws TooManyRegionsError, changing nothing, when the engine could not hold the result.
   */
  setProtection(start: number, end: number, prot: number): void {
    const plan = this.plan(start, end, prot);
    const regions = this.regions - plan.remove.length + plan.add.length;
    if (regions > this.maxRegions) {
      throw new TooManyRegionsError(`the mapping would need ${regions} engine regions (limit ${this.maxRegions})`);
    }
    this.runs.splice(plan.first, plan.count, ...plan.runs);
    for (const r of plan.remove) {
      this.engine.unmap(r.start, r.end - r.start);
      this.regions--;
    }
    for (const r of plan.add) {
      this.engine.mapHost(r.start, r.end - r.start, r.prot, this.slab(r.start), r.start % SLAB_BYTES);
      this.regions++;
    }
  }

  /** Makes [start, end) read as zeros again (a fresh anonymous mapping) and returns its host pages. */
  discard(start: number, end: number): void {
    this.eachSlabPiece(start, end, (memory, offset, size) => memory?.discard(offset, size));
  }

  /** Writes guest bytes straight into host memory, whatever the protection (file contents of a new mapping). */
  write(address: number, bytes: Uint8Array): void {
    this.eachSlabPiece(address, address + bytes.length, (_memory, offset, size, at) => {
      this.slab(at).write(offset, bytes.subarray(at - address, at - address + size));
    });
  }

  /** A live view of the host bytes behind [address, address+size) when they lie in one reserved slab. */
  hostBytes(address: number, size: number): Uint8Array | undefined {
    const index = Math.floor(address / SLAB_BYTES);
    if (Math.floor((address + size - 1) / SLAB_BYTES) !== index) return undefined;
    return this.slabs.get(index)?.bytes(address % SLAB_BYTES, size);
  }

  /** The accessible runs (a snapshot's copy). */
  runsState(): { start: number; end: number; prot: number }[] {
    return this.runs.map((r) => ({ ...r }));
  }

  /** Makes the engine's regions those of `runs` (from `runsState`), swapping only the blocks that differ. */
  restoreRuns(runs: readonly { start: number; end: number; prot: number }[]): void {
    const { remove, add } = difference(this.runs.flatMap(blocks), runs.flatMap(blocks));
    for (const r of remove) {
      this.engine.unmap(r.start, r.end - r.start);
      this.regions--;
    }
    // One batch: into a new engine (a restored image, a fork) the engine may pick the order (see Engine.relayout).
    this.engine.mapHostRegions(add.map((r) => ({ address: r.start, size: r.end - r.start, prot: r.prot, memory: this.slab(r.start), offset: r.start % SLAB_BYTES })));
    this.regions += add.length;
    this.runs.splice(0, this.runs.length, ...runs.map((r) => ({ ...r })));
  }

  /**
   * Live views of the host bytes behind [start, end) (one per slab it crosses), for snapshots: reading and writing
   * them bypasses the engine (no protection, no translation bookkeeping).
   */
  hostViews(start: number, end: number): { address: number; bytes: Uint8Array }[] {
    const views: { address: number; bytes: Uint8Array }[] = [];
    this.eachSlabPiece(start, end, (_memory, offset, size, at) => views.push({ address: at, bytes: this.slab(at).view(offset, size) }));
    return views;
  }

  /** For each page of [start, end) (within one slab): whether the host ever backed it with memory (see HostMemory). */
  residentPages(start: number, end: number): Uint8Array {
    return this.slab(start).residentPages(start % SLAB_BYTES, end - start);
  }

  /** Returns the host reservations (after the engine is closed). */
  release(): void {
    for (const memory of this.slabs.values()) memory.release();
    this.slabs.clear();
  }

  private plan(start: number, end: number, prot: number): Plan {
    // Runs touching [start, end) or adjacent to it may merge with it or be cut by it.
    const first = firstEndingAfter(this.runs, start - 1);
    let last = first;
    while (last < this.runs.length && this.runs[last]!.start <= end) last++;
    const old = this.runs.slice(first, last);
    const pieces: Span[] = [];
    for (const r of old) {
      if (r.start < start) pieces.push({ ...r, end: Math.min(r.end, start) });
      if (r.end > end) pieces.push({ ...r, start: Math.max(r.start, end) });
    }
    if (prot !== 0) pieces.push({ start, end, prot });
    const runs = coalesce(pieces.sort((a, b) => a.start - b.start));
    const { remove, add } = difference(old.flatMap(blocks), runs.flatMap(blocks));
    return { first, count: last - first, runs, remove, add };
  }

  private slab(address: number): HostMemory {
    const index = Math.floor(address / SLAB_BYTES);
    let memory = this.slabs.get(index);
    if (!memory) {
      memory = this.engine.reserveHostMemory(SLAB_BYTES);
      this.slabs.set(index, memory);
    }
    return memory;
  }

  private eachSlabPiece(start: number, end: number, fn: (memory: HostMemory | undefined, offset: number, size: number, at: number) => void): void {
    for (let at = start; at < end; ) {
      const slabEnd = (Math.floor(at / SLAB_BYTES) + 1) * SLAB_BYTES;
      const size = Math.min(end, slabEnd) - at;
      fn(this.slabs.get(Math.floor(at / SLAB_BYTES)), at % SLAB_BYTES, size, at);
      at += size;
    }
  }
}

/** Merges touching spans of equal protection. */
function coalesce(spans: Span[]): Span[] {
  const out: Span[] = [];
  for (const s of spans) {
    const previous = out[out.length - 1];
    if (previous && previous.end === s.start && previous.prot === s.prot) previous.end = s.end;
    else out.push({ ...s });
  }
  return out;
}

/**
 * The engine regions of one run: a small run is one region (re-mapping it whole is cheap); a larger one is its
 * maximal aligned power-of-two blocks (at most one slab), each present as long as the run around it is, so a change
 * far away in the same run leaves it mapped. Few regions matter: Unicorn's every map walks all of them, twice over
 * (QEMU's find_ram_offset is quadratic in its RAM blocks).
 */
function blocks(run: Span): Span[] {
  if (run.end - run.start <= SINGLE_REGION_BYTES && Math.floor(run.start / SLAB_BYTES) === Math.floor((run.end - 1) / SLAB_BYTES)) {
    return [{ ...run }];
  }
  const out: Span[] = [];
  for (let at = run.start; at < run.end; ) {
    let size = PAGE;
    while (size < SLAB_BYTES && at % (size * 2) === 0 && at + size * 2 <= run.end) size *= 2;
    out.push({ start: at, end: at + size, prot: run.prot });
    at += size;
  }
  return out;
}

/**
 * The blocks only in `before` (to unmap) and only in `after` (to map). Both are sorted by start and disjoint, so
 * one merge walk compares them (this runs for every mapping change: no sets, no string keys).
 */
function difference(before: Span[], after: Span[]): { remove: Span[]; add: Span[] } {
  const remove: Span[] = [];
  const add: Span[] = [];
  let i = 0;
  let j = 0;
  while (i < before.length || j < after.length) {
    const a = before[i];
    const b = after[j];
    if (a && b && a.start === b.start) {
      if (a.end !== b.end || a.prot !== b.prot) {
        remove.push(a);
        add.push(b);
      }
      i++;
      j++;
    } else if (a && (!b || a.start < b.start)) {
      remove.push(a);
      i++;
    } else {
      add.push(b!);
      j++;
    }
  }
  return { remove, add };
}
