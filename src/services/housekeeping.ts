/**
 * Removing old task records: ended tasks (finished, failed, cancelled) older than the
 * configured age go, with their logs (in the same transaction). Unfinished tasks are never removed here; a
 * task stuck unfinished is a zombie (see zombies.ts) and is first marked failed.
 */
import type { TaskStore } from '../store/index.js';

/** Rows deleted per transaction: keeps each write short, so the API never waits long on SQLite. */
const BATCH = 1000;

export interface CleanupDeps {
  readonly store: TaskStore;
}

/**
 * @param ageMs ended tasks that finished longer ago than this are removed
 * @returns how many tasks were removed
 * @example
 * ```ts
 * const removed = await removeOldTasks({ store }, settings.cleanupAgeMs);
 * ```
 */
export async function removeOldTasks(deps: CleanupDeps, ageMs: number, now: number = Date.now()): Promise<number> {
  const cutoff = new Date(now - ageMs).toISOString();
  let removed = 0;
  for (;;) {
    // The store deletes each record's log with it.
    const ids = await deps.store.deleteEndedBefore(cutoff, BATCH);
    removed += ids.length;
    if (ids.length < BATCH) return removed;
  }
}
