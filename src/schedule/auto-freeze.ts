/**
 * Auto-freeze: a freeze of the whole repository on a schedule, for repos with
 * `auto_freeze: true`. BullMQ job schedulers keep the schedule in Redis under a fixed id
 * per repo, so however many API processes start, each repo has exactly one schedule;
 * each start updates it to the current config and removes those of repos that lost
 * `auto_freeze`. A fired schedule only *submits* a freeze, through the same path locks and
 * task records as a user's request (origin `schedule`).
 */
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Repo } from '../config/types.js';
import type { TaskOrigin } from '../store/types.js';
import { DAY_MS } from '../text/values.js';

export const AUTO_FREEZE_QUEUE_NAME = 'glacis-auto-freeze';
const SCHEDULER_PREFIX = 'auto-freeze:';

export interface AutoFreezeJobData {
  readonly path: string;
}

/** What a schedule needs from the task service. */
export type SubmitFreeze = (request: { type: 'freeze'; path: string; origin: TaskOrigin }) => Promise<string>;

/** The schedulers' queue (shared by the API, which sets schedules, and workers, which fire them). */
export function autoFreezeQueue(connection: Redis, prefix: string): Queue<AutoFreezeJobData> {
  const queue = new Queue<AutoFreezeJobData>(AUTO_FREEZE_QUEUE_NAME, { connection, prefix });
  queue.on('error', () => undefined);
  return queue;
}

/**
 * Makes the schedules in Redis match `repos`.
 *
 * @returns the repo paths that have a schedule now.
 * @example
 * ```ts
 * await syncAutoFreezeSchedules(autoFreezeQueue(redis, 'glacis'), repos);
 * ```
 */
export async function syncAutoFreezeSchedules(queue: Queue<AutoFreezeJobData>, repos: readonly Repo[]): Promise<string[]> {
  const wanted = repos.filter((repo) => repo.autoFreeze);
  for (const repo of wanted) {
    const repeat = repo.autoFreezeCron ? { pattern: repo.autoFreezeCron } : { every: repo.autoFreezeInterval * DAY_MS };
    await queue.upsertJobScheduler(`${SCHEDULER_PREFIX}${repo.localPath}`, repeat, {
      name: 'auto-freeze',
      data: { path: repo.localPath },
      opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 }, stackTraceLimit: 0 },
    });
  }
  const keep = new Set(wanted.map((repo) => `${SCHEDULER_PREFIX}${repo.localPath}`));
  // As many schedulers as repos at most: listing them all is cheap.
  for (const scheduler of await queue.getJobSchedulers(0, -1)) {
    const id = scheduler.key;
    if (id.startsWith(SCHEDULER_PREFIX) && !keep.has(id)) await queue.removeJobScheduler(id);
  }
  return wanted.map((repo) => repo.localPath);
}

/**
 * Consumes fired schedules: each submits a freeze of its repository.
 *
 * @example
 * ```ts
 * const worker = startAutoFreezeWorker(connectRedis(url, 'worker'), 'glacis', (r) => tasks.submit(r));
 * ```
 */
export function startAutoFreezeWorker(connection: Redis, prefix: string, submit: SubmitFreeze, onError: (error: unknown) => void): Worker<AutoFreezeJobData, string> {
  const worker = new Worker<AutoFreezeJobData, string>(AUTO_FREEZE_QUEUE_NAME, (job) => submit({ type: 'freeze', path: job.data.path, origin: 'schedule' }), {
    connection,
    prefix,
    concurrency: 1,
  });
  worker.on('error', onError);
  worker.on('failed', (_job, error) => onError(error));
  return worker;
}
