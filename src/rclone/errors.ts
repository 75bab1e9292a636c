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
