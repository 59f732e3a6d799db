/**
 * The playground's layout on the screens students have (1280×720 and 1400×900 laptops, an 800 px window), in real
 * Chromium: after Run the current instruction's full text is visible inside the listing, stepping keeps it there,
 * and in Lessons the step's text and its Next button are on screen. Screenshots of each size go to
 * test-results/playground/layout-<w>x<h>*.png for review.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { byTest, haveChromium, LONG, shot, stepValue, watch, withPlayground } from '../support/browser.ts';

const SIZES = [
  { width: 1280, height: 720 },
  { width: 1400, height: 900 },
  { width: 800, height: 900 },
];

interface RowView {
  /** The instruction's text as shown. */
  text: string;
  /** Its own width (the nowrap code) and the width of the cell that shows it. */
  codeWidth: number;
  cellWidth: number;
  /** Problems: each says which edge of which box the row crosses. */
  problems: string[];
}

/** Where the current instruction row sits: inside its cell, inside the listing's visible box and the viewport. */
async function currentRow(page: Page): Promise<RowView> {
  return page.evaluate(() => {
    const row = document.querySelector<HTMLElement>('[data-testid="current-instruction"]');
    const list = document.querySelector<HTMLElement>('[data-testid="disassembly"]');
    if (!row || !list) return { text: '', codeWidth: 0, cellWidth: 0, problems: ['no current instruction row'] };
    const code = row.querySelector<HTMLElement>('.code')!;
    const cell = row.querySelector<HTMLElement>('.text')!;
    const r = row.getBoundingClientRect();
    const c = code.getBoundingClientRect();
    const t = cell.getBoundingClientRect();
    const l = list.getBoundingClientRect();
    // The listing's visible box: its border box less its scroll bars.
    const visible = { left: l.left + list.clientLeft, top: l.top + list.clientTop, right: l.left + list.clientLeft + list.clientWidth, bottom: l.top + list.clientTop + list.clientHeight };
    const problems: string[] = [];
    const inside = (what: string, a: DOMRect, b: { left: number; top: number; right: number; bottom: number }, where: string) => {
      if (a.left < b.left - 0.5) problems.push(`${what} starts left of ${where} (${a.left} < ${b.left})`);
      if (a.right > b.right + 0.5) problems.push(`${what} ends right of ${where} (${a.right} > ${b.right})`);
      if (a.top < b.top - 0.5) problems.push(`${what} is above ${where} (${a.top} < ${b.top})`);
      if (a.bottom > b.bottom + 0.5) problems.push(`${what} is below ${where} (${a.bottom} > ${b.bottom})`);
    };
    inside('the instruction text', c, t, 'its cell');
    inside('the instruction text', c, visible, 'the listing');
    inside('the current row', r, { ...visible, left: -Infinity, right: Infinity }, 'the listing');
    inside('the instruction text', c, { left: 0, top: 0, right: innerWidth, bottom: innerHeight }, 'the viewport');
    if (code.scrollWidth > code.clientWidth + 1 && code.clientWidth > 0) problems.push('the instruction text is clipped');
    return { text: code.innerText, codeWidth: c.width, cellWidth: t.width, problems };
  });
}

/** Which edges of the viewport an element crosses (empty when it is fully on screen). */
async function offScreen(page: Page, testid: string): Promise<string[]> {
  return byTest(page, testid).first().evaluate((el) => {
    const b = el.getBoundingClientRect();
    const out: string[] = [];
    if (b.width === 0 || b.height === 0) out.push('not rendered');
    if (b.top < 0) out.push(`top ${b.top}`);
    if (b.left < 0) out.push(`left ${b.left}`);
    if (b.bottom > innerHeight) out.push(`bottom ${b.bottom} > ${innerHeight}`);
    if (b.right > innerWidth) out.push(`right ${b.right} > ${innerWidth}`);
    return out;
  });
}

describe.skipIf(!haveChromium)('playground layout in Chromium', () => {
  const ctx = withPlayground();

  for (const size of SIZES) {
    const name = `layout-${size.width}x${size.height}`;
    it(`${size.width}×${size.height}: the current instruction is readable and in view after Run and 50 steps; the lesson and its Next are on screen`, async () => {
      const page = await ctx.browser.newPage({ viewport: size });
      const problems = watch(page);
      await page.goto(ctx.server.url);
      await byTest(page, 'function-item-snprintf').waitFor({ timeout: 60_000 });
      await byTest(page, 'run').click();
      await byTest(page, 'result').waitFor({ timeout: 60_000 });
      await byTest(page, 'current-instruction').waitFor();

      const first = await currentRow(page);
      expect(first.text.trim()).not.toBe('');
      expect(first.problems, `after Run: ${first.text}`).toEqual([]);
      await shot(page, `${name}-run`);

      // Step 50 instructions: every row the stepper lands on is readable and in view.
      const start = await stepValue(page);
      const seen = new Set<string>();
      for (let i = 1; i <= 50; i++) {
        await page.keyboard.press('s');
        const row = await currentRow(page);
        seen.add(row.text);
        expect(row.problems, `step ${start + i}: ${row.text}`).toEqual([]);
      }
      expect(await stepValue(page)).toBe(start + 50);
      expect(seen.size).toBeGreaterThan(10);
      await shot(page, `${name}-step-50`);

      // Lessons: the step's text and its Next button are on screen, before and after going to the next step.
      await byTest(page, 'mode-lessons').click();
      const item = page.locator('[data-testid^="lesson-item-"]').first();
      await item.waitFor({ timeout: 60_000 });
      await item.click();
      await byTest(page, 'lesson-view').waitFor({ timeout: 60_000 });
      expect(await offScreen(page, 'lesson-step-title')).toEqual([]);
      expect(await offScreen(page, 'lesson-text')).toEqual([]);
      expect(await offScreen(page, 'lesson-next')).toEqual([]);
      await byTest(page, 'lesson-next').click();
      await byTest(page, 'lesson-position').filter({ hasText: /^2 \// }).waitFor();
      expect(await offScreen(page, 'lesson-text')).toEqual([]);
      expect(await offScreen(page, 'lesson-next')).toEqual([]);
      await shot(page, `${name}-lesson`);
      expect(problems).toEqual([]);
      await page.close();
    }, LONG);
  }
});
