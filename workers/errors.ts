/** A task failed for a reason to show the user as is (no stack, no secrets). */
export class TaskFailedError extends Error {
  override readonly name = 'TaskFailedError';
}

/**
 * Why a running task was aborted. `lock-lost`: its worker lost the job's lock (Redis was
 * away longer than the lock lasts) and BullMQ hands the job to another attempt.
 */
export type AbortReason = 'cancelled' | 'shutdown' | 'lock-lost';
