/**
 * Sends queued mails: reads the task record and streams its log's events for the file lists,
 * composes the message and hands it to the mail repository. A failed send throws, and
 * BullMQ tries again later (see {@link MailQueue}); the task itself is never touched.
 */
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../log/index.js';
import type { TaskStore } from '../store/types.js';
import type { TaskLogs } from '../store/task-logs.js';
import { composeTaskMail, type Audience, type ComposedMail } from './compose.js';
import { DEFAULT_LIST_LIMIT, readFileLists } from './file-list.js';
import { MAIL_ATTEMPTS, MAIL_QUEUE_NAME, type MailJob, type MailJobData, type MailJobResult } from './mail-queue.js';
import type { Mailer } from './mailer.js';

/** What the mail worker reads and sends with. */
export interface MailWorkerDeps {
  readonly store: TaskStore;
  readonly logs: TaskLogs;
  readonly mailer: Mailer;
  /** `MAIL_ADMIN`. */
  readonly admins: readonly string[];
  readonly log: Logger;
}

/** Options of {@link startMailWorker}. */
export interface MailWorkerOptions {
  /** BullMQ key prefix: `QUEUE_PREFIX`. */
  readonly prefix: string;
  /** Names listed per file list before "… and N more". */
  readonly listLimit?: number;
  /** Errors that concern no particular mail (Redis connection). */
  readonly onError: (error: unknown) => void;
}

/** A running mail worker. */
export interface RunningMailWorker {
  readonly worker: Worker<MailJobData, MailJobResult, Audience>;
  /** Stops taking jobs (a mail being sent finishes) and closes the SMTP transport. */
  close(): Promise<void>;
}

/**
 * @example
 * ```ts
 * const mails = startMailWorker(connectRedis(url, 'worker'), { store, logs, mailer, admins, log }, { prefix: 'glacis', onError });
 * await mails.close();
 * ```
 */
export function startMailWorker(connection: Redis, deps: MailWorkerDeps, options: MailWorkerOptions): RunningMailWorker {
  const worker = new Worker<MailJobData, MailJobResult, Audience>(MAIL_QUEUE_NAME, (job) => sendTaskMail(job, deps, options.listLimit ?? DEFAULT_LIST_LIMIT), {
    connection,
    prefix: options.prefix,
    // One SMTP conversation at a time: mails are few, and a slow server is not hammered.
    concurrency: 1,
  });
  worker.on('error', options.onError);
  worker.on('failed', (job, error) => {
    if (job && job.attemptsMade >= (job.opts.attempts ?? MAIL_ATTEMPTS)) {
      deps.log.error('mail given up', { task: job.data.taskId, audience: job.data.audience, attempts: job.attemptsMade, error: error.message });
    }
  });
  return {
    worker,
    async close() {
      try {
        await worker.close();
      } finally {
        deps.mailer.close();
      }
    },
  };
}

async function sendTaskMail(job: MailJob, deps: MailWorkerDeps, listLimit: number): Promise<MailJobResult> {
  const { taskId, audience } = job.data;
  if (job.data.alert) return send(job, deps, deps.admins.length > 0 ? { to: [...deps.admins], ...job.data.alert } : undefined);
  const stored = await deps.store.get(taskId);
  const task = stored ?? job.data.task;
  if (!task) {
    deps.log.warn('mail not sent: its task was removed before it could be', { task: taskId, audience });
    return 'skipped';
  }
  // Only a stored task still has its log; a removed one's list is gone with it.
  const files = stored ? await readFileLists(deps.logs, taskId, task, listLimit) : undefined;
  return send(job, deps, composeTaskMail(task, audience, files, deps.admins));
}

async function send(job: MailJob, deps: MailWorkerDeps, mail: ComposedMail | undefined): Promise<MailJobResult> {
  const { taskId } = job.data;
  if (!mail) return 'skipped';
  try {
    const outcome = await deps.mailer.send(mail);
    if (outcome === 'sent') deps.log.info('mail sent', { task: taskId, to: mail.to, subject: mail.subject });
    return outcome;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    deps.log.warn('mail not sent yet: will try again', { task: taskId, to: mail.to, attempt: job.attemptsMade + 1, error: message });
    throw error;
  }
}
