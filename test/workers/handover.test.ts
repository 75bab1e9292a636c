/**
 * A worker host that dies mid-pull: its task is handed over to another worker within one
 * job lock duration (WORKER_LOCK_DURATION) of BullMQ offering it again, not one more lock
 * duration later. The dead attempt's "running" record is kept alive by its heartbeat
 * only, so it expires with the worker instead of making the new attempt wait out its
 * whole handover deadline.
 */
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { makeRemote, tempDir } from '../helpers/remotes.js';
import { bytesBelow, exited, hashOf, killWorkerProcesses, rcloneProcessesMentioning, startWorkerProcess, until, writeBigFile } from '../helpers/worker-process.js';

const BIG_FILES = 3;
const instances: TestGlacis[] = [];
afterEach(async () => {
  killWorkerProcesses();
  await Promise.all(instances.splice(0).map((g) => g.stop()));
});

it('SIGKILL of a worker process group mid-pull: another worker takes the task over within one lock duration and finishes it', async () => {
  const remote = await makeRemote('sftp');
  for (let i = 0; i < BIG_FILES; i++) writeBigFile(path.join(remote.root!, 'big', `part${i}.bin`), 48, i + 11);
  const local = tempDir('handover-repo');
  const glacis = await startGlacis({ repos: { [local]: remote.settings }, worker: false });
  instances.push(glacis);
  const lockMs = glacis.runtime.settings.workerLockDurationMs;
  const staging = path.join(local, '.glacis-staging');

  const first = startWorkerProcess(glacis.env, { ownGroup: true });
  const { body } = await glacis.post('/pull', { path: path.join(local, 'big') });
  const taskId: string = body.task;
  expect(taskId, JSON.stringify(body)).toBeDefined();
  await until(() => bytesBelow(staging) > 0, 30_000, async () => `the pull never started: ${JSON.stringify((await glacis.get(`/tasks/status/${taskId}`)).body)}`);
  const firstAttempt = await glacis.runtime.queue.getJob(taskId);
  expect(firstAttempt?.processedOn).toBeDefined();

  // The second worker is up (idle: the job is the first's) before the host "dies".
  startWorkerProcess(glacis.env);
  const killedAt = Date.now();
  process.kill(-first.pid!, 'SIGKILL');
  await exited(first);
  await until(() => rcloneProcessesMentioning(staging).length === 0, 10_000, () => `rclone survived its host: ${rcloneProcessesMentioning(staging).join('\n')}`);

  const ended = await glacis.waitForTask(taskId, 120_000);
  expect(ended.status, JSON.stringify(ended)).toBe('finished');
  for (let i = 0; i < BIG_FILES; i++) {
    expect(await hashOf(path.join(local, 'big', `part${i}.bin`))).toBe(await hashOf(path.join(remote.root!, 'big', `part${i}.bin`)));
  }

  // The recorded times: BullMQ's processedOn for the attempt that took over, the task's
  // start time for when that attempt began acting.
  const job = await glacis.runtime.queue.getJob(taskId);
  const offeredAgainAt = job!.processedOn!;
  const startedAgainAt = Date.parse((await glacis.runtime.store.get(taskId))!.started!);
  expect(offeredAgainAt, 'the task was taken over by a new attempt').toBeGreaterThan(killedAt);
  expect(startedAgainAt).toBeGreaterThanOrEqual(offeredAgainAt);
  // The dead attempt's record expired about one lock duration after its last heartbeat;
  // without the heartbeat the new attempt waited a full lock duration more, always.
  // (BullMQ offers it once the job lock has expired and its stalled check, every half lock
  // duration, has seen it: that part is BullMQ's, and on a loaded machine its timers drift,
  // so it is not asserted; see the log line below for the figures of a run.)
  expect(startedAgainAt - offeredAgainAt, 'the new attempt waited for a dead one').toBeLessThan(lockMs);
  console.log(
    `handover: lock ${lockMs} ms; offered again ${offeredAgainAt - killedAt} ms after the kill, ` +
      `started ${startedAgainAt - offeredAgainAt} ms after that (${startedAgainAt - killedAt} ms in all)`,
  );
}, 200_000);
