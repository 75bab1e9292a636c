import type { Generated } from 'kysely';

/**
 * Row shape of the `tasks` table. Booleans are 0/1 on SQLite and real booleans on PostgreSQL
 * (the dialect's `flag` writes them); times are ISO 8601 strings on both (PostgreSQL's pool
 * parses its timestamps to that form), counters numbers on both.
 */
export interface TaskRow {
  id: string;
  type: string;
  path: string;
  status: string;
  origin: string;
  dry_run: number | boolean;
  force: number | boolean;
  email: string | null;
  created: string;
  started: string | null;
  finished: string | null;
  error: string | null;
  files: number | null;
  bytes: number | null;
  unprotected: number | null;
  /** JSON: text on SQLite (parsed here), jsonb on PostgreSQL (pg parses it); written as JSON text on both. */
  result: unknown;
  seq: Generated<number>;
}

/**
 * One event of a task's log (./task-events.ts): its kind, its fields as JSON (`data`, null
 * for a message and for lines written before events existed, kind `line`) and its rendering
 * as a line of text (`message`).
 */
export interface TaskLogRow {
  task_id: string;
  seq: number;
  time: string;
  level: string;
  kind: string;
  message: string;
  data: string | null;
}

/**
 * One frozen file of the catalogue (./catalogue.ts). Keyed by (repo, path); sizes and times
 * are numbers on both dialects, `frozen_at` an ISO 8601 string.
 */
export interface FrozenFileRow {
  repo: string;
  path: string;
  kind: string;
  size: number;
  mtime_ms: number;
  hash: string | null;
  frozen_at: string;
  task_id: string;
}

export interface Database {
  tasks: TaskRow;
  task_logs: TaskLogRow;
  frozen_files: FrozenFileRow;
}
