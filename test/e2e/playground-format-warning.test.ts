/**
 * The host printf check in the playground, in real Chromium: snprintf with `%f` and an `int:` argument shows the
 * printf-format warning beside the result (the API answer carries it), and it goes when the argument is a double.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { byTest, eventually, haveChromium, LONG, shot, text, watch, withPlayground } from '../support/browser.ts';

async function run(page: Page): Promise<void> {
  await byTest(page, 'run').click();
  await eventually('the run to finish', () => byTest(page, 'run').innerText(), (t) => !t.includes('Running'), 60_000);
}

describe.skipIf(!haveChromium)('the printf format warning in Chromium', () => {
  const ctx = withPlayground();

  it('snprintf("%f", int:1) shows a printf-format warning naming the argument and the conversion', async () => {
    const page = await ctx.browser.newPage({ viewport: { width: 1400, height: 900 } });
    const problems = watch(page);
    await page.goto(ctx.server.url);
    await byTest(page, 'function-item-snprintf').waitFor({ timeout: 60_000 });
    await byTest(page, 'variadic-type-0').selectOption('int');
    await byTest(page, 'variadic-value-0').fill('1');
    await run(page);
    await byTest(page, 'format-warning').first().waitFor();
    expect(await text(page, 'format-warning')).toContain("argument 4 (variadic #1) is an int, but the format's conversion %f reads a double");
    await shot(page, 'format-warning');
    await byTest(page, 'variadic-type-0').selectOption('double');
    await byTest(page, 'variadic-value-0').fill('1.5');
    await run(page);
    expect(await text(page, 'return-value')).toBe('8');
    expect(await byTest(page, 'format-warning').count()).toBe(0);
    expect(problems).toEqual([]);
    await page.close();
  }, LONG);
});
