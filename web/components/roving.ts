/**
 * One tab stop for a list of buttons (the function list, the lessons): Tab enters the list at its current item,
 * ↑/↓ (and Home/End) move between items, Enter or Space picks one — the WAI-ARIA "roving tabindex" pattern.
 */

/** The tabindex of item `i` of a list whose current item is `current` (the first when none is). */
export function rovingTabIndex(i: number, current: number): string {
  return i === (current < 0 ? 0 : current) ? '0' : '-1';
}

/** keydown on the list's container: moves the focus between its `button[data-roving]` items. */
export function onRovingKey(e: KeyboardEvent): void {
  const moves: Record<string, (i: number, n: number) => number> = {
    ArrowDown: (i, n) => Math.min(n - 1, i + 1),
    ArrowUp: (i) => Math.max(0, i - 1),
    Home: () => 0,
    End: (_, n) => n - 1,
  };
  const move = moves[e.key];
  if (!move) return;
  const items = [...(e.currentTarget as HTMLElement).querySelectorAll<HTMLButtonElement>('button[data-roving]')];
  if (!items.length) return;
  const at = items.indexOf(document.activeElement as HTMLButtonElement);
  const next = items[move(at < 0 ? 0 : at, items.length)]!;
  for (const item of items) item.tabIndex = item === next ? 0 : -1;
  next.focus();
  // The page's own shortcuts (Home/End seek the trace) must not also act.
  e.preventDefault();
  e.stopPropagation();
}
