/** Sorted, disjoint address ranges (regions, runs) and the bisection every lookup into them uses. */
export interface AddressRange {
  start: number;
  end: number;
}

/** Index of the first range in `ranges` (sorted, disjoint) whose end is above `address`: O(log n). */
export function firstEndingAfter(ranges: readonly AddressRange[], address: number): number {
  let lo = 0;
  let hi = ranges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ranges[mid]!.end > address) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
