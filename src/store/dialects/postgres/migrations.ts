import { Kysely, sql, type Migration } from 'kysely';

/**
 * PostgreSQL's schema migrations: the tables of the SQLite list (../sqlite/migrations.ts) at
 * their latest, with this database's own types: 64-bit counters, real booleans, timestamps
 * with time zone. Append only: a released migration never changes.
 */
export const postgresMigrations: Readonly<Record<string, Migration>> = {
  '0001_tasks': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('tasks')
        // seq gives a stable insertion order for paging, independent of clock resolution.
        .addColumn('seq', 'bigserial', (c) => c.primaryKey())
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('type', 'text', (c) => c.notNull())
        // Byte order whatever the database's locale: TaskStore.list finds a path's subtree as
        // the range ['p/', 'p0'), which only byte order makes exact.
        .addColumn('path', sql`text collate "C"`, (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('origin', 'text', (c) => c.notNull().defaultTo('user'))
        .addColumn('dry_run', 'boolean', (c) => c.notNull().defaultTo(false))
        .addColumn('force', 'boolean', (c) => c.notNull().defaultTo(false))
        .addColumn('email', 'text')
        .addColumn('created', 'timestamptz', (c) => c.notNull())
        .addColumn('started', 'timestamptz')
        .addColumn('finished', 'timestamptz')
        .addColumn('error', 'text')
        // 64-bit: a pull of more than 2 GiB is the common case, not an edge.
        .addColumn('files', 'bigint')
        .addColumn('bytes', 'bigint')
        .addColumn('unprotected', 'bigint')
        .execute();
      await db.schema.createIndex('tasks_status').on('tasks').columns(['status', 'seq']).execute();
      await db.schema.createIndex('tasks_path').on('tasks').column('path').execute();
      await db.schema.createIndex('tasks_created').on('tasks').column('created').execute();
      // Housekeeping removes ended tasks by age: a range on `finished`, never a scan.
      await db.schema.createIndex('tasks_finished').on('tasks').column('finished').execute();
      // The columns /metrics aggregates, run time included, as SQLite's migration 0004 does.
      await sql`create index tasks_stats on tasks (type, status, dry_run, (extract(epoch from (finished - started))), bytes)`.execute(db);
    },
  },
  '0002_task_logs': {
    // As SQLite's 0005: one row a line, room for structured events (level, kind).
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('task_logs')
        .addColumn('task_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'bigint', (c) => c.notNull())
        .addColumn('time', 'timestamptz', (c) => c.notNull())
        .addColumn('level', 'text', (c) => c.notNull().defaultTo('info'))
        .addColumn('kind', 'text', (c) => c.notNull().defaultTo('line'))
        .addColumn('message', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('task_logs_pk', ['task_id', 'seq'])
        .execute();
    },
  },
  '0006_task_result': {
    // As SQLite's 0006 (numbered alike, so both name it the same): jsonb here.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('tasks').addColumn('result', 'jsonb').execute();
    },
  },
  '0007_task_events': {
    // As SQLite's 0007: the event's fields as JSON beside its kind. Text, not jsonb: the
    // fields are only ever read back whole, and both dialects then answer the same string.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('task_logs').addColumn('data', 'text').execute();
    },
  },
  '0008_frozen_catalogue': {
    // As SQLite's 0008. Byte order ("C") for the subtree ranges, as on `tasks.path`.
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('frozen_files')
        .addColumn('repo', sql`text collate "C"`, (c) => c.notNull())
        .addColumn('path', sql`text collate "C"`, (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull().defaultTo('file'))
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('mtime_ms', 'double precision', (c) => c.notNull())
        .addColumn('hash', 'text')
        .addColumn('frozen_at', 'timestamptz', (c) => c.notNull())
        .addColumn('task_id', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('frozen_files_pk', ['repo', 'path'])
        .execute();
    },
  },
};
