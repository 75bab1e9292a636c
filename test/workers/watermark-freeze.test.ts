/**
 * Watermark freezes on real small filesystems (issue 16 §3, "Done when"): a tmpfs of a
 * known size, mounted by the test, filled above `high_watermark`. A freeze with origin
 * `watermark` frees the least recently read safe files first until usage is at or under
 * `low_watermark`, keeping every unsafe file and every file read within
 * `watermark_min_age`; when not enough is safe, MAIL_ADMIN is told by how much. The
 * scheduled check submits such freezes, one at a time per filesystem.
 */
import { statfsSync, statSync, utimesSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import { filesystemFigures, usedPercent } from '../../src/policy/filesystem.js';
import { checkWatermarks } from '../../src/policy/watermark.js';
import { checkWatermarkRepos } from '../../src/schedule/watermark.js';
import { randomUUID } from 'node:crypto';
import type { Repo } from '../../src/config/types.js';
import { Rclone } from '../../src/rclone/index.js';
import { renderEvent } from '../../src/store/task-events.js';
import { UNFINISHED_STATUSES } from '../../src/tasks/registry.js';
import { runFreeze } from '../../src/workers/freeze.js';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { mountTmpfs, unmountAll } from '../helpers/mounts.js';
import { tempDir } from '../helpers/remotes.js';
import { until } from '../helpers/worker-process.js';
import { startSmtpCapture, type SmtpCapture } from '../notify/smtp-capture.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(unmountAll);

const MIB = 1024 * 1024;
const DAY_MS = 86_400_000;
const MTIME = new Date('2020-01-02T03:04:05Z');
const ADMINS = ['admin@test.example'];

interface FileSpec {
  readonly name: string;
  /** Days since last read. */
  readonly ageDays: number;
  /** What the remote holds: the same file, nothing, or a different size. */
  readonly remote: 'same' | 'missing' | 'differs';
}

/**
 * 20 files of 1 MiB (20 MiB of a 32 MiB tmpfs: about 63 %), read 30 to 49 days ago
 * except two read an hour ago; the 3 oldest are missing on the remote, the 4th differs there.
 */
function spec(): FileSpec[] {
  return Array.from({ length: 20 }, (_, i) => ({
    name: `f${String(i).padStart(2, '0')}.bin`,
    ageDays: i < 2 ? 1 / 24 : 30 + i,
    remote: i >= 17 ? 'missing' : i === 16 ? 'differs' : 'same',
  }));
}

function writeFiles(local: string, remote: string, files: readonly FileSpec[]): void {
  mkdirSync(local, { recursive: true });
  mkdirSync(remote, { recursive: true });
  const now = Date.now();
  for (const file of files) {
    const content = Buffer.alloc(MIB, file.name);
    writeFileSync(path.join(local, file.name), content);
    utimesSync(path.join(local, file.name), new Date(now - file.ageDays * DAY_MS), MTIME);
    if (file.remote === 'missing') continue;
    writeFileSync(path.join(remote, file.name), file.remote === 'same' ? content : Buffer.alloc(MIB + 1, file.name));
    utimesSync(path.join(remote, file.name), MTIME, MTIME);
  }
}

const figures = (dir: string) => filesystemFigures(statfsSync(dir));

async function glacisFor(repos: Record<string, unknown>, env: NodeJS.ProcessEnv = {}, worker = true): Promise<TestGlacis> {
  const glacis = await startGlacis({ repos, env, worker });
  cleanups.push(() => glacis.stop());
  return glacis;
}

async function smtpServer(): Promise<SmtpCapture> {
  const smtp = await startSmtpCapture();
  cleanups.push(() => smtp.stop());
  return smtp;
}

async function watermarkFreeze(glacis: TestGlacis, repo: string): Promise<{ task: any; log: string }> {
  const id = await glacis.runtime.tasks.submit({ type: 'freeze', path: repo, origin: 'watermark' });
  const task = await glacis.waitForTask(id);
  return { task, log: (await glacis.get(`/tasks/log/${id}`)).body.logs as string };
}

it('brings usage at or under the low mark, freeing the least recently read safe files first and no more', async () => {
  const local = mountTmpfs('strictatime', '32m');
  const remote = tempDir('wm-remote');
  const files = spec();
  writeFiles(local, remote, files);
  const marks = { high: 50, low: 30 };
  const before = checkWatermarks(figures(local), marks);
  expect(before.due).toBe(true);
  const glacis = await glacisFor({ [local]: { backend: 'local', path: remote, freezable: true, high_watermark: marks.high, low_watermark: marks.low } });

  const { task, log } = await watermarkFreeze(glacis, local);
  expect(task, JSON.stringify(task)).toMatchObject({ status: 'finished', origin: 'watermark' });
  expect(usedPercent(figures(local))).toBeLessThanOrEqual(marks.low);

  // Exactly the oldest safe files, as many as the bytes to free need (1 MiB each on tmpfs).
  const safeOldestFirst = files.filter((f) => f.remote === 'same' && f.ageDays >= 1).sort((a, b) => b.ageDays - a.ageDays);
  const needed = Math.ceil(before.bytesToFree / MIB);
  const expectedFrozen = safeOldestFirst.slice(0, needed).map((f) => f.name).sort();
  const frozen = files.filter((f) => !existsSync(path.join(local, f.name))).map((f) => f.name).sort();
  expect(frozen).toEqual(expectedFrozen);
  expect(task.files).toBe(needed);
  // The task's result (GET /tasks/status → freeze): the marks, usage before and after, nothing missing.
  expect(task.freeze.watermark).toMatchObject({ high: 50, low: 30, bytes_to_free: before.bytesToFree, missing_bytes: 0, unprotected_files: 4, recent_files: 2 });
  expect(task.freeze.watermark.used_percent_after).toBeLessThanOrEqual(30);
  // Unsafe ones (older than all of them) were kept, and said so.
  for (const file of files.filter((f) => f.remote !== 'same')) expect(existsSync(path.join(local, file.name)), file.name).toBe(true);
  expect(log).toMatch(/cold but not frozen \(missing on the remote\): f19\.bin/);
  expect(log).toMatch(/cold but not frozen \(the remote copy differs\): f16\.bin/);
  expect(log).toMatch(/low_watermark reached: the disk is at [\d.]+ % \(low_watermark 30 %\)/);
  expect(statSync(path.join(remote, 'f00.bin')).size).toBe(MIB);
}, 90_000);

it('a tree with more candidates than it keeps from the first walk is walked twice, with the same outcome', async () => {
  const local = mountTmpfs('strictatime', '32m');
  const remote = tempDir('wm-remote5');
  const files = spec();
  writeFiles(local, remote, files);
  const before = checkWatermarks(figures(local), { high: 50, low: 30 });
  const repo: Repo = {
    localPath: local, name: local, remote: { backend: 'local', path: remote }, exclude: [], freezable: true, freezeAge: 180,
    autoFreeze: false, autoFreezeInterval: 7, disableAtimeTest: false, verify: 'size', watermarks: { high: 50, low: 30 },
  };
  const lines: string[] = [];
  const result = await runFreeze({
    repo,
    task: { taskId: randomUUID(), type: 'freeze', path: local, dryRun: false, force: false, origin: 'watermark' },
    rclone: new Rclone({ executable: '/usr/bin/rclone' }),
    log: { line: (t) => void lines.push(t), event: (e) => void lines.push(renderEvent(e)), flush: async () => undefined, close: async () => undefined },
    signal: new AbortController().signal,
    atime: { supported: true },
    progress: () => undefined,
    onFreezeStart: async () => undefined,
    keptFromFirstPass: 3,
  });
  expect(lines.join('\n')).toMatch(/least recently read first, walking the tree a second time/);
  const needed = Math.ceil(before.bytesToFree / MIB);
  const safeOldestFirst = files.filter((f) => f.remote === 'same' && f.ageDays >= 1).sort((a, b) => b.ageDays - a.ageDays);
  expect(files.filter((f) => !existsSync(path.join(local, f.name))).map((f) => f.name).sort()).toEqual(safeOldestFirst.slice(0, needed).map((f) => f.name).sort());
  expect(result).toMatchObject({ files: needed, unprotected: 4 });
  expect(result.result).toMatchObject({ watermark: { high: 50, low: 30, missing_bytes: 0, unprotected_files: 4, recent_files: 2 } });
  expect(usedPercent(figures(local))).toBeLessThanOrEqual(30);
}, 90_000);

it('when too little is safe to free: frees all it may, keeps unsafe and recently read files, and MAIL_ADMIN is told by how much', async () => {
  const smtp = await smtpServer();
  const local = mountTmpfs('strictatime', '32m');
  const remote = tempDir('wm-remote2');
  const files = spec();
  writeFiles(local, remote, files);
  const marks = { high: 50, low: 10 };
  const glacis = await glacisFor(
    { [local]: { backend: 'local', path: remote, freezable: true, high_watermark: marks.high, low_watermark: marks.low, watermark_min_age: 1 } },
    { MAIL_SERVER: '127.0.0.1', MAIL_PORT: String(smtp.port), MAIL_SENDER: 'Glacis <glacis@test.example>', MAIL_ADMIN: ADMINS.join(','), MAIL_RETRY_DELAY: '1' },
  );

  const { task, log } = await watermarkFreeze(glacis, local);
  expect(task, JSON.stringify(task)).toMatchObject({ status: 'finished', files: 14, unprotected: 4 });
  // What is left: the 4 unsafe and the 2 read an hour ago.
  const left = files.filter((f) => existsSync(path.join(local, f.name))).map((f) => f.name);
  expect(left).toEqual(['f00.bin', 'f01.bin', 'f16.bin', 'f17.bin', 'f18.bin', 'f19.bin']);
  const after = checkWatermarks(figures(local), marks);
  expect(after.bytesToFree).toBeGreaterThan(0);
  expect(log).toContain(`low_watermark not reached`);
  expect(task.freeze.watermark).toMatchObject({ missing_bytes: after.bytesToFree, unprotected_files: 4, unprotected_bytes: 4 * MIB, recent_files: 2 });
  expect(log).toContain(`${after.bytesToFree} bytes) more would have to be freed`);
  expect(log).toContain('Not safe to free: 4 cold files (4.00 MiB) the remote lacks or holds differently; 2 files read within watermark_min_age (1 day).');

  const mail = await smtp.waitFor((m) => m.rcptTo.includes(ADMINS[0]!), 30_000);
  expect(mail.parsed.subject).toMatch(new RegExp(`^Glacis: ${local.replace(/[/.]/g, '\\$&')} stays above low_watermark: [\\d.]+ MiB missing$`));
  expect(mail.parsed.text).toContain(`${after.bytesToFree} bytes) more would have to be freed`);
  expect(mail.parsed.text).toContain('4 cold files (4.00 MiB) the remote lacks or holds differently');
  expect(mail.parsed.text).toContain(`Task: ${task.id ?? ''}`.trim());
}, 90_000);

it('the check: one watermark freeze at a time per filesystem (two repos on one, a third on another), none below the high mark', async () => {
  const fsA = mountTmpfs('strictatime', '32m');
  const fsB = mountTmpfs('strictatime', '32m');
  const fsC = mountTmpfs('strictatime', '32m');
  const remote = tempDir('wm-remote3');
  const repoA1 = path.join(fsA, 'one');
  const repoA2 = path.join(fsA, 'two');
  const repoB = path.join(fsB, 'repo');
  const repoC = path.join(fsC, 'repo');
  writeFiles(repoA1, path.join(remote, 'one'), spec());
  writeFiles(repoA2, path.join(remote, 'two'), []);
  writeFiles(repoB, path.join(remote, 'b'), spec());
  writeFiles(repoC, path.join(remote, 'c'), []); // empty: below its high mark
  const settings = (sub: string) => ({ backend: 'local', path: path.join(remote, sub), freezable: true, high_watermark: 50, low_watermark: 30 });
  // No task worker: the submitted freezes stay waiting, as a long one would stay running.
  const glacis = await glacisFor({ [repoA1]: settings('one'), [repoA2]: settings('two'), [repoB]: settings('b'), [repoC]: settings('c') }, {}, false);
  const { runtime } = glacis;
  const deps = {
    repos: runtime.repos,
    redis: runtime.redis,
    prefix: runtime.settings.queuePrefix,
    submit: (request: { type: 'freeze'; path: string; origin: 'watermark' }) => runtime.tasks.submit(request),
    unfinished: async (id: string) => UNFINISHED_STATUSES.includes((await runtime.store.get(id))!.status),
  };

  const first = await checkWatermarkRepos(deps);
  expect(first.submitted.map((s) => s.repo)).toEqual([repoA1, repoB]);
  const second = await checkWatermarkRepos(deps);
  expect(second).toEqual({ submitted: [], busy: [repoA1, repoB] });
  const tasks = (await glacis.get('/tasks?type=freeze')).body as any[];
  expect(tasks.map((t) => [t.path, t.origin]).sort()).toEqual([[repoA1, 'watermark'], [repoB, 'watermark']].sort());

  // The freezes run: both filesystems end under their low mark, and the next check submits nothing.
  await glacis.startWorker();
  for (const { task } of first.submitted) expect(await glacis.waitForTask(task)).toMatchObject({ status: 'finished' });
  expect(usedPercent(figures(fsA))).toBeLessThanOrEqual(30);
  expect(usedPercent(figures(fsB))).toBeLessThanOrEqual(30);
  expect(await checkWatermarkRepos(deps)).toEqual({ submitted: [], busy: [] });
}, 120_000);

it('scheduled every WATERMARK_CHECK_INTERVAL seconds: a disk above its high mark gets a watermark freeze without anyone asking', async () => {
  const local = mountTmpfs('strictatime', '32m');
  const remote = tempDir('wm-remote4');
  writeFiles(local, remote, spec());
  const glacis = await glacisFor({ [local]: { backend: 'local', path: remote, freezable: true, high_watermark: 50, low_watermark: 30 } }, { WATERMARK_CHECK_INTERVAL: '1' });
  let found: any;
  await until(
    async () => {
      const tasks = (await glacis.get('/tasks?type=freeze')).body as any[];
      found = tasks.find((t) => t.origin === 'watermark' && t.status === 'finished');
      return found !== undefined;
    },
    60_000,
    () => 'no watermark freeze finished',
  );
  expect(found).toMatchObject({ path: local, error: null });
  expect(usedPercent(figures(local))).toBeLessThanOrEqual(30);
}, 90_000);
