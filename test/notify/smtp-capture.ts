/**
 * A real SMTP server on loopback (smtp-server) that keeps every message it receives,
 * parsed with mailparser, for tests that assert what Glacis sent.
 */
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { freePort, LOOPBACK } from '../harness/ports.js';

export interface CapturedMail {
  /** SMTP envelope recipients (RCPT TO). */
  readonly rcptTo: readonly string[];
  readonly mailFrom: string;
  /** The user name the client authenticated as, if it did. */
  readonly user: string | undefined;
  readonly raw: Buffer;
  readonly parsed: ParsedMail;
}

export interface SmtpCapture {
  readonly port: number;
  readonly messages: CapturedMail[];
  /** Every AUTH attempt: user name and whether it was accepted. */
  readonly authAttempts: { readonly user: string; readonly accepted: boolean }[];
  /** The first message (already received or to come) that matches; rejects after `timeoutMs`. */
  waitFor(match: (mail: CapturedMail) => boolean, timeoutMs?: number): Promise<CapturedMail>;
  stop(): Promise<void>;
}

export interface SmtpCaptureOptions {
  /** Default: a free port. */
  readonly port?: number;
  /** Accepted logins (user → password); AUTH stays optional either way. */
  readonly users?: Readonly<Record<string, string>>;
}

/**
 * @example
 * ```ts
 * const smtp = await startSmtpCapture();
 * const mail = await smtp.waitFor((m) => m.rcptTo.includes('ada@test.example'));
 * ```
 */
export async function startSmtpCapture(options: SmtpCaptureOptions = {}): Promise<SmtpCapture> {
  const port = options.port ?? (await freePort());
  const messages: CapturedMail[] = [];
  const authAttempts: { user: string; accepted: boolean }[] = [];
  const waiters = new Set<() => void>();
  const server = new SMTPServer({
    authOptional: true,
    allowInsecureAuth: true,
    // Plain SMTP, as a lab relay often is; Glacis does not try STARTTLS unless MAIL_USE_TLS.
    disabledCommands: ['STARTTLS'],
    logger: false,
    onAuth(auth, _session, callback) {
      const accepted = auth.username !== undefined && options.users?.[auth.username] === auth.password;
      authAttempts.push({ user: auth.username ?? '', accepted });
      if (accepted) callback(null, { user: auth.username });
      else callback(new Error('Invalid username or password'));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks);
        simpleParser(raw).then(
          (parsed) => {
            messages.push({
              rcptTo: session.envelope.rcptTo.map((a) => a.address),
              mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              user: typeof session.user === 'string' ? session.user : undefined,
              raw,
              parsed,
            });
            for (const wake of waiters) wake();
            callback();
          },
          (error: Error) => callback(error),
        );
      });
    },
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(port, LOOPBACK, () => resolve());
  });
  return {
    port,
    messages,
    authAttempts,
    waitFor(match, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const found = messages.find(match);
          if (!found) return false;
          clearTimeout(timer);
          waiters.delete(wake);
          resolve(found);
          return true;
        };
        const wake = (): void => void check();
        const timer = setTimeout(() => {
          waiters.delete(wake);
          const seen = messages.map((m) => `${m.rcptTo.join(',')}: ${m.parsed.subject}`);
          reject(new Error(`no matching mail within ${timeoutMs} ms; received: ${JSON.stringify(seen)}`));
        }, timeoutMs);
        if (!check()) waiters.add(wake);
      });
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
