/**
 * The memory view and "run to" in real Chromium: snprintf's buffer as it was at each step (forward and back), run
 * to the next and previous write of it with the button and the w / W keys, errno shown though snprintf never touches
 * it, run to the next call and return; axe-core clean with the view open.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { axeFindings } from '../support/axe.ts';
import { byTest, eventually, haveChromium, LONG, shot, stepValue, text, watch, withPlayground } from '../support/browser.ts';

const rowHex = (page: Page, row = 0) => byTest(page, 'memory-hex').nth(row).innerText();
const rowAscii = (page: Page, row = 0) => byTest(page, 'memory-ascii').nth(row).innerText();

/** Types an expression into the memory view and submits it with Enter. */
async function showMemory(page: Page, expression: string): Promise<void> {
  await byTest(page, 'memory-address').fill(expression);
  await byTest(page, 'memory-address').press('Enter');
}

describe.skipIf(!haveChromium)('playground memory view in Chromium', () => {
  const ctx = withPlayground();

  it('shows snprintf\'s buffer at every step and runs to each write of it, forward and back; errno; calls and returns', async () => {
    const page = await ctx.browser.newPage({ viewport: { width: 1400, height: 900 } });
    const problems = watch(page);
    await page.goto(ctx.server.url);
    await byTest(page, 'function-item-snprintf').waitFor({ timeout: 60_000 });
    await byTest(page, 'run').click(); // snprintf(out:64, 64, "%f", 1.5)
    await byTest(page, 'result').waitFor({ timeout: 60_000 });
    await page.keyboard.press('Home');
    expect(await stepValue(page)).toBe(0);

    await showMemory(page, 'str'); // the catalog's prototype: snprintf(char *str, size_t size, const char *format, ...)
    await byTest(page, 'memory-table').waitFor();
    expect(await text(page, 'memory-note')).toMatch(/^str = 0x[0-9a-f]+ \(watching 1 byte\)$/);
    expect(await rowHex(page)).toBe(Array(8).fill('00').join(' ')); // out:64 is zeroed by the host
    // Run to each write of str[0] (the first ones store its NUL) until one changes it: the view stops right after
    // the store, marks the stored byte, and names the instruction.
    let m: RegExpExecArray | null = null;
    for (let i = 0; i < 20 && (await rowHex(page)).startsWith('00'); i++) {
      await byTest(page, 'memory-next-write').click();
      const note = await text(page, 'memory-note');
      m = /^str written by `(.+)` at step (\d+) /.exec(note);
      expect(m, note).not.toBeNull();
      expect(await stepValue(page)).toBe(Number(m![2]) + 1);
      expect(await byTest(page, 'memory-hex').first().locator('.written').count()).toBeGreaterThan(0);
    }
    const after = await rowHex(page);
    expect(after.slice(0, 2)).toBe('31'); // '1' of "1.500000"
    // Stepping back undoes it in the view.
    await page.keyboard.press('ArrowLeft');
    expect(await stepValue(page)).toBe(Number(m![2]));
    expect((await rowHex(page)).slice(0, 2)).toBe('00');
    await page.keyboard.press('ArrowRight');
    expect(await rowHex(page)).toBe(after);
    // Watching the first 16 bytes, w runs on to the next writes until the text is complete; W goes back one write.
    await showMemory(page, 'str, 16');
    expect(await text(page, 'memory-note')).toMatch(/\(watching 16 bytes\)$/);
    await byTest(page, 'memory-next-write').focus();
    const stops: number[] = [await stepValue(page)];
    for (let i = 0; i < 40 && !(await text(page, 'memory-note')).startsWith('no later write'); i++) {
      await page.keyboard.press('w');
      stops.push(await stepValue(page));
    }
    expect(await text(page, 'memory-note')).toBe('no later write of str');
    const moves = stops.slice(0, -1); // the last press found nothing and stayed
    expect(moves.every((step, i) => i === 0 || step > moves[i - 1]!)).toBe(true);
    expect([await rowAscii(page), await rowAscii(page, 1)]).toEqual(['1.500000', '........']); // the text, its NUL, the zeroed rest
    await shot(page, 'memory-view-buf');
    await page.keyboard.press('W');
    expect(await stepValue(page)).toBeLessThan(moves.at(-1)!);
    expect(await text(page, 'memory-note')).toMatch(/^str written by `.+` at step \d+ /);

    // errno: known (recorded for the view), never written by snprintf.
    await showMemory(page, 'errno');
    expect(await text(page, 'memory-note')).toMatch(/^errno = 0x[0-9a-f]+ \(watching 4 bytes\)$/);
    expect((await rowHex(page)).slice(0, 11)).toMatch(/^[0-9a-f]{2}( [0-9a-f]{2}){3}$/);
    await byTest(page, 'memory-next-write').click();
    expect(await text(page, 'memory-note')).toBe('no later write of errno');
    await showMemory(page, 'nosuch');
    expect(await text(page, 'memory-note')).toContain('"nosuch" is not an address, errno, a register, an argument (str, size, format), or a global or function this call touched');

    // Run to the next call (snprintf's entry) and the next return.
    await byTest(page, 'step-start').click();
    await byTest(page, 'next-call').click();
    expect(await text(page, 'trace-tools-note')).toMatch(/^call: entered snprintf at step \d+$/);
    expect(await text(page, 'where')).toContain('snprintf');
    await byTest(page, 'next-return').click();
    expect(await text(page, 'trace-tools-note')).toMatch(/^return: back in \S+ at step \d+$/);
    await eventually('the step after a ret', () => stepValue(page), (v) => v > 0);
    expect(await axeFindings(page)).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  }, LONG);
});
