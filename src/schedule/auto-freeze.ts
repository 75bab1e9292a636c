/**
 * Auto-freeze: a freeze of the whole repository on a schedule, for repos with
 * `auto_freeze: true` (the schedule machinery, shared with auto-push, is in
 * ./repo-schedules.ts).
 */
import type { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Repo } from '../config/types.js';
import type { TaskOrigin } from '../store/types.js';
import { durationMs } from '../text/values.js';
import { repoScheduleQueue, startRepoScheduleWorker, syncRepoSchedules, type RepoScheduleJobData, type RepoScheduleKind } from './repo-schedules.js';

export const AUTO_FREEZE_QUEUE_NAME = 'glacis-auto-freeze';

export type AutoFreezeJobData = RepoScheduleJobData;

/** What a schedule needs from the task service. */
export type SubmitFreeze = (request: { type: 'freeze'; path: string; origin: TaskOrigin }) => Promise<string>;

const AUTO_FREEZE: RepoScheduleKind = {
  queueName: AUTO_FREEZE_QUEUE_NAME,
  schedulerPrefix: 'auto-freeze:',
  jobName: 'auto-freeze',
  repeatOf: (repo) => {
    if (!repo.autoFreeze) return undefined;
    return repo.autoFreezeCron ? { pattern: repo.autoFreezeCron } : { every: durationMs(repo.autoFreezeInterval, 'days') };
  },
};

/** The schedulers' queue (shared by the API, which sets schedules, and workers, which fire them). */
export function autoFreezeQueue(connection: Redis, prefix: string): Queue<AutoFreezeJobData> {
  return repoScheduleQueue(AUTO_FREEZE, connection, prefix);
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
export function syncAutoFreezeSchedules(queue: Queue<AutoFreezeJobData>, repos: readonly Repo[]): Promise<string[]> {
  return syncRepoSchedules(AUTO_FREEZE, queue, repos);
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
  return startRepoScheduleWorker(AUTO_FREEZE, connection, prefix, (path) => submit({ type: 'freeze', path, origin: 'schedule' }), onError);
}
