/**
 * Zombies: tasks recorded as unfinished with no live job behind them (the job was
 * lost with Redis data, or its worker died and BullMQ gave up on it). They are marked
 * failed with the reason, and their path locks released so other tasks can run.
 */
import { randomUUID } from 'node:crypto';
import type { PathLocks } from '../locks/index.js';
import type { TaskEndNotifier } from '../notify/notifier.js';
import type { TaskQueue } from '../queue/task-queue.js';
import type { TaskStore } from '../store/index.js';
import { UNFINISHED_STATUSES } from '../tasks/registry.js';
import type { TaskLogs, TaskLogWriter } from '../store/task-logs.js';

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

export interface ZombieTaskDeps extends ZombieDeps {
  readonly logs: TaskLogs;
  /** Told of a clean-up that failed (Redis or the database down mid-way). */
  readonly onError: (error: unknown) => void;
}

/** What the clean-up task's record holds as its path: it is about every repo. */
export const ZOMBIE_TASK_PATH = '/';

/**
 * `GET /zombie`, as Baricadr: starts the clean-up as a task and answers its id at once.
 * The task (type `zombie`) is run here, by the API process, not queued: a worker may be
 * what died. Its `files` is the number of tasks marked failed, and its log names each.
 * If this process dies mid-way the record stays `started` with no job behind it: the next
 * clean-up marks it failed like any other zombie.
 *
 * @example
 * ```ts
 * const id = await startZombieTask({ store, queue, locks, notifier, logs, onError });
 * ```
 */
export async function startZombieTask(deps: ZombieTaskDeps): Promise<string> {
  const id = randomUUID();
  await deps.store.create({ id, type: 'zombie', path: ZOMBIE_TASK_PATH, dryRun: false, force: false, email: null, origin: 'user' });
  void runZombieTask(deps, id);
  return id;
}

async function runZombieTask(deps: ZombieTaskDeps, id: string): Promise<void> {
  let log: TaskLogWriter | undefined;
  try {
    await deps.store.transition(id, ['waiting'], { status: 'started', started: new Date().toISOString() });
    log = await deps.logs.open(id);
    log.line('looking for unfinished tasks with no live job behind them');
    const cleaned = await cleanZombies(deps);
    for (const zombie of cleaned) log.line(`marked failed: ${zombie}`);
    log.line(cleaned.length === 0 ? 'no zombie tasks' : `${cleaned.length} zombie task${cleaned.length === 1 ? '' : 's'} marked failed`);
    await log.close();
    // A transition, not an update: a clean-up cancelled meanwhile stays cancelled.
    await deps.store.transition(id, ['started'], { status: 'finished', finished: new Date().toISOString(), files: cleaned.length });
  } catch (error) {
    deps.onError(error);
    log?.line(`failed: ${error instanceof Error ? error.message : String(error)}`);
    await log?.close();
    await deps.store
      .transition(id, ['waiting', 'started'], { status: 'failed', finished: new Date().toISOString(), error: 'the clean-up stopped: Redis or the database did not answer' })
      .catch(() => undefined);
  }
}
