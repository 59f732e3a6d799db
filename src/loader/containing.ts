/**
 * Address search in lists of ranges sorted by start (symbols, functions). No dependencies: the browser's trace
 * views use it too.
 */

/** Index of the last item whose start is at or below `value` in a list sorted by start; -1 when there is none. */
export function lastAtOrBelow<T>(sorted: readonly T[], value: number, start: (item: T) => number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (start(sorted[mid]!) <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/**
 * The item whose range [start, start + size) holds `value` — the closest start wins where ranges nest; a zero-size
 * item holds only its start. Looks back at most `maxSpan` bytes (no range is longer).
 */
export function containing<T>(
  sorted: readonly T[], value: number, start: (item: T) => number, size: (item: T) => number, maxSpan: number,
): T | undefined {
  for (let i = lastAtOrBelow(sorted, value, start); i >= 0 && start(sorted[i]!) + maxSpan >= value; i--) {
    const item = sorted[i]!;
    const s = start(item);
    if (value < s + size(item) || value === s) return item;
  }
  return undefined;
}
