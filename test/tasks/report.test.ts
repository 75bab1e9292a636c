/**
 * The report kind's run (issue 16 §1–2), against a real local tree with set atimes and a
 * real SFTP remote, with the catalogue filled by a real freeze: figures by age, what a
 * freeze would free at each bound, the unprotected file by name, and the frozen files the
 * remote lost, named in the result and in the alert. Both trees stay exactly as they were.
 */
import { randomUUID } from 'node:crypto';
import { lstatSync, readdirSync, lutimesSync, truncateSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterEach, describe, expect, it } from 'vitest';
import { loadRepos } from '../../src/config/repos.js';
import { DAY_MS } from '../../src/policy/age.js';
import type { TaskJobData } from '../../src/queue/task-queue.js';
import { Rclone } from '../../src/rclone/index.js';
import { openTaskStore, type TaskStore } from '../../src/store/index.js';
import type { AdminAlert, TaskRunContext } from '../../src/tasks/kind.js';
import type { RepoReport } from '../../src/tasks/kinds/report.js';
import { runReport } from '../../src/workers/report.js';
import { repoReportSchema } from '../../src/tasks/kinds/report-schema.js';
import { runFreeze } from '../../src/workers/freeze.js';
import { requireBinary } from '../harness/process.js';
import { FIXTURE_FILES, FIXTURE_LINKS, FIXTURE_MTIME, makeRemote, tempDir, writeFixture } from '../helpers/remotes.js';

const stores: TaskStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

/**
 * Every entry below `dir` with what a read or a write would change: size, mtime, and a
 * file's atime (a directory's atime moves with any listing of it, `ls` included).
 */
function snapshot(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    const stat = lstatSync(full);
    const line = `${path.relative(base, full)} ${stat.size} ${stat.mtimeMs}`;
    return entry.isDirectory() ? [line, ...snapshot(full, base)] : [`${line} ${stat.atimeMs}`];
  });
}

async function setup() {
  const remote = await makeRemote('sftp');
  const local = tempDir('report-kind');
  writeFixture(local, 'symlink');
  writeFileSync(path.join(local, 'subdir/local-only.txt'), 'never backed up\n');
  const reposFile = path.join(tempDir('report-conf'), 'repos.yaml');
  writeFileSync(reposFile, stringify({ [local]: { ...remote.settings, freezable: true, freeze_age: 30, exclude: '*xml' } }));
  const repo = loadRepos(reposFile)[0]!;
  const store = await openTaskStore(path.join(tempDir('report-db'), 'glacis.sqlite'));
  stores.push(store);
  const rclone = new Rclone({ executable: requireBinary('rclone') });
  const now = Date.now();
  const ageDays: Record<string, number> = {
    'file1.txt': 3,
    'file2.xml': 400,
    'subdir/subfile.txt': 10,
    'subdir/subsubdir/poutrelle.tsv': 45,
    'subdir/subsubdir2/subsubfile.txt': 100,
    'subdir/subsubdir2/poutrelle.xml': 200,
    'subdir/local-only.txt': 400,
    'big/large.bin': 400,
  };
  for (const [name, days] of Object.entries(ageDays)) utimesSync(path.join(local, name), new Date(now - days * DAY_MS), FIXTURE_MTIME);
  for (const name of Object.keys(FIXTURE_LINKS)) lutimesSync(path.join(local, name), new Date(now - 400 * DAY_MS), FIXTURE_MTIME);

  const alerts: AdminAlert[] = [];
  const context = async (rel: string, type: 'freeze' | 'report'): Promise<TaskRunContext> => {
    const taskId = randomUUID();
    // 'report' is a type once the kind registry widens TaskType; the run never reads it.
    const task = { taskId, type: type as TaskJobData['type'], path: path.join(local, rel), dryRun: false, force: false };
    return {
      task,
      repo,
      rclone,
      log: await store.logs.open(taskId),
      signal: new AbortController().signal,
      progress: () => undefined,
      enterRunning: () => Promise.resolve(),
      atime: undefined,
      catalogue: store.catalogue,
      alert: (alert) => {
        alerts.push(alert);
        return Promise.resolve();
      },
    };
  };
  const freeze = async (rel: string): Promise<void> => {
    const ctx = await context(rel, 'freeze');
    await runFreeze({ ...ctx, onFreezeStart: () => Promise.resolve() });
    await ctx.log.close();
  };
  const report = async (rel: string): Promise<{ report: RepoReport; log: string }> => {
    const ctx = await context(rel, 'report');
    const result = await runReport({ ...ctx, now: () => now });
    await ctx.log.close();
    expect(result.files).toBe((result.result as unknown as RepoReport).local.files);
    return { report: result.result as unknown as RepoReport, log: (await store.logs.read(ctx.task.taskId)) ?? '' };
  };
  return { remote, local, repo, store, freeze, report, alerts };
}

describe('the report kind', () => {
  it('counts by age, frees only what the remote holds, names the unprotected file and the frozen files the remote lost, and alerts', async () => {
    const { remote, local, freeze, report, alerts } = await setup();
    await freeze('big');
    await freeze('links');
    rmSync(path.join(remote.root!, 'big/large.bin')); // lost on the remote after its local copy was frozen
    truncateSync(path.join(remote.root!, 'links/relative.txt.rclonelink'), 2); // shrunk
    const localBefore = snapshot(local);
    const remoteBefore = snapshot(remote.root!);

    const { report: result, log } = await report('');

    expect(result).toMatchObject({ repo: local, path: local, freezeAgeDays: 30, verifiedBy: 'size' });
    expect(repoReportSchema.parse(result)).toEqual(result); // the documented wire shape
    expect(result.local.files).toBe(7);
    expect(result.byAge.map((row) => [row.bucket, row.files])).toEqual([
      ['<7d', 1],
      ['7-30d', 1],
      ['30-90d', 1],
      ['90-180d', 1],
      ['180-365d', 1],
      ['>365d', 2],
    ]);
    expect(result.excluded.files).toBe(2);
    const size = (name: string): number => Buffer.byteLength(FIXTURE_FILES[name]!);
    expect(result.freeable.atFreezeAge).toEqual({ days: 30, files: 2, bytes: size('subdir/subsubdir/poutrelle.tsv') + size('subdir/subsubdir2/subsubfile.txt') });
    expect(result.freeable.atBounds.map((b) => [b.days, b.files])).toEqual([
      [7, 3],
      [30, 2],
      [90, 1],
      [180, 0],
      [365, 0],
    ]);
    expect(result.unprotected).toMatchObject({ files: 1, paths: ['subdir/local-only.txt'], unlisted: 0, byReason: { 'missing-remote': { files: 1 } } });
    expect(result.filesystem!.size).toBeGreaterThan(0);

    const linkBytes = Object.values(FIXTURE_LINKS).reduce((sum, target) => sum + target.length, 0);
    expect(result.frozen).toMatchObject({
      files: 4,
      bytes: size('big/large.bin') + linkBytes,
      held: { files: 2 },
      lost: { files: 2, unlisted: 0, byState: { missing: { files: 1 }, shrunk: { files: 1 }, changed: { files: 0 } } },
      localAgain: 0,
    });
    expect(result.frozen.lost.listed.map((f) => [f.path, f.state])).toEqual([
      ['big/large.bin', 'missing'],
      ['links/relative.txt', 'shrunk'],
    ]);
    expect(log).toMatch(/frozen file missing on the remote: big\/large.bin/);

    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.subject).toBe(`Glacis: 2 frozen files lost on the remote of ${local}`);
    expect(alerts[0]!.text).toMatch(/missing +big\/large.bin/);
    expect(alerts[0]!.text).toMatch(/shrunk +links\/relative.txt/);

    // Never writes, and reads no contents: every size, mtime and atime as before.
    expect(snapshot(local)).toEqual(localBefore);
    expect(snapshot(remote.root!)).toEqual(remoteBefore);
  });

  it('reports a subtree only, and alerts nobody when the remote holds every frozen file', async () => {
    const { freeze, report, alerts, local } = await setup();
    await freeze('big');
    const { report: result } = await report('subdir');
    expect(result.path).toBe(path.join(local, 'subdir'));
    expect(result.local.files).toBe(5);
    expect(result.frozen).toMatchObject({ files: 0, lost: { files: 0 } });
    const whole = (await report('')).report;
    expect(whole.frozen).toMatchObject({ files: 1, held: { files: 1 }, lost: { files: 0 } });
    expect(alerts).toEqual([]);
  });

  it('does not count a frozen file put back locally by hand as lost', async () => {
    const { freeze, report, alerts, local, remote } = await setup();
    await freeze('big');
    rmSync(path.join(remote.root!, 'big/large.bin'));
    writeFileSync(path.join(local, 'big/large.bin'), 'restored from elsewhere');
    const { report: result } = await report('big');
    expect(result.frozen).toMatchObject({ files: 0, localAgain: 1, lost: { files: 0 } });
    expect(alerts).toEqual([]);
  });

  it('refuses a file, saying a report covers a directory', async () => {
    const { report } = await setup();
    await expect(report('file1.txt')).rejects.toThrow(/is a file: a report covers a repository or a directory/);
  });
});
