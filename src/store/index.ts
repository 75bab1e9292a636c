/**
 * The task store: every read and write of task records goes through here.
 * Callers see {@link TaskStore}; the database behind it is chosen by URL.
 */
import { Kysely, Migrator, sql, type Selectable } from 'kysely';
import { databaseKind } from '../config/database-url.js';
import { subtree } from '../paths/index.js';
import { KyselyFrozenCatalogue, type FrozenCatalogue } from './catalogue.js';
import { sqliteStoreDialect } from './dialects/sqlite/index.js';
import type { StoreDialect } from './dialects/types.js';
import { taskStats } from './stats.js';
import { TaskLogs } from './task-logs.js';
import type { Database, TaskRow } from './schema.js';
import { ENDED_STATUSES, type JsonValue, type NewTask, type Task, type TaskOrigin, type TaskQuery, type TaskStatsGroup, type TaskStatus, type TaskStore, type TaskType, type TaskUpdate } from './types.js';

export * from './types.js';
export type { CatalogueTotals, FrozenCatalogue, FrozenFile } from './catalogue.js';

/** Longest page {@link TaskStore.list} returns, whatever the caller asks. */
export const MAX_PAGE = 10_000;

/**
 * Opens (creating if needed) the task database and migrates it: a PostgreSQL server for a
 * `postgres://` or `postgresql://` URL, else a SQLite file (see database-url.ts). Errors
 * never carry the URL: it may hold a password.
 *
 * @example
 * ```ts
 * const store = await openTaskStore('./data/glacis.sqlite');
 * const task = await store.get(id);
 * await store.close();
 * ```
 */
export async function openTaskStore(databaseUrl: string): Promise<TaskStore> {
  // pg is loaded only for a PostgreSQL URL: every process start (and `glacis` refusing a bad
  // setting) would otherwise pay for loading it.
  const dialect =
    databaseKind(databaseUrl) === 'postgres'
      ? (await import('./dialects/postgres/index.js')).postgresStoreDialect(databaseUrl)
      : sqliteStoreDialect(databaseUrl);
  const db = new Kysely<Database>({ dialect: dialect.dialect });
  try {
    await migrateToLatest(db, dialect);
  } catch (error) {
    await db.destroy().catch(() => undefined);
    throw error;
  }
  return new KyselyTaskStore(db, dialect);
}

/**
 * Brings the database schema up to date; safe to call from several processes at start-up.
 * Kysely's migrator locks on PostgreSQL (an advisory lock) but not across SQLite
 * connections: two processes opening a new SQLite file together both ran 0001, and the
 * second failed with "table tasks already exists" (test/store/store.test.ts "migrates once
 * when several processes open a new database at the same time"). A failed run is therefore
 * tried again: it then finds the other's migrations done. A real error fails every try.
 */
async function migrateToLatest(db: Kysely<Database>, dialect: StoreDialect): Promise<void> {
  const migrator = new Migrator({ db, provider: { getMigrations: () => Promise.resolve({ ...dialect.migrations }) } });
  for (let attempt = 1; ; attempt++) {
    const { error } = await migrator.migrateToLatest();
    if (!error) return;
    if (attempt >= 3) throw error instanceof Error ? error : new Error(String(error));
    await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
  }
}

class KyselyTaskStore implements TaskStore {
  readonly logs: TaskLogs;
  readonly catalogue: FrozenCatalogue;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: StoreDialect,
  ) {
    this.logs = new TaskLogs(db);
    this.catalogue = new KyselyFrozenCatalogue(db);
  }

  async create(task: NewTask): Promise<Task> {
    const row = {
      id: task.id,
      type: task.type,
      path: task.path,
      status: 'waiting',
      origin: task.origin,
      dry_run: this.dialect.flag(task.dryRun),
      force: this.dialect.flag(task.force),
      email: task.email,
      created: new Date().toISOString(),
      started: null,
      finished: null,
      error: null,
      files: null,
      bytes: null,
      unprotected: null,
      result: null,
    };
    const inserted = await this.db.insertInto('tasks').values(row).returningAll().executeTakeFirstOrThrow();
    return this.toTask(inserted);
  }

  async get(id: string): Promise<Task | undefined> {
    const row = await this.db.selectFrom('tasks').selectAll().where('id', '=', id).executeTakeFirst();
    return row && this.toTask(row);
  }

  async update(id: string, patch: TaskUpdate): Promise<Task | undefined> {
    if (Object.keys(patch).length === 0) return this.get(id);
    const row = await this.db.updateTable('tasks').set(toRowPatch(patch)).where('id', '=', id).returningAll().executeTakeFirst();
    return row && this.toTask(row);
  }

  async transition(id: string, from: readonly TaskStatus[], patch: TaskUpdate & { status: TaskStatus }): Promise<Task | undefined> {
    const row = await this.db
      .updateTable('tasks')
      .set(toRowPatch(patch))
      .where('id', '=', id)
      .where('status', 'in', [...from])
      .returningAll()
      .executeTakeFirst();
    return row && this.toTask(row);
  }

  async list(query: TaskQuery = {}): Promise<Task[]> {
    let q = this.db.selectFrom('tasks').selectAll();
    if (query.status) q = q.where('status', '=', query.status);
    if (query.type) q = q.where('type', '=', query.type);
    if (query.pathPrefix !== undefined) {
      const { self, below, end } = subtree(query.pathPrefix);
      // A range instead of LIKE: no escaping of % and _, and it uses the path index. The same
      // rule as isSameOrInside (src/paths, whose subtree() gives the range) and CLAIM_SCRIPT's
      // range in Lua (src/locks/scripts.ts):
      // test/paths/same-or-inside.test.ts holds the three equal.
      q = q.where((eb) => eb.or([eb('path', '=', self), eb.and([eb('path', '>=', below), eb('path', '<', end)])]));
    }
    if (query.idPrefix !== undefined) {
      // Callers pass hex digits and dashes only (the API checks), so nothing needs escaping.
      q = q.where('id', 'like', `${query.idPrefix}%`);
    }
    const limit = Math.min(query.limit ?? MAX_PAGE, MAX_PAGE);
    const rows = await q.orderBy('seq', query.order ?? 'asc').limit(limit).offset(query.offset ?? 0).execute();
    return rows.map((row) => this.toTask(row));
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
      if (ids.length > 0) {
        await trx.deleteFrom('tasks').where('id', 'in', ids).execute();
        await trx.deleteFrom('task_logs').where('task_id', 'in', ids).execute();
      }
      return ids;
    });
  }

  stats(durationBounds: readonly number[]): Promise<TaskStatsGroup[]> {
    return taskStats(this.db, this.dialect, durationBounds);
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }

  private toTask(row: Selectable<TaskRow>): Task {
    return recordOf(row, readResult(this.dialect, row.result));
  }
}

/** A patch as its columns store it: the result as JSON text (a JS array would reach pg as a PostgreSQL array). */
function toRowPatch(patch: TaskUpdate): Omit<TaskUpdate, 'result'> & { result?: string | null } {
  if (patch.result === undefined) return patch as Omit<TaskUpdate, 'result'>;
  return { ...patch, result: patch.result === null ? null : JSON.stringify(patch.result) };
}

/** SQLite holds the JSON text; pg has already parsed jsonb. */
function readResult(dialect: StoreDialect, value: unknown): JsonValue | null {
  if (value === null || value === undefined) return null;
  return dialect.kind === 'sqlite' && typeof value === 'string' ? (JSON.parse(value) as JsonValue) : (value as JsonValue);
}

function recordOf(row: Selectable<TaskRow>, result: JsonValue | null): Task {
  return {
    id: row.id,
    type: row.type as TaskType,
    path: row.path,
    status: row.status as TaskStatus,
    origin: row.origin as TaskOrigin,
    dryRun: row.dry_run === 1 || row.dry_run === true,
    force: row.force === 1 || row.force === true,
    email: row.email,
    created: row.created,
    started: row.started,
    finished: row.finished,
    error: row.error,
    files: row.files,
    bytes: row.bytes,
    unprotected: row.unprotected,
    result,
  };
}
