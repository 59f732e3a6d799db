/**
 * Lessons on the live server, in real Chromium: a ?lesson=&step= link opens the step at the instruction its text
 * discusses (highlighted as the current row), the address bar follows the steps, and a lesson being recorded for
 * the first time says so.
 */
import { describe, expect, it } from 'vitest';
import { byTest, eventually, haveChromium, LONG, shot, text, watch, withPlayground } from '../support/browser.ts';

describe.skipIf(!haveChromium)('playground lessons in Chromium', () => {
  const ctx = withPlayground();

  it('?lesson=errno-tls&step=2 opens at the store to errno; Next goes to call gs:[0x10] and updates the link', async () => {
    const page = await ctx.browser.newPage({ viewport: { width: 1280, height: 720 } });
    const problems = watch(page);
    await page.goto(`${ctx.server.url}?lesson=errno-tls&step=2`);
    await byTest(page, 'lesson-view').waitFor({ timeout: 90_000 });
    expect(await byTest(page, 'mode-lessons').getAttribute('aria-pressed')).toBe('true');
    await eventually('step 2', () => text(page, 'lesson-position'), (t) => t === '2 / 4');
    expect(await text(page, 'lesson-step-title')).toBe('The errno store is a TLS write');
    await eventually('the errno store highlighted', () => byTest(page, 'current-instruction').innerText(), (t) => t.includes('mov dword ptr fs:[rdx], eax'));
    await shot(page, 'lesson-deep-link');

    await byTest(page, 'lesson-next').click();
    await eventually('step 3 at call gs:[0x10]', () => byTest(page, 'current-instruction').innerText(), (t) => t.includes('call dword ptr gs:[0x10]'));
    expect(new URL(page.url()).search).toBe('?lesson=errno-tls&step=3');
    expect(problems).toEqual([]);
    await page.close();
  }, LONG);

  it('opening a lesson for the first time shows that its calls are being recorded', async () => {
    const page = await ctx.browser.newPage({ viewport: { width: 1280, height: 720 } });
    const problems = watch(page);
    await page.goto(ctx.server.url);
    await byTest(page, 'mode-lessons').click();
    await byTest(page, 'lesson-item-varargs-al').click();
    await eventually('the recording notice', () => byTest(page, 'lesson-status').innerText(), (t) => t.includes('Opening “Varargs and %al”: recording its calls'), 10_000);
    expect(await page.locator('.lessons').getAttribute('aria-busy')).toBe('true');
    await byTest(page, 'lesson-view').waitFor({ timeout: 90_000 });
    await eventually('the notice to go', () => byTest(page, 'lesson-status').innerText(), (t) => t.trim() === '');
    expect(await page.locator('.lessons').getAttribute('aria-busy')).toBe('false');
    await eventually('the trampoline\'s mov eax, 1', () => byTest(page, 'current-instruction').innerText(), (t) => t.includes('mov eax, 1'));
    expect(new URL(page.url()).search).toBe('?lesson=varargs-al&step=1');
    expect(problems).toEqual([]);
    await page.close();
  }, LONG);
});
