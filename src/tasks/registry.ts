/**
 * The task kinds: one line each. The runner, the task service, the API (routes, query
 * checks, OpenAPI), the metrics, the mails and the CLI read this list and the lists derived
 * from it; adding a kind is its file under ./kinds/ plus one line here
 * (test/tasks/registry.test.ts runs a kind added this way end to end).
 *
 * Baricadr's kinds, statuses and their order stay: `pull`, `freeze`; `waiting`, `started`,
 * `pulling`, `freezing`, `finished`, `failed`, `cancelled`.
 */
import { ENDED_STATUSES, STARTED, WAITING, type TaskStatus } from '../store/types.js';
import type { TaskKindDefinition } from './kind.js';
import { freezeKind } from './kinds/freeze.js';
import { pullKind } from './kinds/pull.js';
import { reportKind } from './kinds/report.js';
import { pushKind } from './kinds/push.js';
import { zombieKind } from './kinds/zombie.js';

export type { TaskKindDefinition } from './kind.js';

const KINDS: TaskKindDefinition[] = [pullKind, freezeKind, zombieKind, reportKind, pushKind];

/** Every kind, in the order they are listed (documents, CLI choices, metrics). */
export const TASK_KINDS: readonly TaskKindDefinition[] = KINDS;

/** Every kind's name: the values of a task's `type`. */
export const TASK_KIND_NAMES: readonly string[] = [];
/** Kinds a worker runs from the queue (those with `run`); the others are never queued. */
export const QUEUED_KIND_NAMES: readonly string[] = [];
/** Every status, in Baricadr's order: waiting, started, each kind's running status (`pulling`, `freezing`), then the ended ones. */
export const TASK_STATUSES: readonly TaskStatus[] = [];
/** Statuses of a task a worker is running. */
export const RUNNING_STATUSES: readonly TaskStatus[] = [];
/** Statuses of a task that holds (or waits for) its path lock. */
export const UNFINISHED_STATUSES: readonly TaskStatus[] = [];
export { ENDED_STATUSES };

/** Fills the lists above from {@link KINDS}, in place (callers hold the arrays). */
function derive(): void {
  const phases = unique(KINDS.map((kind) => kind.runningStatus).filter((status) => status !== STARTED && status !== WAITING));
  refill(TASK_KIND_NAMES, KINDS.map((kind) => kind.name));
  refill(QUEUED_KIND_NAMES, KINDS.filter((kind) => kind.run).map((kind) => kind.name));
  refill(TASK_STATUSES, [WAITING, STARTED, ...phases, ...ENDED_STATUSES]);
  refill(RUNNING_STATUSES, [STARTED, ...phases]);
  refill(UNFINISHED_STATUSES, [WAITING, STARTED, ...phases]);
}
derive();

function refill(list: readonly string[], values: readonly string[]): void {
  (list as string[]).splice(0, list.length, ...values);
}

/** The kind named `name`, or undefined (a record written by a newer or older Glacis). */
export function findTaskKind(name: string): TaskKindDefinition | undefined {
  return KINDS.find((kind) => kind.name === name);
}

/**
 * The kind named `name`.
 *
 * @throws Error when no kind has that name: callers pass a type the API or the store checked.
 * @example
 * ```ts
 * const result = await taskKind(task.type).run?.(context);
 * ```
 */
export function taskKind(name: string): TaskKindDefinition {
  const kind = findTaskKind(name);
  if (!kind) throw new Error(`unknown task kind ${JSON.stringify(name)} (known: ${TASK_KIND_NAMES.join(', ')})`);
  return kind;
}

/**
 * Adds a kind for the length of a test, and returns its removal: the seam by which
 * test/tasks/registry.test.ts shows that a kind listed only here is queued, run and answered.
 * Schemas built from the lists at load (the `GET /tasks` filters) do not see it.
 * Production code lists its kinds in {@link KINDS}.
 */
export function registerTaskKindForTest(kind: TaskKindDefinition): () => void {
  if (findTaskKind(kind.name)) throw new Error(`task kind ${kind.name} is already registered`);
  KINDS.push(kind);
  derive();
  return () => {
    KINDS.splice(KINDS.indexOf(kind), 1);
    derive();
  };
}

function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}
