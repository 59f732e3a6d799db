/**
 * Where Unicorn 2.0.1 puts guest memory in its own RAM-offset space, and a mapping order that keeps guest stores
 * on the cheaper of their two slow paths. Pure functions: the engine (unicorn.ts) applies them.
 *
 * Why it matters. Unicorn 2.0.1 marks every RAM page "not dirty" forever, so every guest store calls
 * `notdirty_write` → `page_collection_lock(ram_addr)`. That looks the stored page's *RAM offset* (not its guest
 * address) up in QEMU's page-descriptor map, whose leaves cover 1,024 pages (4 MiB, `PAGE_DESC_LEAF_BYTES`) and
 * exist once any page of the leaf ever held translated code. A store whose leaf exists allocates 4 blocks instead
 * of 2: warm i386 `snprintf("%f %d")` (523 stores) took 46–48 µs instead of 29–31 µs in Unicorn, depending only on
 * where its stack and data had landed (measured with an LD_PRELOAD malloc counter and in 10 fresh processes each;
 * README, "Where a warm call's time goes").
 *
 * Where regions land. Each mapped region is one RAM block; QEMU 5's `find_ram_offset` (exec.c) puts a new block
 * in the smallest gap after an existing block's end rounded up to 256 KiB (`RAM_BLOCK_ALIGN`: one `long` of the
 * dirty bitmap), and the first block of an empty engine at 0. So in an empty engine, regions mapped one after
 * another lie back to back in that order (`sequentialOffsets`). Nothing else in Unicorn's API reveals or sets an
 * offset: order and sizes are the only levers.
 *
 * The order (`segregatedSteps`): data first (writable, not executable: what stores hit), then a padding region
 * that pushes the next offset to a leaf boundary, then everything else (code and read-only data, which stores
 * never hit). In an engine that translated code before (a fresh boot re-laid out), a first padding skips every
 * offset it used: QEMU never frees a leaf. Paddings are mapped only while the regions are (`padAddress` finds
 * them free guest ranges) and unmapped after, leaving gaps where later mappings may land.
 */
import { PROT_EXEC, PROT_WRITE } from './engine.ts';

/** Bytes of guest memory per 4 KiB target page. */
const TARGET_PAGE_BYTES = 4096;
/** find_ram_offset rounds each candidate offset up to this: `BITS_PER_LONG << TARGET_PAGE_BITS` (64 pages). */
export const RAM_BLOCK_ALIGN = 64 * TARGET_PAGE_BYTES;
/** RAM offsets covered by one leaf of QEMU's page-descriptor map (`V_L2_BITS` = 10: 1,024 pages). */
export const PAGE_DESC_LEAF_BYTES = 1024 * TARGET_PAGE_BYTES;

/** A region to map, as the engine knows it. */
export interface LayoutRegion {
  address: number;
  size: number;
  prot: number;
}

/** One step of a layout: map a region, or map `pad` bytes of padding (unmapped again once all steps are done). */
export type LayoutStep<R extends LayoutRegion> = { region: R } | { pad: number };

/** Whether guest stores can hit the region without it holding code: what must not share a leaf with code. */
export function isStoreTarget(prot: number): boolean {
  return (prot & PROT_WRITE) !== 0 && (prot & PROT_EXEC) === 0;
}

function roundUp(value: number, step: number): number {
  return Math.ceil(value / step) * step;
}

/** The RAM offsets regions of these sizes get when mapped one after another into an empty engine. */
export function sequentialOffsets(sizes: readonly number[]): number[] {
  const offsets: number[] = [];
  let next = 0;
  for (const size of sizes) {
    offsets.push(next);
    next = roundUp(next + size, RAM_BLOCK_ALIGN);
  }
  return offsets;
}

/**
 * An upper bound on every RAM offset an engine has used, after one more mapping of `size` bytes: a new block goes
 * at 0 or after an existing block's end rounded up, so it ends at most `size` (rounded) past the previous bound.
 */
export function nextOffsetBound(bound: number, size: number): number {
  return bound + roundUp(size, RAM_BLOCK_ALIGN);
}

/**
 * The steps that map `regions` into an engine with nothing mapped so that no page-descriptor leaf holds both a
 * store target and anything else. `usedBelow` bounds the RAM offsets the engine used before (0 for a new engine):
 * leaves there may hold code from earlier translations (QEMU never frees a leaf), so a first padding skips them.
 * Then the store targets, a padding up to the next leaf, and the rest; regions keep their relative order in each
 * group (deterministic for a given input).
 */
export function segregatedSteps<R extends LayoutRegion>(regions: readonly R[], usedBelow: number): LayoutStep<R>[] {
  const data = regions.filter((r) => isStoreTarget(r.prot));
  const rest = regions.filter((r) => !isStoreTarget(r.prot));
  const steps: LayoutStep<R>[] = [];
  const skip = roundUp(usedBelow, PAGE_DESC_LEAF_BYTES);
  if (skip > 0 && data.length > 0) steps.push({ pad: skip });
  const sizes = [...(skip > 0 && data.length > 0 ? [skip] : []), ...data.map((r) => r.size)];
  steps.push(...data.map((region) => ({ region })));
  if (data.length > 0 && rest.length > 0) {
    const offsets = sequentialOffsets(sizes);
    const end = roundUp(offsets[offsets.length - 1]! + sizes[sizes.length - 1]!, RAM_BLOCK_ALIGN);
    const pad = roundUp(end, PAGE_DESC_LEAF_BYTES) - end;
    if (pad > 0) steps.push({ pad });
  }
  steps.push(...rest.map((region) => ({ region })));
  return steps;
}

/**
 * The lowest page-aligned guest address at or above `floor` where `size` bytes overlap none of `regions` and end
 * at or below `limit`, or undefined when there is none.
 */
export function padAddress(regions: readonly LayoutRegion[], size: number, floor: number, limit: number): number | undefined {
  let at = roundUp(floor, TARGET_PAGE_BYTES);
  for (const r of [...regions].sort((a, b) => a.address - b.address)) {
    if (r.address + r.size <= at) continue;
    if (r.address - at >= size) break;
    at = roundUp(r.address + r.size, TARGET_PAGE_BYTES);
  }
  return at + size <= limit ? at : undefined;
}
