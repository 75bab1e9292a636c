/**
 * The worker process: consumes the task queue, runs pulls and freezes, and reacts to
 * cancellations. Several workers, on several hosts, share one queue.
 */
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { checkAtimeSupport, type AtimeSupport } from '../freeze/atime.js';
import { describeError, forTask } from '../log/index.js';
import { subscribeCancel } from '../queue/cancellation.js';
import { TASK_QUEUE_NAME, TaskQueue, type TaskJob, type TaskJobData, type TaskJobResult } from '../queue/task-queue.js';
import type { TaskType } from '../store/types.js';
import type { AbortReason } from './errors.js';
import { removeStaleIncoming } from './incoming.js';
import { removeStaleStaging } from './staging.js';
import { lastAttemptLostRedis, recordAbandonedJob, runTaskJob, type RunnerDeps } from './task-runner.js';

/** How often a job BullMQ gave up on for stalling goes back to the queue when Redis, not the job, was the cause. */
const MAX_REQUEUES = 10;

export interface WorkerOptions {
  readonly concurrency: number;
  /** Key prefix shared with the API (queue and locks). */
  readonly prefix: string;
  /** How long a job's lock lasts without renewal: a killed worker's job is retried after about this long. */
  readonly lockDurationMs: number;
  /** How long SIGTERM waits for running tasks before handing them back to the queue. */
  readonly shutdownGraceMs: number;
  /** Called with errors that concern no particular task. */
  readonly onError: (error: unknown) => void;
}

export interface RunningWorker {
  /** Stops taking jobs; running ones finish within the grace period or are handed back. */
  close(): Promise<void>;
  readonly worker: Worker<TaskJobData, TaskJobResult | undefined, TaskType>;
}

/**
 * @example
 * ```ts
 * const running = await startWorker(connectRedis(url, 'worker'), deps, { concurrency: 2, prefix: 'glacis', lockDurationMs: 30_000, shutdownGraceMs: 60_000, onError: console.error });
 * process.on('SIGTERM', () => void running.close());
 * ```
 */
export async function startWorker(connection: Redis, baseDeps: Omit<RunnerDeps, 'atimeSupport' | 'handoverMs'>, options: WorkerOptions): Promise<RunningWorker> {
  const locksLive = async (taskId: string): Promise<boolean> => (await baseDeps.locks.blockers(taskId)) !== -1;
  const atimeSupport = new Map<string, AtimeSupport>();
  for (const repo of baseDeps.repos) {
    await removeStaleStaging(repo, locksLive).catch(options.onError);
    if (!repo.freezable) continue;
    const support = await checkAtimeSupport(repo.localPath);
    atimeSupport.set(repo.localPath, support);
    if (!support.supported) options.onError(new Error(repo.disableAtimeTest ? `${support.reason} (ignored: disable_atime_test is set)` : support.reason));
  }
  const deps: RunnerDeps = { ...baseDeps, atimeSupport, handoverMs: options.lockDurationMs };
  // Push's upload areas left on the remotes by killed workers: swept in the background, as
  // a remote that does not answer must not hold the worker's start (src/workers/incoming.ts).
  const sweeping = new AbortController();
  const swept = (async () => {
    for (const repo of baseDeps.repos) await removeStaleIncoming(repo, baseDeps.rclone, locksLive, sweeping.signal).catch((error: unknown) => {
      if (!sweeping.signal.aborted) options.onError(error);
    });
  })();

  const running = new Map<string, AbortController>();
  const worker = new Worker<TaskJobData, TaskJobResult | undefined, TaskType>(
    TASK_QUEUE_NAME,
    async (job, token) => {
      const controller = new AbortController();
      running.set(job.data.taskId, controller);
      try {
        return await runTaskJob(job, token, controller.signal, deps);
      } finally {
        running.delete(job.data.taskId);
      }
    },
    {
      connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs,
      stalledInterval: Math.max(1000, Math.floor(options.lockDurationMs / 2)),
      maxStalledCount: 2,
    },
  );
  worker.on('error', options.onError);
  // BullMQ gives a job whose lock was lost to another attempt, but does not stop this one.
  worker.on('lockRenewalFailed', (jobIds) => {
    for (const jobId of jobIds) running.get(jobId)?.abort('lock-lost' satisfies AbortReason);
  });
  const queue = new TaskQueue(connection, options.prefix);
  worker.on('failed', (job, error) => {
    // Jobs failed by our own processor are already recorded; this catches the ones
    // BullMQ failed because they stalled too often, whose processor never finished.
    if (!job || !/stalled/i.test(error.message)) return;
    const { taskId } = job.data;
    void afterStallLimit(job, error.message).catch((failure: unknown) =>
      forTask(deps.log, taskId).error('could not record an abandoned task as failed', { error: deps.redact(describeError(failure)) }),
    );
  });
  /**
   * BullMQ fails a job that stalled three times: its guard against a job that kills its
   * worker. A Redis outage longer than the job lock stalls every running job too, though its
   * worker lived and stopped the attempt itself; such a job goes back to the queue, under
   * the same task and path claim, up to {@link MAX_REQUEUES} times
   * (test/safety/redis-stalls.test.ts: three outages during one pull failed it).
   */
  const afterStallLimit = async (job: TaskJob, reason: string): Promise<void> => {
    const { taskId } = job.data;
    const requeues = job.data.requeues ?? 0;
    if (requeues < MAX_REQUEUES && (await lastAttemptLostRedis(deps, taskId))) {
      forTask(deps.log, taskId).warn('task queued again: it stalled only because Redis was unreachable', { requeues: requeues + 1 });
      await job.remove();
      await queue.add({ ...job.data, requeues: requeues + 1 });
      return;
    }
    await recordAbandonedJob(deps, taskId, reason);
  };

  const subscriber = connection.duplicate();
  subscriber.on('error', () => undefined);
  await subscribeCancel(subscriber, options.prefix, (taskId) => running.get(taskId)?.abort('cancelled' satisfies AbortReason));
  await worker.waitUntilReady();

  return {
    worker,
    async close() {
      sweeping.abort();
      const closing = worker.close();
      const timer = setTimeout(() => {
        for (const controller of running.values()) controller.abort('shutdown' satisfies AbortReason);
      }, options.shutdownGraceMs);
      try {
        await closing;
      } finally {
        clearTimeout(timer);
        subscriber.disconnect();
        await queue.close().catch(() => undefined);
        await swept;
      }
    },
  };
}
