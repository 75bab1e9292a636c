/**
 * The one thing called wherever a task ends (worker outcome, abandoned job, zombie clean-up,
 * removal by the user): it queues the task's mails. It never throws into the task's path:
 * a mail problem is logged, and the task's record stays as it was written.
 */
import type { AutoFreezeMail, MailSettings } from '../config/types.js';
import { describeError, type Logger } from '../log/index.js';
import type { Task } from '../store/types.js';
import { audiencesFor } from './compose.js';
import type { MailQueue } from './mail-queue.js';

/** How a task's end was reached, when that changes what the mail job needs. */
export interface TaskEndOptions {
  /** The record and log are deleted right after: the job carries the record itself. */
  readonly removed?: boolean;
  /** It failed on the request itself (a path the remote lacks): the user hears of it, not the admins. */
  readonly onUserInput?: boolean;
}

/**
 * @example
 * ```ts
 * const ended = await store.transition(id, UNFINISHED_STATUSES, { status: 'failed', finished, error });
 * if (ended) await notifier.taskEnded(ended);
 * ```
 */
export interface TaskEndNotifier {
  /** Queues the mails of an ended task; resolves (never rejects) once they are queued or the failure logged. */
  taskEnded(task: Task, options?: TaskEndOptions): Promise<void>;
}

/** Options of {@link createTaskEndNotifier}. */
export interface TaskEndNotifierOptions {
  readonly mail: MailSettings;
  /** Undefined when mail is off (`MAIL_SERVER` unset, sending not suppressed). */
  readonly queue: MailQueue | undefined;
  readonly log: Logger;
  /** Removes secrets from error text before it is logged. */
  readonly redact: (text: string) => string;
  /** The `auto_freeze_mail` of the repo holding a path (undefined: the default). */
  readonly autoFreezeMail?: (path: string) => AutoFreezeMail | undefined;
}

/**
 * @example
 * ```ts
 * const notifier = createTaskEndNotifier({ mail: settings.mail, queue: new MailQueue(redis, opts), log, redact });
 * ```
 */
export function createTaskEndNotifier(options: TaskEndNotifierOptions): TaskEndNotifier {
  const { mail, queue, log, redact } = options;
  return {
    async taskEnded(task, endOptions = {}) {
      try {
        const autoFreezeMail = options.autoFreezeMail?.(task.path);
        const audiences = audiencesFor(task, mail.admins, { ...endOptions, ...(autoFreezeMail === undefined ? {} : { autoFreezeMail }) });
        if (audiences.length === 0) return;
        if (!queue) {
          if (audiences.includes('user')) log.warn('a task asked for a mail, but MAIL_SERVER is not set: none sent', { task: task.id });
          return;
        }
        for (const audience of audiences) await queue.add({ taskId: task.id, audience, ...(endOptions.removed ? { task } : {}) });
      } catch (error) {
        log.error('could not queue the mail of a task', { task: task.id, error: redact(describeError(error)) });
      }
    },
  };
}

/**
 * True when mails are composed: sent through `MAIL_SERVER`, or only logged with `MAIL_SUPPRESS_SEND`.
 *
 * @example
 * ```ts
 * const queue = mailEnabled(settings.mail) ? new MailQueue(redis, opts) : undefined;
 * ```
 */
export function mailEnabled(mail: MailSettings): boolean {
  return mail.server !== undefined || mail.suppressSend;
}
