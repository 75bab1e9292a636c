/**
 * Alerts to `MAIL_ADMIN` raised by a task while it runs (the report's loss alert, issue 16
 * §1), through the same mail queue as the end-of-task mails: a mail server that is down
 * only delays them. Like the notifier, it never throws into the task's path.
 */
import type { MailSettings } from '../config/types.js';
import { describeError, type Logger } from '../log/index.js';
import type { AlertMail, MailQueue } from './mail-queue.js';

export interface AdminAlerterOptions {
  readonly mail: MailSettings;
  /** Undefined when mail is off. */
  readonly queue: MailQueue | undefined;
  readonly log: Logger;
  readonly redact: (text: string) => string;
}

/** Queues one alert of a task; resolves (never rejects) once queued or the failure logged. */
export type AdminAlerter = (taskId: string, alert: AlertMail) => Promise<void>;

/**
 * @example
 * ```ts
 * const alert = createAdminAlerter({ mail: settings.mail, queue: mailQueue, log, redact });
 * await alert(taskId, { subject: 'Glacis: 2 frozen files lost on the remote', text });
 * ```
 */
export function createAdminAlerter(options: AdminAlerterOptions): AdminAlerter {
  const { mail, queue, log, redact } = options;
  return async (taskId, alert) => {
    if (mail.admins.length === 0 || !queue) {
      // Said in the process log at least: the task's own log and result say it too.
      log.warn(`alert not mailed (${mail.admins.length === 0 ? 'MAIL_ADMIN is not set' : 'MAIL_SERVER is not set'}): ${alert.subject}`, { task: taskId });
      return;
    }
    try {
      await queue.add({ taskId, audience: 'admin', alert: { subject: redact(alert.subject), text: redact(alert.text) } });
    } catch (error) {
      log.error('could not queue an alert mail', { task: taskId, error: redact(describeError(error)) });
    }
  };
}
