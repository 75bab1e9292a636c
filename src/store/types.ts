/**
 * Task records: what Glacis remembers about every pull and freeze.
 */
import type { FrozenCatalogue } from './catalogue.js';
import type { TaskLogs } from './task-logs.js';
import type { JsonValue, TaskKind, TaskOrigin, TaskStatus, TaskType } from './vocabulary.js';

export * from './vocabulary.js';

/** One task record. Timestamps are ISO 8601 strings in UTC. */
export interface Task {
  readonly id: string;
  readonly type: TaskKind;
  readonly path: string;
  readonly status: TaskStatus;
  readonly origin: TaskOrigin;
  readonly dryRun: boolean;
  readonly force: boolean;
  readonly email: string | null;
  readonly created: string;
  readonly started: string | null;
  readonly finished: string | null;
  readonly error: string | null;
  /** Files pulled or frozen (or that would be, for a dry run). */
  readonly files: number | null;
  /** Bytes pulled or freed (or that would be, for a dry run). */
  readonly bytes: number | null;
  /**
   * Freeze only: cold files that could not be frozen because the remote lacks them or
   * holds them differently — data that exists only locally, for the admin to hear about.
   */
  readonly unprotected: number | null;
  /** The kind's own result (JSON), answered under its `resultField`; null when it has none. */
  readonly result: JsonValue | null;
}

/** What a caller supplies to record a new task; the store fills the rest. */
export type NewTask = Pick<Task, 'id' | 'type' | 'path' | 'dryRun' | 'force' | 'email' | 'origin'>;

/** Fields that change as a task runs. */
export type TaskUpdate = Partial<Pick<Task, 'status' | 'started' | 'finished' | 'error' | 'files' | 'bytes' | 'unprotected' | 'result'>>;

/** Filters and paging for {@link TaskStore.list}. */
export interface TaskQuery {
  readonly status?: TaskStatus;
  readonly type?: TaskKind;
  /** Tasks whose path equals this path or lies below it. */
  readonly pathPrefix?: string;
  /** Tasks whose id starts with this (a short id typed by a person). */
  readonly idPrefix?: string;
  /** By creation: `asc` oldest first (the default, Baricadr's order) or `desc` newest first. */
  readonly order?: 'asc' | 'desc';
  readonly limit?: number;
  readonly offset?: number;
}

/**
 * The task records, behind one interface so another database can be added
 * without touching callers.
 *
 * @example
 * ```ts
 * const store = await openTaskStore('./data/glacis.sqlite');
 * await store.create({ id, type: 'pull', path: '/data/lab1/raw', dryRun: false, force: false, email: null, origin: 'user' });
 * await store.update(id, { status: 'started', started: new Date().toISOString() });
 * ```
 */
export interface TaskStore {
  /** The tasks' logs, in the same database. */
  readonly logs: TaskLogs;
  /** The frozen files (issue 16 §1), in the same database. */
  readonly catalogue: FrozenCatalogue;
  create(task: NewTask): Promise<Task>;
  get(id: string): Promise<Task | undefined>;
  update(id: string, patch: TaskUpdate): Promise<Task | undefined>;
  /**
   * Moves a task to a new status only if it is still in one of `from`; returns
   * the updated record, or undefined when it was not (for instance already cancelled).
   */
  transition(id: string, from: readonly TaskStatus[], patch: TaskUpdate & { status: TaskStatus }): Promise<Task | undefined>;
  list(query?: TaskQuery): Promise<Task[]>;
  delete(id: string): Promise<boolean>;
  /** Deletes up to `limit` ended tasks that finished before `cutoff` (ISO time), with their logs; returns their ids. */
  deleteEndedBefore(cutoff: string, limit: number): Promise<string[]>;
  /**
   * Aggregates over every record, computed by the database (one grouped scan, no rows
   * loaded): one group per type and status present. `durationBounds` are the upper
   * bounds, in seconds and increasing, of the duration histogram's buckets.
   */
  stats(durationBounds: readonly number[]): Promise<TaskStatsGroup[]>;
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Aggregates over the tasks of one type and status, for monitoring.
 *
 * @example
 * ```ts
 * const groups = await store.stats([1, 60, 3600]);
 * const pulled = groups.filter((g) => g.type === 'pull').reduce((sum, g) => sum + g.bytes, 0);
 * ```
 */
export interface TaskStatsGroup {
  readonly type: TaskType;
  readonly status: TaskStatus;
  readonly count: number;
  /** Bytes pulled (pull) or freed (freeze) by the group's finished tasks, dry runs left out; 0 for other statuses. */
  readonly bytes: number;
  /** Tasks that both started and ended: the ones with a duration. */
  readonly timed: number;
  /** Sum of their durations (end minus start), in seconds. */
  readonly durationSeconds: number;
  /** Cumulative: `durationBuckets[i]` timed tasks lasted at most `durationBounds[i]` seconds. */
  readonly durationBuckets: readonly number[];
}
