/**
 * Pull: bring files back from the remote without ever replacing a local file.
 *
 * 1. Stream the remote listing; keep what is not excluded and not present locally,
 *    writing those names to a list file (nothing is held in memory).
 * 2. `rclone copy --files-from-raw` that list into a staging directory on the same
 *    filesystem, so a killed transfer never leaves a truncated file under a final name.
 *    rclone finds the listed files by reading their directories or by looking each one
 *    up, whichever costs fewer requests to the remote (see {@link chooseFind}).
 * 3. As rclone reports each file complete, link it into place (refusing an existing
 *    target) and drop the staged name. Whatever is left in staging is discarded.
 */
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { RemoteSpec, Repo } from '../config/types.js';
import { compileExcludes } from '../paths/exclude.js';
import { pathExists, relativeToRepo } from '../paths/index.js';
import type { TaskJobResult } from '../queue/task-queue.js';
import { localNameOf, type CopyFilesOptions, type CopyProgress, type ListOptions, type Rclone, type RemoteEntry } from '../rclone/index.js';
import { entriesOf, findOnRemote } from '../rclone/remote-paths.js';
import { CATALOGUE_WRITE_ROWS } from '../store/catalogue.js';
import type { TaskLogWriter } from '../store/task-logs.js';
import type { TaskRunContext } from '../tasks/kind.js';
import { plural } from '../text/plural.js';
import { TaskFailedError } from './errors.js';
import { placeStagedFile } from './place.js';
import { makeStagingDir, removeEarlierAttempts, removeStagingRootIfEmpty, stagingDirFor } from './staging.js';

/**
 * What a pull reads of its task's context (src/tasks/kind.ts): the record moves to `pulling`
 * through `enterRunning` once the transfer itself begins; the catalogue of frozen files, when
 * given, loses each file placed (issue 16 §1).
 */
export type PullContext = Pick<TaskRunContext, 'repo' | 'task' | 'rclone' | 'log' | 'signal' | 'progress' | 'enterRunning'> & Partial<Pick<TaskRunContext, 'catalogue'>>;

/**
 * @example
 * ```ts
 * const { files, bytes } = await runPull({ repo, task: job.data, rclone, log, signal, progress, enterRunning });
 * ```
 */
export async function runPull(ctx: PullContext): Promise<TaskJobResult> {
  const { repo, task, rclone, signal } = ctx;
  const relativePath = relativeToRepo(repo, task.path);
  const listOptions = { recursive: true, filesOnly: true } as const;
  const ahead = listAhead(rclone, repo, relativePath, listOptions, signal);
  try {
    const target = await findOnRemote(rclone, repo, relativePath, signal);
    if (!target) throw new TaskFailedError(`${task.path} does not exist on the remote`, { onUserInput: true });
    const isListedAhead = target.isDir && target.remotePath === relativePath;
    if (!isListedAhead) await ahead.cancel();
    const { listedDir, entries } = isListedAhead
      ? { listedDir: relativePath, entries: ahead.entries }
      : entriesOf(rclone, repo, target, { ...listOptions, signal });
    return await pullEntries(ctx, listedDir, entries);
  } finally {
    // Whatever went wrong before the entries were read, rclone must not be left waiting on its pipe.
    await ahead.cancel();
  }
}

async function pullEntries(ctx: PullContext, listedDir: string, entries: AsyncIterable<RemoteEntry>): Promise<TaskJobResult> {
  const { repo, task, log } = ctx;
  // A fresh directory per attempt: an rclone orphaned by a killed worker may still be
  // writing into the previous attempt's staging, which must never be linked into place.
  await removeEarlierAttempts(repo, task.taskId);
  const staging = stagingDirFor(repo, task.taskId);
  const listFile = `${staging}.files`;
  await makeStagingDir(staging);
  try {
    const wanted = await writeMissingList(repo, listedDir, entries, listFile, log, task.dryRun);
    if (task.dryRun) {
      log.event({ kind: 'summary', of: 'pull', dryRun: true, files: wanted.files, bytes: wanted.bytes, kept: 0 });
      return { files: wanted.files, bytes: wanted.bytes };
    }
    if (wanted.files === 0) {
      log.line('nothing to pull: every file is present locally');
      return { files: 0, bytes: 0 };
    }
    await ctx.enterRunning();
    const find = chooseFind(repo.remote.backend, wanted);
    log.line(
      `pulling ${plural(wanted.files, 'file')}, ${plural(wanted.bytes, 'byte')} (${find === 'listing' ? 'reading the remote directories' : 'looking each file up on the remote'})`,
    );
    return await transfer(ctx, listedDir, staging, listFile, wanted, find);
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(listFile, { force: true });
    await removeStagingRootIfEmpty(repo);
  }
}

/**
 * The listing of `relativePath` as a directory, started at once while findOnRemote asks
 * what the path is. On a real network each rclone call first spends round trips
 * connecting: at 50 ms RTT over SFTP a stat took 1.4 s and the listing of 500 files 2.6 s,
 * one after the other. A pull is nearly always of a directory; when the stat says
 * otherwise, `cancel` stops rclone and the early listing is never read.
 */
function listAhead(
  rclone: Rclone,
  repo: Repo,
  relativePath: string,
  options: ListOptions,
  signal: AbortSignal,
): { entries: AsyncIterable<RemoteEntry>; cancel(): Promise<void> } {
  const stop = new AbortController();
  const forward = (): void => stop.abort(signal.reason);
  signal.addEventListener('abort', forward, { once: true });
  const iterator = rclone.list(repo.remote, relativePath, { ...options, signal: stop.signal })[Symbol.asyncIterator]();
  // Starts rclone now; its rejection is seen by whoever reads the entries.
  const first = iterator.next();
  first.catch(() => undefined);
  async function* entries(): AsyncGenerator<RemoteEntry> {
    try {
      for (let next = await first; !next.done; next = await iterator.next()) yield next.value;
    } finally {
      signal.removeEventListener('abort', forward);
      await iterator.return?.(undefined);
    }
  }
  return {
    entries: entries(),
    cancel: async () => {
      signal.removeEventListener('abort', forward);
      stop.abort();
      await first.catch(() => undefined);
      await iterator.return?.(undefined).catch(() => undefined);
    },
  };
}

/** What the remote listing held, besides the files to fetch. */
interface Wanted extends TaskJobResult {
  /** Files under the pulled path on the remote, wanted or not. */
  readonly listedFiles: number;
  /** Directories holding them (at least as many as there are; see {@link writeMissingList}). */
  readonly listedDirs: number;
}

/**
 * How rclone should find the files to pull: by reading directories or by looking each file
 * up, whichever asks the remote less. Each request waits a round trip, and on a real
 * network round trips are what a transfer of many small files spends its time on.
 *
 * Reading a directory costs about two requests (open, end of listing) plus one per 100
 * entries (SFTP servers answer READDIR with up to 100 names; S3 pages hold 1,000); a lookup
 * costs one request a file. rclone reads only the directories leading to a wanted file, so
 * counting every directory of the tree over-estimates the listing: when in doubt, lookups
 * (rclone's cost stays bounded by the number of files wanted).
 *
 * Only SFTP and S3 remotes are read by directory. A local remote has no round trips to
 * save, and rclone 1.60's local backend drops symlinks from a directory read under
 * `--files-from` (their `x.rclonelink` names never match): the pull finished without
 * them (test/workers/pull-strategy.test.ts found it). A generic `rclone` remote may be a
 * local one underneath.
 *
 * Measured (`npm run bench:pull -- --rtt-ms 10 --small-files 2000 --compare-find`, SFTP,
 * direct copies of a list of every file against a direct copy of the directory): lookups
 * 1.18x, reading the directories 0.98x; at 50 ms RTT 1.21x and 0.98x (docs/benchmarks.md).
 *
 * @example
 * ```ts
 * chooseFind('sftp', { files: 2000, listedFiles: 2000, listedDirs: 10 }); // 'listing'
 * chooseFind('sftp', { files: 3, listedFiles: 2000, listedDirs: 10 }); // 'lookup'
 * ```
 */
export function chooseFind(
  backend: RemoteSpec['backend'],
  wanted: { readonly files: number; readonly listedFiles: number; readonly listedDirs: number },
): NonNullable<CopyFilesOptions['find']> {
  if (backend !== 'sftp' && backend !== 's3') return 'lookup';
  const listingRequests = 2 * wanted.listedDirs + wanted.listedFiles / 100;
  return wanted.files >= listingRequests ? 'listing' : 'lookup';
}

/**
 * Streams the listing into the list file, keeping only files to fetch. Directories are
 * counted as changes of directory from one entry to the next: rclone lists a directory's
 * entries together, and if it did not, the count would only grow (towards lookups).
 */
async function writeMissingList(
  repo: Repo,
  listedDir: string,
  entries: AsyncIterable<RemoteEntry>,
  listFile: string,
  log: TaskLogWriter,
  dryRun: boolean,
): Promise<Wanted> {
  const isExcluded = compileExcludes(repo.exclude);
  const out = createWriteStream(listFile, { mode: 0o600 });
  let files = 0;
  let bytes = 0;
  let listedFiles = 0;
  let listedDirs = 0;
  let lastDir: string | undefined;
  try {
    for await (const entry of entries) {
      if (entry.isDir) continue;
      listedFiles++;
      const dir = path.posix.dirname(entry.path);
      if (dir !== lastDir) {
        listedDirs++;
        lastDir = dir;
      }
      const localRelative = localNameOf(listedDir === '' ? entry.path : `${listedDir}/${entry.path}`);
      if (isExcluded(localRelative)) continue;
      if (await pathExists(path.join(repo.localPath, localRelative))) continue;
      if (!out.write(`${entry.path}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      if (dryRun) log.event({ kind: 'placed', path: localRelative, bytes: entry.size, dryRun: true });
      files++;
      bytes += Math.max(entry.size, 0);
    }
  } finally {
    await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  }
  return { files, bytes, listedFiles, listedDirs };
}

async function transfer(
  ctx: PullContext,
  listedDir: string,
  staging: string,
  listFile: string,
  wanted: TaskJobResult,
  find: NonNullable<CopyFilesOptions['find']>,
): Promise<TaskJobResult> {
  const { repo, rclone, log, signal } = ctx;
  const owner = { ...(repo.chownUid !== undefined ? { uid: repo.chownUid } : {}), ...(repo.chownGid !== undefined ? { gid: repo.chownGid } : {}) };
  const finalDir = path.join(repo.localPath, listedDir);
  let placed = 0;
  let placedBytes = 0;
  let kept = 0;
  let placing: Promise<void> = Promise.resolve();
  let lastProgress: CopyProgress | undefined;
  // Placed files leave the catalogue of frozen files in batches, not one statement each.
  let unfrozen: string[] = [];
  const forget = async (): Promise<void> => {
    if (!ctx.catalogue || unfrozen.length === 0) return;
    const paths = unfrozen;
    unfrozen = [];
    // The files are in place whatever the database says: a stale entry only makes a later
    // report check a file that is local again, so it is logged, not fatal.
    await ctx.catalogue.remove(repo.localPath, paths).catch((error: unknown) => log.line(`could not remove ${plural(paths.length, 'pulled file')} from the catalogue of frozen files: ${error instanceof Error ? error.message : String(error)}`));
  };

  const report = (): void => {
    const bytes = lastProgress?.bytes ?? placedBytes;
    ctx.progress({
      percent: wanted.bytes > 0 ? Math.min(100, Math.round((bytes / wanted.bytes) * 1000) / 10) : Math.round((placed / wanted.files) * 100),
      bytes,
      totalBytes: wanted.bytes,
      files: placed,
      totalFiles: wanted.files,
      ...(lastProgress?.currentFile ? { currentFile: lastProgress.currentFile } : {}),
      ...(lastProgress ? { speed: lastProgress.speed } : {}),
    });
  };

  const place = async (name: string): Promise<void> => {
    const local = localNameOf(name);
    const outcome = await placeStagedFile(path.join(staging, local), path.join(finalDir, local), repo.localPath, owner);
    if (outcome.placed) {
      placed++;
      placedBytes += outcome.size;
      log.event({ kind: 'placed', path: path.join(listedDir, local), bytes: outcome.size });
      unfrozen.push(path.join(listedDir, local));
      if (unfrozen.length >= CATALOGUE_WRITE_ROWS) await forget();
    } else {
      kept++;
      log.event({ kind: 'kept', path: path.join(listedDir, local), reason: outcome.reason === 'exists' ? 'appeared-locally' : 'outside-repository' });
    }
  };

  try {
    await rclone.copyFiles(repo.remote, {
      sourceDir: listedDir,
      filesFrom: listFile,
      destDir: staging,
      find,
      signal,
      onProgress: (p) => {
        lastProgress = p;
        report();
      },
      onCopied: (name) => {
        placing = placing
          .then(() => place(name))
          .catch((error: unknown) => log.event({ kind: 'message', text: `could not place ${name}: ${error instanceof Error ? error.message : String(error)}`, level: 'warn' }));
      },
      onLog: (line) => log.line(`rclone: ${line}`),
    });
  } finally {
    // Files rclone finished before a failure are still good: let them land.
    await placing;
    await forget();
  }
  report();
  log.event({ kind: 'summary', of: 'pull', dryRun: false, files: placed, bytes: placedBytes, kept });
  return { files: placed, bytes: placedBytes };
}
