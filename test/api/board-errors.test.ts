/**
 * The board's Error tab (issue 15): a failed task's job showed the raw stack trace, with
 * this host's install paths. Its job keeps the failure's message, and no stack.
 */
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { BOARD_PATH } from '../../src/api/board.js';
import { TASK_QUEUE_NAME } from '../../src/queue/task-queue.js';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { makeRemote, tempDir } from '../helpers/remotes.js';
import { until } from '../helpers/worker-process.js';

const running: TestGlacis[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => g.stop()));
});

it('a failed task\'s job holds its message and no stack trace', async () => {
  const remote = await makeRemote('local');
  const local = tempDir('board-errors');
  const glacis = await startGlacis({ repos: { [local]: remote.settings } });
  running.push(glacis);
  const missing = path.join(local, 'no/such/dir');
  const { body } = await glacis.post('/pull', { path: missing });
  const task = await glacis.waitForTask(body.task);
  expect(task.status).toBe('failed');

  // The task's record ends inside the job; BullMQ records the job failed once it returns.
  const boardJob = async (): Promise<{ failedReason?: string; stacktrace: string[] }> => {
    const answer = await fetch(`${glacis.url}${BOARD_PATH}/api/queues/${TASK_QUEUE_NAME}/${body.task}`);
    expect(answer.status).toBe(200);
    return ((await answer.json()) as { job: { failedReason?: string; stacktrace: string[] } }).job;
  };
  await until(async () => (await boardJob()).failedReason !== undefined, 20_000, async () => `job: ${JSON.stringify(await boardJob())}`);
  const job = await boardJob();
  expect(job.failedReason).toBe(`${missing} does not exist on the remote`);
  expect(job.stacktrace).toEqual([]);
  expect(JSON.stringify(job)).not.toMatch(/\.[jt]s:\d+|node_modules|\n\s+at /);
});
