import { Kysely, Migrator, sql, type Migration, type MigrationProvider } from 'kysely';

/**
 * Schema migrations, kept in code so the compiled package carries them.
 * Append only: a released migration never changes.
 */
const migrations: Record<string, Migration> = {
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
    // stay the one in store/stats.ts, or SQLite no longer matches it to the index.
    async up(db: Kysely<unknown>): Promise<void> {
      await sql`create index tasks_stats on tasks (type, status, dry_run, ((julianday(finished) - julianday(started)) * 86400), bytes)`.execute(db);
    },
  },
};

const provider: MigrationProvider = {
  getMigrations: () => Promise.resolve(migrations),
};

/**
 * Brings the database schema up to date; safe to call from several processes at start-up.
 *
 * @example
 * ```ts
 * await migrateToLatest(db);
 * ```
 */
export async function migrateToLatest(db: Kysely<unknown>): Promise<void> {
  const { error } = await new Migrator({ db, provider }).migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
}
