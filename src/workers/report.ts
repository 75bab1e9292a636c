/**
 * The report task's work (issue 16 §2; the kind is src/tasks/kinds/report.ts): for a repo
 * or a subtree, what is cold, what a freeze would free, what only exists locally, and
 * whether the remote still holds every frozen file (the loss alert, §1). It walks the local tree and lists the remote exactly as
 * freeze does (the same walk, {@link StreamingMatcher}, excludes and decision, through
 * {@link ReportAccumulator}), then reads the catalogue of frozen files page by page and
 * looks each up in what the listing held. It never writes, locally or on the remote, and
 * reads no file's contents (only `lstat`: atimes stay as they were).
 *
 * With `verify: hash` a report judges by size and mtime (reading every cold file to hash
 * it would cost more than the freeze it informs); the freeze still compares hashes before
 * deleting. The result says so (`verifiedBy`).
 */
import { lstat, statfs } from 'node:fs/promises';
import type { LocalFile } from '../freeze/decision.js';
import { StreamingMatcher, WAITING } from '../freeze/matcher.js';
import { AMBIGUOUS, type RemoteMatch } from '../freeze/remote-index.js';
import { compileExcludes } from '../paths/exclude.js';
import { relativeToRepo } from '../paths/index.js';
import { filesystemFigures } from '../policy/filesystem.js';
import { frozenCopyState, LOSS_STATES } from '../policy/frozen.js';
import { ReportAccumulator } from '../policy/report.js';
import type { ListedFiles, RemoteEntry } from '../rclone/index.js';
import { findOnRemote } from '../rclone/remote-paths.js';
import { plural } from '../text/plural.js';
import type { TaskRunContext, TaskRunResult } from '../tasks/kind.js';
import { LISTED_LOSSES, type FrozenFigures, type LossState, type LostFile, type RepoReport } from '../tasks/kinds/report.js';
import type { JsonValue } from '../store/types.js';
import { TaskFailedError } from './errors.js';
import { bothOrNeither, describeLocal, walkFiles } from './freeze.js';

const HASH_TYPES = ['md5', 'sha1'] as const;

/**
 * @example
 * ```ts
 * const { result } = await runReport(context); // result: RepoReport as JSON
 * ```
 */
export async function runReport(ctx: TaskRunContext & { readonly now?: () => number }): Promise<TaskRunResult> {
  const { repo, task, rclone, log, signal } = ctx;
  const relativePath = relativeToRepo(repo, task.path);
  const localStat = await lstat(task.path).catch(() => undefined);
  if (localStat && !localStat.isDirectory()) throw new TaskFailedError(`${task.path} is a file: a report covers a repository or a directory in it`, { onUserInput: true });
  if (!(await findOnRemote(rclone, repo, relativePath, signal))?.isDir) {
    if (!localStat) throw new TaskFailedError(`${task.path} exists neither locally nor on the remote`, { onUserInput: true });
    throw new TaskFailedError(`${task.path} is not a directory on the remote: nothing there to compare with`);
  }
  await ctx.enterRunning();

  const nowMs = (ctx.now ?? Date.now)();
  // Size and mtime, whatever `verify` says: see the module comment.
  const accumulator = new ReportAccumulator({ freezeAgeDays: repo.freezeAge, verify: 'size', nowMs });
  const wantHashes = repo.verify === 'hash';
  const matcher = new StreamingMatcher<{ readonly local: LocalFile; readonly excluded: boolean }>(wantHashes);
  const isExcluded = compileExcludes(repo.exclude);
  const root = repo.localPath.endsWith('/') ? repo.localPath : `${repo.localPath}/`;
  const repoRelativeOf = (relative: string): string => (relativePath === '' ? relative : `${relativePath}/${relative}`);
  let seen = 0;
  const add = (relative: string, walked: { readonly local: LocalFile; readonly excluded: boolean }, remote: RemoteMatch | typeof AMBIGUOUS | undefined): void => {
    accumulator.add({ path: repoRelativeOf(relative), local: walked.local, remote, excluded: walked.excluded });
    if (++seen % 10_000 === 0) ctx.progress({ percent: 0, bytes: 0, totalBytes: 0, files: seen, totalFiles: 0 });
  };

  const stop = new AbortController();
  const listingSignal = AbortSignal.any([signal, stop.signal]);
  const listing = async (): Promise<void> => {
    const entries: AsyncIterable<RemoteEntry | ListedFiles> = rclone.listFiles(repo.remote, relativePath, {
      signal: listingSignal,
      ...(wantHashes ? { hash: true, hashTypes: [...HASH_TYPES] } : {}),
    });
    try {
      for await (const item of entries) {
        if ('count' in item) {
          for (const late of matcher.remoteFiles(item)) add(late.key, late.local, late.remote);
          continue;
        }
        const late = matcher.remote(item);
        if (late) add(late.key, late.local, late.remote);
      }
    } catch (error) {
      matcher.listingStopped();
      throw error;
    }
    for (const late of matcher.listingComplete()) add(late.key, late.local, undefined);
  };
  const walking = async (): Promise<void> => {
    if (!localStat) return;
    let sinceYield = 0;
    for (const relative of walkFiles(task.path, true, repo)) {
      if (++sinceYield === 256) {
        sinceYield = 0;
        await new Promise((resolve) => setImmediate(resolve));
        if (stop.signal.aborted) return;
        if (signal.aborted) throw signal.reason;
      }
      const repoRelative = repoRelativeOf(relative);
      const local = describeLocal(root + repoRelative);
      if (!local) continue;
      const walked = { local, excluded: isExcluded(repoRelative) };
      const remote = matcher.local(relative, walked);
      if (remote !== WAITING) add(relative, walked, remote);
      else {
        await matcher.roomToWait();
        if (stop.signal.aborted) return;
      }
    }
  };
  await bothOrNeither(listing, walking, stop);

  // The listing is complete: what it held answers for every frozen file (frozen files are
  // not in the local tree, so the matcher kept their entries).
  const frozen = await checkCatalogue(ctx, relativePath, root, (relative) => matcher.local(relative, { local: NONE, excluded: false }) as RemoteMatch | typeof AMBIGUOUS | undefined);
  const policy = accumulator.result(filesystemFigures(await statfs(repo.localPath)));
  const report: RepoReport = { repo: repo.localPath, path: task.path, verifiedBy: 'size', ...policy, frozen };

  log.line(`local: ${plural(policy.local.files, 'file')}, ${plural(policy.local.bytes, 'byte')}; a freeze at ${repo.freezeAge} days would free ${plural(policy.freeable.atFreezeAge.files, 'file')}, ${plural(policy.freeable.atFreezeAge.bytes, 'byte')}`);
  if (policy.unprotected.files > 0) log.line(`unprotected: ${plural(policy.unprotected.files, 'cold file')} (${plural(policy.unprotected.bytes, 'byte')}) not safe on the remote`);
  log.line(`frozen: ${plural(frozen.files, 'file')}, ${plural(frozen.bytes, 'byte')}; ${frozen.lost.files === 0 ? 'the remote holds them all' : `${plural(frozen.lost.files, 'is', 'are')} no longer on the remote as frozen`}`);
  for (const lost of frozen.lost.listed) log.line(`frozen file ${lost.state} on the remote: ${lost.path}`);
  if (frozen.lost.files > 0) await ctx.alert(lossAlert(report));
  return { files: policy.local.files, bytes: policy.local.bytes, unprotected: policy.unprotected.files, result: toJson(report) };
}

/** Placeholder for a catalogue lookup: the matcher's answer does not depend on it once the listing is complete. */
const NONE: LocalFile = { kind: 'file', size: 0, mtimeMs: 0, atimeMs: 0 };

async function checkCatalogue(
  ctx: TaskRunContext,
  relativePath: string,
  root: string,
  remoteOf: (relative: string) => RemoteMatch | typeof AMBIGUOUS | undefined,
): Promise<FrozenFigures> {
  const all = { files: 0, bytes: 0 };
  const held = { files: 0, bytes: 0 };
  const lost = { files: 0, bytes: 0 };
  const byState = Object.fromEntries(LOSS_STATES.map((state) => [state, { files: 0, bytes: 0 }])) as Record<LossState, { files: number; bytes: number }>;
  const listed: LostFile[] = [];
  let localAgain = 0;
  const prefix = relativePath === '' ? '' : `${relativePath}/`;
  for await (const file of ctx.catalogue.stream(ctx.repo.localPath, relativePath)) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const state = frozenCopyState(file, remoteOf(file.path.slice(prefix.length)));
    if (state !== 'held' && (await lstat(root + file.path).catch(() => undefined))) {
      localAgain++;
      continue;
    }
    all.files++;
    all.bytes += file.size;
    const figures = state === 'held' ? held : byState[state];
    figures.files++;
    figures.bytes += file.size;
    if (state === 'held') continue;
    lost.files++;
    lost.bytes += file.size;
    if (listed.length < LISTED_LOSSES) listed.push({ path: file.path, state, size: file.size, frozenAt: file.frozenAt });
  }
  return { ...all, held, lost: { ...lost, byState, listed: listed, unlisted: lost.files - listed.length }, localAgain };
}

/** The alert to `MAIL_ADMIN`: which frozen files have no copy left, by name (capped). */
export function lossAlert(report: RepoReport): { subject: string; text: string } {
  const { lost } = report.frozen;
  const lines = [
    `The remote of ${report.repo} no longer holds ${plural(lost.files, 'frozen file')} (${plural(lost.bytes, 'byte')}) as they were frozen.`,
    'Their local copies were deleted by a freeze: unless the remote is restored from a backup, these files are lost.',
    '',
    ...lost.listed.map((file) => `  ${file.state.padEnd(8)} ${file.path} (${plural(file.size, 'byte')}, frozen ${file.frozenAt})`),
    ...(lost.unlisted > 0 ? [`  … and ${lost.unlisted} more`] : []),
    '',
    `Found by the report of ${report.path}.`,
  ];
  return { subject: `Glacis: ${plural(lost.files, 'frozen file')} lost on the remote of ${report.repo}`, text: `${lines.join('\n')}\n` };
}

/**
 * The report as a JSON value. Its types are interfaces (no index signature), so the
 * compiler cannot see they are JSON; they hold only numbers, strings, null, arrays and
 * plain objects, which a round trip keeps as they are.
 */
function toJson(report: RepoReport): JsonValue {
  return JSON.parse(JSON.stringify(report)) as JsonValue;
}
