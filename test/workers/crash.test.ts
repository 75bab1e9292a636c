/**
 * A worker killed with SIGKILL in the middle of a pull must never leave a truncated
 * file under its final name (a later pull would skip it as "present"), and the task
 * must end and free its path once a worker runs again.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { makeRemote, tempDir } from '../helpers/remotes.js';
import { bytesBelow, exited, hashOf, killWorkerProcesses, rcloneProcessesMentioning, startWorkerProcess, until, writeBigFile } from '../helpers/worker-process.js';

const BIG_FILES = 4;
const instances: TestGlacis[] = [];
afterEach(async () => {
  killWorkerProcesses();
  await Promise.all(instances.splice(0).map((g) => g.stop()));
});

it('SIGKILL mid-transfer: no partial file under a final name, task ends, lock released, re-pull complete', async () => {
  const remote = await makeRemote('sftp');
  for (let i = 0; i < BIG_FILES; i++) writeBigFile(path.join(remote.root!, 'big', `part${i}.bin`), 48, i + 1);
  const local = tempDir('crash-repo');
  const glacis = await startGlacis({ repos: { [local]: remote.settings }, worker: false });
  instances.push(glacis);
  const staging = path.join(local, '.glacis-staging');

  const worker = startWorkerProcess(glacis.env);
  const { body } = await glacis.post('/pull', { path: path.join(local, 'big') });
  const taskId: string = body.task;
  expect(taskId, JSON.stringify(body)).toBeDefined();

  // Kill once some bytes are staged but the transfer is not done.
  await until(() => bytesBelow(staging) > 0, 30_000, async () => `the pull never started: ${JSON.stringify((await glacis.get(`/tasks/status/${taskId}`)).body)}`);
  worker.kill('SIGKILL');
  await exited(worker);
  // Its rclone dies with it (no orphan writing on into staging).
  await until(() => rcloneProcessesMentioning(staging).length === 0, 5_000, () => `orphaned rclone: ${rcloneProcessesMentioning(staging).join('\n')}`);

  const remoteHashes = new Map<string, string>();
  for (let i = 0; i < BIG_FILES; i++) remoteHashes.set(`part${i}.bin`, await hashOf(path.join(remote.root!, 'big', `part${i}.bin`)));
  const countCompleteFiles = async (): Promise<number> => {
    let complete = 0;
    for (const [name, hash] of remoteHashes) {
      const file = path.join(local, 'big', name);
      if (!existsSync(file)) continue;
      expect(await hashOf(file), `${name} under its final name`).toBe(hash);
      complete++;
    }
    return complete;
  };
  expect(await countCompleteFiles()).toBeLessThan(BIG_FILES);

  // A new worker: the killed task is retried once its job lock expires.
  startWorkerProcess(glacis.env);
  const ended = await glacis.waitForTask(taskId, 60_000);
  expect(['finished', 'failed']).toContain(ended.status);
  await countCompleteFiles();

  // The path is free again (a new task, not the old id), and pulling completes the tree.
  const again = await glacis.post('/pull', { path: path.join(local, 'big') });
  expect(again.body.task).not.toBe(taskId);
  expect((await glacis.waitForTask(again.body.task, 60_000)).status).toBe('finished');
  expect(await countCompleteFiles()).toBe(BIG_FILES);
  expect(existsSync(staging) ? readdirSync(staging) : []).toEqual([]);
}, 150_000);
