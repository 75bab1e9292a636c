/**
 * The mail queue: a BullMQ queue of its own, so that sending is off the task's critical
 * path. A job names a task and who to write to; the message is composed when it is sent,
 * from the task record and its log, so a job stays a few bytes however many files the task
 * touched. A mail server that is down only delays the message: each job is retried with
 * exponential backoff.
 */
import { Queue, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Task } from '../store/types.js';
import type { Audience } from './compose.js';

export const MAIL_QUEUE_NAME = 'glacis-mail';
/** Tries of one message: with the default 60 s first delay, the last one is about 8 hours after the task ended. */
export const MAIL_ATTEMPTS = 10;

/** One message to send. */
export interface MailJobData {
  readonly taskId: string;
  readonly audience: Audience;
  /** The task's record, only when the record is deleted before the mail is sent (a removed task). */
  readonly task?: Task;
  /**
   * A message a task composed itself for `MAIL_ADMIN` while it ran (the report's loss
   * alert): sent as it is, not composed from the record. Bounded by the task (it caps its lists).
   */
  readonly alert?: AlertMail;
}

/** Subject and plain text of an alert to the administrators. */
export interface AlertMail {
  readonly subject: string;
  readonly text: string;
}

/** What a mail job did: sent, only logged (`MAIL_SUPPRESS_SEND`), or nothing (the task is gone, or nobody to write to). */
export type MailJobResult = 'sent' | 'suppressed' | 'skipped';

export type MailJob = Job<MailJobData, MailJobResult, Audience>;

/** Options of {@link MailQueue}. */
export interface MailQueueOptions {
  /** BullMQ key prefix: `QUEUE_PREFIX`, shared with the task queue. */
  readonly prefix: string;
  /** First retry delay; each further one doubles (`MAIL_RETRY_DELAY`). */
  readonly retryDelayMs: number;
}

/**
 * @example
 * ```ts
 * const mails = new MailQueue(redis, { prefix: 'glacis', retryDelayMs: 60_000 });
 * await mails.add({ taskId, audience: 'user' });
 * ```
 */
export class MailQueue {
  readonly queue: Queue<MailJobData, MailJobResult, Audience>;

  constructor(
    connection: Redis,
    private readonly options: MailQueueOptions,
  ) {
    this.queue = new Queue<MailJobData, MailJobResult, Audience>(MAIL_QUEUE_NAME, { connection, prefix: options.prefix });
    this.queue.on('error', () => undefined);
  }

  async add(data: MailJobData): Promise<void> {
    await this.queue.add(data.audience, data, {
      // A task ends once: should two code paths both report it, one mail goes out. A task
      // raises at most one alert (an attempt run again does not mail twice).
      jobId: `${data.taskId}-${data.alert ? 'alert' : data.audience}`,
      attempts: MAIL_ATTEMPTS,
      backoff: { type: 'exponential', delay: this.options.retryDelayMs },
      removeOnComplete: { count: 1000 },
      removeOnFail: { count: 1000 },
      stackTraceLimit: 0,
    });
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}
