/**
 * Zombies: tasks recorded as unfinished with no live job behind them (the job was
 * lost with Redis data, or its worker died and BullMQ gave up on it). They are marked
 * failed with the reason, and their path locks released so other tasks can run.
 */
import type { PathLocks } from '../locks/index.js';
import type { TaskEndNotifier } from '../notify/notifier.js';
import type { TaskQueue } from '../queue/task-queue.js';
import { UNFINISHED_STATUSES, type TaskStore } from '../store/index.js';

/** A task is recorded just before its job is queued: give that a moment. */
const GRACE_MS = 60_000;

export interface ZombieDeps {
  readonly store: TaskStore;
  readonly queue: TaskQueue;
  readonly locks: PathLocks;
  /** Told of each task marked failed here ("terminated prematurely"). */
  readonly notifier: TaskEndNotifier;
}

/**
 * @returns the ids of the tasks marked failed.
 * @example
 * ```ts
 * const ids = await cleanZombies({ store, queue, locks, notifier });
 * ```
 */
export async function cleanZombies(deps: ZombieDeps, now: number = Date.now()): Promise<string[]> {
  const cleaned: string[] = [];
  for (const status of UNFINISHED_STATUSES) {
    // By status (indexed): only unfinished tasks are read, never the whole history.
    for (const task of await deps.store.list({ status })) {
      if (now - Date.parse(task.created) < GRACE_MS) continue;
      const job = await deps.queue.getJob(task.id);
      const state = job ? await job.getState() : 'missing';
      if (state !== 'missing' && state !== 'completed' && state !== 'failed' && state !== 'unknown') continue;
      const marked = await deps.store.transition(task.id, UNFINISHED_STATUSES, {
        status: 'failed',
        finished: new Date(now).toISOString(),
        error: `terminated prematurely: no live job behind the task (job ${state})`,
      });
      await deps.locks.release(task.id);
      if (marked) {
        cleaned.push(task.id);
        await deps.notifier.taskEnded(marked);
      }
    }
  }
  return cleaned;
}
