/**
 * Errors thrown by the rclone wrapper. Every message and `stderrTail` here has already
 * been through the remote's redactor: they may be logged or shown to users as they are.
 */

/**
 * Details carried by an {@link RcloneError}.
 *
 * @example
 * ```ts
 * new RcloneError('rclone lsjson failed', { exitCode: 1, stderrTail: redact(tail), command: 'lsjson' });
 * ```
 */
export interface RcloneErrorDetails {
  /** rclone's exit code; null when it never started or died from a signal. */
  readonly exitCode: number | null;
  /** The last lines rclone wrote to stderr, secrets replaced by `***`. */
  readonly stderrTail?: string;
  /** The rclone subcommand (`lsjson`, `copy`, ...), for the message. */
  readonly command?: string;
  readonly cause?: unknown;
}

/**
 * rclone failed: a non-zero exit, a spawn failure, or output this module could not read.
 *
 * @example
 * ```ts
 * try {
 *   await rclone.copyFiles(repo.remote, opts);
 * } catch (err) {
 *   if (err instanceof RcloneError) log.error(`${err.message}\n${err.stderrTail}`);
 * }
 * ```
 */
export class RcloneError extends Error {
  readonly exitCode: number | null;
  /** Redacted: safe to log. */
  readonly stderrTail: string;
  readonly command: string | undefined;

  constructor(message: string, details: RcloneErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'RcloneError';
    this.exitCode = details.exitCode;
    this.stderrTail = details.stderrTail ?? '';
    this.command = details.command;
  }
}

/**
 * The listed or statted path does not exist on the remote (rclone exit codes 3/4, or an
 * empty prefix on a bucket-based store, where "missing" and "empty" are the same thing).
 *
 * @example
 * ```ts
 * try {
 *   for await (const e of rclone.list(remote, 'gone')) console.log(e.path);
 * } catch (err) {
 *   if (err instanceof RemoteNotFoundError) console.log('no such directory on the remote');
 * }
 * ```
 */
export class RemoteNotFoundError extends RcloneError {
  constructor(message: string, details: RcloneErrorDetails) {
    super(message, details);
    this.name = 'RemoteNotFoundError';
  }
}

/**
 * What an aborted call rejects with: Node's convention (`name` AbortError, `code` ABORT_ERR,
 * `cause` the signal's reason).
 *
 * @example
 * ```ts
 * if (isAbortError(err)) console.log(err.code); // 'ABORT_ERR'
 * ```
 */
export interface AbortErrorLike extends Error {
  readonly name: 'AbortError';
  readonly code: 'ABORT_ERR';
}

/**
 * Builds the error an aborted rclone call rejects with, shaped like the ones Node's own
 * APIs throw, so callers can test `err.name === 'AbortError'` whatever they aborted.
 *
 * @example
 * ```ts
 * throw abortError(signal);
 * ```
 */
export function abortError(signal?: AbortSignal): AbortErrorLike {
  const err = new Error('The rclone operation was aborted', { cause: signal?.reason }) as Error & {
    name: string;
    code: string;
  };
  err.name = 'AbortError';
  err.code = 'ABORT_ERR';
  return err as AbortErrorLike;
}

/**
 * True for the error an aborted call rejects with.
 *
 * @example
 * ```ts
 * try { await rclone.copyFiles(remote, { ...opts, signal }); }
 * catch (err) { if (!isAbortError(err)) throw err; }
 * ```
 */
export function isAbortError(err: unknown): err is AbortErrorLike {
  return err instanceof Error && err.name === 'AbortError';
}

/** What {@link explainRemoteFailure} needs of a repository: its name (the repos file's key) and its remote. */
export interface FailedRepo {
  readonly name: string;
  readonly remote: { readonly backend: string };
}

/**
 * What rclone's failure most likely means, for the administrator: the repository, the likely
 * cause, and the repos-file key to look at. rclone says "the server failed"-like things
 * naming no repo; this reads its (redacted) stderr for the known causes.
 *
 * @example
 * ```ts
 * explainRemoteFailure(error, repo);
 * // 'repo /data/lab1: the SFTP server refused the login: check "password" (or "key_file") and "user" (rclone lsjson failed (exit 1): … unable to authenticate …)'
 * ```
 */
export function explainRemoteFailure(error: RcloneError, repo: FailedRepo): string {
  const said = `${error.message}\n${error.stderrTail}`;
  // rclone's own message first (a stall watchdog's says what happened), then its last word on stderr.
  const last = lastMeaningfulLine(error.stderrTail);
  const detail = last && !error.message.includes(last) ? `${error.message}: ${last}` : error.message;
  const backend = repo.remote.backend;
  const hint = REMOTE_FAILURES.find((known) => (known.backend === undefined || known.backend === backend) && known.pattern.test(said));
  const why = hint ? hint.say : `the remote failed (${backend})`;
  return `repo ${repo.name}: ${why} (${detail})`;
}

const REMOTE_FAILURES: ReadonlyArray<{ readonly backend?: string; readonly pattern: RegExp; readonly say: string }> = [
  { backend: 'sftp', pattern: /unable to authenticate|permission denied \(publickey|auth(entication)? fail/i, say: 'the SFTP server refused the login: check "password" (or "key_file") and "user"' },
  { backend: 'sftp', pattern: /knownhosts|host key/i, say: 'the SFTP server\'s host key was not accepted: check "known_hosts_file"' },
  { backend: 'sftp', pattern: /couldn't read ssh key|failed to read private key|key_file/i, say: 'the SSH key could not be read: check "key_file"' },
  { backend: 's3', pattern: /InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied|403 Forbidden|NoCredentialProviders/i, say: 'the S3 store refused the credentials: check "access_key_id" and "secret_access_key"' },
  { backend: 's3', pattern: /NoSuchBucket/i, say: 'the bucket does not exist: check "path" (bucket/prefix)' },
  { pattern: /connection refused/i, say: 'nothing answers at the remote\'s address: check "host" and "port" (or "endpoint"), and that the server runs' },
  { pattern: /no such host|name resolution|server misbehaving/i, say: 'the remote\'s host name does not resolve: check "host" (or "endpoint")' },
  { pattern: /i\/o timeout|timed out|deadline exceeded|no route to host/i, say: 'the remote does not answer: check "host" and "port" (or "endpoint"), and the network (firewall?)' },
];

function lastMeaningfulLine(text: string): string | undefined {
  const lines = text.split('\n').map((line) => line.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d /, '').trim()).filter(Boolean);
  return lines.at(-1);
}
