import { mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sql, SqliteDialect, type Dialect } from 'kysely';
import type { StoreDialect } from '../types.js';
import { sqliteMigrations } from './migrations.js';

/**
 * The embedded default: a SQLite file through better-sqlite3.
 * Accepts a plain path, `sqlite:PATH`, `sqlite://PATH` or `:memory:`.
 *
 * @example
 * ```ts
 * const dialect = sqliteDialect('./data/glacis.sqlite');
 * ```
 */
export function sqliteDialect(databaseUrl: string): Dialect {
  const file = databaseUrl.replace(/^sqlite:(\/\/)?/, '');
  if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const database = new BetterSqlite3(file);
  // WAL lets the API read while a worker writes; busy_timeout makes the two processes
  // wait for each other instead of failing with SQLITE_BUSY.
  database.pragma('journal_mode = WAL');
  database.pragma('busy_timeout = 5000');
  database.pragma('synchronous = NORMAL');
  return new SqliteDialect({ database });
}

/**
 * SQLite behind the task store. Booleans are 0/1, times ISO 8601 text (which sorts as time),
 * integers 64-bit already.
 *
 * @example
 * ```ts
 * const db = new Kysely<Database>({ dialect: sqliteStoreDialect(url).dialect });
 * ```
 */
export function sqliteStoreDialect(databaseUrl: string): StoreDialect {
  return {
    kind: 'sqlite',
    dialect: sqliteDialect(databaseUrl),
    migrations: sqliteMigrations,
    flag: (value) => (value ? 1 : 0),
    // Written exactly as in the `tasks_stats` index (migration 0004), so SQLite reads it from
    // there instead of parsing two dates per row.
    runSeconds: sql<number | null>`((julianday(finished) - julianday(started)) * 86400)`,
  };
}
