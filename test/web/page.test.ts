/**
 * The web page at / (issue 17) in headless Chromium, against a real Glacis (API and worker)
 * with real remotes: a slow SFTP server (so a pull's progress can be watched, and a pull
 * cancelled while it runs) and a local-directory remote for freezing.
 *
 * Every page is checked for requests leaving 127.0.0.1 (none may), console errors (none),
 * and accessibility (axe-core: no serious or critical violation), and photographed at
 * desktop size and at 360 px into test-artifacts/.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync, utimesSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TASK_KIND_NAMES, TASK_STATUSES } from '../../src/tasks/registry.js';
import { startSftp, type SftpServer } from '../harness/sftp.js';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { FIXTURE_MTIME, makeRemote, tempDir, writeFixture } from '../helpers/remotes.js';
import { writeBigFile } from '../helpers/worker-process.js';
import { expectAccessible, expectClean, launchChromium, photograph, tabTo, watchedPage } from './browser.js';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

describe('with a slow SFTP remote and a freezable local one', () => {
  let sftp: SftpServer;
  let sftpRoot: string;
  let glacis: TestGlacis;
  let slow: string;
  let cold: string;

  beforeAll(async () => {
    // 4 MB/s: a 32 MB pull shows its progress for a few seconds; a 200 MB one runs long enough to cancel.
    sftpRoot = tempDir('web-sftp');
    sftp = await startSftp({ root: sftpRoot, bwLimit: '4M' });
    writeBigFile(path.join(sftpRoot, 'remote', 'runs', 'run1', 'reads.bin'), 32, 3);
    writeFileSync(path.join(sftpRoot, 'remote', 'runs', 'run1', 'notes.txt'), 'run one\n');
    writeBigFile(path.join(sftpRoot, 'remote', 'archive', 'huge.bin'), 200, 5);
    writeFileSync(path.join(sftpRoot, 'remote', 'README.txt'), 'lab data\n');
    // Enough files for a log longer than the page's first view of it.
    mkdirSync(path.join(sftpRoot, 'remote', 'many'));
    for (let i = 0; i < 60; i++) writeFileSync(path.join(sftpRoot, 'remote', 'many', `f${String(i).padStart(2, '0')}.txt`), `file ${i}\n`);
    slow = tempDir('web-slow');
    // A directory only here: unprotected.
    mkdirSync(path.join(slow, 'scratch'));
    writeFileSync(path.join(slow, 'scratch', 'draft.txt'), 'not backed up\n');

    const freezable = await makeRemote('local');
    cold = tempDir('web-cold');
    writeFixture(cold, 'symlink');
    // A cold file the remote lacks: the dry run must say it is kept, and why.
    writeFileSync(path.join(cold, 'subdir', 'only-here.txt'), 'only here\n');
    utimesSync(path.join(cold, 'subdir', 'only-here.txt'), FIXTURE_MTIME, FIXTURE_MTIME);

    glacis = await startGlacis({
      repos: {
        [slow]: { backend: 'sftp', url: `${sftp.host}:remote`, port: sftp.port, user: sftp.user, password: sftp.password },
        // A cron schedule, not an interval: an interval's first auto-freeze would run at once
        // and freeze the tree before the test's dry run.
        [cold]: { ...freezable.settings, freezable: true, freeze_age: 30, auto_freeze: true, auto_freeze_cron: '0 3 1 1 *' },
      },
    });
  });
  afterAll(async () => {
    await glacis?.stop();
    await sftp?.stop();
    rmSync(sftpRoot, { recursive: true, force: true });
  });

  it('shows the repositories, browses one level at a time, pulls a directory and follows it to the end', async () => {
    const watched = await watchedPage(browser, glacis.url);
    const { page } = watched;
    await page.goto(`${glacis.url}/`);

    // Repositories: each with its disk bar, settings and schedule.
    await page.getByRole('heading', { level: 1, name: 'Repositories' }).waitFor();
    const slowCard = page.getByRole('article', { name: slow });
    await slowCard.waitFor();
    await expect.poll(() => slowCard.getByRole('img', { name: /^Disk usage: .* used, .* free of / }).count()).toBe(1);
    expect(await slowCard.innerText()).toMatch(/Remote\s+sftp/);
    expect(await slowCard.innerText()).toMatch(/Freeze\s+not allowed/);
    const coldCard = page.getByRole('article', { name: cold });
    expect(await coldCard.innerText()).toMatch(/files not read for 30 days/);
    expect(await coldCard.innerText()).toMatch(/Auto-freeze\s+cron "0 3 1 1 \*"/);
    expect(await page.content()).not.toContain(sftp.password);
    await expectAccessible(page, 'repositories');
    await photograph(page, 'repositories');

    // Browse: the root level, remote and local merged.
    await slowCard.getByRole('link', { name: `Browse ${slow}` }).click();
    const table = page.getByRole('table', { name: `Entries of ${slow}` });
    await table.waitFor();
    const row = (name: string) => table.getByRole('row').filter({ has: page.getByRole('checkbox', { name: `Select ${name}`, exact: true }) });
    await expect.poll(() => row('archive').innerText()).toContain('frozen (remote only)');
    expect(await row('scratch').innerText()).toContain('local only (unprotected)');
    expect(await row('README.txt').innerText()).toMatch(/frozen \(remote only\)\s+9 bytes/);
    await expectAccessible(page, 'browse');
    await photograph(page, 'browse');

    // One level down by its link, back up by the breadcrumbs.
    await table.getByRole('link', { name: 'runs/' }).click();
    const runs = page.getByRole('table', { name: `Entries of ${slow}/runs` });
    await runs.waitFor();
    const crumbs = page.getByRole('navigation', { name: 'Breadcrumb' });
    expect(await crumbs.getByRole('listitem').allInnerTexts()).toEqual([slow, 'runs']);

    // Pull one directory: select it, pull, and the task's page follows it live.
    await runs.getByRole('checkbox', { name: 'Select run1' }).check();
    await page.getByRole('button', { name: 'Pull 1 selected entry' }).click();
    await page.waitForURL(/#\/tasks\/[0-9a-f-]{36}$/);
    const taskId = decodeURIComponent(page.url().split('/').pop()!);
    await expect.poll(() => page.getByRole('heading', { level: 1 }).innerText()).toBe('Pull');
    expect(await page.locator('.path').first().innerText()).toBe(`${slow}/runs/run1`);
    // Live progress: bytes of the total, growing, with a rate.
    const shownBytes = page.getByTestId('progress-bytes');
    await shownBytes.waitFor({ timeout: 30_000 });
    expect(await shownBytes.innerText()).toMatch(/ of 32 MiB$/);
    const first = await shownBytes.innerText();
    await expect.poll(() => shownBytes.innerText(), { timeout: 30_000 }).not.toBe(first);
    expect(await page.getByRole('progressbar').count()).toBe(1);
    await expectAccessible(page, 'task (running)');
    await photograph(page, 'task-running');
    // …to the end.
    await expect.poll(() => page.locator('.status-line .badge').innerText(), { timeout: 60_000 }).toBe('finished');
    expect(await page.locator('dl.facts').last().innerText()).toMatch(/Pulled\s+2 files, 32 MiB/);
    expect(statSync(path.join(slow, 'runs', 'run1', 'reads.bin')).size).toBe(32 * 1024 * 1024);
    await expect.poll(() => page.getByRole('region', { name: 'Task log' }).or(page.getByLabel('Task log')).first().innerText()).toMatch(/reads\.bin/);
    // The link to share opens the same task.
    expect(await page.locator('.share a').getAttribute('href')).toBe(`#/tasks/${taskId}`);

    // The tasks list, newest first, filtered by type.
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Tasks' }).click();
    const tasks = page.getByRole('table', { name: 'Tasks, newest first' });
    await tasks.waitFor();
    expect(await tasks.innerText()).toContain(`${slow}/runs/run1`);
    // The filters offer every kind and status the server's registry has, none written in web/.
    await expect.poll(() => page.getByLabel('Type').locator('option').allTextContents()).toEqual(['any', ...TASK_KIND_NAMES]);
    await expect.poll(() => page.getByLabel('Status').locator('option').allTextContents()).toEqual(['any', ...TASK_STATUSES]);
    await page.getByLabel('Type').selectOption('freeze');
    await expect.poll(() => page.getByText('No task matches these filters.').count()).toBe(1);
    await page.getByLabel('Type').selectOption('pull');
    await tasks.waitFor();
    await expectAccessible(page, 'tasks');
    await photograph(page, 'tasks');

    // Back in the directory: now local.
    await page.goto(`${glacis.url}/#/browse?path=${encodeURIComponent(`${slow}/runs`)}`);
    await expect.poll(() => page.getByRole('table', { name: `Entries of ${slow}/runs` }).getByRole('row', { name: /run1/ }).innerText()).toContain('local');
    expectClean(watched);
    await watched.context.close();
  }, 180_000);

  it('freezes only after a dry run that shows what would be freed and what kept, and why', async () => {
    const watched = await watchedPage(browser, glacis.url);
    const { page } = watched;
    const dir = path.join(cold, 'subdir');
    await page.goto(`${glacis.url}/#/browse?path=${encodeURIComponent(dir)}`);
    await page.getByRole('table', { name: `Entries of ${dir}` }).waitFor();
    // By keyboard alone: Tab to the button, Enter; then Tab from the report to its confirmation.
    await tabTo(page, 'Freeze this directory…');
    await page.keyboard.press('Enter');

    const review = page.getByRole('region', { name: 'Freeze: dry run' });
    await review.getByRole('button', { name: 'Confirm freeze' }).waitFor({ timeout: 45_000 });
    const text = await review.innerText();
    expect(text).toMatch(/Would free 31 bytes in 4 files\./);
    expect(text).toMatch(/1 cold file is kept because the remote does not hold it/);
    expect(text).toMatch(/1 file kept: missing on the remote/);
    expect(text).toContain('subdir/subsubdir2/poutrelle.xml (5 bytes)');
    expect(text).toContain('subdir/only-here.txt: missing on the remote');
    // Nothing deleted by the dry run.
    expect(existsSync(path.join(dir, 'subfile.txt'))).toBe(true);
    await expectAccessible(page, 'freeze review');
    await photograph(page, 'freeze-review');

    await tabTo(page, 'Confirm freeze');
    await page.keyboard.press('Enter');
    await page.waitForURL(/#\/tasks\/[0-9a-f-]{36}$/);
    await expect.poll(() => page.locator('.status-line .badge').innerText(), { timeout: 45_000 }).toBe('finished');
    await expect.poll(() => page.locator('.freeze-report .summary').innerText()).toMatch(/Freed 31 bytes in 4 files/);
    expect(existsSync(path.join(dir, 'subfile.txt'))).toBe(false);
    expect(existsSync(path.join(dir, 'only-here.txt'))).toBe(true);
    expect(existsSync(path.join(cold, 'file1.txt'))).toBe(true);
    // The tasks: the dry run, then the freeze.
    const listed = (await glacis.get(`/tasks?type=freeze&path=${encodeURIComponent(dir)}`)).body as { dry_run: boolean; status: string }[];
    expect(listed.map((t) => [t.dry_run, t.status])).toEqual([[true, 'finished'], [false, 'finished']]);
    expectClean(watched);
    await watched.context.close();
  }, 120_000);

  it('shows the end of a task\'s log, then earlier lines on demand', async () => {
    const watched = await watchedPage(browser, glacis.url);
    const { page } = watched;
    const { body } = await glacis.post('/pull', { path: path.join(slow, 'many') });
    await glacis.waitForTask(body.task);
    await page.goto(`${glacis.url}/#/tasks/${body.task}`);
    const log = page.getByLabel('Task log');
    await log.waitFor();
    const full = ((await glacis.get(`/tasks/log/${body.task}`)).body.logs as string).split('\n').filter(Boolean);
    expect(full.length).toBeGreaterThan(60);
    // The last 40 lines…
    expect((await log.innerText()).split('\n')).toEqual(full.slice(-40));
    // …then the earlier ones.
    await page.getByRole('button', { name: `Show earlier lines (${full.length - 40} more)` }).click();
    await expect.poll(async () => (await log.innerText()).split('\n')).toEqual(full);
    expect(await page.getByRole('button', { name: /Show earlier lines/ }).count()).toBe(0);
    // Newest first in the tasks list: this pull before the earlier test's.
    await page.goto(`${glacis.url}/#/tasks?type=pull`);
    const rows = page.getByRole('table', { name: 'Tasks, newest first' }).locator('tbody tr');
    await rows.first().waitFor();
    const paths = await rows.locator('td.path').allInnerTexts();
    expect(paths[0]).toBe(path.join(slow, 'many'));
    expect(paths).toContain(path.join(slow, 'runs', 'run1'));
    expectClean(watched);
    await watched.context.close();
  });

  it('cancels a running pull from its page', async () => {
    const watched = await watchedPage(browser, glacis.url);
    const { page } = watched;
    await page.goto(`${glacis.url}/#/browse?path=${encodeURIComponent(slow)}`);
    const table = page.getByRole('table', { name: `Entries of ${slow}` });
    await table.getByRole('checkbox', { name: 'Select archive' }).check();
    await page.getByRole('button', { name: 'Pull 1 selected entry' }).click();
    await page.waitForURL(/#\/tasks\/[0-9a-f-]{36}$/);
    const taskId = decodeURIComponent(page.url().split('/').pop()!);
    await page.getByTestId('progress-bytes').waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Cancel task' }).click();
    await expect.poll(() => page.locator('.status-line .badge').innerText(), { timeout: 30_000 }).toBe('cancelled');
    expect(await page.getByRole('button', { name: 'Cancel task' }).count()).toBe(0);
    expect((await glacis.get(`/tasks/status/${taskId}`)).body.status).toBe('cancelled');
    // Nothing left under the final name: an interrupted pull never leaves a truncated file.
    expect(existsSync(path.join(slow, 'archive', 'huge.bin'))).toBe(false);
    await expectAccessible(page, 'task (cancelled)');
    // Its link, opened in another tab, shows the same task.
    const shared = await watchedPage(browser, glacis.url);
    await shared.page.goto(`${glacis.url}/${await page.locator('.share a').getAttribute('href')}`);
    await expect.poll(() => shared.page.locator('.status-line .badge').innerText()).toBe('cancelled');
    expect(await shared.page.locator('.path').first().innerText()).toBe(path.join(slow, 'archive'));
    expectClean(shared);
    await shared.context.close();

    // Retry: a new task, same type and path, on its own page; cancelled again here.
    await page.getByRole('button', { name: 'Retry' }).click();
    await page.waitForURL((url) => /#\/tasks\/[0-9a-f-]{36}$/.test(url.hash) && !url.hash.endsWith(taskId));
    const retried = decodeURIComponent(page.url().split('/').pop()!);
    expect((await glacis.get(`/tasks/status/${retried}`)).body).toMatchObject({ type: 'pull', path: path.join(slow, 'archive') });
    await page.getByRole('button', { name: 'Cancel task' }).click();
    await expect.poll(() => page.locator('.status-line .badge').innerText(), { timeout: 30_000 }).toBe('cancelled');
    expectClean(watched);
    await watched.context.close();
  }, 90_000);
});

describe('with API tokens', () => {
  const token = randomBytes(24).toString('hex');
  let glacis: TestGlacis;
  let local: string;

  beforeAll(async () => {
    const remote = await makeRemote('local');
    local = tempDir('web-auth');
    glacis = await startGlacis({ repos: { [local]: remote.settings }, worker: false, env: { API_TOKENS: token } });
  });
  afterAll(async () => {
    await glacis?.stop();
  });

  it('asks for the token once, keeps it for the tab, sends it as bearer and never in a URL; refuses a wrong one', async () => {
    const watched = await watchedPage(browser, glacis.url);
    const { page } = watched;
    const urls: string[] = [];
    const bearers: (string | undefined)[] = [];
    page.on('request', (request) => {
      urls.push(request.url());
      if (request.url().endsWith('/repos')) bearers.push(request.headers().authorization);
    });
    await page.goto(`${glacis.url}/#/repos`);
    // Refused without a token: the page asks for one (no browser dialog: no basic challenge).
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    await expectAccessible(page, 'sign-in');
    await photograph(page, 'signin');
    await page.getByLabel('API token').fill(`${token}x`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').innerText()).toBe('This token was refused.');

    // By keyboard: the field has the focus; type, Enter.
    await page.getByLabel('API token').fill('');
    await page.keyboard.type(token);
    await page.keyboard.press('Enter');
    await page.getByRole('article', { name: local }).waitFor();
    expect(bearers.at(-1)).toBe(`Bearer ${token}`);
    // Kept for the tab: a reload needs no new sign-in.
    await page.reload();
    await page.getByRole('article', { name: local }).waitFor();
    expect(await page.getByRole('heading', { name: 'Sign in' }).count()).toBe(0);
    expect(urls.some((url) => url.includes(token))).toBe(false);
    expect(await page.evaluate('document.cookie')).toBe('');
    // Signing out forgets it.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();
    expect(await page.evaluate('sessionStorage.length')).toBe(0);

    // Another tab's storage is its own: asked again.
    const other = await watchedPage(browser, glacis.url);
    await other.page.goto(`${glacis.url}/#/repos`);
    await other.page.getByRole('heading', { level: 1, name: 'Sign in' }).waitFor();

    // The only console errors are the browser's notes of the refused requests (401).
    for (const w of [watched, other]) {
      expect(w.outside).toEqual([]);
      expect(w.errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
      await w.context.close();
    }
  }, 90_000);
});
