/**
 * Honest state in the playground, in real Chromium: what is on screen belongs to the current input and step — a
 * failed call replaces the last call's trace with its own (up to the fault), errors go when the input is fixed,
 * the argument rows follow a typed prototype, bad out:N sizes are refused, and argument labels show only while true.
 */
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { byTest, eventually, haveChromium, LONG, shot, stepValue, text, watch, withPlayground } from '../support/browser.ts';

async function pick(page: Page, name: string): Promise<void> {
  await byTest(page, 'function-search').fill(name);
  await byTest(page, `function-item-${name}`).click();
  await eventually(`${name} picked`, () => byTest(page, 'prototype').inputValue(), (v) => v.includes(`${name}(`));
}

async function run(page: Page): Promise<void> {
  await byTest(page, 'run').click();
  await eventually('the run to finish', () => byTest(page, 'run').innerText(), (t) => !t.includes('Running'), 60_000);
}

const count = (page: Page, id: string) => byTest(page, id).count();

describe.skipIf(!haveChromium)('playground state in Chromium', () => {
  const ctx = withPlayground();

  it('a faulting call replaces the last result with its own trace to the fault; fixing the input clears the banner', async () => {
    const page = await ctx.browser.newPage({ viewport: { width: 1400, height: 900 } });
    const problems = watch(page);
    await page.goto(ctx.server.url);
    await byTest(page, 'function-item-snprintf').waitFor({ timeout: 60_000 });
    await run(page);
    expect(await text(page, 'return-value')).toBe('8');
    expect(await count(page, 'out-0')).toBe(1);

    await pick(page, 'strlen');
    await byTest(page, 'arg-0').fill('ptr:16');
    await run(page);
    await byTest(page, 'error-banner').waitFor();
    expect(await text(page, 'error-banner')).toMatch(/guest fault/);
    // snprintf's result is gone; strlen's recording is there, stopped at the faulting instruction inside strlen.
    expect(await count(page, 'return-value')).toBe(0);
    expect(await count(page, 'out-0')).toBe(0);
    expect(await text(page, 'fault')).toContain('strlen(…) did not return');
    expect(await text(page, 'fault-message')).toMatch(/guest fault/);
    const total = Number((await text(page, 'step-counter')).split('/')[1]);
    expect(total).toBeGreaterThan(5);
    expect(await stepValue(page)).toBe(total - 1);
    expect(await text(page, 'where')).toMatch(/strlen|inside strlen/);
    await shot(page, 'state-fault');

    // Fixing the argument makes a plan again: the banner goes.
    await byTest(page, 'arg-0').fill('hello');
    await eventually('the banner to clear', () => count(page, 'error-banner'), (n) => n === 0);
    await run(page);
    expect(await text(page, 'return-value')).toBe('5');
    expect(problems.filter((p) => !/Failed to load resource: .* 400/.test(p))).toEqual([]);
    await page.close();
  }, LONG);

  it('argument rows follow a typed prototype; out:abc and out:-5 are refused with what to write', async () => {
    const page = await ctx.browser.newPage({ viewport: { width: 1400, height: 900 } });
    const problems = watch(page);
    await page.goto(ctx.server.url);
    await byTest(page, 'function-item-snprintf').waitFor({ timeout: 60_000 });
    await byTest(page, 'variadic-type-0').waitFor();

    for (const bad of ['out:abc', 'out:-5']) {
      await byTest(page, 'arg-0').fill(bad);
      await eventually(`the banner about ${bad}`, () => byTest(page, 'error-banner').allInnerTexts(), (t) => t.some((x) => x.includes(`"${bad}" is not an out-buffer size; write out:N`)));
    }
    await byTest(page, 'arg-0').fill('out:64');
    await eventually('the banner to clear', () => count(page, 'error-banner'), (n) => n === 0);

    // snprintf's four rows (three fixed, one variadic) give way to strlen's one.
    await byTest(page, 'prototype').fill('unsigned long strlen(const char *s)');
    await eventually('one argument row', () => page.locator('[data-testid^="arg-"]').count(), (n) => n === 1);
    expect(await count(page, 'variadic-type-0')).toBe(0);
    expect(await count(page, 'add-variadic')).toBe(0);
    await eventually('the strlen plan', () => text(page, 'plan-row-0'), (t) => t.includes('rdi'));
    expect(await count(page, 'plan-row-1')).toBe(0);
    expect(await count(page, 'error-banner')).toBe(0);
    expect(await byTest(page, 'arg-0').inputValue()).toBe('hello');
    await run(page);
    expect(await text(page, 'return-value')).toBe('5');
    expect(problems.filter((p) => !/Failed to load resource: .* 400/.test(p))).toEqual([]);
    await page.close();
  }, LONG);

  it('argument labels only while true; the short why of a double return is the SSE rule', async () => {
    const page = await ctx.browser.newPage({ viewport: { width: 1400, height: 900 } });
    const problems = watch(page);
    await page.goto(ctx.server.url);
    await byTest(page, 'function-item-snprintf').waitFor({ timeout: 60_000 });
    await run(page);
    await page.keyboard.press('Home');
    expect(await stepValue(page)).toBe(0);
    expect(await text(page, 'register-rax')).not.toContain('%al = 1');
    expect(await text(page, 'registers')).not.toContain('arg 4 double');
    await page.keyboard.press('e');
    expect(await text(page, 'register-rax')).toContain('%al = 1');
    expect(await text(page, 'register-xmm0')).toContain('arg 4 double');
    expect(await text(page, 'register-rdi')).toContain('arg 1');
    expect(await text(page, 'stack')).toContain('return address');
    await page.keyboard.press('End');
    expect(await text(page, 'registers')).not.toContain('%al = 1');
    expect(await text(page, 'registers')).not.toContain('arg 4 double');

    await pick(page, 'strtod');
    await eventually('the strtod plan', () => text(page, 'plan-return'), (t) => t.includes('xmm0'));
    expect(await text(page, 'why-return')).toMatch(/^Class SSE → xmm0/);
    expect(await text(page, 'why-return')).not.toContain('INTEGER');
    expect(problems).toEqual([]);
    await page.close();
  }, LONG);
});
