/**
 * `glacis file pull|freeze PATH…` and `glacis file list|tree PATH`: the file operations, on
 * paths as the user sees them (relative ones are taken from the current directory). Pull
 * and freeze take several paths and globs, expanded against the remote's listing.
 */
import path from 'node:path';
import type { Command } from 'commander';
import picomatch from 'picomatch';
import { clientFor, parseDepth, resolveUserPath, withCommonOptions, type CommonOptions } from './common.js';
import { CliError, EXIT } from './exit.js';
import type { GlacisClient, ListEntryJson, SubmittedJson, TaskJson, TreeEntryJson } from './http.js';
import { colour, formatBytes, formatTime, note, print, printJson } from './output.js';
import { followTask, reportEnd } from './progress.js';

interface SubmitOptions extends CommonOptions {
  readonly email?: string;
  readonly dry_run?: boolean;
  readonly wait?: boolean;
  readonly force?: boolean;
}

interface ListOptions extends CommonOptions {
  readonly full?: boolean;
  readonly missing?: boolean;
  readonly max_depth?: number;
  readonly from_root?: boolean;
  readonly filesOnly?: boolean;
}

interface TreeOptions extends CommonOptions {
  readonly max_depth?: number;
}

// barique's spellings (`--dry_run`, …) are the second long flag of each option.
const DRY_RUN = ['--dry-run, --dry_run', 'only report what would be done'] as const;
const MAX_DEPTH = '--max-depth, --max_depth <n>';
const WAIT = ['--wait', 'follow the task until it ends; exit 1 if it fails'] as const;
const EMAIL = ['--email <address>', 'mail this address when the task ends'] as const;

/**
 * Registers `glacis file …` on the program.
 *
 * @example
 * ```ts
 * registerFileCommands(program);
 * ```
 */
export function registerFileCommands(program: Command): void {
  const file = program.command('file').description('pull, freeze, push and list files on a Glacis server');

  withCommonOptions(
    file
      .command('pull')
      .argument('<paths...>', "files or directories to bring back from the remote; quoted globs ('runs/*.fq') match what the remote holds")
      .description('bring files missing locally back from the remote')
      .option(...EMAIL)
      .option(...DRY_RUN)
      .option(...WAIT),
  ).action((targets: string[], options: SubmitOptions) => submit('pull', targets, options));

  withCommonOptions(
    file
      .command('freeze')
      .argument('<paths...>', "files or directories to freeze; quoted globs ('runs/*.fq') match what the remote holds")
      .description('remove local copies of cold files that are safe on the remote')
      .option('--force', 'freeze files however recently they were read (ignores freeze_age, not the other rules)')
      .option(...EMAIL)
      .option(...DRY_RUN)
      .option(...WAIT),
  ).action((targets: string[], options: SubmitOptions) => submit('freeze', targets, options));

  withCommonOptions(
    file
      .command('push')
      .argument('<paths...>', 'local files or directories to copy to the remote (only in repositories with pushable: true)')
      .description('copy local files the remote lacks or holds differently to the remote, keeping each replaced remote file as a version')
      .option('--force', 'push files the anomaly guard holds (shrunk or emptied, or too many changed); the replaced copies are still kept as versions')
      .option(...EMAIL)
      .option(...DRY_RUN)
      .option(...WAIT),
  ).action((targets: string[], options: SubmitOptions) => submit('push', targets, options));

  withCommonOptions(
    file
      .command('list')
      .argument('<path>', 'file or directory to list')
      .description('list what the remote holds under PATH: files, and directories as d1/')
      .option('--full', 'sizes and modification times too')
      .option('--missing', 'only files missing locally')
      .option(MAX_DEPTH, 'directory levels to descend, 0 = all (default 1)', parseDepth)
      .option('--from-root, --from_root', 'paths relative to the repository root')
      .option('--files-only', 'no directories (as the API lists by default)'),
  ).action((target: string, options: ListOptions) => list(target, options));

  withCommonOptions(
    file
      .command('tree')
      .argument('<path>', 'directory to draw')
      .description('draw what the remote holds under PATH, marking files missing locally')
      .option(MAX_DEPTH, 'directory levels to descend, 0 = all (default 1)', parseDepth),
  ).action((target: string, options: TreeOptions) => tree(target, options));
}

async function submit(type: 'pull' | 'freeze' | 'push', given: readonly string[], options: SubmitOptions): Promise<void> {
  const client = clientFor(options);
  // Globs match what the remote holds: a push is of local files, named as they are.
  const paths = type === 'push' ? [...new Set(given.map(resolveUserPath))] : await expandPaths(client, given);
  const json = options.json === true;
  const submitted: Array<{ path: string } & SubmittedJson> = [];
  for (const target of paths) {
    const body = {
      path: target,
      ...(options.email !== undefined ? { email: options.email } : {}),
      ...(options.dry_run ? { dry_run: true } : {}),
    };
    const forced = { ...body, ...(options.force ? { force: true } : {}) };
    const answer = type === 'pull' ? await client.pull(body) : type === 'push' ? await client.push(forced) : await client.freeze(forced);
    submitted.push({ path: target, ...answer });
    if (!json) {
      if (answer.joined) print(`${type} of ${target}: joins ${describeJoined(await client.task(answer.task))}`);
      else if (!options.wait) print(`${type} of ${target}${options.dry_run ? ' (dry run)' : ''} submitted: task ${answer.task}`);
    }
  }
  // One path as it always was ({task}); several as a list saying which path went to which task.
  const single = given.length === 1 && !isGlob(given[0]!);
  if (options.wait) {
    const ended: TaskJson[] = [];
    for (const { path: target, task } of unique(submitted)) {
      if (!json) note(`${type} of ${target}: task ${task}`);
      const task_ = await followTask(client, task, { quiet: json });
      ended.push(task_);
      if (!json && task_.status === 'finished') reportEnd(task_, false);
    }
    if (json) printJson(single ? ended[0] : ended);
    const failed = ended.filter((t) => t.status !== 'finished');
    if (failed.length === 1 && ended.length === 1) reportEnd(failed[0]!, false);
    if (failed.length > 0) {
      throw new CliError(`${failed.length} of ${ended.length} tasks did not finish: ${failed.map((t) => `${t.task_id} ${t.status}${t.error ? ` (${t.error})` : ''}`).join('; ')}`, EXIT.failure);
    }
    return;
  }
  if (json) {
    printJson(single ? { task: submitted[0]!.task, ...(submitted[0]!.joined ? { joined: true } : {}) } : submitted);
    return;
  }
  const ids = unique(submitted).map((s) => s.task);
  note(ids.length === 1 ? `follow it with "glacis task log ${ids[0]} --follow", or submit with --wait` : 'follow them with "glacis task show ID", or submit with --wait');
}

/** The submissions, one per task (several paths may have joined the same one). */
function unique<T extends { readonly task: string }>(items: readonly T[]): T[] {
  const seen = new Set<string>();
  return items.filter((item) => !seen.has(item.task) && seen.add(item.task));
}

/** The task a request joined, in words: which, on what, doing what. */
function describeJoined(task: TaskJson): string {
  return `task ${task.task_id} (${task.type}${task.dry_run ? ' (dry run)' : ''} of ${task.path}, ${task.status}), already covering it`;
}

/** Whether a path holds glob characters, to be matched against the remote's listing. */
export function isGlob(given: string): boolean {
  return picomatch.scan(given).isGlob;
}

/**
 * The absolute paths the arguments designate: plain ones resolved as they are, globs matched
 * against what the remote holds below their fixed part (files and directories). Duplicates
 * are dropped, the order kept.
 *
 * @throws CliError (exit 1) when a glob matches nothing.
 */
async function expandPaths(client: GlacisClient, given: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const argument of given) {
    if (!isGlob(argument)) {
      out.push(resolveUserPath(argument));
      continue;
    }
    const absolute = resolveUserPath(argument);
    const { base, glob } = picomatch.scan(absolute);
    const pattern = glob.replace(/\/+$/, '');
    const segments = pattern.split('/');
    const depth = segments.includes('**') ? 0 : segments.length;
    const matches = picomatch(pattern, { dot: false });
    const found: string[] = [];
    for await (const entry of client.list({ path: base, max_depth: depth, dirs: true })) {
      const relative = entry.Path.replace(/\/$/, '');
      if (matches(relative)) found.push(path.posix.join(base, relative));
    }
    if (found.length === 0) throw new CliError(`nothing on the remote matches ${argument} (under ${base}): see "glacis file list ${base}"`, EXIT.failure);
    out.push(...found.sort());
  }
  return [...new Set(out)];
}

async function list(given: string, options: ListOptions): Promise<void> {
  const client = clientFor(options);
  const body = {
    path: resolveUserPath(given),
    ...(options.missing ? { missing: true } : {}),
    ...(options.full ? { full: true } : {}),
    ...(options.max_depth !== undefined ? { max_depth: options.max_depth } : {}),
    ...(options.from_root ? { from_root: true } : {}),
    ...(options.filesOnly ? {} : { dirs: true }),
  };
  if (options.json) {
    // Passed through as it streams: a listing may hold millions of entries.
    for await (const text of client.listText(body)) await write(text);
    await write('\n');
    return;
  }
  for await (const entry of client.list(body)) await write(`${options.full ? fullLine(entry) : entry.Path}\n`);
}

function fullLine(entry: ListEntryJson): string {
  const size = entry.Size === undefined || entry.Path.endsWith('/') ? '' : formatBytes(entry.Size);
  return `${size.padStart(9)}  ${formatTime(entry.ModTime).padEnd(19)}  ${entry.Path}`;
}

async function tree(given: string, options: TreeOptions): Promise<void> {
  const client: GlacisClient = clientFor(options);
  const root = resolveUserPath(given);
  const entries = await client.tree({ path: root, ...(options.max_depth !== undefined ? { max_depth: options.max_depth } : {}) });
  if (options.json) {
    printJson(entries);
    return;
  }
  const missing = entries.filter((e) => e.missing).length;
  print(root, ...drawTree(entries), '', `${entries.length} file${entries.length === 1 ? '' : 's'}, ${missing} missing locally`);
}

interface TreeNode {
  readonly children: Map<string, TreeNode>;
  missing?: boolean;
}

/**
 * The entries drawn as a tree, directories first then files, each level sorted by name;
 * files missing locally are marked.
 *
 * @example
 * ```ts
 * drawTree([{ Path: 'a/b.txt', missing: true }]); // ['└── a/', '    └── b.txt  (missing)']
 * ```
 */
export function drawTree(entries: readonly TreeEntryJson[]): string[] {
  const root: TreeNode = { children: new Map() };
  for (const entry of entries) {
    let node = root;
    for (const part of entry.Path.split('/').filter(Boolean)) {
      let child = node.children.get(part);
      if (!child) node.children.set(part, (child = { children: new Map() }));
      node = child;
    }
    node.missing = entry.missing;
  }
  const lines: string[] = [];
  const walk = (node: TreeNode, indent: string): void => {
    const isDir = (n: TreeNode): boolean => n.missing === undefined;
    const names = [...node.children.keys()].sort((a, b) => Number(isDir(node.children.get(b)!)) - Number(isDir(node.children.get(a)!)) || a.localeCompare(b));
    names.forEach((name, index) => {
      const child = node.children.get(name)!;
      const last = index === names.length - 1;
      const label = isDir(child) ? `${name}/` : child.missing ? `${name}  ${colour('yellow', '(missing)')}` : name;
      lines.push(`${indent}${last ? '└── ' : '├── '}${label}`);
      if (isDir(child)) walk(child, `${indent}${last ? '    ' : '│   '}`);
    });
  };
  walk(root, '');
  return lines;
}

/** Writes to stdout, waiting when a slow reader (a pager, a pipe) is behind. */
function write(text: string): Promise<void> {
  if (process.stdout.write(text)) return Promise.resolve();
  return new Promise((resolve) => process.stdout.once('drain', () => resolve()));
}
