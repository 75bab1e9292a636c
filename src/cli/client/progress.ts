/**
 * `--wait`: follows a task until it ends, showing its progress as a live bar on a terminal
 * or as plain lines otherwise, then reports how it ended.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ENDED_STATUSES } from '../../store/types.js';
import { plural } from '../../text/plural.js';
import { CliError, EXIT } from './exit.js';
import type { GlacisClient, ProgressJson, TaskJson } from './http.js';
import { formatBytes, formatDuration, print, printJson } from './output.js';

/** How often a followed task is looked at. */
export const POLL_MS = 500;
/** Plain progress lines (not on a terminal) come at each tenth of the way, or at most this often when the total is unknown. */
const LINE_EVERY_MS = 5_000;
const BAR_WIDTH = 20;

/**
 * Whether the task has ended (finished, failed or cancelled).
 *
 * @example
 * ```ts
 * if (hasEnded(await client.task(id))) break;
 * ```
 */
export function hasEnded(task: TaskJson): boolean {
  return (ENDED_STATUSES as readonly string[]).includes(task.status);
}

/**
 * Following a task until Ctrl-C: then following stops with a one-line CliError (exit 130),
 * and the task goes on. Call {@link Following.stop} when done.
 *
 * @example
 * ```ts
 * const following = new Following(taskId);
 * try {
 *   for (;;) { … await following.pause(POLL_MS); }
 * } finally {
 *   following.stop();
 * }
 * ```
 */
export class Following {
  private readonly controller = new AbortController();
  private readonly interrupt = (): void => this.controller.abort();

  constructor(private readonly taskId: string) {
    process.on('SIGINT', this.interrupt);
  }

  /** Waits `ms`; rejects at once if Ctrl-C was pressed meanwhile or before. */
  async pause(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: this.controller.signal });
    } catch {
      throw new CliError(`stopped following task ${this.taskId}; it goes on: "glacis task show ${this.taskId}"`, EXIT.interrupted);
    }
  }

  stop(): void {
    process.removeListener('SIGINT', this.interrupt);
  }
}

interface Display {
  show(task: TaskJson): void;
  stop(): void;
}

/**
 * Polls the task until it ends and returns it as it ended.
 *
 * @param quiet no plain progress lines (`--json`); the bar on a terminal is still drawn.
 * @example
 * ```ts
 * const ended = await followTask(client, taskId, { quiet: false });
 * reportEnd(ended, false);
 * ```
 */
export async function followTask(client: GlacisClient, taskId: string, options: { readonly quiet: boolean }): Promise<TaskJson> {
  const display: Display = process.stderr.isTTY ? new Bar() : options.quiet ? { show: () => undefined, stop: () => undefined } : new Lines();
  const following = new Following(taskId);
  try {
    for (;;) {
      const task = await client.task(taskId);
      if (hasEnded(task)) return task;
      display.show(task);
      await following.pause(POLL_MS);
    }
  } finally {
    following.stop();
    display.stop();
  }
}

/**
 * Prints how the task ended (its record with `json`) and throws for a failed or
 * cancelled one, so the command exits 1 with the task's error.
 *
 * @throws CliError (exit 1)
 * @example
 * ```ts
 * reportEnd(await followTask(client, id, { quiet: false }), false);
 * ```
 */
export function reportEnd(task: TaskJson, json: boolean): void {
  if (json) printJson(task);
  else if (task.status === 'finished') print(...summary(task));
  const id = task.task_id;
  if (task.status === 'failed') throw new CliError(`task ${id} failed: ${task.error ?? 'no reason given'} (log: "glacis task log ${id}")`, EXIT.failure);
  if (task.status === 'cancelled') throw new CliError(`task ${id} was cancelled${task.error ? `: ${task.error}` : ''}`, EXIT.failure);
}

/**
 * What a finished task did, in words.
 *
 * @example
 * ```ts
 * summary(task); // ['pulled 3 files (1.2 MiB) into /data/lab1/raw']
 * ```
 */
export function summary(task: TaskJson): string[] {
  const files = task.files ?? 0;
  const size = formatBytes(task.bytes ?? 0);
  const count = `${files} file${files === 1 ? '' : 's'}`;
  if (task.type === 'pull') {
    if (files === 0) return [`nothing to pull: everything under ${task.path} is here`];
    return [task.dry_run ? `dry run: would pull ${count} (${size}) into ${task.path}` : `pulled ${count} (${size}) into ${task.path}`];
  }
  if (task.type === 'push') {
    if (files === 0) return [`nothing to push: the remote holds everything under ${task.path}`];
    return [task.dry_run ? `dry run: would push ${count} (${size}) from ${task.path}` : `pushed ${count} (${size}) from ${task.path}; each replaced remote file is kept as a version`];
  }
  const lines = [task.dry_run ? `dry run: would freeze ${count} under ${task.path}, freeing ${size}` : `froze ${count} under ${task.path}, freeing ${size}`];
  const unprotected = task.unprotected ?? 0;
  if (unprotected > 0) {
    lines.push(`${unprotected} cold file${unprotected === 1 ? ' was' : 's were'} kept: the remote does not hold them identically (see "glacis task log ${task.task_id}")`);
  }
  return lines;
}

/**
 * What a waiting task waits for, in words, from the server's `waiting_for` (undefined when
 * it does not say: the task is not waiting, or the server is older).
 *
 * @example
 * ```ts
 * waitingReason(task); // 'for task 7f08c6b9-… (on an overlapping path) to end'
 * ```
 */
export function waitingReason(task: TaskJson): string | undefined {
  const others = task.waiting_for;
  if (others === undefined) return undefined;
  if (others.length === 0) return 'for a free worker (queued)';
  return `for ${others.length === 1 ? 'task' : 'tasks'} ${others.join(', ')} (on an overlapping path) to end`;
}

/** Bytes per second over the last few samples, for when the worker does not report a speed. */
class RateMeter {
  private samples: Array<{ at: number; bytes: number }> = [];

  rate(progress: ProgressJson): number | undefined {
    if (progress.speed !== undefined && progress.speed > 0) return progress.speed;
    const now = Date.now();
    this.samples = [...this.samples.filter((s) => now - s.at < 10_000 && s.bytes <= progress.bytes), { at: now, bytes: progress.bytes }];
    const first = this.samples[0]!;
    const seconds = (now - first.at) / 1000;
    return seconds > 0 ? (progress.bytes - first.bytes) / seconds : undefined;
  }
}

/** The progress of a running task in one line; `bar` draws the percentage too. */
function describe(task: TaskJson, rate: number | undefined, bar: boolean): string {
  const p = task.progress;
  if (task.status === 'waiting') return `waiting ${waitingReason(task) ?? '(queued, or behind a task on an overlapping path)'}`;
  if (!p) return task.status === 'started' ? `started: finding what to ${task.type}` : task.status;
  const parts: string[] = [task.status];
  if (p.totalBytes > 0) {
    const percent = Math.max(0, Math.min(100, p.percent));
    if (bar) {
      const filled = Math.round((percent / 100) * BAR_WIDTH);
      parts.push(`[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`);
    }
    parts.push(`${percent.toFixed(0).padStart(3)}%`, `${formatBytes(p.bytes)} / ${formatBytes(p.totalBytes)}`);
    // The bar has the width of a terminal line; plain lines have room for the file count.
    if (!bar && p.totalFiles > 0) parts.push(`${p.files}/${plural(p.totalFiles, 'file')}`);
  } else if (p.totalFiles > 0) {
    parts.push(`${p.files}/${plural(p.totalFiles, 'file')}`, formatBytes(p.bytes));
  } else {
    // A freeze knows no total: what it has done so far.
    parts.push(`${plural(p.files, 'file')} so far`, formatBytes(p.bytes));
  }
  if (rate !== undefined && rate > 0) {
    parts.push(`${formatBytes(rate)}/s`);
    if (p.totalBytes > p.bytes) parts.push(`ETA ${formatDuration((p.totalBytes - p.bytes) / rate)}`);
  }
  if (p.currentFile) parts.push(p.currentFile);
  return parts.join('  ');
}

/** One line redrawn in place on the terminal (stderr, so stdout can be piped). */
class Bar implements Display {
  private readonly meter = new RateMeter();
  private drawn = false;

  show(task: TaskJson): void {
    const line = describe(task, task.progress ? this.meter.rate(task.progress) : undefined, true);
    const width = Math.max(20, (process.stderr.columns || 80) - 1);
    process.stderr.write(`\r\u001b[2K${line.length > width ? `${line.slice(0, width - 1)}…` : line}`);
    this.drawn = true;
  }

  stop(): void {
    if (this.drawn) process.stderr.write('\r\u001b[2K');
  }
}

/**
 * The plain progress lines (no terminal: logs and pipes), as a pure function of what is
 * polled: a line at each status change and each tenth of the way; when the total is
 * unknown, a line when the count moved, at most every few seconds. Never the same line
 * twice: a stalled task printed an identical line every 5 s (issue 15).
 *
 * @example
 * ```ts
 * const lines = new PlainLines();
 * const line = lines.next(task, Date.now()); // undefined: nothing new to say
 * ```
 */
export class PlainLines {
  private readonly meter = new RateMeter();
  private shownStage = '';
  private shownAt = Number.NEGATIVE_INFINITY;

  next(task: TaskJson, now: number): string | undefined {
    const rate = task.progress ? this.meter.rate(task.progress) : undefined;
    const p = task.progress;
    const known = p !== undefined && p.totalBytes > 0;
    const stage = `${task.status}:${p === undefined ? '' : known ? Math.floor(p.percent / 10) : `${p.files}:${p.bytes}`}`;
    if (stage === this.shownStage) return undefined;
    const sameStatus = this.shownStage.split(':')[0] === task.status;
    if (!known && sameStatus && now - this.shownAt < LINE_EVERY_MS) return undefined;
    this.shownStage = stage;
    this.shownAt = now;
    return `task ${task.task_id}: ${describe(task, rate, false)}`;
  }
}

/** {@link PlainLines} on stderr. */
class Lines implements Display {
  private readonly lines = new PlainLines();

  show(task: TaskJson): void {
    const line = this.lines.next(task, Date.now());
    if (line !== undefined) process.stderr.write(`${line}\n`);
  }

  stop(): void {}
}
