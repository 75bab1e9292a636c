/**
 * The one rule for what `DATABASE_URL` names: a `postgres://` or `postgresql://` URL is a
 * PostgreSQL server; anything else (a file path, `sqlite:`, `file:`) is a SQLite file.
 * Config validation and the store both ask here (it lives with the config, the lower layer:
 * test/architecture.test.ts).
 */

/** Which database a `DATABASE_URL` selects. */
export type DatabaseKind = 'sqlite' | 'postgres';

const POSTGRES_SCHEME = /^postgres(?:ql)?:\/\//i;

/**
 * @example
 * ```ts
 * databaseKind('postgresql://glacis:pw@db:5432/glacis'); // 'postgres'
 * databaseKind('./data/glacis.sqlite'); // 'sqlite'
 * ```
 */
export function databaseKind(databaseUrl: string): DatabaseKind {
  return POSTGRES_SCHEME.test(databaseUrl) ? 'postgres' : 'sqlite';
}

/**
 * The URL as it may be shown (logs, error messages): the password replaced by `***`. A URL
 * that does not parse shows only its scheme, since where the password starts is unknown.
 *
 * @example
 * ```ts
 * shownDatabaseUrl('postgresql://glacis:s3cret@db/glacis'); // 'postgresql://glacis:***@db/glacis'
 * ```
 */
export function shownDatabaseUrl(databaseUrl: string): string {
  if (databaseKind(databaseUrl) === 'sqlite') return databaseUrl;
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch {
    return `${databaseUrl.slice(0, databaseUrl.indexOf(':'))}://…`;
  }
  if (url.password !== '') url.password = '***';
  return url.toString();
}

/**
 * The password of a PostgreSQL URL (decoded), for the redactor of logs; undefined when none.
 *
 * @example
 * ```ts
 * databasePassword('postgresql://glacis:s%40cret@db/glacis'); // 's@cret'
 * ```
 */
export function databasePassword(databaseUrl: string): string | undefined {
  if (databaseKind(databaseUrl) === 'sqlite') return undefined;
  try {
    const { password } = new URL(databaseUrl);
    return password === '' ? undefined : decodeURIComponent(password);
  } catch {
    return undefined;
  }
}
