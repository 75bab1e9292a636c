/**
 * The words of a task's life: its kinds, statuses and origins, and the JSON of its result.
 * No import at all: the wire shapes (src/wire), and through them the web page and any client,
 * read these without pulling in the store (test/architecture.test.ts).
 */

/** A JSON value, as a kind's result is stored and answered. */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/*
 * Kinds and statuses are plain strings here: the registry in src/tasks (src/tasks/registry.ts)
 * says which exist. The store is a low layer and must not import it (the registry imports the
 * workers that run the kinds, which import the store); adding a kind is its file plus one
 * registry line, with no edit of the store (test/tasks/registry.test.ts).
 */

/** A kind's name (`pull`, `freeze`, `zombie`, …): one of the registry's `TASK_KIND_NAMES`. */
export type TaskType = string;
/** Same as {@link TaskType}: any kind of task record. */
export type TaskKind = TaskType;

/**
 * Life cycle: `waiting` (queued, or held back by an overlapping task) → `started`
 * → the kind's running status (`pulling`, `freezing`, …) → `finished` | `failed` | `cancelled`.
 * The full list, in Baricadr's order, is the registry's `TASK_STATUSES`.
 */
export type TaskStatus = string;
/** The statuses every kind shares, whatever it runs. */
export const WAITING = 'waiting';
export const STARTED = 'started';
export const ENDED_STATUSES: readonly TaskStatus[] = ['finished', 'failed', 'cancelled'];

/** Who asked for the task: a user through the API, an auto-freeze schedule, or the watermark check (a disk above its `high_watermark`). */
export type TaskOrigin = 'user' | 'schedule' | 'watermark';
