/**
 * `glacis task list|show|log|remove|zombies`: looking after tasks.
 */
import { Option, type Command } from 'commander';
import { TASK_KINDS, TASK_STATUSES } from '../../store/types.js';
import { clientFor, parseLimit, resolveUserPath, withCommonOptions, type CommonOptions } from './common.js';
import type { TaskJson } from './http.js';
import { formatBytes, formatDuration, formatTime, note, print, printJson, table } from './output.js';
import { Following, followTask, hasEnded, POLL_MS, reportEnd, summary } from './progress.js';

interface ListOptions extends CommonOptions {
  readonly status?: string;
  readonly type?: string;
  readonly path?: string;
  readonly limit?: number;
}

interface LogOptions extends CommonOptions {
  readonly follow?: boolean;
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
      .description('list tasks, oldest first')
      .addOption(new Option('--status <status>', 'only tasks in this status').choices(TASK_STATUSES))
      .addOption(new Option('--type <type>', 'only tasks of this type').choices(TASK_KINDS))
      .option('--path <path>', 'only tasks on this path or below it')
      .option('--limit <n>', 'at most this many', parseLimit),
  ).action((options: ListOptions) => listTasks(options));

  withCommonOptions(
    task
      .command('show')
      .argument('<id>', 'task id')
      .description("show a task's status, timing and outcome (and progress while it runs)"),
  ).action((id: string, options: CommonOptions) => showTask(id, options));

  withCommonOptions(
    task
      .command('log')
      .argument('<id>', 'task id')
      .description("print a task's log")
      .option('-f, --follow', 'keep printing as the task goes on, until it ends; exit 1 if it fails'),
  ).action((id: string, options: LogOptions) => showLog(id, options));

  withCommonOptions(
    task
      .command('remove')
      .argument('<id>', 'task id')
      .description('cancel the task if it has not ended, then delete it and its log'),
  ).action((id: string, options: CommonOptions) => removeTask(id, options));

  withCommonOptions(
    task
      .command('zombies')
      .description('mark unfinished tasks that no worker is running as failed, freeing their paths'),
  ).action((options: CommonOptions) => zombies(options));
}

async function listTasks(options: ListOptions): Promise<void> {
  const tasks = await clientFor(options).tasks({
    ...(options.status !== undefined ? { status: options.status } : {}),
    ...(options.type !== undefined ? { type: options.type } : {}),
    ...(options.path !== undefined ? { path: resolveUserPath(options.path) } : {}),
    ...(options.limit !== undefined ? { limit: options.limit } : {}),
  });
  if (options.json) {
    printJson(tasks);
    return;
  }
  if (tasks.length === 0) {
    note('no tasks');
    return;
  }
  const rows = tasks.map((t) => [
    t.task_id,
    `${t.type}${t.dry_run ? ' (dry)' : ''}`,
    t.status,
    formatTime(t.created),
    t.files === null || t.files === undefined ? '' : String(t.files),
    t.bytes === null || t.bytes === undefined ? '' : formatBytes(t.bytes),
    t.path,
  ]);
  print(...table(['ID', 'TYPE', 'STATUS', 'CREATED', 'FILES', 'SIZE', 'PATH'], rows));
}

async function showTask(id: string, options: CommonOptions): Promise<void> {
  const task = await clientFor(options).task(id);
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

async function showLog(id: string, options: LogOptions): Promise<void> {
  const client = clientFor(options);
  if (!options.follow) {
    const logs = await client.log(id);
    if (options.json) printJson({ logs });
    else process.stdout.write(logs.endsWith('\n') || logs === '' ? logs : `${logs}\n`);
    return;
  }
  let printed = 0;
  const printNew = (logs: string, final: boolean): void => {
    // Only whole lines while it runs: the worker may be halfway through one.
    const end = final ? logs.length : logs.lastIndexOf('\n') + 1;
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

async function removeTask(id: string, options: CommonOptions): Promise<void> {
  const info = await clientFor(options).remove(id);
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
