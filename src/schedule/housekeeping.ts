/**
 * Housekeeping on a schedule: removing old tasks (`CLEANUP_INTERVAL`, `CLEANUP_AGE`) and
 * failing zombies (`CLEANUP_ZOMBIES_INTERVAL`). As for auto-freeze, BullMQ job schedulers
 * with fixed ids keep exactly one schedule per job however many API processes start;
 * workers run the jobs.
 */
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';

export const HOUSEKEEPING_QUEUE_NAME = 'glacis-housekeeping';

/** The housekeeping jobs, by scheduler id. */
export type HousekeepingJob = 'cleanup' | 'zombies';

/** How often each job runs, in milliseconds; 0 means never. */
export type HousekeepingIntervals = Readonly<Record<HousekeepingJob, number>>;

/** What each job does; resolves to a count for the log. */
export type HousekeepingHandlers = Readonly<Record<HousekeepingJob, () => Promise<number>>>;

/** The schedulers' queue (the API sets schedules, workers run them). */
export function housekeepingQueue(connection: Redis, prefix: string): Queue {
  const queue = new Queue(HOUSEKEEPING_QUEUE_NAME, { connection, prefix });
  queue.on('error', () => undefined);
  return queue;
}

/**
 * Makes the schedules in Redis match the intervals.
 *
 * @example
 * ```ts
 * await syncHousekeepingSchedules(housekeepingQueue(redis, 'glacis'), { cleanup: 21_600_000, zombies: 3_600_000 });
 * ```
 */
export async function syncHousekeepingSchedules(queue: Queue, intervals: HousekeepingIntervals): Promise<void> {
  for (const job of Object.keys(intervals) as HousekeepingJob[]) {
    const every = intervals[job];
    if (every > 0) {
      await queue.upsertJobScheduler(job, { every }, { name: job, opts: { removeOnComplete: { count: 50 }, removeOnFail: { count: 50 }, stackTraceLimit: 0 } });
    } else {
      await queue.removeJobScheduler(job);
    }
  }
}

/**
 * Runs fired housekeeping jobs.
 *
 * @example
 * ```ts
 * const worker = startHousekeepingWorker(connection, 'glacis', { cleanup, zombies }, onDone, onError);
 * ```
 */
export function startHousekeepingWorker(
  connection: Redis,
  prefix: string,
  handlers: HousekeepingHandlers,
  onDone: (job: HousekeepingJob, count: number) => void,
  onError: (error: unknown) => void,
): Worker<unknown, number> {
  const worker = new Worker<unknown, number>(
    HOUSEKEEPING_QUEUE_NAME,
    async (job) => {
      const name = job.name as HousekeepingJob;
      const handler = handlers[name];
      if (!handler) throw new Error(`unknown housekeeping job ${job.name}`);
      const count = await handler();
      onDone(name, count);
      return count;
    },
    { connection, prefix, concurrency: 1 },
  );
  worker.on('error', onError);
  worker.on('failed', (_job, error) => onError(error));
  return worker;
}
