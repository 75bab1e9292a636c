/**
 * `glacis task list|show|log|cancel|retry|remove|zombies`: looking after tasks. Every
 * command that takes an id takes its first characters too (a unique prefix).
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { TASK_KIND_NAMES as TASK_KINDS, TASK_STATUSES } from '../../tasks/registry.js';
import { wholeNumberIn } from '../../text/values.js';
import { clientFor, parseLimit, resolveUserPath, withCommonOptions, type CommonOptions } from './common.js';
import type { TaskJson } from './http.js';
import { formatBytes, formatDuration, formatTime, note, print, printJson, table } from './output.js';
import { followTask, Following, hasEnded, POLL_MS, reportEnd, summary, waitingReason } from './progress.js';

/** Tasks `task list` shows when not told: a screenful, the newest. */
const DEFAULT_PAGE = 20;

interface ListOptions extends CommonOptions {
  readonly status?: string;
  readonly type?: string;
  readonly path?: string;
  readonly limit?: number;
  readonly page?: number;
  readonly oldestFirst?: boolean;
}

interface LogOptions extends CommonOptions {
  readonly follow?: boolean;
  readonly tail?: number;
}

interface RetryOptions extends CommonOptions {
  readonly wait?: boolean;
}

/**
 * Registers `glacis task …` on the program.
 *
 * @example
 * ```ts
 * registerTaskCommands(program);
 * ```
 */
export function registerTaskCommands(program: Command): void {
  const task = program.command('task').description('list, inspect and remove tasks on a Glacis server');

  withCommonOptions(
    task
      .command('list')
      .description(`list tasks, newest first, ${DEFAULT_PAGE} a page`)
      .addOption(new Option('--status <status>', 'only tasks in this status').choices(TASK_STATUSES))
      .addOption(new Option('--type <type>', 'only tasks of this type').choices(TASK_KINDS))
      .option('--path <path>', 'only tasks on this path or below it')
      .option('--limit <n>', `at most this many a page (default ${DEFAULT_PAGE})`, parseLimit)
      .option('--page <n>', 'which page: 1 is the newest (default 1)', parsePage)
      .option('--oldest-first', 'oldest first, as the API lists them by default'),
  ).action((options: ListOptions) => listTasks(options));

  withCommonOptions(
    task
      .command('show')
      .argument('<id>', 'task id, or its first characters')
      .description("show a task's status, timing and outcome (its progress while it runs, what it waits for while it waits)"),
  ).action((id: string, options: CommonOptions) => showTask(id, options));

  withCommonOptions(
    task
      .command('log')
      .argument('<id>', 'task id, or its first characters')
      .description("print a task's log")
      .option('-n, --tail <n>', 'only its last N lines (with --follow: then what comes)', parseLines)
      .option('-f, --follow', 'keep printing as the task goes on, until it ends; exit 1 if it fails'),
  ).action((id: string, options: LogOptions) => showLog(id, options));

  withCommonOptions(
    task
      .command('cancel')
      .argument('<id>', 'task id, or its first characters')
      .description('stop a waiting or running task; its record stays, with status cancelled'),
  ).action((id: string, options: CommonOptions) => cancelTask(id, options));

  withCommonOptions(
    task
      .command('retry')
      .argument('<id>', 'task id, or its first characters')
      .description('submit a failed or cancelled task again (same type, path, dry run, force and email)')
      .option('--wait', 'follow the new task until it ends; exit 1 if it fails'),
  ).action((id: string, options: RetryOptions) => retryTask(id, options));

  withCommonOptions(
    task
      .command('remove')
      .argument('<id>', 'task id, or its first characters')
      .description('cancel the task if it has not ended, then delete it and its log'),
  ).action((id: string, options: CommonOptions) => removeTask(id, options));

  withCommonOptions(
    task
      .command('zombies')
      .description('mark unfinished tasks that no worker is running as failed, freeing their paths'),
  ).action((options: CommonOptions) => zombies(options));
}

async function listTasks(options: ListOptions): Promise<void> {
  const limit = options.limit ?? DEFAULT_PAGE;
  const page = options.page ?? 1;
  const tasks = await clientFor(options).tasks({
    ...(options.status !== undefined ? { status: options.status } : {}),
    ...(options.type !== undefined ? { type: options.type } : {}),
    ...(options.path !== undefined ? { path: resolveUserPath(options.path) } : {}),
    // One more than shown: whether there is a next page.
    limit: limit + 1,
    offset: (page - 1) * limit,
    order: options.oldestFirst ? 'asc' : 'desc',
  });
  const shown = tasks.slice(0, limit);
  if (options.json) {
    printJson(shown);
    return;
  }
  if (shown.length === 0) {
    note(page > 1 ? `no tasks on page ${page}` : 'no tasks');
    return;
  }
  const rows = shown.map((t) => [
    t.task_id,
    `${t.type}${t.dry_run ? ' (dry)' : ''}`,
    t.status,
    formatTime(t.created),
    t.files === null || t.files === undefined ? '' : String(t.files),
    t.bytes === null || t.bytes === undefined ? '' : formatBytes(t.bytes),
    t.path,
  ]);
  print(...table(['ID', 'TYPE', 'STATUS', 'CREATED', 'FILES', 'SIZE', 'PATH'], rows));
  if (tasks.length > limit) note(`more: --page ${page + 1}`);
}

async function showTask(given: string, options: CommonOptions): Promise<void> {
  const client = clientFor(options);
  const task = await client.task(await client.resolveTaskId(given));
  if (options.json) {
    printJson(task);
    return;
  }
  print(...describeTask(task));
}

/**
 * A task as `name  value` lines, the empty ones left out.
 *
 * @example
 * ```ts
 * print(...describeTask(task));
 * ```
 */
export function describeTask(task: TaskJson): string[] {
  const p = task.progress;
  const fields: Array<[string, string]> = [
    ['task', task.task_id],
    ['type', `${task.type}${task.dry_run ? ' (dry run)' : ''}${task.force ? ' (forced)' : ''}`],
    ['path', task.path],
    ['status', task.status],
    ['waiting', waitingReason(task) ?? ''],
    ['progress', p ? `${p.totalBytes > 0 ? `${Math.round(p.percent)}%, ` : ''}${p.files}${p.totalFiles > 0 ? `/${p.totalFiles}` : ''} files, ${formatBytes(p.bytes)}${p.totalBytes > 0 ? ` of ${formatBytes(p.totalBytes)}` : ''}${p.currentFile ? `, now ${p.currentFile}` : ''}` : ''],
    ['created', formatTime(task.created)],
    ['started', formatTime(task.started)],
    ['finished', formatTime(task.finished)],
    ['duration', task.started && task.finished ? formatDuration((Date.parse(task.finished) - Date.parse(task.started)) / 1000) : ''],
    ['outcome', task.status === 'finished' ? summary(task).join('; ') : ''],
    ['error', task.error ?? ''],
    ['origin', task.origin ?? ''],
    ['email', task.email ?? ''],
  ];
  const shown = fields.filter(([, value]) => value !== '');
  const width = Math.max(...shown.map(([name]) => name.length));
  return shown.map(([name, value]) => `${name.padEnd(width)}  ${value}`);
}

async function showLog(given: string, options: LogOptions): Promise<void> {
  const client = clientFor(options);
  const id = await client.resolveTaskId(given);
  if (!options.follow) {
    const logs = options.tail === undefined ? await client.log(id) : lastLines(await client.log(id), options.tail);
    if (options.json) printJson({ logs });
    else process.stdout.write(logs.endsWith('\n') || logs === '' ? logs : `${logs}\n`);
    return;
  }
  // With --tail, what is there when following starts is cut to its last lines.
  let printed: number | undefined = options.tail === undefined ? 0 : undefined;
  const printNew = (logs: string, final: boolean): void => {
    // Only whole lines while it runs: the worker may be halfway through one.
    const end = final ? logs.length : logs.lastIndexOf('\n') + 1;
    printed ??= end - lastLines(logs.slice(0, end), options.tail ?? 0).length;
    if (end <= printed) return;
    const text = logs.slice(printed, end);
    if (options.json) for (const line of text.split('\n').filter(Boolean)) printJson({ line });
    else process.stdout.write(final && !text.endsWith('\n') ? `${text}\n` : text);
    printed = end;
  };
  const following = new Following(id);
  try {
    for (;;) {
      // The status first: a log read after the task is seen ended is complete.
      const task = await client.task(id);
      const logs = await client.log(id);
      printNew(logs, hasEnded(task));
      if (hasEnded(task)) {
        if (task.status !== 'finished') reportEnd(task, false);
        return;
      }
      await following.pause(POLL_MS);
    }
  } finally {
    following.stop();
  }
}

/**
 * The last `count` lines of a log (each with its newline).
 *
 * @example
 * ```ts
 * lastLines('a\nb\nc\n', 2); // 'b\nc\n'
 * ```
 */
export function lastLines(text: string, count: number): string {
  if (count === 0) return '';
  const lines = text.split(/(?<=\n)/);
  return lines.slice(-count).join('');
}

async function cancelTask(given: string, options: CommonOptions): Promise<void> {
  const client = clientFor(options);
  const id = await client.resolveTaskId(given);
  await client.cancel(id);
  if (options.json) printJson({ task: id, status: 'cancelled' });
  else print(`task ${id} cancelled`);
}

async function retryTask(given: string, options: RetryOptions): Promise<void> {
  const client = clientFor(options);
  const id = await client.resolveTaskId(given);
  const again = await client.retry(id);
  if (options.wait) {
    if (!options.json) note(`task ${id} submitted again: task ${again}`);
    reportEnd(await followTask(client, again, { quiet: options.json === true }), options.json === true);
    return;
  }
  if (options.json) printJson({ task: again });
  else print(`task ${id} submitted again: task ${again}`);
}

async function removeTask(given: string, options: CommonOptions): Promise<void> {
  const client = clientFor(options);
  const info = await client.remove(await client.resolveTaskId(given));
  if (options.json) printJson({ info });
  else print(info);
}

async function zombies(options: CommonOptions): Promise<void> {
  const client = clientFor(options);
  const task = await followTask(client, await client.zombies(), { quiet: true });
  if (task.status !== 'finished') reportEnd(task, options.json === true);
  // The clean-up task's log names each task it marked failed (src/services/zombies.ts).
  const ids = [...(await client.log(task.task_id)).matchAll(/marked failed: (\S+)/g)].map((m) => m[1]!);
  if (options.json) {
    printJson({ task: task.task_id, zombies: ids });
    return;
  }
  if (ids.length === 0) print('no zombie tasks');
  else print(`marked ${ids.length} zombie task${ids.length === 1 ? '' : 's'} as failed:`, ...ids.map((zombie) => `  ${zombie}`));
}

function parsePage(value: string): number {
  const page = wholeNumberIn(value, { min: 1, max: 999_999 });
  if (page === undefined) throw new InvalidArgumentError('expected a whole number from 1.');
  return page;
}

function parseLines(value: string): number {
  const lines = wholeNumberIn(value, { min: 0, max: 999_999 });
  if (lines === undefined) throw new InvalidArgumentError('expected a whole number of lines.');
  return lines;
}
