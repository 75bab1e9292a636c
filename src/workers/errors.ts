/** A task failed for a reason to show the user as is (no stack, no secrets). */
export class TaskFailedError extends Error {
  override readonly name = 'TaskFailedError';

  /**
   * The request itself cannot succeed (a path the remote lacks): its mail goes to the user
   * who asked, not to MAIL_ADMIN, whom a user's typo is no business of.
   */
  readonly onUserInput: boolean;

  constructor(message: string, options: { readonly onUserInput?: boolean; readonly cause?: unknown } = {}) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.onUserInput = options.onUserInput ?? false;
  }
}

/**
 * Why a running task was aborted. `lock-lost`: its worker lost the job's lock (Redis was
 * away longer than the lock lasts) and BullMQ hands the job to another attempt.
 */
export type AbortReason = 'cancelled' | 'shutdown' | 'lock-lost';
