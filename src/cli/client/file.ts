/**
 * `glacis file pull|freeze|list|tree PATH`: the file operations, on paths as the user sees
 * them (relative ones are taken from the current directory).
 */
import type { Command } from 'commander';
import { clientFor, parseDepth, resolveUserPath, withCommonOptions, type CommonOptions } from './common.js';
import type { GlacisClient, ListEntryJson, TreeEntryJson } from './http.js';
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
  const file = program.command('file').description('pull, freeze and list files on a Glacis server');

  withCommonOptions(
    file
      .command('pull')
      .argument('<path>', 'file or directory to bring back from the remote')
      .description('bring files missing locally back from the remote')
      .option(...EMAIL)
      .option(...DRY_RUN)
      .option(...WAIT),
  ).action((target: string, options: SubmitOptions) => submit('pull', target, options));

  withCommonOptions(
    file
      .command('freeze')
      .argument('<path>', 'file or directory to freeze')
      .description('remove local copies of cold files that are safe on the remote')
      .option('--force', 'freeze files however recently they were read (ignores freeze_age, not the other rules)')
      .option(...EMAIL)
      .option(...DRY_RUN)
      .option(...WAIT),
  ).action((target: string, options: SubmitOptions) => submit('freeze', target, options));

  withCommonOptions(
    file
      .command('list')
      .argument('<path>', 'file or directory to list')
      .description('list what the remote holds under PATH')
      .option('--full', 'sizes and modification times too')
      .option('--missing', 'only files missing locally')
      .option(MAX_DEPTH, 'directory levels to descend, 0 = all (default 1)', parseDepth)
      .option('--from-root, --from_root', 'paths relative to the repository root'),
  ).action((target: string, options: ListOptions) => list(target, options));

  withCommonOptions(
    file
      .command('tree')
      .argument('<path>', 'directory to draw')
      .description('draw what the remote holds under PATH, marking files missing locally')
      .option(MAX_DEPTH, 'directory levels to descend, 0 = all (default 1)', parseDepth),
  ).action((target: string, options: TreeOptions) => tree(target, options));
}

async function submit(type: 'pull' | 'freeze', given: string, options: SubmitOptions): Promise<void> {
  const client = clientFor(options);
  const body = {
    path: resolveUserPath(given),
    ...(options.email !== undefined ? { email: options.email } : {}),
    ...(options.dry_run ? { dry_run: true } : {}),
  };
  const taskId = type === 'pull' ? await client.pull(body) : await client.freeze({ ...body, ...(options.force ? { force: true } : {}) });
  if (options.wait) {
    if (!options.json) note(`${type} of ${body.path}: task ${taskId}`);
    reportEnd(await followTask(client, taskId, { quiet: options.json === true }), options.json === true);
    return;
  }
  if (options.json) {
    printJson({ task: taskId });
    return;
  }
  print(`${type} of ${body.path}${options.dry_run ? ' (dry run)' : ''} submitted: task ${taskId}`);
  note(`follow it with "glacis task log ${taskId} --follow", or submit with --wait`);
}

async function list(given: string, options: ListOptions): Promise<void> {
  const client = clientFor(options);
  const body = {
    path: resolveUserPath(given),
    ...(options.missing ? { missing: true } : {}),
    ...(options.full ? { full: true } : {}),
    ...(options.max_depth !== undefined ? { max_depth: options.max_depth } : {}),
    ...(options.from_root ? { from_root: true } : {}),
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
  const size = entry.Size === undefined ? '' : formatBytes(entry.Size);
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
