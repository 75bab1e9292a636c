/**
 * Housekeeping: old ended tasks removed with their logs (never unfinished ones), zombies
 * failed and their locks released, each on a schedule that exists once per Redis.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { afterEach, expect, it } from 'vitest';
import { housekeepingQueue } from '../../src/schedule/housekeeping.js';
import { removeOldTasks } from '../../src/services/housekeeping.js';
import { openTaskStore, type TaskStatus } from '../../src/store/index.js';
import { sharedServices } from '../harness/services.js';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { makeRemote, tempDir } from '../helpers/remotes.js';
import { until } from '../helpers/worker-process.js';

const running: TestGlacis[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => g.stop()));
});

const HOUR = 3_600_000;

it('removes ended tasks older than the age, with their logs, and nothing else', async () => {
  const dir = tempDir('cleanup');
  const store = await openTaskStore(path.join(dir, 'db.sqlite'));
  const logs = store.logs;
  const now = Date.now();
  const make = async (status: TaskStatus, finishedHoursAgo: number | null): Promise<string> => {
    const id = randomUUID();
    await store.create({ id, type: 'pull', path: '/data/x', dryRun: false, force: false, email: null, origin: 'user' });
    await store.update(id, { status, ...(finishedHoursAgo === null ? {} : { finished: new Date(now - finishedHoursAgo * HOUR).toISOString() }) });
    const log = await logs.open(id);
    log.line('something happened');
    await log.close();
    return id;
  };
  try {
    const oldEnded = [await make('finished', 50), await make('failed', 49), await make('cancelled', 48)];
    const recent = [await make('finished', 1), await make('failed', 47)];
    const unfinished = [await make('waiting', null), await make('pulling', null)];
    // Enough for several deletion batches.
    for (let i = 0; i < 2500; i++) await make('finished', 100);

    for (const id of oldEnded) expect(await logs.read(id)).toMatch(/something happened/);
    expect(await removeOldTasks({ store }, 48 * HOUR - 60_000, now)).toBe(2503);
    for (const id of oldEnded) {
      expect(await store.get(id)).toBeUndefined();
      expect(await logs.read(id)).toBeUndefined();
    }
    for (const id of [...recent, ...unfinished]) {
      expect(await store.get(id)).toBeDefined();
      expect(await logs.read(id)).toMatch(/something happened/);
    }
    expect(await removeOldTasks({ store }, 48 * HOUR - 60_000, now)).toBe(0);
  } finally {
    await store.close();
  }
});

it('runs cleanup and zombie checks on schedules kept once per Redis, and removes them when turned off', async () => {
  const remote = await makeRemote('local');
  const local = tempDir('housekeeping-repo');
  const prefix = `hk${randomUUID().slice(0, 8)}`;
  const env = { QUEUE_PREFIX: prefix, CLEANUP_INTERVAL: '1', CLEANUP_AGE: '3600', CLEANUP_ZOMBIES_INTERVAL: '1' };
  const glacis = await startGlacis({ repos: { [local]: remote.settings }, env });
  running.push(glacis);
  running.push(await startGlacis({ repos: { [local]: remote.settings }, env: { ...env, DATABASE_URL: glacis.env.DATABASE_URL }, worker: false }));

  const redis = new Redis(sharedServices().redisUrl);
  const queue = housekeepingQueue(redis, prefix);
  try {
    expect((await queue.getJobSchedulers(0, -1)).map((s) => [s.key, s.every]).sort()).toEqual([['cleanup', 1000], ['zombies', 1000]]);

    // An ended task from two hours ago, and a task recorded as running an hour ago whose
    // job is gone (as if Redis had lost it): the first is removed, the second failed.
    const { store, locks } = glacis.runtime;
    const old = randomUUID();
    await store.create({ id: old, type: 'pull', path: local, dryRun: false, force: false, email: null, origin: 'user' });
    await store.update(old, { status: 'finished', finished: new Date(Date.now() - 2 * HOUR).toISOString() });
    const zombie = randomUUID();
    await store.create({ id: zombie, type: 'pull', path: `${local}/sub`, dryRun: false, force: false, email: null, origin: 'user' });
    await store.update(zombie, { status: 'pulling', started: new Date(Date.now() - HOUR).toISOString() });
    const db = new Database(glacis.env.DATABASE_URL!);
    db.prepare('UPDATE tasks SET created = ? WHERE id = ?').run(new Date(Date.now() - HOUR).toISOString(), zombie);
    db.close();
    expect(await locks.claim({ taskId: zombie, type: 'pull', path: `${local}/sub`, dryRun: false })).toMatchObject({ kind: 'claimed' });

    await until(async () => (await store.get(old)) === undefined && (await store.get(zombie))?.status === 'failed', 30_000, () => 'housekeeping did not run');
    expect((await store.get(zombie))?.error).toMatch(/^terminated prematurely/);
    expect(await locks.blockers(zombie)).toBe(-1); // its lock is gone

    // A fresh task is left alone by both (and is not blocked by the zombie's lock).
    const fresh = await glacis.post('/pull', { path: local });
    const done = await glacis.waitForTask(fresh.body.task);
    expect(done.status).toBe('finished');
    expect((await glacis.get(`/tasks/status/${fresh.body.task}`)).status).toBe(200);

    await Promise.all(running.splice(0).map((g) => g.stop()));
    running.push(await startGlacis({ repos: { [local]: remote.settings }, env: { ...env, CLEANUP_INTERVAL: '0', CLEANUP_ZOMBIES_INTERVAL: '0' }, worker: false }));
    expect(await queue.getJobSchedulers(0, -1)).toEqual([]);
  } finally {
    await queue.close();
    redis.disconnect();
  }
});
