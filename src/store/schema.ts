import type { Generated } from 'kysely';

/** Row shape of the `tasks` table (SQLite has no booleans: 0/1). */
export interface TaskRow {
  id: string;
  type: string;
  path: string;
  status: string;
  origin: string;
  dry_run: number;
  force: number;
  email: string | null;
  created: string;
  started: string | null;
  finished: string | null;
  error: string | null;
  files: number | null;
  bytes: number | null;
  unprotected: number | null;
  seq: Generated<number>;
}

export interface Database {
  tasks: TaskRow;
}
