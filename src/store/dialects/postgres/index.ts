import { PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { StoreDialect } from '../types.js';
import { postgresMigrations } from './migrations.js';

/** PostgreSQL type ids whose text form pg would hand over as a string or a Date. */
const INT8 = 20;
const NUMERIC = 1700;
const TIMESTAMPTZ = 1184;

const parseTimestamp = pg.types.getTypeParser(TIMESTAMPTZ) as (text: string) => Date;

/**
 * Values leave the store as the SQLite side gives them: numbers, never strings (pg returns
 * bigint and numeric as text, so a counter past 2^31 would turn into a string), and times as
 * ISO 8601 strings. Set on this pool only, never on pg's process-wide parsers.
 */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    if (oid === INT8 || oid === NUMERIC) return Number;
    if (oid === TIMESTAMPTZ) return (value: string) => parseTimestamp(value).toISOString();
    return format === undefined ? pg.types.getTypeParser(oid) : pg.types.getTypeParser(oid, format);
  },
};

/** Connections per process: a worker runs a few tasks at once, the API a few requests. */
const POOL_SIZE = 10;

/**
 * PostgreSQL behind the task store, through a `pg` connection pool. The URL (with its
 * password) goes to pg only: it is never logged and never part of an error message here.
 *
 * @example
 * ```ts
 * const db = new Kysely<Database>({ dialect: postgresStoreDialect('postgresql://glacis:pw@db/glacis').dialect });
 * ```
 */
export function postgresStoreDialect(databaseUrl: string): StoreDialect {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: POOL_SIZE, types, connectionTimeoutMillis: 10_000 });
  // An idle connection dropped by the server (restart, network) is reported here; without a
  // listener it would crash the process. The next query opens a new connection.
  pool.on('error', () => undefined);
  return {
    kind: 'postgres',
    dialect: new PostgresDialect({ pool }),
    migrations: postgresMigrations,
    flag: (value) => value,
    // As in the `tasks_stats` index (migration 0001).
    runSeconds: sql<number | null>`extract(epoch from (finished - started))`,
  };
}
