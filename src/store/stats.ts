/**
 * The aggregates behind `/metrics`, computed by the database in one scan of the
 * `tasks_stats` index: a handful of rows out, whatever the number of tasks. The same query
 * on both dialects; only the run-time expression and the boolean differ.
 */
import { sql, type Kysely } from 'kysely';
import type { StoreDialect } from './dialects/types.js';
import type { Database } from './schema.js';
import type { TaskStatsGroup, TaskStatus, TaskType } from './types.js';

/**
 * The query {@link taskStats} runs (exposed so a test can check its plan).
 *
 * @example
 * ```ts
 * const { sql: text, parameters } = taskStatsQuery(db, dialect, [1, 60]).compile();
 * ```
 */
export function taskStatsQuery(db: Kysely<Database>, dialect: Pick<StoreDialect, 'flag' | 'runSeconds'>, durationBounds: readonly number[]) {
  const RUN_SECONDS = dialect.runSeconds;
  // The bucket counts travel as one 'n,n,…' column: the number of bounds is the caller's.
  // count(case …) rather than sum(a <= b): PostgreSQL does not sum booleans.
  const buckets =
    durationBounds.length === 0
      ? sql<string>`''`
      : sql<string>`${sql.join(durationBounds.map((bound) => sql`cast(count(case when ${RUN_SECONDS} <= ${bound} then 1 end) as text)`), sql` || ',' || `)}`;
  return db
    .selectFrom('tasks')
    .select([
      'type',
      'status',
      sql<number>`count(*)`.as('count'),
      sql<number>`coalesce(sum(case when status = 'finished' and dry_run = ${sql.lit(dialect.flag(false))} then bytes end), 0)`.as('bytes'),
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
 * const groups = await taskStats(db, dialect, [1, 60, 3600]);
 * ```
 */
export async function taskStats(db: Kysely<Database>, dialect: Pick<StoreDialect, 'flag' | 'runSeconds'>, durationBounds: readonly number[]): Promise<TaskStatsGroup[]> {
  const rows = await taskStatsQuery(db, dialect, durationBounds).execute();
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
