/**
 * Accessibility of the playground in real Chromium: axe-core (injected into the page) finds no serious or critical
 * problem in Explore (after a run, with a "why" open and the help shown) or in Lessons; and a keyboard alone picks
 * strlen from the function list, runs it and steps back.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { axeFindings } from '../support/axe.ts';
import { byTest, eventually, haveChromium, LONG, shot, stepValue, text, watch, withPlayground } from '../support/browser.ts';

/** Presses Tab until the focused element's data-testid matches (at most `limit` times); returns that testid. */
async function tabTo(page: Page, want: RegExp, limit = 40): Promise<string> {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press('Tab');
    const id = await page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? '');
    if (want.test(id)) return id;
  }
  throw new Error(`${limit} presses of Tab did not reach ${want}`);
}

const focused = (page: Page) => page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? '');

describe.skipIf(!haveChromium)('playground accessibility in Chromium', () => {
  const ctx = withPlayground();

  it('axe-core: no serious or critical findings in Explore and Lessons, at 1400×900 and 800×900', async () => {
    for (const viewport of [{ width: 1400, height: 900 }, { width: 800, height: 900 }]) {
      const page = await ctx.browser.newPage({ viewport });
      const problems = watch(page);
      await page.goto(ctx.server.url);
      await byTest(page, 'function-item-snprintf').waitFor({ timeout: 60_000 });
      await byTest(page, 'plan-row-0').waitFor({ timeout: 60_000 });
      expect(await axeFindings(page), 'explore, before a run').toEqual([]);
      await byTest(page, 'run').click();
      await byTest(page, 'result').waitFor({ timeout: 60_000 });
      await byTest(page, 'why-arg-0').click();
      await byTest(page, 'why-detail-arg-0').waitFor();
      for (let i = 0; i < 20; i++) await page.keyboard.press('s');
      await byTest(page, 'help').click();
      await byTest(page, 'help-popover').waitFor();
      expect(await axeFindings(page), 'explore, after a run').toEqual([]);
      await shot(page, `a11y-explore-${viewport.width}`);
      await page.keyboard.press('Escape');
      await byTest(page, 'mode-lessons').click();
      const item = page.locator('[data-testid^="lesson-item-"]').first();
      await item.waitFor({ timeout: 60_000 });
      await item.click();
      await byTest(page, 'lesson-view').waitFor({ timeout: 60_000 });
      await byTest(page, 'lesson-dot-1').click();
      await byTest(page, 'lesson-position').filter({ hasText: /^2 \// }).waitFor();
      expect(await axeFindings(page), 'lessons').toEqual([]);
      expect(problems).toEqual([]);
      await page.close();
    }
  }, LONG);

  it('keyboard only: pick strlen from the list, run it, step forward and back', async () => {
    const page = await ctx.browser.newPage({ viewport: { width: 1280, height: 720 } });
    const problems = watch(page);
    await page.goto(ctx.server.url);
    await byTest(page, 'function-item-snprintf').waitFor({ timeout: 60_000 });
    // The page has one h1, and the help button is named for what it does.
    expect(await page.locator('h1').count()).toBe(1);
    expect(await byTest(page, 'help').getAttribute('aria-label')).toBe('Keyboard shortcuts');

    await tabTo(page, /^function-search$/);
    await page.keyboard.type('strlen');
    await byTest(page, 'function-item-strlen').waitFor();
    await eventually('the list filtered to str…', () => page.locator('[data-testid^="function-item-"]').count(), (n) => n < 30);
    // Tab enters the list once, at its first item; ↓ walks it to strlen.
    const entered = await tabTo(page, /^function-item-/);
    let at = entered;
    for (let i = 0; i < 30 && at !== 'function-item-strlen'; i++) {
      await page.keyboard.press('ArrowDown');
      at = await focused(page);
    }
    expect(at).toBe('function-item-strlen');
    await page.keyboard.press('Enter');
    await eventually('strlen picked', () => byTest(page, 'prototype').inputValue(), (v) => /\bstrlen\s*\(/.test(v));
    expect(await byTest(page, 'function-item-strlen').getAttribute('aria-current')).toBe('true');
    await eventually('the strlen plan', () => text(page, 'plan-row-0'), (t) => t.includes('rdi'));

    // Out of the list with one Tab (not one per function), on to Run.
    await tabTo(page, /^run$/, 12);
    await page.keyboard.press('Enter');
    await byTest(page, 'result').waitFor({ timeout: 60_000 });
    expect(await text(page, 'return-value')).toBe(String('hello, world'.length));
    const start = await stepValue(page);
    for (let i = 0; i < 6; i++) await page.keyboard.press('s');
    expect(await stepValue(page)).toBe(start + 6);
    await page.keyboard.press('b');
    await page.keyboard.press('ArrowLeft');
    expect(await stepValue(page)).toBe(start + 4);
    // The stepper's own buttons work from the keyboard too.
    await tabTo(page, /^step-back$/);
    await page.keyboard.press('Enter');
    expect(await stepValue(page)).toBe(start + 3);
    // The focus ring is visible on the focused button.
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).not.toBe('none');
    await shot(page, 'a11y-keyboard-strlen');
    expect(problems).toEqual([]);
    await page.close();
  }, LONG);
});
