import type { Dialect, Migration, RawBuilder } from 'kysely';

/**
 * What differs between the databases behind the one task store: the Kysely dialect, the
 * migrations (each dialect has its own list: column types differ), how a boolean is
 * written, and the run-time expression of the metrics aggregates. Everything else (every
 * query) is shared.
 */
export interface StoreDialect {
  readonly kind: 'sqlite' | 'postgres';
  readonly dialect: Dialect;
  readonly migrations: Readonly<Record<string, Migration>>;
  /** A boolean as its column stores it: 0/1 on SQLite, a real boolean on PostgreSQL. */
  flag(value: boolean): number | boolean;
  /** A task's run time in seconds (null until it has both started and ended). */
  readonly runSeconds: RawBuilder<number | null>;
}
