import { Kysely, sql, type Migration } from 'kysely';

/**
 * SQLite's schema migrations, kept in code so the compiled package carries them.
 * Append only: a released migration never changes. PostgreSQL has its own list
 * (../postgres/migrations.ts): the same tables, with that database's types.
 */
export const sqliteMigrations: Readonly<Record<string, Migration>> = {
  '0001_tasks': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('tasks')
        // seq gives a stable insertion order for paging, independent of clock resolution.
        .addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('origin', 'text', (c) => c.notNull().defaultTo('user'))
        .addColumn('dry_run', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('force', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('email', 'text')
        .addColumn('created', 'text', (c) => c.notNull())
        .addColumn('started', 'text')
        .addColumn('finished', 'text')
        .addColumn('error', 'text')
        .addColumn('files', 'integer')
        .addColumn('bytes', 'integer')
        .execute();
      await db.schema.createIndex('tasks_status').on('tasks').columns(['status', 'seq']).execute();
      await db.schema.createIndex('tasks_path').on('tasks').column('path').execute();
      await db.schema.createIndex('tasks_created').on('tasks').column('created').execute();
    },
  },
  '0002_unprotected': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('tasks').addColumn('unprotected', 'integer').execute();
    },
  },
  '0003_finished_index': {
    // Housekeeping removes ended tasks by age: a range on `finished`, never a scan.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.createIndex('tasks_finished').on('tasks').column('finished').execute();
    },
  },
  '0004_task_stats': {
    // /metrics aggregates every record at each scrape. This index holds every column the
    // aggregate reads, the run time included (computed once per write, not per scrape), so
    // a scrape scans the index in group order and never the table. The expression must
    // stay the dialect's `runSeconds` (./index.ts), or SQLite no longer matches it to the index.
    async up(db: Kysely<unknown>): Promise<void> {
      await sql`create index tasks_stats on tasks (type, status, dry_run, ((julianday(finished) - julianday(started)) * 86400), bytes)`.execute(db);
    },
  },
  '0005_task_logs': {
    // Task logs in the database (no shared directory between hosts). One row a line; the
    // columns leave room for structured events later (level, kind). Ordered by seq within a
    // task, which the primary key indexes: reading a log and trimming its middle are ranges.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('task_logs')
        .addColumn('task_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('level', 'text', (c) => c.notNull().defaultTo('info'))
        .addColumn('kind', 'text', (c) => c.notNull().defaultTo('line'))
        .addColumn('message', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('task_logs_pk', ['task_id', 'seq'])
        .execute();
    },
  },
  '0006_task_result': {
    // A kind's own result (JSON text), answered under its resultField; null when it has none.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('tasks').addColumn('result', 'text').execute();
    },
  },
  '0007_task_events': {
    // Structured task events (store/task-events.ts): the event's fields as JSON beside its kind;
    // `message` keeps its rendering, so the log reads as text without them.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('task_logs').addColumn('data', 'text').execute();
    },
  },
  '0008_frozen_catalogue': {
    // The catalogue of frozen files (src/store/catalogue.ts): one row per file a freeze
    // deleted, keyed by repo and path so that a subtree is a range of the primary key.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('frozen_files')
        .addColumn('repo', 'text', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull().defaultTo('file'))
        .addColumn('size', 'integer', (c) => c.notNull())
        // lstat's mtimeMs has a fraction: kept whole, as the freeze decision compared it.
        .addColumn('mtime_ms', 'real', (c) => c.notNull())
        .addColumn('hash', 'text')
        .addColumn('frozen_at', 'text', (c) => c.notNull())
        .addColumn('task_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('frozen_files_pk', ['repo', 'path'])
        .execute();
    },
  },
};
