/**
 * The task queue: the BullMQ queue that carries pull and freeze jobs from the API
 * to the workers. A job's id is its task's id, so either finds the other.
 */
import { Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { TaskOrigin, TaskType } from '../store/types.js';
import type { ProgressJson } from '../wire/index.js';

export const TASK_QUEUE_NAME = 'glacis-tasks';

/** What a worker needs to run a task; everything else is in the task record. */
export interface TaskJobData {
  readonly taskId: string;
  readonly type: TaskType;
  readonly path: string;
  readonly dryRun: boolean;
  readonly force: boolean;
  /** Who asked (absent: a user). A `watermark` freeze selects least recently read files first (src/workers/freeze.ts). */
  readonly origin?: TaskOrigin;
  /**
   * How often the job was put back in the queue after BullMQ gave up on it for stalling, each
   * time because its live worker had lost Redis (src/workers/index.ts): bounded, so a job that
   * keeps losing its lock for another reason still ends.
   */
  readonly requeues?: number;
}

/**
 * Progress a running job reports (shown by Bull Board, `GET /tasks/status` and the CLI): the
 * API hands it on as it is, so it is the wire's progress shape (src/wire), written once.
 */
export type TaskProgress = ProgressJson;

/** Outcome stored on the finished job. */
export interface TaskJobResult {
  readonly files: number;
  readonly bytes: number;
  /** Freeze: cold files kept because the remote does not hold them identically. */
  readonly unprotected?: number;
}

const PROGRESS_NUMBERS = ['percent', 'bytes', 'totalBytes', 'files', 'totalFiles'] as const;

/** A job's progress (BullMQ keeps any JSON: a fresh job holds 0) if it is a {@link TaskProgress}. */
function asTaskProgress(value: unknown): TaskProgress | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (!PROGRESS_NUMBERS.every((key) => typeof record[key] === 'number')) return undefined;
  return {
    percent: record.percent as number,
    bytes: record.bytes as number,
    totalBytes: record.totalBytes as number,
    files: record.files as number,
    totalFiles: record.totalFiles as number,
    ...(typeof record.currentFile === 'string' ? { currentFile: record.currentFile } : {}),
    ...(typeof record.speed === 'number' ? { speed: record.speed } : {}),
  };
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
      // The failure's message is kept (the board's Error tab); its stack, full of this
      // host's install paths, is not (issue 15, test/api/board-errors.test.ts).
      stackTraceLimit: 0,
    });
  }

  async getJob(taskId: string): Promise<TaskJob | undefined> {
    return (await this.queue.getJob(taskId)) ?? undefined;
  }

  /** The progress the task's worker last reported; undefined before its first report. */
  async progress(taskId: string): Promise<TaskProgress | undefined> {
    return asTaskProgress((await this.getJob(taskId))?.progress);
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
