import { mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { SqliteDialect, type Dialect } from 'kysely';

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
