/**
 * Three Redis outages longer than the job lock, each while the same pull runs: BullMQ counts
 * each as a stall of the job and, at the third, fails it ("job stalled more than allowable
 * limit"), its guard against a job that kills its worker. Here the worker lived and stopped
 * each attempt itself: the task must go on and finish, the file whole.
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startRedis } from '../harness/redis.js';
import { startSftp } from '../harness/sftp.js';
import { startGlacis } from '../helpers/glacis.js';
import { tempDir } from '../helpers/remotes.js';
import { hashOf, killWorkerProcesses, startWorkerProcess, writeBigFile } from '../helpers/worker-process.js';

const LOCK_SECONDS = 5;
/** Longer than the job lock: the job's lock has expired when Redis is back. */
const OUTAGE_MS = 7_000;
const OUTAGES = 3;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  killWorkerProcesses();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

it('a pull whose job stalls three times because Redis went away (its worker alive) is queued again and finishes', async () => {
  const redisDir = tempDir('redis-stalls-data');
  const redis = await startRedis({ dir: redisDir, appendOnly: true });
  cleanups.push(async () => {
    await redis.stop();
    rmSync(redisDir, { recursive: true, force: true });
  });
  const served = tempDir('redis-stalls-sftp');
  // 24 MB at 2 MB/s: each attempt is still transferring when Redis goes away.
  const sftp = await startSftp({ root: served, bwLimit: '2M' });
  cleanups.push(() => sftp.stop());
  writeBigFile(path.join(served, 'tree', 'd', 'big.bin'), 24, 7);
  const local = tempDir('redis-stalls-repo');
  const repo = { backend: 'sftp', url: `${sftp.host}:tree`, port: sftp.port, user: sftp.user, password: sftp.password };
  const glacis = await startGlacis({ repos: { [local]: repo }, redisUrl: redis.url, worker: false, env: { WORKER_LOCK_DURATION: String(LOCK_SECONDS) } });
  cleanups.push(() => glacis.stop());
  const worker = startWorkerProcess(glacis.env);

  const { status, body } = await glacis.post('/pull', { path: path.join(local, 'd') });
  expect(status).toBe(200);
  const taskId: string = body.task;
  const attemptsStarted = async (): Promise<number> => ((await glacis.runtime.store.logs.read(taskId)) ?? '').split('\n').filter((line) => / of .* started$/.test(line)).length;

  for (let outage = 1; outage <= OUTAGES; outage++) {
    // Each outage hits a running attempt: the first, then each one BullMQ offers after a stall.
    const deadline = Date.now() + 90_000;
    while ((await attemptsStarted()) < outage) {
      if (Date.now() > deadline) throw new Error(`attempt ${outage} never started: ${(await glacis.runtime.store.get(taskId))?.status}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await redis.stop();
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    await redis.restart();
  }

  const ended = await glacis.waitForTask(taskId, 180_000);
  expect(ended.status, `${ended.error}\n${await glacis.runtime.store.logs.read(taskId)}`).toBe('finished');
  expect(await attemptsStarted()).toBeGreaterThan(OUTAGES);
  expect(await hashOf(path.join(local, 'd', 'big.bin'))).toBe(await hashOf(path.join(served, 'tree', 'd', 'big.bin')));
  expect(readFileSync(path.join(local, 'd', 'big.bin')).length).toBe(24 * 1024 * 1024);
  expect(worker.exitCode, 'the worker died').toBeNull();
}, 300_000);
