/**
 * `glacis repo report PATH`: a report of a repository or a directory in it (issue 16 §2),
 * submitted, followed to its end and printed as a table with bar charts (unicode blocks on
 * a terminal, ASCII when piped or with `--ascii`), or as the report's JSON with `--json`.
 * `--latest` prints the latest finished report of the repository instead of making one.
 */
import type { Command } from 'commander';
import { clientFor, resolveUserPath, withCommonOptions, type CommonOptions } from './common.js';
import { note, print, printJson } from './output.js';
import { followTask, reportEnd } from './progress.js';
import { renderReport } from './report.js';

interface ReportOptions extends CommonOptions {
  readonly ascii?: boolean;
  readonly latest?: boolean;
}

/**
 * Registers `glacis repo …` on the program.
 *
 * @example
 * ```ts
 * registerRepoCommands(program);
 * ```
 */
export function registerRepoCommands(program: Command): void {
  const repo = program.command('repo').description('reports on repositories of a Glacis server');
  withCommonOptions(
    repo
      .command('report')
      .argument('<path>', 'a repository, or a directory in it')
      .description('what is cold, what a freeze would free, what only exists locally, and frozen files the remote lost')
      .option('--ascii', 'draw the bars with ASCII characters (the default when stdout is not a terminal)')
      .option('--latest', "print the repository's latest finished report instead of making a new one"),
  ).action((target: string, options: ReportOptions) => report(target, options));
}

async function report(given: string, options: ReportOptions): Promise<void> {
  const client = clientFor(options);
  const target = resolveUserPath(given);
  const json = options.json === true;
  let result;
  if (options.latest) result = await client.latestReport(target);
  else {
    const { task } = await client.report({ path: target });
    if (!json) note(`report of ${target}: task ${task}`);
    const ended = await followTask(client, task, { quiet: json });
    if (ended.status !== 'finished') reportEnd(ended, json); // throws: failed or cancelled
    result = await client.taskReport(task);
  }
  if (json) printJson(result);
  else print(...renderReport(result, { unicode: process.stdout.isTTY === true && options.ascii !== true }));
}
