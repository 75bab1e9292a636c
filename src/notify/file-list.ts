/**
 * The files a task acted on, read back from its log's events (store/task-events.ts): a file
 * placed by a pull, a file frozen, a file pushed, a cold file left unprotected, each with its path as a
 * field, never parsed back out of a line of text. A freeze may touch millions of files, so
 * the events are read as a stream and only the first names of each list are kept, the rest
 * counted.
 */
import { describeUnprotected, type TaskEvent, type TaskEventKind } from '../store/task-events.js';
import type { LoggedEvent, TaskLogs } from '../store/task-logs.js';
import type { TaskKind } from '../store/types.js';

/** Names kept per list by default: enough to read, far from a 100 MB mail. */
export const DEFAULT_LIST_LIMIT = 1000;
/** A name longer than this is cut: paths can be up to 4096 bytes, a mail line should not. */
const MAX_NAME_CHARS = 500;

/** The events the lists are made of: the store reads only these. */
const LISTED_KINDS: readonly TaskEventKind[] = ['placed', 'frozen', 'pushed', 'unprotected'];

/** The start of a list, and how many entries it has in all. */
export interface CutList {
  readonly shown: readonly string[];
  readonly total: number;
}

/** What a task's log says it did. */
export interface TaskFileLists {
  /** Files pulled, frozen or pushed (or that would be, for a dry run). */
  readonly done: CutList;
  /** Freeze only: cold files kept because the remote lacks them or holds them differently, with the reason. */
  readonly unprotected: CutList;
}

/** What the task was, which decides which lists it has. */
export interface FileListTask {
  readonly type: TaskKind;
  readonly dryRun: boolean;
  /**
   * The task's own counts, when recorded: a long task's log keeps only its first and last
   * events (store/task-logs.ts), so counting the events would fall short of them.
   */
  readonly files?: number | null;
  readonly unprotected?: number | null;
}

/**
 * Reads the task's file lists from its log.
 *
 * @param limit names kept per list; the others are only counted.
 * @returns undefined when the task has no log at all: it is gone (every run writes one).
 * @example
 * ```ts
 * const lists = await readFileLists(store.logs, task.id, task);
 * console.log(lists?.done.shown.length, 'of', lists?.done.total);
 * ```
 */
export async function readFileLists(
  logs: Pick<TaskLogs, 'events' | 'exists'>,
  taskId: string,
  task: FileListTask,
  limit: number = DEFAULT_LIST_LIMIT,
): Promise<TaskFileLists | undefined> {
  if (!(await logs.exists(taskId))) return undefined;
  return collectFileLists(logs.events(taskId, { kinds: LISTED_KINDS }), task, limit);
}

/**
 * Collects the task's file lists from its events (as {@link TaskLogs.events} yields them);
 * events of other kinds are passed over.
 *
 * @param limit names kept per list; the others are only counted.
 */
export async function collectFileLists(
  events: AsyncIterable<Pick<LoggedEvent, 'event'>>,
  task: FileListTask,
  limit: number = DEFAULT_LIST_LIMIT,
): Promise<TaskFileLists> {
  const done = new ListCutter(limit);
  const unprotected = new ListCutter(limit);
  for await (const { event } of events) {
    const listed = listedName(event);
    if (listed?.list === 'done') done.add(listed.name);
    else if (listed?.list === 'unprotected' && task.type === 'freeze') unprotected.add(listed.name);
  }
  // The recorded counts win over the events counted: the log's middle may have been cut (the
  // 20,000-file mail of test/notify/mail.test.ts said "and 18997 more" without this).
  return { done: done.result(task.files), unprotected: unprotected.result(task.type === 'freeze' ? task.unprotected : undefined) };
}

function listedName(event: TaskEvent): { list: 'done' | 'unprotected'; name: string } | undefined {
  switch (event.kind) {
    case 'placed':
    case 'frozen':
      return { list: 'done', name: event.path };
    case 'pushed':
      // Which files replaced a copy the remote held: where to look for the earlier one.
      return { list: 'done', name: event.replaced ? `${event.path} (${event.dryRun ? 'would replace the remote copy' : 'replaced the remote copy, kept as a version'})` : event.path };
    case 'unprotected':
      return { list: 'unprotected', name: `${event.path} (${describeUnprotected(event.reason)})` };
    default:
      return undefined;
  }
}

class ListCutter {
  private readonly shown: string[] = [];
  private total = 0;

  constructor(private readonly limit: number) {}

  add(name: string): void {
    this.total++;
    if (this.shown.length < this.limit) this.shown.push(name.length > MAX_NAME_CHARS ? `${name.slice(0, MAX_NAME_CHARS)}…` : name);
  }

  result(recorded?: number | null): CutList {
    return { shown: this.shown, total: Math.max(this.total, recorded ?? 0) };
  }
}
