/**
 * Reports on a schedule (issue 16 §2): a report of the whole repository on each repo's
 * `report_cron`. As auto-freeze does (./auto-freeze.ts), the schedule lives in Redis as a
 * BullMQ job scheduler with a fixed id per repo, so however many API processes start each
 * repo has one; each start makes them match the config. A fired schedule only submits a
 * report, through the task service, with origin `schedule`.
 */
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Repo } from '../config/types.js';
import type { TaskOrigin } from '../store/types.js';

export const REPORT_SCHEDULE_QUEUE_NAME = 'glacis-report-schedule';
const SCHEDULER_PREFIX = 'report:';

export interface ReportScheduleJobData {
  readonly path: string;
}

/** What a schedule needs from the task service. */
export type SubmitReport = (request: { type: 'report'; path: string; origin: TaskOrigin }) => Promise<string>;

/** The schedulers' queue (shared by the API, which sets schedules, and workers, which fire them). */
export function reportScheduleQueue(connection: Redis, prefix: string): Queue<ReportScheduleJobData> {
  const queue = new Queue<ReportScheduleJobData>(REPORT_SCHEDULE_QUEUE_NAME, { connection, prefix });
  queue.on('error', () => undefined);
  return queue;
}

/**
 * Makes the schedules in Redis match the repos' `report_cron`.
 *
 * @returns the repo paths that have a schedule now.
 * @example
 * ```ts
 * await syncReportSchedules(reportScheduleQueue(redis, 'glacis'), repos);
 * ```
 */
export async function syncReportSchedules(queue: Queue<ReportScheduleJobData>, repos: readonly Repo[]): Promise<string[]> {
  const wanted = repos.filter((repo) => repo.reportCron !== undefined);
  for (const repo of wanted) {
    await queue.upsertJobScheduler(`${SCHEDULER_PREFIX}${repo.localPath}`, { pattern: repo.reportCron! }, {
      name: 'report',
      data: { path: repo.localPath },
      opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 }, stackTraceLimit: 0 },
    });
  }
  const keep = new Set(wanted.map((repo) => `${SCHEDULER_PREFIX}${repo.localPath}`));
  for (const scheduler of await queue.getJobSchedulers(0, -1)) {
    if (scheduler.key.startsWith(SCHEDULER_PREFIX) && !keep.has(scheduler.key)) await queue.removeJobScheduler(scheduler.key);
  }
  return wanted.map((repo) => repo.localPath);
}

/**
 * Consumes fired schedules: each submits a report of its repository.
 *
 * @example
 * ```ts
 * const worker = startReportScheduleWorker(connectRedis(url, 'worker'), 'glacis', (r) => tasks.submit(r), onError);
 * ```
 */
export function startReportScheduleWorker(connection: Redis, prefix: string, submit: SubmitReport, onError: (error: unknown) => void): Worker<ReportScheduleJobData, string> {
  const worker = new Worker<ReportScheduleJobData, string>(REPORT_SCHEDULE_QUEUE_NAME, (job) => submit({ type: 'report', path: job.data.path, origin: 'schedule' }), {
    connection,
    prefix,
    concurrency: 1,
  });
  worker.on('error', onError);
  worker.on('failed', (_job, error) => onError(error));
  return worker;
}
