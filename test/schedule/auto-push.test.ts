/**
 * Auto-push schedules (issue 18), on the machinery auto-freeze shares
 * (src/schedule/repo-schedules.ts): one scheduler per repo with `auto_push: true`, on its
 * cron or its interval in hours, firing a push submission with origin `schedule`, removed
 * when the config drops it; auto-freeze schedulers in the same Redis are left alone.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, expect, it } from 'vitest';
import { autoFreezeQueue, syncAutoFreezeSchedules } from '../../src/schedule/auto-freeze.js';
import { autoPushQueue, startAutoPushWorker, syncAutoPushSchedules } from '../../src/schedule/auto-push.js';
import { sharedServices } from '../harness/services.js';
import { makeRemote, tempDir } from '../helpers/remotes.js';
import { until } from '../helpers/worker-process.js';
import { repoOf } from '../push/push-helpers.js';

const closing: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closing.splice(0).reverse()) await close();
});

it('schedules a push per repo with auto_push, fires it with origin schedule, and removes it when the config drops it', async () => {
  const remote = await makeRemote('local');
  const cronRepo = repoOf(tempDir('auto-push-cron'), remote, { pushable: true, auto_push: true, auto_push_cron: '*/1 * * * * *', freezable: true, auto_freeze: true });
  const intervalRepo = repoOf(tempDir('auto-push-interval'), remote, { pushable: true, auto_push: true, auto_push_interval: 6 });
  const notPushed = repoOf(tempDir('auto-push-none'), remote, { pushable: true });
  const prefix = `autopush${randomUUID().slice(0, 8)}`;
  const redis = new Redis(sharedServices().redisUrl, { maxRetriesPerRequest: null });
  closing.push(async () => void redis.disconnect());
  const queue = autoPushQueue(redis, prefix);
  closing.push(() => queue.close());
  const freezes = autoFreezeQueue(redis, prefix);
  closing.push(() => freezes.close());

  await syncAutoFreezeSchedules(freezes, [cronRepo]);
  expect(await syncAutoPushSchedules(queue, [cronRepo, intervalRepo, notPushed])).toEqual([cronRepo.localPath, intervalRepo.localPath]);
  const schedulers = await queue.getJobSchedulers(0, -1);
  expect(Object.fromEntries(schedulers.map((s) => [s.key, s.pattern ?? s.every]))).toEqual({
    [`auto-push:${cronRepo.localPath}`]: '*/1 * * * * *',
    [`auto-push:${intervalRepo.localPath}`]: 6 * 3_600_000,
  });

  const submitted: Array<{ type: string; path: string; origin: string }> = [];
  const errors: unknown[] = [];
  const worker = startAutoPushWorker(redis.duplicate(), prefix, async (request) => {
    submitted.push(request);
    return 'task-id';
  }, (error) => errors.push(error));
  closing.push(() => worker.close());
  // The cron fires every second; an interval scheduler fires once at its start (BullMQ's `every`).
  await until(() => submitted.some((r) => r.path === cronRepo.localPath), 30_000, () => `no scheduled push of the cron repo fired: ${JSON.stringify(submitted)}`);
  expect(submitted).toContainEqual({ type: 'push', path: cronRepo.localPath, origin: 'schedule' });
  expect(submitted.every((r) => r.type === 'push' && r.origin === 'schedule' && r.path !== notPushed.localPath)).toBe(true);
  expect(errors).toEqual([]);

  await syncAutoPushSchedules(queue, [notPushed]);
  expect(await queue.getJobSchedulers(0, -1)).toEqual([]);
  // The auto-freeze scheduler of the same repo is another kind's: untouched.
  expect((await freezes.getJobSchedulers(0, -1)).map((s) => s.key)).toEqual([`auto-freeze:${cronRepo.localPath}`]);
}, 60_000);
