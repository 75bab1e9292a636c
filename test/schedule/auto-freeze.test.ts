/**
 * Auto-freeze schedules: one per repo however many API processes start, firing freezes
 * recorded with origin `schedule`, removed when the config drops them.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, expect, it } from 'vitest';
import { autoFreezeQueue } from '../../src/schedule/auto-freeze.js';
import { sharedServices } from '../harness/services.js';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { makeRemote, tempDir, writeFixture } from '../helpers/remotes.js';
import { until } from '../helpers/worker-process.js';

const running: TestGlacis[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => g.stop()));
});

it('schedules once with two API processes, fires a recorded freeze, and disappears when the config drops it', async () => {
  const remote = await makeRemote('local');
  const local = tempDir('auto-repo');
  writeFixture(local, 'symlink');
  const prefix = `auto${randomUUID().slice(0, 8)}`;
  const settings = { ...remote.settings, freezable: true, auto_freeze: true, auto_freeze_cron: '*/2 * * * * *' };

  const a = await startGlacis({ repos: { [local]: settings }, env: { QUEUE_PREFIX: prefix } });
  running.push(a);
  const b = await startGlacis({ repos: { [local]: settings }, env: { QUEUE_PREFIX: prefix }, worker: false });
  running.push(b);

  const redis = new Redis(sharedServices().redisUrl);
  const queue = autoFreezeQueue(redis, prefix);
  try {
    const schedulers = await queue.getJobSchedulers(0, -1);
    expect(schedulers.map((s) => s.key)).toEqual([`auto-freeze:${local}`]);
    expect(schedulers[0]!.pattern).toBe('*/2 * * * * *');

    let scheduled: any;
    await until(
      async () => {
        const tasks = (await a.get('/tasks?type=freeze')).body as any[];
        scheduled = tasks.find((t) => t.origin === 'schedule' && t.status === 'finished');
        return scheduled !== undefined;
      },
      30_000,
      () => 'no scheduled freeze finished',
    );
    expect(scheduled).toMatchObject({ path: local, files: 10, unprotected: 0, error: null });
    expect(existsSync(path.join(local, 'file1.txt'))).toBe(false);

    await Promise.all(running.splice(0).map((g) => g.stop()));
    const { auto_freeze: _dropped, auto_freeze_cron: _cron, ...withoutAuto } = settings;
    running.push(await startGlacis({ repos: { [local]: withoutAuto }, env: { QUEUE_PREFIX: prefix }, worker: false }));
    expect(await queue.getJobSchedulers(0, -1)).toEqual([]);
  } finally {
    await queue.close();
    redis.disconnect();
  }
}, 90_000);
