/**
 * Exit codes of the `glacis` command, and the error the client commands throw to end with
 * one of them: a single line that says what to do, never a stack trace.
 */

/**
 * Exit codes, as documented in the README's CLI reference.
 *
 * @example
 * ```ts
 * process.exitCode = EXIT.unreachable;
 * ```
 */
export const EXIT = {
  ok: 0,
  /** The task failed or was cancelled, or the server refused the request. */
  failure: 1,
  /** Bad command line or configuration. */
  usage: 2,
  /** The server (or its Redis) cannot be reached, or it refused the token. */
  unreachable: 3,
  /** Interrupted (Ctrl-C) while prompting or following a task. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * An error a client command ends with: `message` is printed after `glacis: ` on one line.
 *
 * @example
 * ```ts
 * throw new CliError('--max-depth must be a whole number ≥ 0', EXIT.usage);
 * ```
 */
export class CliError extends Error {
  override readonly name = 'CliError';

  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
  }
}
