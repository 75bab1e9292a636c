/**
 * The files a task acted on, read back from its log: the worker writes one line per file
 * ("pulled X", "froze X (N bytes)", "would freeze X (N bytes)", "would pull X (N bytes)",
 * "cold but not frozen (reason): X"). A freeze may touch millions of files, so the log is
 * read as a stream and only the first names of each list are kept, the rest counted.
 */
import type { TaskKind } from '../store/types.js';

/** Names kept per list by default: enough to read, far from a 100 MB mail. */
export const DEFAULT_LIST_LIMIT = 1000;
/** A name longer than this is cut: paths can be up to 4096 bytes, a mail line should not. */
const MAX_NAME_CHARS = 500;

/** The start of a list, and how many entries it has in all. */
export interface CutList {
  readonly shown: readonly string[];
  readonly total: number;
}

/** What a task's log says it did. */
export interface TaskFileLists {
  /** Files pulled or frozen (or that would be, for a dry run). */
  readonly done: CutList;
  /** Freeze only: cold files kept because the remote lacks them or holds them differently, with the reason. */
  readonly unprotected: CutList;
}

/** What the task was, which decides which lines are its files. */
export interface FileListTask {
  readonly type: TaskKind;
  readonly dryRun: boolean;
  /**
   * The task's own counts, when recorded: a long task's log keeps only its first and last
   * lines (store/task-logs.ts), so counting the log's lines would fall short of them.
   */
  readonly files?: number | null;
  readonly unprotected?: number | null;
}

const WITH_SIZE = / \(\d+ bytes\)$/;
/** The summary line a pull ends with, which starts like a file line. */
const PULL_SUMMARY = /^pulled \d+ files?, \d+ bytes?(?:; \d+ kept as they were locally)?$/;
const UNPROTECTED = /^cold but not frozen \((.+?)\): ([\s\S]+)$/;

/**
 * Collects the task's file lists from its log entries (as {@link TaskLogs.entries} yields them).
 *
 * @param limit names kept per list; the others are only counted.
 * @returns undefined when there is no entry at all: the log is gone (every run writes one).
 * @example
 * ```ts
 * const lists = await collectFileLists(logs.entries(task.id), task);
 * console.log(lists.done.shown.length, 'of', lists.done.total);
 * ```
 */
export async function collectFileLists(
  entries: AsyncIterable<string>,
  task: FileListTask,
  limit: number = DEFAULT_LIST_LIMIT,
): Promise<TaskFileLists | undefined> {
  const done = new ListCutter(limit);
  const unprotected = new ListCutter(limit);
  const prefix = fileLinePrefix(task);
  let seen = false;
  for await (const entry of entries) {
    seen = true;
    if (entry.startsWith(prefix)) {
      const name = fileName(entry.slice(prefix.length), task);
      if (name !== undefined) done.add(name);
      continue;
    }
    const kept = task.type === 'freeze' ? UNPROTECTED.exec(entry) : null;
    if (kept) unprotected.add(`${kept[2]} (${kept[1]})`);
  }
  // The recorded counts win over the lines counted: the log's middle may have been cut (the
  // 20,000-file mail of test/notify/mail.test.ts said "and 18997 more" without this).
  return seen ? { done: done.result(task.files), unprotected: unprotected.result(task.type === 'freeze' ? task.unprotected : undefined) } : undefined;
}

function fileLinePrefix(task: FileListTask): string {
  if (task.type === 'pull') return task.dryRun ? 'would pull ' : 'pulled ';
  return task.dryRun ? 'would freeze ' : 'froze ';
}

function fileName(rest: string, task: FileListTask): string | undefined {
  if (task.type === 'pull' && !task.dryRun) return PULL_SUMMARY.test(`pulled ${rest}`) ? undefined : rest;
  // The others carry the size; their summary lines ("froze 3 files, 12 bytes") do not.
  return WITH_SIZE.test(rest) ? rest.replace(WITH_SIZE, '') : undefined;
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
