/**
 * SIGTERM: a worker stops taking jobs, lets running tasks finish within its grace
 * period, and hands the others back to the queue, killing its rclone processes. No task
 * is lost.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { makeRemote, tempDir } from '../helpers/remotes.js';
import { bytesBelow, exited, hashOf, killWorkerProcesses, rcloneProcessesMentioning, startWorkerProcess, until, writeBigFile } from '../helpers/worker-process.js';

const instances: TestGlacis[] = [];
afterEach(async () => {
  killWorkerProcesses();
  await Promise.all(instances.splice(0).map((g) => g.stop()));
});

async function slowPullSetup(grace: string) {
  const remote = await makeRemote('sftp');
  for (let i = 0; i < 3; i++) writeBigFile(path.join(remote.root!, 'big', `part${i}.bin`), 64, 10 + i);
  const local = tempDir('shutdown-repo');
  const glacis = await startGlacis({ repos: { [local]: remote.settings }, worker: false, env: { WORKER_SHUTDOWN_GRACE: grace } });
  instances.push(glacis);
  const worker = startWorkerProcess(glacis.env);
  const { body } = await glacis.post('/pull', { path: path.join(local, 'big') });
  const staging = path.join(local, '.glacis-staging');
  await until(() => bytesBelow(staging) > 0, 30_000, () => 'the pull never started transferring');
  return { remote, local, glacis, worker, taskId: body.task as string, staging };
}

it('with no grace left, hands the running task back: rclone stopped, no partial file, another worker finishes it', async () => {
  const { remote, local, glacis, worker, taskId, staging } = await slowPullSetup('0');
  worker.kill('SIGTERM');
  const { code } = await exited(worker);
  expect(code).toBe(0);
  expect(rcloneProcessesMentioning(staging)).toEqual([]);
  expect((await glacis.get(`/tasks/status/${taskId}`)).body.status).not.toMatch(/finished|failed|cancelled/);

  startWorkerProcess(glacis.env);
  expect((await glacis.waitForTask(taskId, 60_000)).status).toBe('finished');
  for (let i = 0; i < 3; i++) {
    expect(await hashOf(path.join(local, 'big', `part${i}.bin`))).toBe(await hashOf(path.join(remote.root!, 'big', `part${i}.bin`)));
  }
  expect(existsSync(staging) ? readdirSync(staging) : []).toEqual([]);
}, 120_000);

it('within the grace period, lets the running task finish before exiting', async () => {
  const { glacis, worker, taskId } = await slowPullSetup('60');
  worker.kill('SIGTERM');
  const { code } = await exited(worker);
  expect(code).toBe(0);
  const task = (await glacis.get(`/tasks/status/${taskId}`)).body;
  expect(task.status).toBe('finished');
}, 120_000);
