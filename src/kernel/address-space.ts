/**
 * The guest's virtual address space: which pages are mapped and how, where new mappings go (top-down from the
 * mmap base, as Linux does), and the program break. Every change is applied to the engine.
 */
import type { Engine } from '../emu/engine.ts';

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

export class OutOfAddressSpaceError extends Error {
  override name = 'OutOfAddressSpaceError';
}

export class AddressSpace {
  /** Mapped regions, sorted by start, non-overlapping. */
  private regions: Region[] = [];
  private brkStart = 0;
  /** Increases whenever memory is mapped or unmapped (lets observers cache what they derived from the layout). */
  generation = 0;
  private brkEnd = 0;

  constructor(
    private readonly engine: Engine,
    /** Top of the mmap area: new mappings are placed below it. */
    private readonly mmapTop: number,
    /** Lowest address a non-fixed mapping may use. */
    private readonly mmapFloor: number,
  ) {}

  list(): readonly Region[] {
    return this.regions;
  }

  find(address: number): Region | undefined {
    return this.regions.find((r) => address >= r.start && address < r.end);
  }

  isMapped(start: number, size: number): boolean {
    let cursor = start;
    for (const r of this.regions) {
      if (r.end <= cursor) continue;
      if (r.start > cursor) return false;
      cursor = r.end;
      if (cursor >= start + size) return true;
    }
    return cursor >= start + size;
  }

  /** Maps [start, start+size) (page-aligned), replacing whatever was there (MAP_FIXED semantics). */
  mapFixed(start: number, size: number, prot: number, label: string): void {
    const end = start + pageUp(size);
    this.unmap(start, end - start);
    this.engine.map(start, end - start, prot);
    this.insert({ start, end, prot, label });
  }

  /** Maps `size` bytes at a free place at or below the mmap top (or at `hint` if it is free). Returns the address. */
  mapAnywhere(size: number, prot: number, label: string, hint = 0): number {
    const length = pageUp(size);
    const start = hint && this.isFree(hint, length) ? pageDown(hint) : this.findFree(length);
    this.engine.map(start, length, prot);
    this.insert({ start, end: start + length, prot, label });
    return start;
  }

  unmap(start: number, size: number): void {
    const end = start + pageUp(size);
    const kept: Region[] = [];
    for (const r of this.regions) {
      if (r.end <= start || r.start >= end) {
        kept.push(r);
        continue;
      }
      const cutStart = Math.max(r.start, start);
      const cutEnd = Math.min(r.end, end);
      this.engine.unmap(cutStart, cutEnd - cutStart);
      if (r.start < cutStart) kept.push({ ...r, end: cutStart });
      if (cutEnd < r.end) kept.push({ ...r, start: cutEnd });
    }
    if (kept.length !== this.regions.length || kept.some((r, i) => r !== this.regions[i])) this.generation++;
    this.regions = kept.sort((a, b) => a.start - b.start);
  }

  /** Changes protection; returns false if part of the range is not mapped (the caller answers -ENOMEM). */
  protect(start: number, size: number, prot: number): boolean {
    const end = start + pageUp(size);
    if (!this.isMapped(start, end - start)) return false;
    this.engine.protect(start, end - start, prot);
    const next: Region[] = [];
    for (const r of this.regions) {
      if (r.end <= start || r.start >= end) {
        next.push(r);
        continue;
      }
      const a = Math.max(r.start, start);
      const b = Math.min(r.end, end);
      if (r.start < a) next.push({ ...r, end: a });
      next.push({ ...r, start: a, end: b, prot });
      if (b < r.end) next.push({ ...r, start: b });
    }
    this.regions = next;
    this.engine.invalidateCode(start, end - start);
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
      if (!this.isFree(oldEnd, newEnd - oldEnd)) return this.brkEnd;
      this.engine.map(oldEnd, newEnd - oldEnd, 3);
      this.insert({ start: oldEnd, end: newEnd, prot: 3, label: '[heap]' });
    } else if (newEnd < oldEnd) {
      this.unmap(newEnd, oldEnd - newEnd);
    }
    this.brkEnd = requested;
    return this.brkEnd;
  }

  private isFree(start: number, size: number): boolean {
    return !this.regions.some((r) => r.start < start + size && r.end > start);
  }

  private findFree(length: number): number {
    let top = this.mmapTop;
    for (let i = this.regions.length - 1; i >= 0; i--) {
      const r = this.regions[i]!;
      if (r.start >= top) continue;
      if (r.end <= top - length) break;
      top = r.start;
    }
    const start = top - length;
    if (start < this.mmapFloor) {
      throw new OutOfAddressSpaceError(`no room for a ${length}-byte mapping below 0x${this.mmapTop.toString(16)}`);
    }
    return start;
  }

  private insert(region: Region): void {
    this.generation++;
    this.regions.push(region);
    this.regions.sort((a, b) => a.start - b.start);
  }
}
