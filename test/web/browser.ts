/**
 * What the web page's browser tests share (test/web/*.test.ts): headless Chromium as Debian
 * ships it, a page whose requests leaving the server and console errors are recorded,
 * axe-core run in the page, screenshots at desktop size and 360 px, keyboard navigation.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = path.resolve('test-artifacts');
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
export const DESKTOP = { width: 1280, height: 860 };
export const PHONE = { width: 360, height: 780 };

/** Headless Chromium as Debian ships it; a missing browser fails the test, it never skips it. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium) to run the web page's tests`);
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}

/** The one answer the page expects to be a 404 at times: a repository's latest report. */
const NO_REPORT_YET = /\/repos\/[^/]+\/report$/;

/** A page whose requests outside the server, console errors and page errors are recorded. */
export interface Watched {
  readonly page: Page;
  readonly context: BrowserContext;
  readonly outside: string[];
  readonly errors: string[];
}

export async function watchedPage(browser: Browser, base: string, viewport = DESKTOP): Promise<Watched> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const outside: string[] = [];
  const errors: string[] = [];
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(`${base}/`) || url === base) return route.continue();
    outside.push(url);
    return route.abort();
  });
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    // A repository with no report yet answers 404 (the API's way to say "none"), which the page
    // shows as "No report yet"; Chromium notes every 4xx answer in the console all the same.
    if (/status of 404/.test(message.text()) && NO_REPORT_YET.test(message.location().url)) return;
    errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  return { page, context, outside, errors };
}

/** Nothing asked outside 127.0.0.1, nothing logged as an error. */
export function expectClean(watched: Watched): void {
  expect(watched.outside, 'requests leaving the server').toEqual([]);
  expect(watched.errors, 'console errors').toEqual([]);
}

/** axe-core in the page (evaluated, as the page's CSP admits no injected script): no serious or critical violation. */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  await page.evaluate(AXE_SOURCE);
  // A string: this file is compiled without the DOM's types.
  const violations = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((result) =>
    result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) })))`)) as {
    id: string;
    impact: string;
    help: string;
    targets: string[];
  }[];
  const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious, `${what}: ${JSON.stringify(serious, null, 1)}`).toEqual([]);
}

/** The page at desktop size and at 360 px, full length, into test-artifacts/web-<name>-{desktop,360}.png. */
export async function photograph(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  for (const [label, viewport] of [['desktop', DESKTOP], ['360', PHONE]] as const) {
    await page.setViewportSize(viewport);
    const file = path.join(ARTIFACTS, `web-${name}-${label}.png`);
    rmSync(file, { force: true });
    await page.screenshot({ path: file, fullPage: true });
    expect(statSync(file).size).toBeGreaterThan(0);
    // Readable at 360 px: nothing wider than the screen but the tables' own scrolling regions.
    if (label === '360') {
      const overflow = (await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')) as number;
      expect(overflow, `${name} scrolls sideways at 360 px`).toBeLessThanOrEqual(0);
    }
  }
  await page.setViewportSize(DESKTOP);
}

/** Presses Tab until the focused element's accessible text is `name` (keyboard use, no mouse). */
export async function tabTo(page: Page, name: string): Promise<void> {
  const focused = `(() => { const e = document.activeElement; return e ? (e.getAttribute('aria-label') || e.textContent || '').trim() : ''; })()`;
  for (let presses = 0; presses < 60; presses++) {
    if ((await page.evaluate(focused)) === name) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached "${name}"; focus is on "${String(await page.evaluate(focused))}"`);
}
