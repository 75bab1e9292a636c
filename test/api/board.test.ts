/**
 * Bull Board at /admin/queues: the page and its assets served under that path, its JSON
 * API listing Glacis's queues read-only, and (in headless Chromium) a slow pull's job
 * showing its progress while it runs.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterEach, expect, it } from 'vitest';
import { BOARD_PATH, BOARD_POLL_SECONDS } from '../../src/api/board.js';
import { TASK_QUEUE_NAME } from '../../src/queue/task-queue.js';
import { AUTO_FREEZE_QUEUE_NAME } from '../../src/schedule/auto-freeze.js';
import { AUTO_PUSH_QUEUE_NAME } from '../../src/schedule/auto-push.js';
import { HOUSEKEEPING_QUEUE_NAME } from '../../src/schedule/housekeeping.js';
import { REPORT_SCHEDULE_QUEUE_NAME } from '../../src/schedule/report.js';
import { startSftp, type SftpServer } from '../harness/sftp.js';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { makeRemote, tempDir } from '../helpers/remotes.js';
import { until, writeBigFile } from '../helpers/worker-process.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.resolve('test-artifacts');

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function glacisFor(repos: Record<string, unknown>, worker = true, env: NodeJS.ProcessEnv = {}): Promise<TestGlacis> {
  const glacis = await startGlacis({ repos, worker, env });
  cleanups.push(() => glacis.stop());
  return glacis;
}

async function getJson(url: string): Promise<{ status: number; body: any }> {
  const response = await fetch(url);
  return { status: response.status, body: await response.json() };
}

it('serves the board, its assets and its JSON API under /admin/queues, read-only', async () => {
  const remote = await makeRemote('local');
  const local = tempDir('board-repo');
  const glacis = await glacisFor({ [local]: remote.settings }, false);
  const board = glacis.url + BOARD_PATH;

  const page = await fetch(board);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toMatch(/^text\/html/);
  expect(page.headers.get('x-powered-by')).toBeNull();
  const html = await page.text();
  expect(html).toContain(`<base href="${BOARD_PATH}/" />`);
  expect(html).toContain('<title>Glacis queues</title>');
  // Nothing fetched from outside: bull-board's Google Fonts link is taken out.
  expect(html).not.toMatch(/fonts\.(googleapis|gstatic)\.com/);
  expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);
  // The open page refreshes every BOARD_POLL_SECONDS (2 s), whatever the user's saved setting.
  const uiConfig = JSON.parse(/<script id="__UI_CONFIG__" type="application\/json">(.*?)<\/script>/s.exec(html)![1]!);
  expect(uiConfig.pollingInterval).toEqual({ forceInterval: BOARD_POLL_SECONDS, showSetting: false });
  expect(BOARD_POLL_SECONDS).toBeLessThanOrEqual(2);
  // Every script and stylesheet the page names is served below the board's path.
  const assets = [...html.matchAll(/(?:src|href)="(static\/[^"]+)"/g)].map((m) => m[1]!);
  expect(assets.filter((a) => a.endsWith('.js')).length).toBeGreaterThan(0);
  expect(assets.filter((a) => a.endsWith('.css')).length).toBeGreaterThan(0);
  for (const asset of assets) {
    const response = await fetch(`${board}/${asset}`);
    expect(response.status, asset).toBe(200);
    const type = response.headers.get('content-type') ?? '';
    if (asset.endsWith('.js')) expect(type, asset).toMatch(/javascript/);
    if (asset.endsWith('.css')) expect(type, asset).toMatch(/^text\/css/);
    expect((await response.arrayBuffer()).byteLength, asset).toBeGreaterThan(0);
  }
  // The page's client-side routes answer with the page too (a reload on a queue view works).
  expect((await fetch(`${board}/queue/${TASK_QUEUE_NAME}`)).status).toBe(200);

  // A task waiting (no worker): its job is listed with what it is.
  const { body } = await glacis.post('/pull', { path: path.join(local, 'subdir') });
  const taskId: string = body.task;
  const listed = await getJson(`${board}/api/queues?activeQueue=${TASK_QUEUE_NAME}&status=waiting`);
  expect(listed.status).toBe(200);
  const queues: any[] = listed.body.queues;
  expect(queues.map((q) => q.name).sort()).toEqual([AUTO_FREEZE_QUEUE_NAME, AUTO_PUSH_QUEUE_NAME, HOUSEKEEPING_QUEUE_NAME, REPORT_SCHEDULE_QUEUE_NAME, TASK_QUEUE_NAME].sort());
  for (const queue of queues) expect(queue.readOnlyMode, queue.name).toBe(true);
  const tasks = queues.find((q) => q.name === TASK_QUEUE_NAME);
  expect(tasks.counts.waiting).toBe(1);
  expect(tasks.jobs).toHaveLength(1);
  expect(tasks.jobs[0]).toMatchObject({
    id: taskId,
    name: `pull ${path.join(local, 'subdir')}`,
    data: { taskId, type: 'pull', path: path.join(local, 'subdir'), dryRun: false },
  });
  const one = await getJson(`${board}/api/queues/${TASK_QUEUE_NAME}/${taskId}`);
  expect(one.status).toBe(200);
  expect(one.body.job).toMatchObject({ id: taskId, data: { taskId, type: 'pull' } });

  // Read-only in the API itself, not only in the page.
  for (const route of [`${TASK_QUEUE_NAME}/pause`, `${TASK_QUEUE_NAME}/empty`, `${TASK_QUEUE_NAME}/${taskId}/promote`, `${TASK_QUEUE_NAME}/clean/waiting`]) {
    const refused = await fetch(`${board}/api/queues/${route}`, { method: 'PUT' });
    expect(refused.status, route).toBe(405);
  }
  const added = await fetch(`${board}/api/queues/${TASK_QUEUE_NAME}/add`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'pull', data: { taskId: 'x', type: 'pull', path: local } }),
  });
  expect(added.status).toBe(405);
  expect(await glacis.runtime.queue.queue.isPaused()).toBe(false);
  expect(await glacis.runtime.queue.queue.getJobCounts('waiting')).toEqual({ waiting: 1 });

  // Paths under the board that it does not serve get the API's JSON 404.
  const missing = await fetch(`${board}/nowhere`);
  expect(missing.status).toBe(404);
  expect(await missing.json()).toHaveProperty('error');

  // Stopping the API closes the board's queues: none is left listening on the connection.
  const redis = glacis.runtime.redis;
  expect(redis.listenerCount('ready')).toBeGreaterThan(0);
  cleanups.pop();
  await glacis.stop();
  expect(redis.listenerCount('ready')).toBe(0);
});

/** Headless Chromium as Debian ships it; a missing browser fails the test, it never skips it. */
async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium) to run the board's browser test`);
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  cleanups.push(() => browser.close());
  return browser;
}

/** A JSON view's text without the whitespace its layout puts in. */
function compact(text: string): string {
  return text.replace(/\s+/g, '');
}

/** The `bytes` value the job's Progress tab shows (the tab must be open). */
async function shownBytes(page: Page, taskId: string): Promise<number | undefined> {
  const text = compact(await page.locator('[class*="card"]', { hasText: taskId }).getByRole('tabpanel').innerText());
  const match = /\bbytes:(\d+)/.exec(text);
  return match ? Number(match[1]) : undefined;
}

it('shows a slow pull in Chromium while it runs: the job, what it is, and its progress as it changes', async () => {
  // A slow remote (an SFTP server sending 1 MB/s), so the transfer outlasts the browser's work;
  // Glacis and its rclone are configured as users run them.
  const sftpRoot = tempDir('board-sftp');
  cleanups.push(async () => rmSync(sftpRoot, { recursive: true, force: true }));
  const sftp: SftpServer = await startSftp({ root: sftpRoot, bwLimit: '1M' });
  cleanups.push(() => sftp.stop());
  writeBigFile(path.join(sftpRoot, 'remote', 'big', 'slow.bin'), 48, 7);
  const local = tempDir('board-slow-repo');
  const glacis = await glacisFor({
    [local]: { backend: 'sftp', url: `${sftp.host}:remote`, port: sftp.port, user: sftp.user, password: sftp.password },
  });
  const pulled = path.join(local, 'big');
  const { body } = await glacis.post('/pull', { path: pulled });
  const taskId: string = body.task;
  expect(taskId, JSON.stringify(body)).toBeDefined();
  cleanups.push(async () => {
    // Cancels the pull if the test ends first; the transfer would otherwise run on for a minute.
    await glacis.get(`/tasks/remove/${taskId}`);
  });
  await until(
    async () => (await glacis.get(`/tasks/status/${taskId}`)).body.status === 'pulling',
    30_000,
    async () => `the pull never started transferring: ${JSON.stringify((await glacis.get(`/tasks/status/${taskId}`)).body)}`,
  );

  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  // Nothing but Glacis: the page asks for nothing elsewhere (it used to link Google Fonts).
  const outside: string[] = [];
  await page.route('**/*', (route) => {
    if (route.request().url().startsWith(glacis.url)) return route.continue();
    outside.push(route.request().url());
    return route.abort();
  });
  await page.goto(glacis.url + BOARD_PATH, { waitUntil: 'domcontentloaded' });

  await page.locator('nav').getByRole('link', { name: TASK_QUEUE_NAME, exact: true }).click();
  await page.locator('[class*="statusTabs"]').getByRole('link', { name: /^ACTIVE/ }).click();
  await expect.poll(() => page.url()).toContain(`${BOARD_PATH}/queue/${TASK_QUEUE_NAME}?status=active`);

  const card = page.locator('[class*="card"]', { hasText: taskId });
  await card.waitFor({ state: 'visible', timeout: 20_000 });
  // What it is: the title names the type and path, the Data tab holds the task id, type and path.
  await expect.poll(() => card.getByRole('heading').first().innerText()).toBe(`pull ${pulled}`);
  const data = compact(await card.getByRole('tabpanel').innerText());
  expect(data).toContain(`taskId:"${taskId}"`);
  expect(data).toContain('type:"pull"');
  expect(data).toContain(`path:"${pulled}"`);
  // The percent ring on the job card.
  await expect.poll(() => card.innerText(), { timeout: 20_000 }).toMatch(/\b\d{1,3}%/);

  // Progress tab: percent, bytes and the current file, refreshed without reloading the page.
  await card.getByRole('tab', { name: 'Progress' }).click();
  const progress = card.getByRole('tabpanel');
  await expect.poll(async () => compact(await progress.innerText()), { timeout: 20_000 }).toMatch(/\bbytes:\d+/);
  const text = compact(await progress.innerText());
  expect(text).toMatch(/percent:\d+(\.\d+)?/);
  expect(text).toMatch(/totalBytes:50331648\b/);
  expect(text).toContain('currentFile:"slow.bin"');
  const firstBytes = await shownBytes(page, taskId);
  expect(firstBytes).toBeGreaterThan(0);
  await expect.poll(() => shownBytes(page, taskId), { timeout: 20_000, message: 'the board never showed newer progress' }).toBeGreaterThan(firstBytes!);
  expect((await glacis.get(`/tasks/status/${taskId}`)).body.status).toBe('pulling');

  expect(outside).toEqual([]);

  mkdirSync(ARTIFACTS, { recursive: true });
  const screenshot = path.join(ARTIFACTS, 'board.png');
  rmSync(screenshot, { force: true });
  await page.screenshot({ path: screenshot, fullPage: true });
  expect(statSync(screenshot).size).toBeGreaterThan(0);
}, 150_000);

it('behind API tokens, opens in Chromium with the token as basic-auth password, and not without it', async () => {
  const token = randomBytes(24).toString('hex');
  const remote = await makeRemote('local');
  const glacis = await glacisFor({ [tempDir('board-auth-repo')]: remote.settings }, false, { API_TOKENS: token });
  const browser = await launchChromium();

  // Without credentials the browser cannot answer the challenge: the navigation fails.
  const anonymous = await browser.newContext();
  await expect((await anonymous.newPage()).goto(glacis.url + BOARD_PATH)).rejects.toThrow(/ERR_INVALID_AUTH_CREDENTIALS/);
  await anonymous.close();
  const wrong = await browser.newContext({ httpCredentials: { username: 'operator', password: `${token}x` } });
  expect((await (await wrong.newPage()).goto(glacis.url + BOARD_PATH))?.status()).toBe(401);
  await wrong.close();

  // The browser answers the basic-auth challenge for the page, its assets and its API calls alike.
  const authorised = await browser.newContext({ httpCredentials: { username: 'operator', password: token } });
  const page = await authorised.newPage();
  const apiStatuses: number[] = [];
  page.on('response', (response) => {
    if (response.url().startsWith(`${glacis.url}${BOARD_PATH}/api/`)) apiStatuses.push(response.status());
  });
  await page.route('**/*', (route) => (route.request().url().startsWith(glacis.url) ? route.continue() : route.abort()));
  expect((await page.goto(glacis.url + BOARD_PATH, { waitUntil: 'domcontentloaded' }))?.status()).toBe(200);
  await page.locator('nav').getByRole('link', { name: TASK_QUEUE_NAME, exact: true }).waitFor({ state: 'visible', timeout: 20_000 });
  expect(apiStatuses.length).toBeGreaterThan(0);
  expect(apiStatuses.every((status) => status === 200), JSON.stringify(apiStatuses)).toBe(true);
  await authorised.close();
}, 60_000);
