/**
 * Shared pieces of the playground's browser tests: Debian's Chromium driven by playwright-core, a watch on the page's
 * console, waiting helpers, and screenshots into test-results/playground/ (gitignored).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { startPlayground, type Playground } from '../../src/playground/server.ts';

export const CHROMIUM = '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`playground browser tests skipped: ${CHROMIUM} is not installed (apt-get install -y chromium)`);

export const ROOT = new URL('../../', import.meta.url).pathname;
export const SHOTS = join(ROOT, 'test-results/playground');
export const LONG = 120_000;

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

/** Console errors and uncaught page errors, collected per page. */
export function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  return problems;
}

export async function eventually<T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean, timeout = 30_000): Promise<T> {
  const until = Date.now() + timeout;
  let last: T | undefined;
  for (;;) {
    last = await probe();
    if (ok(last)) return last;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const byTest = (page: Page, id: string) => page.locator(`[data-testid="${id}"]`);
export const text = (page: Page, id: string) => byTest(page, id).first().innerText();
export const stepValue = async (page: Page) => Number(await text(page, 'step-value'));

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

/** A playground server and a Chromium for one describe block, started before its tests and stopped after them. */
export function withPlayground(): { server: Playground; browser: Browser } {
  const ctx = {} as { server: Playground; browser: Browser };
  beforeAll(async () => {
    // Lessons recorded afresh (not from the disk cache): the browser tests watch the notice shown while they record.
    ctx.server = await startPlayground({ port: 0, lessonCache: false });
    ctx.browser = await launchChromium();
  }, LONG);
  afterAll(async () => {
    await ctx.browser?.close();
    await ctx.server?.close();
  });
  return ctx;
}
