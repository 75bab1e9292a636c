/**
 * The task store: every read and write of task records goes through here.
 * Callers see {@link TaskStore}; the database behind it is chosen by URL.
 */
import { Kysely, sql, type Selectable } from 'kysely';
import { sqliteDialect } from './dialects/sqlite.js';
import { migrateToLatest } from './migrations.js';
import { taskStats } from './stats.js';
import type { Database, TaskRow } from './schema.js';
import { ENDED_STATUSES, type NewTask, type Task, type TaskOrigin, type TaskQuery, type TaskStatsGroup, type TaskStatus, type TaskStore, type TaskType, type TaskUpdate } from './types.js';

export * from './types.js';

/** Longest page {@link TaskStore.list} returns, whatever the caller asks. */
export const MAX_PAGE = 10_000;

/**
 * Opens (creating if needed) the task database and migrates it.
 *
 * @example
 * ```ts
 * const store = await openTaskStore('./data/glacis.sqlite');
 * const task = await store.get(id);
 * await store.close();
 * ```
 */
export async function openTaskStore(databaseUrl: string): Promise<TaskStore> {
  if (/^postgres(ql)?:/.test(databaseUrl)) {
    throw new Error('DATABASE_URL: PostgreSQL is not supported yet; use a SQLite file path');
  }
  const db = new Kysely<Database>({ dialect: sqliteDialect(databaseUrl) });
  await migrateToLatest(db as unknown as Kysely<unknown>);
  return new KyselyTaskStore(db);
}

class KyselyTaskStore implements TaskStore {
  constructor(private readonly db: Kysely<Database>) {}

  async create(task: NewTask): Promise<Task> {
    const row = {
      id: task.id,
      type: task.type,
      path: task.path,
      status: 'waiting',
      origin: task.origin,
      dry_run: task.dryRun ? 1 : 0,
      force: task.force ? 1 : 0,
      email: task.email,
      created: new Date().toISOString(),
      started: null,
      finished: null,
      error: null,
      files: null,
      bytes: null,
      unprotected: null,
    };
    const inserted = await this.db.insertInto('tasks').values(row).returningAll().executeTakeFirstOrThrow();
    return toTask(inserted);
  }

  async get(id: string): Promise<Task | undefined> {
    const row = await this.db.selectFrom('tasks').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toTask(row);
  }

  async update(id: string, patch: TaskUpdate): Promise<Task | undefined> {
    if (Object.keys(patch).length === 0) return this.get(id);
    const row = await this.db.updateTable('tasks').set(patch).where('id', '=', id).returningAll().executeTakeFirst();
    return row && toTask(row);
  }

  async transition(id: string, from: readonly TaskStatus[], patch: TaskUpdate & { status: TaskStatus }): Promise<Task | undefined> {
    const row = await this.db
      .updateTable('tasks')
      .set(patch)
      .where('id', '=', id)
      .where('status', 'in', [...from])
      .returningAll()
      .executeTakeFirst();
    return row && toTask(row);
  }

  async list(query: TaskQuery = {}): Promise<Task[]> {
    let q = this.db.selectFrom('tasks').selectAll();
    if (query.status) q = q.where('status', '=', query.status);
    if (query.type) q = q.where('type', '=', query.type);
    if (query.pathPrefix !== undefined) {
      const prefix = query.pathPrefix.endsWith('/') ? query.pathPrefix : `${query.pathPrefix}/`;
      // A range instead of LIKE: no escaping of % and _, and it uses the path index.
      q = q.where((eb) => eb.or([eb('path', '=', query.pathPrefix!), eb.and([eb('path', '>=', prefix), eb('path', '<', `${prefix.slice(0, -1)}0`)])]));
    }
    const limit = Math.min(query.limit ?? MAX_PAGE, MAX_PAGE);
    const rows = await q.orderBy('seq', 'asc').limit(limit).offset(query.offset ?? 0).execute();
    return rows.map(toTask);
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('tasks').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async deleteEndedBefore(cutoff: string, limit: number): Promise<string[]> {
    return this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('tasks')
        .select('id')
        .where('finished', '<', cutoff)
        .where('status', 'in', [...ENDED_STATUSES])
        .limit(limit)
        .execute();
      const ids = rows.map((row) => row.id);
      if (ids.length > 0) await trx.deleteFrom('tasks').where('id', 'in', ids).execute();
      return ids;
    });
  }

  stats(durationBounds: readonly number[]): Promise<TaskStatsGroup[]> {
    return taskStats(this.db, durationBounds);
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}

function toTask(row: Selectable<TaskRow>): Task {
  return {
    id: row.id,
    type: row.type as TaskType,
    path: row.path,
    status: row.status as TaskStatus,
    origin: row.origin as TaskOrigin,
    dryRun: row.dry_run === 1,
    force: row.force === 1,
    email: row.email,
    created: row.created,
    started: row.started,
    finished: row.finished,
    error: row.error,
    files: row.files,
    bytes: row.bytes,
    unprotected: row.unprotected,
  };
}
