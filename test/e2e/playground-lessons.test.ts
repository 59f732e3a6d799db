/**
 * Lessons on the live server, in real Chromium: a ?lesson=&step= link opens the step at the instruction its text
 * discusses (highlighted as the current row), the address bar follows the steps, and a lesson being recorded for
 * the first time says so; the calling-convention lessons ask first ("predict, then reveal", answered by keyboard)
 * and then open at the gcc-compiled callee's instruction that answers.
 */
import { describe, expect, it } from 'vitest';
import { axeFindings } from '../support/axe.ts';
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
    // The step asks what %al will be: the trace waits at the call's start until the answer is shown.
    await eventually('the call\'s first instruction', () => byTest(page, 'current-instruction').innerText(), (t) => t.includes('push rbp'));
    await byTest(page, 'predict-show').click();
    await eventually('the trampoline\'s mov eax, 1', () => byTest(page, 'current-instruction').innerText(), (t) => t.includes('mov eax, 1'));
    expect(new URL(page.url()).search).toBe('?lesson=varargs-al&step=1');
    expect(problems).toEqual([]);
    await page.close();
  }, LONG);

  it('i386 conventions: predict stdcall\'s ret by keyboard, then fastcall\'s third argument; Win64\'s shadow space in memory', async () => {
    const page = await ctx.browser.newPage({ viewport: { width: 1400, height: 900 } });
    const problems = watch(page);
    await page.goto(`${ctx.server.url}?lesson=i386-conventions&step=2`);
    await byTest(page, 'lesson-view').waitFor({ timeout: 90_000 });
    expect(await text(page, 'lesson-step-title')).toBe('stdcall: the callee pops');
    // The question comes first; the text, and the instruction that answers it, wait for the answer.
    await byTest(page, 'predict').waitFor();
    await eventually('the call\'s first instruction', () => byTest(page, 'current-instruction').innerText(), (t) => t.includes('push ebp'));
    expect(await text(page, 'lesson-text')).toContain('Answer the question above');
    expect(await axeFindings(page), 'a question').toEqual([]);
    await byTest(page, 'predict-choice-0').focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    expect(await byTest(page, 'predict-choice-2').isChecked()).toBe(true);
    await page.keyboard.press('Enter');
    await eventually('the verdict', () => text(page, 'predict-result'), (t) => t.startsWith('Right.'));
    await eventually('stdcall\'s ret 0xc highlighted', () => byTest(page, 'current-instruction').innerText(), (t) => t.includes('ret 0xc'));
    expect(await text(page, 'predict-result')).toContain('3 ints × 4 bytes = 12 = 0xc');
    expect(await text(page, 'lesson-text')).toContain('it returns with ret 0xc');
    expect(await axeFindings(page), 'a revealed answer').toEqual([]);
    await shot(page, 'lesson-predict-stdcall');

    // A wrong pick is shown as such, with the right answer and why.
    await byTest(page, 'lesson-next').click();
    await eventually('fastcall', () => text(page, 'lesson-step-title'), (t) => t.startsWith('fastcall'));
    await byTest(page, 'predict-choice-0').check();
    await byTest(page, 'predict-check').click();
    await eventually('the verdict', () => text(page, 'predict-result'), (t) => t.startsWith('Not quite.'));
    await eventually('fastcall\'s imul ecx', () => byTest(page, 'current-instruction').innerText(), (t) => t.includes('imul ecx, ecx, 0x64'));
    expect(await text(page, 'predict-result')).toContain('It is on the stack, at [esp+4].');
    // Back: the stdcall answer stays revealed.
    await byTest(page, 'lesson-prev').click();
    await eventually('stdcall again', () => text(page, 'lesson-step-title'), (t) => t === 'stdcall: the callee pops');
    expect(await text(page, 'predict-result')).toMatch(/^Right\./);
    await eventually('straight at ret 0xc', () => byTest(page, 'current-instruction').innerText(), (t) => t.includes('ret 0xc'));

    // Win64: d sits at [rsp+0x28] above the shadow space — shown in the memory view at the pointed instruction.
    await page.goto(`${ctx.server.url}?lesson=win64-vs-sysv&step=3`);
    await byTest(page, 'lesson-view').waitFor({ timeout: 90_000 });
    await byTest(page, 'predict-show').click();
    await eventually('mix_ms reads d', () => byTest(page, 'current-instruction').innerText(), (t) => t.includes('cvtsi2sd xmm1, qword ptr [rsp + 0x28]'));
    expect(await text(page, 'predict-result')).toMatch(/^Answer: It is \[rsp\+0x28\]\./);
    await byTest(page, 'memory-address').fill('rsp + 0x28, 8');
    await byTest(page, 'memory-address').press('Enter');
    expect((await byTest(page, 'memory-hex').first().innerText()).slice(0, 23)).toBe('07 00 00 00 00 00 00 00');
    await shot(page, 'lesson-win64-shadow-space');
    expect(problems).toEqual([]);
    await page.close();
  }, LONG);
});
