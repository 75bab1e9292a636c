/**
 * The mail repository: the only code that talks SMTP. Wraps nodemailer with a transport
 * built from the `MAIL_*` settings. The password goes to nodemailer and nowhere else:
 * errors are redacted before anyone sees them, and nodemailer's own logging stays off.
 */
import { createTransport } from 'nodemailer';
import type { MailSettings } from '../config/types.js';
import type { Logger } from '../log/index.js';
import { makeRedactor, type Redactor } from '../rclone/redact.js';
import { isEmailAddress } from '../text/email.js';
import type { ComposedMail } from './compose.js';

/** A mail server that accepts the connection and then says nothing must not hold a job for minutes. */
const CONNECTION_TIMEOUT_MS = 30_000;
const SOCKET_TIMEOUT_MS = 60_000;

/** What {@link Mailer.send} did with a message. */
export type SendOutcome = 'sent' | 'suppressed';

/**
 * @example
 * ```ts
 * const mailer = new Mailer(settings.mail, log);
 * await mailer.send({ to: ['ada@example.org'], subject: 'Glacis: finished pulling /data/x', text: 'Hello, …' });
 * mailer.close();
 * ```
 */
export class Mailer {
  private readonly transport: ReturnType<typeof createTransport>;
  /** Removes the SMTP password (and its encodings on the wire) from any text. */
  private readonly redact: Redactor;

  constructor(
    private readonly settings: MailSettings,
    private readonly log: Logger,
  ) {
    this.redact = makeRedactor(secretForms(settings));
    this.transport = createTransport({
      host: settings.server ?? 'localhost',
      port: settings.port,
      secure: settings.useSsl,
      // Flask-Mail's MAIL_USE_TLS: STARTTLS when asked for, never otherwise (an internal relay
      // with a self-signed certificate keeps working, as it did with Baricadr).
      requireTLS: settings.useTls,
      ignoreTLS: !settings.useTls && !settings.useSsl,
      ...(settings.username === undefined ? {} : { auth: { user: settings.username, pass: settings.password ?? '' } }),
      connectionTimeout: CONNECTION_TIMEOUT_MS,
      greetingTimeout: CONNECTION_TIMEOUT_MS,
      socketTimeout: SOCKET_TIMEOUT_MS,
      logger: false,
      debug: false,
    });
  }

  /**
   * Sends the message, or with `MAIL_SUPPRESS_SEND` only logs that it would have (recipients
   * and subject, never the body).
   *
   * @throws Error (redacted) when the server cannot be reached or refuses the message.
   */
  async send(mail: ComposedMail): Promise<SendOutcome> {
    const to = mail.to.filter((address) => isEmailAddress(address));
    if (to.length === 0) throw new Error('no valid recipient');
    if (this.settings.suppressSend) {
      this.log.info('mail suppressed (MAIL_SUPPRESS_SEND)', { to, subject: mail.subject });
      return 'suppressed';
    }
    try {
      await this.transport.sendMail({
        from: this.settings.sender.name ? { name: this.settings.sender.name, address: this.settings.sender.address } : this.settings.sender.address,
        to,
        subject: mail.subject,
        text: mail.text,
        // Plain text only: nodemailer never reads a file or a URL on a message's behalf.
        disableFileAccess: true,
        disableUrlAccess: true,
      });
    } catch (error) {
      throw new Error(this.redact(error instanceof Error ? error.message : String(error)));
    }
    return 'sent';
  }

  close(): void {
    this.transport.close();
  }
}

/** The password, and how it looks base64-encoded in AUTH PLAIN and AUTH LOGIN. */
function secretForms(settings: MailSettings): string[] {
  const { username = '', password } = settings;
  if (password === undefined) return [];
  return [password, Buffer.from(password).toString('base64'), Buffer.from(`\0${username}\0${password}`).toString('base64')];
}
