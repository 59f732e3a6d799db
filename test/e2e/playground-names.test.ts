/** glibc's internal functions by name in the playground (real Chromium): position line, listing, rip, stack. */
import { describe, expect, it } from 'vitest';
import { byTest, haveChromium, LONG, shot, text, watch, withPlayground } from '../support/browser.ts';

describe.skipIf(!haveChromium)('names of glibc\'s internal functions in the playground', () => {
  const ctx = withPlayground();

  it('names __mpn_extract_double (not exported) in the position line, the listing and the stack', async () => {
    const page = await ctx.browser.newPage({ viewport: { width: 1400, height: 900 } });
    const problems = watch(page);
    await page.goto(ctx.server.url);
    await byTest(page, 'function-item-snprintf').waitFor({ timeout: 60_000 });
    await byTest(page, 'run').click();
    await byTest(page, 'result').waitFor({ timeout: 60_000 });
    // snprintf("%f", 1.5) reaches printf_fp.c's helper through __vfprintf_internal and __printf_fp_l.
    await byTest(page, 'trace-search').fill('mpn_extract');
    await byTest(page, 'search-next').click();
    expect(await text(page, 'where')).toMatch(/at 0x[0-9a-f]+\s+__mpn_extract_double\b/);
    expect(await byTest(page, 'current-instruction').innerText()).toContain('__mpn_extract_double');
    // Its caller's return address on the stack, named with the offset the call returns to.
    expect(await byTest(page, 'stack-code-pointer').allInnerTexts()).toContainEqual(expect.stringMatching(/^→ __printf_fp_l\+0x[0-9a-f]+$/));
    await shot(page, 'names-internal-function');
    await byTest(page, 'stack').scrollIntoViewIfNeeded();
    await shot(page, 'names-stack');
    expect(problems).toEqual([]);
    await page.close();
  }, LONG);
});
