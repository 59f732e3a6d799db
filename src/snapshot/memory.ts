/**
 * Guest memory in a snapshot: the address-space bookkeeping, and the bytes of every non-zero page (after boot only
 * ~2 of the 14 MiB mapped are non-zero), read and written straight through the host memory behind guest pages.
 *
 * Restoring writes those pages back and zeroes the rest of what is or was mapped (madvise: untouched pages cost
 * nothing), so it costs about a memcpy of the non-zero pages, whatever the guest did since. Translated code is
 * dropped only for code pages whose bytes change.
 */
import type { Engine } from '../emu/engine.ts';
import { type AddressSpace, type AddressSpaceState, PAGE_SIZE } from '../kernel/address-space.ts';

/** Contiguous non-zero pages. */
export interface PageRun {
  address: number;
  bytes: Uint8Array;
}

export interface MemoryState {
  space: AddressSpaceState;
  pages: PageRun[];
}

/** Whether a page-sized piece of a host view is all zeros (32-bit words: the views are page-aligned). */
function isZeroPage(words: Uint32Array, first: number): boolean {
  const end = first + PAGE_SIZE / 4;
  for (let i = first; i < end; i++) if (words[i] !== 0) return false;
  return true;
}

export function captureMemory(space: AddressSpace): MemoryState {
  const pages: PageRun[] = [];
  for (const region of space.list()) {
    for (const view of space.view.hostViews(region.start, region.end)) {
      const words = new Uint32Array(view.bytes.buffer, view.bytes.byteOffset, view.bytes.byteLength / 4);
      const resident = space.view.residentPages(view.address, view.address + view.bytes.byteLength);
      let runStart = -1;
      const pageCount = view.bytes.byteLength / PAGE_SIZE;
      for (let page = 0; page <= pageCount; page++) {
        const nonZero = page < pageCount && resident[page] !== 0 && !isZeroPage(words, (page * PAGE_SIZE) / 4);
        if (nonZero && runStart < 0) runStart = page;
        if (!nonZero && runStart >= 0) {
          pages.push({ address: view.address + runStart * PAGE_SIZE, bytes: view.bytes.slice(runStart * PAGE_SIZE, page * PAGE_SIZE) });
          runStart = -1;
        }
      }
    }
  }
  return { space: space.state(), pages };
}

/** Page numbers of [start, end). */
function* pagesOf(start: number, end: number): Iterable<number> {
  for (let at = start; at < end; at += PAGE_SIZE) yield at / PAGE_SIZE;
}

/** The snapshot's bytes of one page (zeros when it holds none). */
function snapshotPage(byPage: Map<number, PageRun>, page: number): Uint8Array | undefined {
  const run = byPage.get(page);
  if (!run) return undefined;
  const offset = page * PAGE_SIZE - run.address;
  return run.bytes.subarray(offset, offset + PAGE_SIZE);
}

/** Index of the snapshot's pages, built once per snapshot (restores compare code pages through it). */
export function indexPages(state: MemoryState): Map<number, PageRun> {
  const byPage = new Map<number, PageRun>();
  for (const run of state.pages) for (const page of pagesOf(run.address, run.address + run.bytes.length)) byPage.set(page, run);
  return byPage;
}

/**
 * Puts memory back as `state` holds it. Returns the code pages whose bytes changed (their translations must go):
 * the engine cannot see writes made behind it.
 */
export function restoreMemory(space: AddressSpace, engine: Engine, state: MemoryState, byPage: Map<number, PageRun>): number[] {
  const view = space.view;
  const changed: number[] = [];
  for (const page of engine.translatedPages()) {
    const address = page * PAGE_SIZE;
    if (!space.find(address)) continue;
    const now = view.hostViews(address, address + PAGE_SIZE)[0]!.bytes;
    const then = snapshotPage(byPage, page);
    if (then ? !equalBytes(now, then) : !now.every((b) => b === 0)) changed.push(page);
  }
  // A process that never mapped anything (Process.create) has all-zero host memory: nothing to zero.
  const touched = space.list().length === 0 ? [] : mergeSpans([...space.list(), ...state.space.regions]);
  space.restoreState(state.space);
  // Zero what is or was mapped, except the snapshot's own pages, then copy those in.
  let run = 0;
  for (const span of touched) {
    let at = span.start;
    while (run < state.pages.length && state.pages[run]!.address + state.pages[run]!.bytes.length <= span.start) run++;
    for (let r = run; r < state.pages.length && state.pages[r]!.address < span.end; r++) {
      const p = state.pages[r]!;
      if (p.address > at) view.discard(at, p.address);
      at = Math.max(at, p.address + p.bytes.length);
    }
    if (at < span.end) view.discard(at, span.end);
  }
  for (const p of state.pages) {
    let offset = 0;
    for (const host of view.hostViews(p.address, p.address + p.bytes.length)) {
      host.bytes.set(p.bytes.subarray(offset, offset + host.bytes.length));
      offset += host.bytes.length;
    }
  }
  return changed;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function mergeSpans(spans: { start: number; end: number }[]): { start: number; end: number }[] {
  const sorted = spans.map((s) => ({ start: s.start, end: s.end })).sort((a, b) => a.start - b.start);
  const out: { start: number; end: number }[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s.start <= last.end) last.end = Math.max(last.end, s.end);
    else out.push(s);
  }
  return out;
}
