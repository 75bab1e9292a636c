/**
 * The aggregates behind `/metrics`, computed by the database in one scan of the
 * `tasks_stats` index (migration 0004): a handful of rows out, whatever the number of tasks.
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';
import type { TaskStatsGroup, TaskStatus, TaskType } from './types.js';

/**
 * A task's run time in seconds (null until it has both started and ended). Written
 * exactly as in the `tasks_stats` index, so SQLite reads it from there instead of
 * parsing two dates per row.
 */
const RUN_SECONDS = sql<number | null>`((julianday(finished) - julianday(started)) * 86400)`;

/**
 * The query {@link taskStats} runs (exposed so a test can check its plan).
 *
 * @example
 * ```ts
 * const { sql: text, parameters } = taskStatsQuery(db, [1, 60]).compile();
 * ```
 */
export function taskStatsQuery(db: Kysely<Database>, durationBounds: readonly number[]) {
  // The bucket counts travel as one 'n,n,…' column: the number of bounds is the caller's.
  const buckets =
    durationBounds.length === 0 ? sql<string>`''` : sql<string>`${sql.join(durationBounds.map((bound) => sql`coalesce(sum(${RUN_SECONDS} <= ${bound}), 0)`), sql` || ',' || `)}`;
  return db
    .selectFrom('tasks')
    .select([
      'type',
      'status',
      sql<number>`count(*)`.as('count'),
      sql<number>`coalesce(sum(case when status = 'finished' and dry_run = 0 then bytes end), 0)`.as('bytes'),
      sql<number>`count(${RUN_SECONDS})`.as('timed'),
      sql<number>`coalesce(sum(${RUN_SECONDS}), 0)`.as('seconds'),
      buckets.as('buckets'),
    ])
    .groupBy(['type', 'status']);
}

/**
 * One group per type and status present; see {@link TaskStatsGroup}.
 *
 * @example
 * ```ts
 * const groups = await taskStats(db, [1, 60, 3600]);
 * ```
 */
export async function taskStats(db: Kysely<Database>, durationBounds: readonly number[]): Promise<TaskStatsGroup[]> {
  const rows = await taskStatsQuery(db, durationBounds).execute();
  return rows.map((row) => ({
    type: row.type as TaskType,
    status: row.status as TaskStatus,
    count: row.count,
    bytes: row.bytes,
    timed: row.timed,
    durationSeconds: row.seconds,
    durationBuckets: row.buckets === '' ? [] : row.buckets.split(',').map(Number),
  }));
}
