/**
 * The Repositories page's report card (issue 17, with issue 16's report and catalogue) in
 * headless Chromium, against a real Glacis (API and worker) and a real remote (a local
 * directory): frozen bytes beside the disk bar, a report run from the page and followed to
 * its chart, and the data-loss alert, first on the card, naming a frozen file the remote lost.
 *
 * It drives POST /report and GET /repos/<repo>/report, which come with the report kind's
 * registry line (report branch, "Report kind in the registry…"): it passes once that is merged
 * under these commits, as the integrator does.
 */
import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RepoReport } from '../../src/tasks/kinds/report.js';
import type { ReportJson } from '../../web/src/report-json.js';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { FIXTURE_MTIME, makeRemote, tempDir, writeFixture, type TestRemote } from '../helpers/remotes.js';
import { expectAccessible, expectClean, launchChromium, photograph, watchedPage } from './browser.js';

const DAY_MS = 86_400_000;

/** The page's view of a report is the report kind's (compile time): every report it builds, the page can read. */
const pageReadsReports: (report: RepoReport) => ReportJson = (report) => report;
void pageReadsReports;

/** `size` bytes of a repeated pattern (content does not matter to a report: it reads no file). */
function blob(size: number): Buffer {
  return Buffer.alloc(size, 'glacis ');
}

/** Sets a file's last access `days` ago, its mtime left as the fixture's (what the remote holds). */
function readDaysAgo(file: string, days: number, mtime: Date = FIXTURE_MTIME): void {
  utimesSync(file, new Date(Date.now() - days * DAY_MS), mtime);
}

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe('a repository with cold, unprotected and frozen files', () => {
  let remote: TestRemote;
  let repo: string;
  let glacis: TestGlacis;
  /** Both sides hold these identically (same size, same mtime). */
  const shared = { 'data/run1.bin': blob(3 * 1024 * 1024), 'data/run2.bin': blob(1024 * 1024) };

  beforeAll(async () => {
    remote = await makeRemote('local', shared);
    repo = tempDir('web-report');
    writeFixture(repo, 'symlink', shared);
    // Read 60 days ago: cold at freeze_age 30, and the remote holds it.
    readDaysAgo(path.join(repo, 'data', 'run2.bin'), 60);
    // Cold and only here: unprotected.
    mkdirSync(path.join(repo, 'scratch'));
    writeFileSync(path.join(repo, 'scratch', 'only-here.dat'), blob(512 * 1024));
    readDaysAgo(path.join(repo, 'scratch', 'only-here.dat'), 200, new Date(Date.now() - 200 * DAY_MS));
    // Read today, only here: not frozen yet, not unprotected.
    writeFileSync(path.join(repo, 'today.txt'), 'fresh\n');
    glacis = await startGlacis({ repos: { [repo]: { ...remote.settings, freezable: true, freeze_age: 30, report_cron: '0 4 * * 0' } } });
  });
  afterAll(async () => {
    await glacis?.stop();
  });

  it('runs a report from the page and shows its chart; a frozen file the remote lost is then alerted first, by name', async () => {
    const watched = await watchedPage(browser, glacis.url);
    const { page } = watched;
    await page.goto(`${glacis.url}/`);
    const card = page.getByRole('article', { name: repo });
    await card.waitFor();
    const report = card.getByRole('region', { name: `Report of ${repo}` });
    await expect.poll(() => report.innerText()).toContain('No report yet.');
    expect(await card.innerText()).toMatch(/Reports\s+cron "0 4 \* \* 0"/);
    // Nothing frozen yet: nothing beside the disk bar.
    expect(await card.getByTestId('frozen-beside').count()).toBe(0);

    // Freeze a directory (a real freeze task): the card then shows its bytes beside the disk.
    const frozenDir = path.join(repo, 'subdir', 'subsubdir2');
    const { body: freeze } = await glacis.post('/freeze', { path: frozenDir });
    expect((await glacis.waitForTask(freeze.task)).status).toBe('finished');
    await page.reload();
    await expect.poll(() => card.getByTestId('frozen-beside').innerText().then((text) => text.trim())).toBe('18 bytes frozen (2 files, on the remote only)');

    // Run a report from the card and follow it to its chart.
    await report.getByRole('button', { name: `Run a report of ${repo}` }).click();
    const chart = report.getByRole('table', { name: /^Local data by last access/ });
    await chart.waitFor({ timeout: 60_000 });
    const rows = await chart.locator('tbody tr').allInnerTexts();
    expect(rows).toHaveLength(6);
    const row = (age: string) => rows.find((text) => text.startsWith(age)) ?? '';
    // The text alternative carries the figures: 60 days ago, 1 MiB, all of it on the remote.
    expect(row('30–90 days')).toMatch(/^30–90 days\s+1\s+1\.0 MiB\s+1\.0 MiB held by the remote$/);
    expect(row('180–365 days')).toMatch(/512 KiB\s+0 bytes held by the remote, 512 KiB not \(cold: unprotected unless excluded\)/);
    // Read lately and not on the remote (today.txt): not frozen yet, but not unprotected either.
    expect(row('< 7 days')).toMatch(/^< 7 days\s+\d+\s+\d+ bytes\s+0 bytes held by the remote, \d+ bytes not$/);
    // Unprotected bytes in the warning colour, on the chart and named below it.
    expect(await report.locator('.seg-unprotected[width]:not([width="0.00"])').count()).toBe(1);
    expect(await report.locator('.unprotected').innerText()).toMatch(/Unprotected: 1 cold file, 512 KiB[\s\S]*scratch\/only-here\.dat/);
    expect(await report.innerText()).toMatch(/Frozen\s+2 files, 18 bytes: the remote holds them all/);
    expect(await report.getByRole('alert').count()).toBe(0);
    await expectAccessible(page, 'repositories with a report');

    // The remote loses a frozen file: its only copy is gone. The next report says so, first.
    rmSync(path.join(remote.root!, 'subdir', 'subsubdir2', 'poutrelle.xml'));
    await report.getByRole('button', { name: `Run a new report of ${repo}` }).click();
    const alert = report.getByRole('alert');
    await alert.waitFor({ timeout: 60_000 });
    expect(await alert.innerText()).toMatch(/Data loss: the remote no longer holds 1 frozen file \(5 bytes\)[\s\S]*subdir\/subsubdir2\/poutrelle\.xml \(missing\)/);
    // First on the card's report: before the chart.
    const text = await report.innerText();
    expect(text.indexOf('Data loss')).toBeGreaterThanOrEqual(0);
    expect(text.indexOf('Data loss'), 'the alert precedes the chart').toBeLessThan(text.indexOf('Local data by last access'));
    expect(await report.innerText()).toMatch(/Frozen\s+2 files, 18 bytes: 1 file lost/);
    await expectAccessible(page, 'repositories with a data-loss alert');
    await photograph(page, 'report');
    expectClean(watched);
    await watched.context.close();
  }, 180_000);
});
