/** A task failed for a reason to show the user as is (no stack, no secrets). */
export class TaskFailedError extends Error {
  override readonly name = 'TaskFailedError';
}

/** Why a running task was aborted. */
export type AbortReason = 'cancelled' | 'shutdown';
