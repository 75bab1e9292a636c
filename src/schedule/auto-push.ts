/**
 * Auto-push: a push of the whole repository on a schedule, for repos with `pushable: true`
 * and `auto_push: true`, every `auto_push_interval` hours or on `auto_push_cron` (the
 * schedule machinery, shared with auto-freeze, is in ./repo-schedules.ts).
 */
import type { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Repo } from '../config/types.js';
import type { TaskOrigin } from '../store/types.js';
import { durationMs } from '../text/values.js';
import { repoScheduleQueue, startRepoScheduleWorker, syncRepoSchedules, type RepoScheduleJobData, type RepoScheduleKind } from './repo-schedules.js';

export const AUTO_PUSH_QUEUE_NAME = 'glacis-auto-push';

/** What a schedule needs from the task service. */
export type SubmitPush = (request: { type: 'push'; path: string; origin: TaskOrigin }) => Promise<string>;

export const AUTO_PUSH: RepoScheduleKind = {
  queueName: AUTO_PUSH_QUEUE_NAME,
  schedulerPrefix: 'auto-push:',
  jobName: 'auto-push',
  repeatOf: (repo) => {
    if (!repo.push?.autoPush) return undefined;
    return repo.push.autoPushCron ? { pattern: repo.push.autoPushCron } : { every: durationMs(repo.push.autoPushIntervalHours, 'hours') };
  },
};

export function autoPushQueue(connection: Redis, prefix: string): Queue<RepoScheduleJobData> {
  return repoScheduleQueue(AUTO_PUSH, connection, prefix);
}

/** Makes the auto-push schedules in Redis match `repos`; returns the repo paths scheduled. */
export function syncAutoPushSchedules(queue: Queue<RepoScheduleJobData>, repos: readonly Repo[]): Promise<string[]> {
  return syncRepoSchedules(AUTO_PUSH, queue, repos);
}

/** Consumes fired schedules: each submits a push of its repository. */
export function startAutoPushWorker(connection: Redis, prefix: string, submit: SubmitPush, onError: (error: unknown) => void): Worker<RepoScheduleJobData, string> {
  return startRepoScheduleWorker(AUTO_PUSH, connection, prefix, (path) => submit({ type: 'push', path, origin: 'schedule' }), onError);
}
