/**
 * The guest's virtual address space: which pages are mapped and how, where new mappings go (top-down from the
 * mmap base, as Linux does), the program break, and the memory limit. This is the bookkeeping; the engine's view
 * of it (host-backed regions) is kept in sync by MemoryView.
 *
 * Regions are a sorted array searched by bisection: `find` and `isMapped` run for every system-call argument and
 * there can be 100,000 mappings.
 */
import { type Engine, PROT_EXEC } from '../emu/engine.ts';
import { AddressSpaceError, MemoryLimitError, OutOfAddressSpaceError } from './memory-errors.ts';
import { MemoryView } from './memory-view.ts';
import { firstEndingAfter } from './spans.ts';

export { AddressSpaceError, MemoryLimitError, OutOfAddressSpaceError, TooManyRegionsError } from './memory-errors.ts';

export const PAGE_SIZE = 0x1000;

export function pageDown(address: number): number {
  return Math.floor(address / PAGE_SIZE) * PAGE_SIZE;
}

export function pageUp(address: number): number {
  return Math.ceil(address / PAGE_SIZE) * PAGE_SIZE;
}

export interface Region {
  start: number;
  end: number;
  prot: number;
  /** What the region holds, for /proc/self/maps-like reports: a file path, [stack], [heap], [anon]. */
  label: string;
}

const HEAP_PROT = 3;

export interface AddressSpaceOptions {
  /** Top of the mmap area: new mappings are placed below it. */
  mmapTop: number;
  /** Lowest address a non-fixed mapping may use. */
  mmapFloor: number;
  /** Most bytes of accessible (not PROT_NONE) mappings at once; beyond it mmap, brk and mprotect fail. */
  memoryLimit: number;
  /** Most engine regions (default: MemoryView's). */
  maxEngineRegions?: number;
}

/** The address space's bookkeeping, as a snapshot keeps it (plain data). */
export interface AddressSpaceState {
  regions: Region[];
  runs: { start: number; end: number; prot: number }[];
  brkStart: number;
  brkEnd: number;
  accessible: number;
  searchTop: number;
  holeAbove: number;
}

export class AddressSpace {
  /** Mapped regions, sorted by start, non-overlapping. */
  private regions: Region[] = [];
  private brkStart = 0;
  /** Increases whenever memory is mapped or unmapped (lets observers cache what they derived from the layout). */
  generation = 0;
  /** Told after each `generation` step (see onChange). */
  private changeListeners: (() => void)[] = [];
  private brkEnd = 0;
  /** Bytes of mapped, accessible memory (counted against the memory limit). */
  private accessible = 0;
  /** Where the next top-down search starts (Linux's old free_area_cache): keeps N mmaps from costing O(N²). */
  private searchTop: number;
  /** The largest hole the searches have skipped above `searchTop`. */
  private holeAbove = 0;
  readonly view: MemoryView;
  private readonly mmapTop: number;
  private readonly mmapFloor: number;
  readonly memoryLimit: number;

  constructor(engine: Engine, options: AddressSpaceOptions) {
    this.mmapTop = this.searchTop = options.mmapTop;
    this.mmapFloor = options.mmapFloor;
    this.memoryLimit = options.memoryLimit;
    this.view = new MemoryView(engine, options.maxEngineRegions);
  }

  state(): AddressSpaceState {
    return {
      regions: this.regions.map((r) => ({ ...r })),
      runs: this.view.runsState(),
      brkStart: this.brkStart,
      brkEnd: this.brkEnd,
      accessible: this.accessible,
      searchTop: this.searchTop,
      holeAbove: this.holeAbove,
    };
  }

  /**
   * Puts the bookkeeping and the engine's regions back as `state` says (the bytes are the snapshot layer's job).
   * The generation moves on, never back: what observers derived from a later layout must not look current.
   */
  restoreState(state: AddressSpaceState): void {
    this.view.restoreRuns(state.runs);
    this.regions = state.regions.map((r) => ({ ...r }));
    this.brkStart = state.brkStart;
    this.brkEnd = state.brkEnd;
    this.accessible = state.accessible;
    this.searchTop = state.searchTop;
    this.holeAbove = state.holeAbove;
    this.generation++;
  }

  list(): readonly Region[] {
    return this.regions;
  }

  /** Bytes of accessible mappings. */
  get accessibleBytes(): number {
    return this.accessible;
  }

  find(address: number): Region | undefined {
    const r = this.regions[firstEndingAfter(this.regions, address)];
    return r && r.start <= address ? r : undefined;
  }

  isMapped(start: number, size: number): boolean {
    return this.covered(start, size, false);
  }

  /**
   * Whether every page of the range is mapped and not PROT_NONE: only those have engine regions, so only those
   * can system calls read or write (Linux: EFAULT otherwise).
   */
  isAccessible(start: number, size: number): boolean {
    return this.covered(start, size, true);
  }

  private covered(start: number, size: number, accessible: boolean): boolean {
    let cursor = start;
    for (let i = firstEndingAfter(this.regions, start); i < this.regions.length && cursor < start + size; i++) {
      const r = this.regions[i]!;
      if (r.start > cursor || (accessible && r.prot === 0)) return false;
      cursor = r.end;
    }
    return cursor >= start + size;
  }

  /**
   * The host bytes behind [start, start+size), live (no copy), when every page of the range is accessible and none
   * is executable. Host writes through the view bypass the engine, so they must never meet code: no translation
   * could go stale. Valid while `generation` stays the same (any mapping change may make the range inaccessible).
   */
  dataWindow(start: number, size: number): Uint8Array | undefined {
    if (size <= 0 || !this.isAccessible(start, size)) return undefined;
    for (const r of this.overlapping(start, start + size)) if (r.prot & PROT_EXEC) return undefined;
    return this.view.hostBytes(start, size);
  }

  /** Whether any page of [start, start+size) is mapped. */
  overlaps(start: number, size: number): boolean {
    const r = this.regions[firstEndingAfter(this.regions, start)];
    return r !== undefined && r.start < start + size;
  }

  /** Maps [start, start+size) (page-aligned), replacing whatever was there (MAP_FIXED semantics). */
  mapFixed(start: number, size: number, prot: number, label: string): void {
    this.place(start, start + pageUp(size), prot, label);
  }

  /** Maps `size` bytes at a free place at or below the mmap top (or at `hint` if it is free). Returns the address. */
  mapAnywhere(size: number, prot: number, label: string, hint = 0): number {
    const length = pageUp(size);
    const start = hint && !this.overlaps(pageDown(hint), length) ? pageDown(hint) : this.findFree(length);
    this.place(start, start + length, prot, label);
    return start;
  }

  /** Copies bytes into mapped memory whatever its protection (a file mapping's contents). */
  fill(address: number, bytes: Uint8Array): void {
    this.view.write(address, bytes);
  }

  unmap(start: number, size: number): void {
    const end = start + pageUp(size);
    if (!this.overlaps(start, end - start)) return;
    this.view.setProtection(start, end, 0);
    this.accessible -= this.accessibleIn(start, end);
    this.cut(start, end, true);
    if (end > this.searchTop) this.searchTop = Math.min(this.mmapTop, end);
  }

  /** Changes protection; returns false if part of the range is not mapped (the caller answers -ENOMEM). */
  protect(start: number, size: number, prot: number): boolean {
    const end = start + pageUp(size);
    if (!this.isMapped(start, end - start)) return false;
    const delta = this.accessibleDelta(start, end, prot);
    this.checkLimit(delta);
    this.view.setProtection(start, end, prot);
    this.accessible += delta;
    const pieces = this.overlapping(start, end).map((r) => ({ ...r, start: Math.max(r.start, start), end: Math.min(r.end, end), prot }));
    this.cut(start, end, false);
    for (const piece of pieces) this.insert(piece);
    return true;
  }

  /** Sets where the heap starts (just after the executable's last segment). */
  initBrk(address: number): void {
    this.brkStart = this.brkEnd = pageUp(address);
  }

  /** The brk system call: grows or shrinks the heap; returns the new break (the old one when it cannot move). */
  brk(requested: number): number {
    if (requested === 0 || requested < this.brkStart) return this.brkEnd;
    const newEnd = pageUp(requested);
    const oldEnd = pageUp(this.brkEnd);
    if (newEnd > oldEnd) {
      if (this.overlaps(oldEnd, newEnd - oldEnd)) return this.brkEnd;
      try {
        this.place(oldEnd, newEnd, HEAP_PROT, '[heap]');
      } catch (error) {
        if (error instanceof AddressSpaceError) return this.brkEnd; // Linux: the break stays where it was
        throw error;
      }
    } else if (newEnd < oldEnd) {
      this.unmap(newEnd, oldEnd - newEnd);
    }
    this.brkEnd = requested;
    return this.brkEnd;
  }

  /** Maps [start, end) afresh: what was there is gone, and the new pages read as zeros. */
  private place(start: number, end: number, prot: number, label: string): void {
    const delta = this.accessibleDelta(start, end, prot);
    this.checkLimit(delta);
    this.view.setProtection(start, end, prot);
    this.accessible += delta;
    this.cut(start, end, true);
    this.insert({ start, end, prot, label });
  }

  private checkLimit(delta: number): void {
    if (delta > 0 && this.accessible + delta > this.memoryLimit) {
      throw new MemoryLimitError(`the guest's mappings would exceed the memory limit of ${this.memoryLimit} bytes`);
    }
  }

  /** How accessible bytes change when [start, end) gets `prot`. */
  private accessibleDelta(start: number, end: number, prot: number): number {
    return (prot !== 0 ? end - start : 0) - this.accessibleIn(start, end);
  }

  private accessibleIn(start: number, end: number): number {
    let bytes = 0;
    for (const r of this.overlapping(start, end)) {
      if (r.prot !== 0) bytes += Math.min(r.end, end) - Math.max(r.start, start);
    }
    return bytes;
  }

  /** Regions overlapping [start, end), in order. */
  private overlapping(start: number, end: number): Region[] {
    const out: Region[] = [];
    for (let i = firstEndingAfter(this.regions, start); i < this.regions.length && this.regions[i]!.start < end; i++) out.push(this.regions[i]!);
    return out;
  }

  /** Removes [start, end) from the bookkeeping (keeping the parts of regions outside it); `discard` zeroes it. */
  private cut(start: number, end: number, discard: boolean): void {
    const first = firstEndingAfter(this.regions, start);
    let last = first;
    const kept: Region[] = [];
    for (; last < this.regions.length && this.regions[last]!.start < end; last++) {
      const r = this.regions[last]!;
      if (r.start < start) kept.push({ ...r, end: start });
      if (r.end > end) kept.push({ ...r, start: end });
      if (discard) this.view.discard(Math.max(r.start, start), Math.min(r.end, end));
    }
    if (last > first) {
      this.regions.splice(first, last - first, ...kept);
      this.changed();
    }
  }

  /**
   * Calls `listener` whenever the layout changes (each `generation` step), e.g. the ABI checker of a whole-program
   * run, which must see libraries as they are loaded; returns the function that stops it.
   */
  onChange(listener: () => void): () => void {
    this.changeListeners = [...this.changeListeners, listener];
    return () => {
      this.changeListeners = this.changeListeners.filter((l) => l !== listener);
    };
  }

  private changed(): void {
    this.generation++;
    for (const listener of this.changeListeners) listener();
  }

  private findFree(length: number): number {
    // Like Linux's old free_area_cache: search on from the last placement, unless a hole skipped above it fits.
    const fromCache = length > this.holeAbove && this.searchTop < this.mmapTop;
    let found = fromCache ? this.freeBelow(this.searchTop, length) : undefined;
    if (found === undefined) {
      this.holeAbove = 0;
      found = this.freeBelow(this.mmapTop, length);
    }
    if (found === undefined) {
      throw new OutOfAddressSpaceError(`no room for a ${length}-byte mapping below 0x${this.mmapTop.toString(16)}`);
    }
    this.searchTop = found;
    return found;
  }

  /** The highest free range of `length` bytes ending at or below `top`, walking regions downwards. */
  private freeBelow(top: number, length: number): number | undefined {
    // The first region ending above `top` may straddle it; everything after it lies above `top`.
    for (let i = Math.min(firstEndingAfter(this.regions, top), this.regions.length - 1); i >= 0; i--) {
      const r = this.regions[i]!;
      if (r.start >= top) continue;
      if (r.end <= top - length) break;
      this.holeAbove = Math.max(this.holeAbove, top - r.end); // too small: remember it for later, smaller requests
      top = r.start;
    }
    const start = top - length;
    return start >= this.mmapFloor ? start : undefined;
  }

  /**
   * Adds a region, merged with anonymous neighbours of the same protection as Linux merges VMAs (vma_merge): a
   * run of 100,000 adjacent anonymous mmaps stays one region, and the array stays short.
   */
  private insert(region: Region): void {
    this.changed();
    let index = firstEndingAfter(this.regions, region.start);
    const before = this.regions[index - 1];
    if (before && mergeable(before, region)) {
      before.end = region.end;
      region = before;
      index--;
    } else {
      this.regions.splice(index, 0, region);
    }
    const after = this.regions[index + 1];
    if (after && mergeable(region, after)) {
      region.end = after.end;
      this.regions.splice(index + 1, 1);
    }
  }
}

/** Labels of anonymous memory: neighbours with one of these, the same label and protection are one mapping. */
const ANONYMOUS_LABELS = new Set(['[anon]', '[heap]']);

function mergeable(low: Region, high: Region): boolean {
  return low.end === high.start && low.prot === high.prot && low.label === high.label && ANONYMOUS_LABELS.has(low.label);
}
