/**
 * The task queue: the BullMQ queue that carries pull and freeze jobs from the API
 * to the workers. A job's id is its task's id, so either finds the other.
 */
import { Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { TaskType } from '../store/types.js';

export const TASK_QUEUE_NAME = 'glacis-tasks';

/** What a worker needs to run a task; everything else is in the task record. */
export interface TaskJobData {
  readonly taskId: string;
  readonly type: TaskType;
  readonly path: string;
  readonly dryRun: boolean;
  readonly force: boolean;
}

/** Progress a running job reports (shown by Bull Board and the CLI). */
export interface TaskProgress {
  readonly percent: number;
  readonly bytes: number;
  readonly totalBytes: number;
  readonly files: number;
  readonly totalFiles: number;
  readonly currentFile?: string;
  readonly speed?: number;
}

/** Outcome stored on the finished job. */
export interface TaskJobResult {
  readonly files: number;
  readonly bytes: number;
  /** Freeze: cold files kept because the remote does not hold them identically. */
  readonly unprotected?: number;
}

export type TaskJob = Job<TaskJobData, TaskJobResult | undefined, TaskType>;

/**
 * @example
 * ```ts
 * const queue = new TaskQueue(redis, 'glacis');
 * await queue.add({ taskId, type: 'pull', path, dryRun: false, force: false });
 * ```
 */
export class TaskQueue {
  readonly queue: Queue<TaskJobData, TaskJobResult | undefined, TaskType>;

  constructor(connection: Redis, prefix: string) {
    this.queue = new Queue<TaskJobData, TaskJobResult | undefined, TaskType>(TASK_QUEUE_NAME, { connection, prefix });
    this.queue.on('error', () => undefined);
  }

  async add(data: TaskJobData): Promise<void> {
    await this.queue.add(data.type, data, {
      jobId: data.taskId,
      // Failures are recorded on the task; retrying a failed pull is the user's call.
      attempts: 1,
      removeOnComplete: { count: 1000 },
      removeOnFail: { count: 1000 },
    });
  }

  async getJob(taskId: string): Promise<TaskJob | undefined> {
    return (await this.queue.getJob(taskId)) ?? undefined;
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
