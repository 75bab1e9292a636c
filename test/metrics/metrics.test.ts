/**
 * `GET /metrics` end to end: a real API and worker on real remotes, the exposition text
 * parsed as Prometheus would, values checked against what the tasks did.
 */
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../harness/ports.js';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { FIXTURE_FILES, makeRemote, tempDir, writeFixture } from '../helpers/remotes.js';
import { parseExposition, type Exposition } from './exposition.js';

const running: TestGlacis[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => g.stop()));
});

async function start(options: Parameters<typeof startGlacis>[0]): Promise<TestGlacis> {
  const glacis = await startGlacis(options);
  running.push(glacis);
  return glacis;
}

async function scrape(glacis: TestGlacis): Promise<Exposition> {
  const response = await fetch(`${glacis.url}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(await response.text());
}

/** Bytes of the fixture's files below `dir/`. */
function fixtureBytes(dir: string): number {
  return Object.entries(FIXTURE_FILES)
    .filter(([name]) => name.startsWith(`${dir}/`))
    .reduce((total, [, content]) => total + Buffer.byteLength(content), 0);
}

describe('GET /metrics', () => {
  it('reports tasks by type and status, bytes pulled and freed, run times and the queue backlog', async () => {
    const pullRepo = tempDir('metrics-pull');
    const freezeRepo = tempDir('metrics-freeze');
    writeFixture(freezeRepo, 'symlink');
    const glacis = await start({
      repos: { [pullRepo]: (await makeRemote('local')).settings, [freezeRepo]: { ...(await makeRemote('local')).settings, freezable: true } },
      worker: false,
    });

    const pull = await glacis.post('/pull', { path: path.join(pullRepo, 'subdir') });
    expect(pull.status).toBe(200);
    const queued = await scrape(glacis);
    expect(queued.value('glacis_queue_jobs', { state: 'waiting' })).toBe(1);
    expect(queued.value('glacis_queue_jobs', { state: 'active' })).toBe(0);
    expect(queued.value('glacis_tasks', { type: 'pull', status: 'waiting' })).toBe(1);
    expect(queued.value('glacis_tasks', { type: 'pull', status: 'finished' })).toBe(0);
    expect(queued.samples('glacis_task_duration_seconds_count')).toEqual([]);

    await glacis.startWorker();
    expect(await glacis.waitForTask(pull.body.task)).toMatchObject({ status: 'finished', bytes: fixtureBytes('subdir') });
    // A dry run would free 3 MiB: it is a task like any other, but frees nothing.
    const dryRun = await glacis.post('/freeze', { path: path.join(freezeRepo, 'big'), dry_run: true });
    expect(await glacis.waitForTask(dryRun.body.task)).toMatchObject({ status: 'finished', bytes: fixtureBytes('big') });
    const freeze = await glacis.post('/freeze', { path: path.join(freezeRepo, 'subdir') });
    expect(await glacis.waitForTask(freeze.body.task)).toMatchObject({ status: 'finished', bytes: fixtureBytes('subdir') });

    const after = await scrape(glacis);
    expect(after.value('glacis_tasks', { type: 'pull', status: 'finished' })).toBe(1);
    expect(after.value('glacis_tasks', { type: 'pull', status: 'waiting' })).toBe(0);
    expect(after.value('glacis_tasks', { type: 'freeze', status: 'finished' })).toBe(2);
    expect(after.value('glacis_tasks', { type: 'freeze', status: 'failed' })).toBe(0);
    expect(after.value('glacis_pulled_bytes')).toBe(fixtureBytes('subdir'));
    expect(after.value('glacis_freed_bytes')).toBe(fixtureBytes('subdir'));
    expect(after.value('glacis_queue_jobs', { state: 'waiting' })).toBe(0);

    expect(after.types.get('glacis_task_duration_seconds')).toBe('histogram');
    for (const [type, count] of [['pull', 1], ['freeze', 2]] as const) {
      const labels = { type, status: 'finished' };
      expect(after.value('glacis_task_duration_seconds_count', labels)).toBe(count);
      expect(after.value('glacis_task_duration_seconds_bucket', { ...labels, le: '+Inf' })).toBe(count);
      expect(after.value('glacis_task_duration_seconds_sum', labels)).toBeGreaterThanOrEqual(0);
      // Cumulative buckets: never decreasing, never above the count.
      const buckets = after.samples('glacis_task_duration_seconds_bucket').filter((s) => s.labels.type === type && s.labels.le !== '+Inf');
      expect(buckets.map((s) => Number(s.labels.le))).toEqual([1, 10, 60, 300, 900, 3600, 14400, 43200, 86400]);
      const values = buckets.map((s) => s.value);
      expect(values).toEqual([...values].sort((a, b) => a - b));
      expect(values.at(-1)).toBe(count);
    }

    expect(after.types.get('glacis_rclone_failures_total')).toBe('counter');
    expect(after.value('glacis_rclone_failures_total')).toBe(0);
    expect(after.value('glacis_dependency_up', { dependency: 'redis' })).toBe(1);
    expect(after.value('glacis_dependency_up', { dependency: 'database' })).toBe(1);
    // prom-client's default process metrics come along.
    expect(after.value('process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });

  it('counts tasks that rclone failed, not tasks that failed for a path missing on the remote', async () => {
    const sftp = await makeRemote('sftp');
    const unreachableRepo = tempDir('metrics-unreachable');
    const reachableRepo = tempDir('metrics-reachable');
    const glacis = await start({
      repos: {
        // The SFTP remote's settings, password included, on a port where nothing listens.
        [unreachableRepo]: { ...sftp.settings, port: await freePort() },
        [reachableRepo]: (await makeRemote('local')).settings,
      },
    });
    expect((await scrape(glacis)).value('glacis_rclone_failures_total')).toBe(0);

    const missing = await glacis.post('/pull', { path: path.join(reachableRepo, 'not-on-the-remote') });
    expect(await glacis.waitForTask(missing.body.task)).toMatchObject({ status: 'failed' });
    expect((await scrape(glacis)).value('glacis_rclone_failures_total')).toBe(0);

    const unreachable = await glacis.post('/pull', { path: path.join(unreachableRepo, 'subdir') });
    const failed = await glacis.waitForTask(unreachable.body.task);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/rclone/);
    const afterFailure = await scrape(glacis);
    expect(afterFailure.value('glacis_rclone_failures_total')).toBe(1);
    expect(afterFailure.value('glacis_tasks', { type: 'pull', status: 'failed' })).toBe(2);
    // Both started, so both have a run time.
    expect(afterFailure.value('glacis_task_duration_seconds_count', { type: 'pull', status: 'failed' })).toBe(2);

    // The failure is in the process log, with its task id, and the password is nowhere.
    const failureLines = glacis.logLines.filter((line) => line.includes(` WARN task failed `) && line.includes(`"task_id":"${unreachable.body.task}"`));
    expect(failureLines).toHaveLength(1);
    for (const secret of sftp.secrets) expect(glacis.logLines.join('\n')).not.toContain(secret);
  });

  it('counts cancelled tasks: their records are kept', async () => {
    const repo = tempDir('metrics-cancel');
    const glacis = await start({ repos: { [repo]: (await makeRemote('local')).settings }, worker: false });
    const pull = await glacis.post('/pull', { path: path.join(repo, 'subdir') });
    expect((await glacis.post(`/tasks/cancel/${pull.body.task}`, undefined)).status).toBe(200);
    const after = await scrape(glacis);
    expect(after.value('glacis_tasks', { type: 'pull', status: 'cancelled' })).toBe(1);
    expect(after.value('glacis_tasks', { type: 'pull', status: 'waiting' })).toBe(0);
    expect(after.value('glacis_queue_jobs', { state: 'waiting' })).toBe(0);
  });

  it('still reports the database metrics, and answers, while Redis refuses connections', async () => {
    const repo = tempDir('metrics-no-redis');
    const glacis = await start({ repos: { [repo]: (await makeRemote('local')).settings }, redisUrl: `redis://127.0.0.1:${await freePort()}`, worker: false });
    const metrics = await scrape(glacis);
    expect(metrics.value('glacis_tasks', { type: 'pull', status: 'waiting' })).toBe(0);
    expect(metrics.value('glacis_pulled_bytes')).toBe(0);
    expect(metrics.value('glacis_dependency_up', { dependency: 'database' })).toBe(1);
    expect(metrics.value('glacis_dependency_up', { dependency: 'redis' })).toBe(0);
    // What only Redis knows is left out rather than reported as zero.
    expect(metrics.samples('glacis_queue_jobs')).toEqual([]);
    expect(metrics.value('glacis_rclone_failures_total')).toBeUndefined();
  });
});
