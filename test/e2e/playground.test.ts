/**
 * Browser tests of the playground (web/): the scenario in Debian's Chromium, driven by playwright-core.
 * Skipped, with the reason, when /usr/bin/chromium is not installed (CI installs it: .ci/run).
 *
 * Screenshots go to test-results/playground/ (gitignored); with UPDATE_SCREENSHOTS=1 the README's
 * docs/playground.png is written too.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { byTest, eventually, haveChromium, LONG, ROOT, shot, stepValue, text, watch, withPlayground } from '../support/browser.ts';

const UPDATE_DOCS = process.env.UPDATE_SCREENSHOTS === '1';

describe.skipIf(!haveChromium)('playground in Chromium', () => {
  const ctx = withPlayground();

  async function openPage(url: string): Promise<{ page: Page; problems: string[] }> {
    const page = await ctx.browser.newPage({ viewport: { width: 1600, height: 1000 } });
    const problems = watch(page);
    await page.goto(url);
    return { page, problems };
  }

  async function chooseSnprintf(page: Page, arch: 'amd64' | 'i386'): Promise<void> {
    await byTest(page, 'arch-select').selectOption(arch);
    await byTest(page, 'function-search').fill('snprintf');
    await byTest(page, 'function-item-snprintf').click();
    await byTest(page, 'arg-0').fill('out:64');
    await byTest(page, 'arg-1').fill('64');
    await byTest(page, 'arg-2').fill('%f');
    if ((await byTest(page, 'variadic-type-0').count()) === 0) await byTest(page, 'add-variadic').click();
    await byTest(page, 'variadic-type-0').selectOption('double');
    await byTest(page, 'variadic-value-0').fill('1.5');
  }

  async function run(page: Page): Promise<void> {
    await byTest(page, 'run').click();
    await byTest(page, 'result').waitFor({ timeout: 60_000 });
    await byTest(page, 'register-rip').or(byTest(page, 'register-eip')).first().waitFor();
  }

  it('snprintf("%f", 1.5) on amd64 and i386: plan, run, step 50, step back 10, run to return', async () => {
    const { page, problems } = await openPage(ctx.server.url);
    await byTest(page, 'function-item-snprintf').waitFor({ timeout: 60_000 });
    await chooseSnprintf(page, 'amd64');

    // The plan: arg 4 (the variadic double) in xmm0, and %al = 1.
    await eventually('the amd64 plan', () => text(page, 'plan-row-3'), (t) => t.includes('xmm0'));
    expect(await text(page, 'plan-row-3')).toMatch(/arg 4[\s\S]*double[\s\S]*xmm0/);
    expect(await text(page, 'plan-al')).toContain('%al = 1');
    await shot(page, '01-amd64-plan');

    await run(page);
    const start = await stepValue(page);
    for (let i = 0; i < 20; i++) await page.keyboard.press('ArrowRight');
    for (let i = 0; i < 10; i++) await page.keyboard.press('s');
    for (let i = 0; i < 10; i++) await byTest(page, 'step-forward').click();
    expect(await stepValue(page)).toBe(start + 40);
    const registersAt40 = await text(page, 'registers');
    for (let i = 0; i < 10; i++) await byTest(page, 'step-forward').click();
    expect(await stepValue(page)).toBe(start + 50);
    const registersAt50 = await text(page, 'registers');
    expect(registersAt50).not.toBe(registersAt40);
    await shot(page, '02-amd64-step-50');

    for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowLeft');
    for (let i = 0; i < 3; i++) await page.keyboard.press('b');
    for (let i = 0; i < 3; i++) await byTest(page, 'step-back').click();
    expect(await stepValue(page)).toBe(start + 40);
    expect(await text(page, 'registers')).toBe(registersAt40);
    // The argument registers are labelled from the CallSpec.
    expect(await text(page, 'register-xmm0')).toContain('arg 4 double');
    await shot(page, '03-amd64-back-to-40');

    // Run to return (out of every frame), until the output buffer holds the result.
    for (let i = 0; i < 12 && !(await text(page, 'where')).includes('trampoline: storing'); i++) {
      await byTest(page, 'run-to-return').click();
    }
    expect(await text(page, 'where')).toContain('trampoline: storing the result');
    expect(await text(page, 'out-0')).toContain('"1.500000"');
    expect(await text(page, 'live-0')).toContain('"1.500000"');
    expect(await text(page, 'return-value')).toBe('8');
    expect(await text(page, 'abi-report')).toContain('ABI clean');
    await byTest(page, 'abi-ok').waitFor();
    await shot(page, '04-amd64-returned');

    // i386: the double goes on the stack.
    await byTest(page, 'arch-select').selectOption('i386');
    await eventually('the i386 plan', () => text(page, 'plan-row-3'), (t) => t.includes('stack'));
    expect(await text(page, 'plan-row-3')).toMatch(/arg 4[\s\S]*double[\s\S]*stack\+12/);
    expect(await byTest(page, 'plan-al').count()).toBe(0);
    await run(page);
    await byTest(page, 'step-entry').click();
    expect(await text(page, 'stack')).toContain('arg 4 double');
    expect(await text(page, 'stack')).toContain('return address');
    const i386Start = await stepValue(page);
    for (let i = 0; i < 5; i++) await page.keyboard.press('s');
    expect(await stepValue(page)).toBe(i386Start + 5);
    await page.keyboard.press('b');
    expect(await stepValue(page)).toBe(i386Start + 4);
    await shot(page, '05-i386-stack');
    await page.keyboard.press('r');
    expect(await text(page, 'out-0')).toContain('"1.500000"');
    expect(await text(page, 'abi-report')).toContain('ABI clean');

    if (UPDATE_DOCS) {
      await byTest(page, 'arch-select').selectOption('amd64');
      await run(page);
      await byTest(page, 'step-entry').click();
      for (let i = 0; i < 12; i++) await page.keyboard.press('s');
      await byTest(page, 'why-arg-3').click();
      await page.setViewportSize({ width: 1600, height: 1000 });
      mkdirSync(join(ROOT, 'docs'), { recursive: true });
      await page.screenshot({ path: join(ROOT, 'docs/playground.png') });
    }
    expect(problems).toEqual([]);
    await page.close();
  }, LONG);

  it('uploads a shared object of the user\'s, takes a typed prototype and runs it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shimulator-e2e-upload-'));
    try {
      writeFileSync(join(dir, 'add3.c'), 'int add3(int a, int b, int c) { return a + b + c; }\n');
      execFileSync('gcc', ['-m32', '-shared', '-fPIC', '-o', join(dir, 'libadd3.so'), join(dir, 'add3.c')]);
      const { page, problems } = await openPage(ctx.server.url);
      await byTest(page, 'function-item-snprintf').waitFor({ timeout: 60_000 });
      await byTest(page, 'upload-input').setInputFiles(join(dir, 'libadd3.so'));
      await byTest(page, 'upload-info').waitFor();
      expect(await text(page, 'upload-info')).toContain('libadd3.so');
      expect(await byTest(page, 'function-item-add3').getAttribute('data-kind')).toBe('uploaded');
      expect(await byTest(page, 'function-item-snprintf').count()).toBe(0);
      expect(await byTest(page, 'arch-select').inputValue()).toBe('i386');
      await byTest(page, 'prototype').fill('int add3(int a, int b, int c)');
      await eventually('the typed prototype\'s plan', () => text(page, 'plan-row-2'), (t) => t.includes('stack+8'));
      await byTest(page, 'arg-0').fill('1');
      await byTest(page, 'arg-1').fill('2');
      await byTest(page, 'arg-2').fill('39');
      await shot(page, '06-upload-plan');
      await run(page);
      expect(await text(page, 'return-value')).toBe('42');
      expect(await text(page, 'abi-report')).toContain('ABI clean');
      await shot(page, '07-upload-run');
      await byTest(page, 'upload-close').click();
      await byTest(page, 'function-item-snprintf').waitFor();
      expect(problems).toEqual([]);
      await page.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, LONG);

  it('compare mode: the same call on i386 and amd64, plans side by side, stepping either', async () => {
    const { page, problems } = await openPage(ctx.server.url);
    await byTest(page, 'function-item-snprintf').waitFor({ timeout: 60_000 });
    await chooseSnprintf(page, 'amd64');
    await byTest(page, 'arch-select').selectOption('both');
    const row = (arch: string) => byTest(page, `compare-${arch}`).locator('[data-testid="plan-row-3"]').innerText();
    await eventually('both plans', () => Promise.all([row('amd64'), row('i386')]), ([a, i]) => a.includes('xmm0') && i.includes('stack'));
    expect(await row('amd64')).toMatch(/arg 4[\s\S]*double[\s\S]*xmm0/);
    expect(await row('i386')).toMatch(/arg 4[\s\S]*double[\s\S]*stack\+12/);
    await byTest(page, 'run').click();
    await byTest(page, 'compare-result-amd64').waitFor({ timeout: 60_000 });
    await byTest(page, 'compare-result-i386').waitFor();
    expect(await text(page, 'compare-return-amd64')).toBe('8');
    expect(await text(page, 'compare-return-i386')).toBe('8');
    expect(await text(page, 'compare-abi-amd64')).toContain('ABI clean');
    expect(await text(page, 'compare-abi-i386')).toContain('ABI clean');
    await byTest(page, 'register-rip').waitFor();
    await shot(page, '08-compare-amd64');
    await byTest(page, 'compare-tab-i386').click();
    await byTest(page, 'register-eip').waitFor();
    await byTest(page, 'step-entry').click();
    expect(await text(page, 'stack')).toContain('arg 4 double');
    await shot(page, '09-compare-i386');
    expect(problems).toEqual([]);
    await page.close();
  }, LONG);

  it('shows API errors in the banner, not the console', async () => {
    const { page, problems } = await openPage(ctx.server.url);
    await byTest(page, 'function-item-snprintf').waitFor({ timeout: 60_000 });
    await byTest(page, 'prototype').fill('int nosuchfunction_xyz(int a)');
    await byTest(page, 'arg-0').fill('1').catch(() => undefined);
    await byTest(page, 'run').click();
    await byTest(page, 'error-banner').waitFor({ timeout: 60_000 });
    expect(await text(page, 'error-banner')).toMatch(/nosuchfunction_xyz/);
    await byTest(page, 'error-dismiss').click();
    expect(await byTest(page, 'error-banner').count()).toBe(0);
    // Chromium itself logs every 4xx response ("Failed to load resource"); the page must log nothing else.
    expect(problems.filter((p) => !/Failed to load resource: .* 400/.test(p))).toEqual([]);
    await page.close();
  }, LONG);

  it('lessons: open a lesson, go to the next step and back', async () => {
    const { page, problems } = await openPage(ctx.server.url);
    await byTest(page, 'mode-lessons').click();
    const first = page.locator('[data-testid^="lesson-item-"]').first();
    await first.waitFor({ timeout: 60_000 });
    await first.click();
    await byTest(page, 'lesson-view').waitFor({ timeout: 60_000 });
    const total = Number((await text(page, 'lesson-position')).split('/')[1]);
    expect(await text(page, 'lesson-position')).toBe(`1 / ${total}`);
    const title1 = await text(page, 'lesson-step-title');
    await shot(page, '06-lesson-step-1');
    if (total > 1) {
      await byTest(page, 'lesson-next').click();
      await eventually('step 2', () => text(page, 'lesson-position'), (t) => t === `2 / ${total}`);
      expect(await text(page, 'lesson-step-title')).not.toBe(title1);
      await shot(page, '07-lesson-step-2');
      await byTest(page, 'lesson-prev').click();
      await eventually('step 1 again', () => text(page, 'lesson-position'), (t) => t === `1 / ${total}`);
      expect(await text(page, 'lesson-step-title')).toBe(title1);
    }
    expect(problems).toEqual([]);
    await page.close();
  }, LONG);

  it('an exported lesson site works without the API', async () => {
    const { exportLesson } = await import('../../src/playground/export.ts');
    const dir = mkdtempSync(join(tmpdir(), 'shimulator-export-'));
    let site: Server | undefined;
    try {
      await exportLesson('all', dir);
      site = createServer((req, res) => {
        const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
        let file = join(dir, path);
        if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
        if (!file.startsWith(dir) || !existsSync(file)) {
          res.writeHead(404).end('not found');
          return;
        }
        const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json', '.png': 'image/png', '.svg': 'image/svg+xml' };
        res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
      });
      await new Promise<void>((resolve) => site!.listen(0, '127.0.0.1', resolve));
      const port = (site.address() as { port: number }).port;
      const page = await ctx.browser.newPage({ viewport: { width: 1600, height: 1000 } });
      const problems = watch(page);
      const apiRequests: string[] = [];
      page.on('request', (r) => {
        if (new URL(r.url()).pathname.startsWith('/api/')) apiRequests.push(r.url());
      });
      await page.goto(`http://127.0.0.1:${port}/`);
      const first = page.locator('[data-testid^="lesson-item-"]').first();
      await first.waitFor({ timeout: 30_000 });
      await first.click();
      await byTest(page, 'lesson-view').waitFor();
      // Find a step with a recording (the stepper has a trace), moving forward through the lesson.
      for (let i = 0; i < 10 && (await byTest(page, 'register-rip').or(byTest(page, 'register-eip')).count()) === 0; i++) {
        if (await byTest(page, 'lesson-next').isDisabled()) break;
        await byTest(page, 'lesson-next').click();
        await page.waitForTimeout(300);
      }
      await byTest(page, 'register-rip').or(byTest(page, 'register-eip')).first().waitFor({ timeout: 30_000 });
      const before = await stepValue(page);
      for (let i = 0; i < 5; i++) await byTest(page, 'step-forward').click();
      expect(await stepValue(page)).toBe(before + 5);
      for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowLeft');
      expect(await stepValue(page)).toBe(before + 2);
      await shot(page, '08-static-export');
      expect(apiRequests).toEqual([]);
      expect(problems).toEqual([]);
      await page.close();
    } finally {
      site?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, LONG);
});
