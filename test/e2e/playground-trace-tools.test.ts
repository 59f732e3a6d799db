/** gdb-like tools on a recorded trace, in real Chromium: search (/), breakpoints on functions and addresses, continue both ways. */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { byTest, eventually, haveChromium, LONG, shot, stepValue, text, watch, withPlayground } from '../support/browser.ts';

/** The pc and function the "where" line shows. */
async function where(page: Page): Promise<{ pc: string; fn: string }> {
  const line = await text(page, 'where');
  const m = /at (0x[0-9a-f]+)\s*(\S*)/.exec(line);
  return { pc: m?.[1] ?? '', fn: m?.[2] ?? '' };
}

/** To step 0 with the toolbar (its button is disabled when already there). */
async function toStart(page: Page): Promise<void> {
  if (await byTest(page, 'step-start').isEnabled()) await byTest(page, 'step-start').click();
  expect(await stepValue(page)).toBe(0);
}

describe.skipIf(!haveChromium)('playground trace tools in Chromium', () => {
  const ctx = withPlayground();

  it('finds instructions and functions, and continues to breakpoints forward and back', async () => {
    const page = await ctx.browser.newPage({ viewport: { width: 1400, height: 900 } });
    const problems = watch(page);
    await page.goto(ctx.server.url);
    await byTest(page, 'function-item-snprintf').waitFor({ timeout: 60_000 });
    await byTest(page, 'run').click();
    await byTest(page, 'result').waitFor({ timeout: 60_000 });

    // Search: / focuses the box; Enter finds the next match, Shift+Enter the previous one.
    await toStart(page);
    await page.keyboard.press('/');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('trace-search');
    await page.keyboard.type('test al, al');
    await page.keyboard.press('Enter');
    expect(await byTest(page, 'current-instruction').innerText()).toContain('test al, al');
    expect((await where(page)).fn).toMatch(/^snprintf\+/);
    const found = await stepValue(page);
    await page.keyboard.press('Shift+Enter');
    expect(await stepValue(page)).toBe(found);
    expect(await text(page, 'trace-tools-note')).toContain('no earlier instruction matches');
    await byTest(page, 'trace-search').fill('xsputn');
    await byTest(page, 'search-next').click();
    expect((await where(page)).fn).toContain('_IO_default_xsputn');
    // A breakpoint on a function: continue stops at its first instruction, reverse-continue comes back.
    await byTest(page, 'breakpoint-input').fill('nosuchfunction');
    await byTest(page, 'breakpoint-add').click();
    expect(await text(page, 'trace-tools-note')).toContain('no function "nosuchfunction" in this trace');
    await byTest(page, 'breakpoint-input').fill('_IO_default_xsputn');
    await byTest(page, 'breakpoint-add').click();
    expect(await byTest(page, 'breakpoint').count()).toBe(1);
    await toStart(page);
    await byTest(page, 'continue').click();
    const first = await stepValue(page);
    expect(first).toBeGreaterThan(0);
    expect((await where(page)).fn).toBe('_IO_default_xsputn');
    await byTest(page, 'step-end').click();
    await byTest(page, 'continue-back').click();
    const last = await stepValue(page);
    expect(last).toBeGreaterThanOrEqual(first);
    expect((await where(page)).fn).toBe('_IO_default_xsputn');
    await shot(page, 'trace-tools-breakpoint');
    // A breakpoint on an address, and the c key.
    await toStart(page);
    for (let i = 0; i < 3; i++) await page.keyboard.press('PageDown');
    expect(await stepValue(page)).toBe(30);
    const { pc } = await where(page);
    await byTest(page, 'breakpoint-input').fill(pc);
    await byTest(page, 'breakpoint-add').click();
    await toStart(page);
    await page.keyboard.press('c');
    await eventually('the address breakpoint', () => where(page), (w) => w.pc === pc || w.fn === '_IO_default_xsputn');
    expect((await where(page)).pc).toBe(pc);
    expect(await stepValue(page)).toBeLessThanOrEqual(30);
    expect(await text(page, 'trace-tools-note')).toContain(`breakpoint ${pc}`);
    expect(problems).toEqual([]);
    await page.close();
  }, LONG);
});
