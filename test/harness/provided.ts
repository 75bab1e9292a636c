/**
 * The coordinates of the run-wide services that test/global-setup.ts starts and hands to
 * test files through vitest's provide/inject. Plain data only: it crosses process
 * boundaries (globalSetup runs in the main process, tests in forked workers).
 */

export interface SharedSftp {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** Local directory served as the SFTP root; tests use fresh sub-directories. */
  readonly root: string;
}

export interface SharedS3 {
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** s3rver's data directory; tests use fresh buckets. */
  readonly root: string;
}

export interface SharedServices {
  /** `redis://127.0.0.1:<port>`; tests use fresh queue names / key prefixes. */
  readonly redisUrl: string;
  /**
   * The PostgreSQL superuser's URL (with its password); tests make a fresh database each
   * with `createDatabase()` from test/harness/postgres.ts.
   */
  readonly postgresUrl: string;
  readonly sftp: SharedSftp;
  readonly s3: SharedS3;
}

/** The provide/inject key. */
export const SHARED_SERVICES_KEY = 'glacisServices';

declare module 'vitest' {
  export interface ProvidedContext {
    glacisServices: SharedServices;
  }
}
