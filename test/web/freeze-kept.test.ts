/**
 * The web page shows a freeze's files under their whole names: it reads the task's events
 * (`GET /tasks/events`), not its log's lines. It parsed `kept <file>: <why>` with a regular
 * expression, so a file named `a: b.txt` kept by a freeze was shown as the file `a`, kept
 * because "b.txt: it was read or changed while the freeze ran".
 *
 * Real parts: a real Glacis (API and worker), a real SFTP remote, headless Chromium. The file is
 * changed while the freeze runs by the rclone Glacis runs: a wrapper around the real rclone
 * that, when the freeze asks the remote again for the files it is about to delete (`lsjson
 * --files-from-raw=-`, after its judgement), first changes the local file's mtime, as a user
 * writing to it at that moment would. The freeze must then keep it (`changed-locally`).
 */
import { chmodSync, existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { FIXTURE_MTIME, makeRemote, tempDir } from '../helpers/remotes.js';
import { expectAccessible, expectClean, launchChromium, watchedPage } from './browser.js';

const KEPT = 'a: b.txt';
const FREED = 'c.txt';
const FILES = { [`runs/${KEPT}`]: 'changed while freezing\n', [`runs/${FREED}`]: 'safe\n' };

let browser: Browser;
let glacis: TestGlacis;
let local: string;

/** The real rclone, but the first re-check of files before deletion first touches `file`. */
function rcloneTouchingOnRecheck(file: string): string {
  const dir = tempDir('rclone-wrapper');
  const marker = path.join(dir, 'touched');
  const wrapper = path.join(dir, 'rclone');
  const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  writeFileSync(
    wrapper,
    [
      '#!/bin/sh',
      'recheck=no; listing=no',
      'for arg in "$@"; do',
      '  [ "$arg" = "--files-from-raw=-" ] && recheck=yes',
      '  [ "$arg" = "lsjson" ] && listing=yes',
      'done',
      `if [ $recheck = yes ] && [ $listing = yes ] && [ ! -e ${quote(marker)} ]; then`,
      `  : > ${quote(marker)}`,
      `  touch -m -d @1600000000 ${quote(file)}`,
      'fi',
      'exec /usr/bin/rclone "$@"',
      '',
    ].join('\n'),
  );
  chmodSync(wrapper, 0o755);
  return wrapper;
}

beforeAll(async () => {
  browser = await launchChromium();
  const remote = await makeRemote('sftp', FILES);
  local = tempDir('web-kept');
  for (const [name, content] of Object.entries(FILES)) {
    mkdirSync(path.dirname(path.join(local, name)), { recursive: true });
    writeFileSync(path.join(local, name), content);
    utimesSync(path.join(local, name), FIXTURE_MTIME, FIXTURE_MTIME);
  }
  glacis = await startGlacis({
    repos: { [local]: { ...remote.settings, freezable: true, freeze_age: 30 } },
    env: { RCLONE_EXECUTABLE: rcloneTouchingOnRecheck(path.join(local, 'runs', KEPT)) },
  });
}, 120_000);
afterAll(async () => {
  await glacis?.stop();
  await browser?.close();
});

it('shows a file named "a: b.txt" that a freeze kept under its whole name, with why', async () => {
  const watched = await watchedPage(browser, glacis.url);
  const { page } = watched;
  const dir = path.join(local, 'runs');
  await page.goto(`${glacis.url}/#/browse?path=${encodeURIComponent(dir)}`);
  await page.getByRole('table', { name: `Entries of ${dir}` }).waitFor();
  await page.getByRole('button', { name: 'Freeze this directory…' }).click();

  // The dry run: both would be freed, each under its whole name.
  const review = page.getByRole('region', { name: 'Freeze: dry run' });
  await review.getByRole('button', { name: 'Confirm freeze' }).waitFor({ timeout: 60_000 });
  const wouldFree = review.getByRole('list', { name: 'Files that would be freed' }).locator('.file');
  expect((await wouldFree.allInnerTexts()).sort()).toEqual([`runs/${KEPT}`, `runs/${FREED}`]);

  await review.getByRole('button', { name: 'Confirm freeze' }).click();
  await page.waitForURL(/#\/tasks\/[0-9a-f-]{36}$/);
  await expect.poll(() => page.locator('.status-line .badge').innerText(), { timeout: 60_000 }).toBe('finished');
  const report = page.locator('.freeze-report');
  await expect.poll(() => report.locator('.summary').innerText()).toMatch(/Freed 5 bytes in 1 file\./);
  const kept = report.getByRole('list', { name: 'Files kept' });
  await kept.waitFor({ timeout: 30_000 });
  expect(await kept.locator('.file').allInnerTexts()).toEqual([`runs/${KEPT}`]);
  expect(await kept.innerText()).toBe(`runs/${KEPT}: it was read or changed while the freeze ran`);
  expect(await report.getByRole('list', { name: 'Kept, by reason' }).innerText()).toBe('1 file kept: it was read or changed while the freeze ran');
  expect(await report.getByRole('list', { name: 'Files freed' }).locator('.file').allInnerTexts()).toEqual([`runs/${FREED}`]);
  // What the page says is what happened.
  expect(existsSync(path.join(dir, KEPT))).toBe(true);
  expect(existsSync(path.join(dir, FREED))).toBe(false);
  await expectAccessible(page, 'freeze with a kept file');
  expectClean(watched);
  await watched.context.close();
}, 180_000);
