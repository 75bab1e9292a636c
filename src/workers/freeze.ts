/**
 * Freeze: delete cold local files that the remote holds identically. Never touches the
 * remote. The only operation that can lose data, so it is deliberately two-phased:
 *
 * 1. Judge: list the remote once into a hash map, walk the local tree (streamed), and
 *    keep as candidates the files {@link decideFreeze} allows.
 * 2. Act, a batch at a time: ask the remote again for exactly those files, judge each
 *    again with the fresh answer, check the local file is unchanged since it was judged
 *    (size, mtime, atime), and only then delete it. If the remote stops answering, the
 *    task fails and nothing more is deleted.
 */
import { createHash } from 'node:crypto';
import { constants, lstatSync, opendirSync, readlinkSync } from 'node:fs';
import { lstat, open, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Repo } from '../config/types.js';
import type { AtimeSupport } from '../freeze/atime.js';
import { decideFreeze, isUnprotected, unchangedSince, type FreezePolicy, type LocalFile, type RemoteFile } from '../freeze/decision.js';
import { StreamingMatcher, WAITING } from '../freeze/matcher.js';
import { freezeHint, noneKept, type KeptCounts } from '../freeze/summary.js';
import { AMBIGUOUS, type RemoteMatch } from '../freeze/remote-index.js';
import { compileExcludes } from '../paths/exclude.js';
import { relativeToRepo } from '../paths/index.js';
import type { TaskJobData, TaskProgress } from '../queue/task-queue.js';
import { RCLONELINK_SUFFIX, type Rclone, type RemoteEntry } from '../rclone/index.js';
import { findOnRemote, parentOf } from '../rclone/remote-paths.js';
import type { FrozenCatalogue, FrozenFile } from '../store/catalogue.js';
import type { TaskLogWriter } from '../store/task-logs.js';
import { plural } from '../text/plural.js';
import { TaskFailedError } from './errors.js';
import { STAGING_DIR_NAME } from './staging.js';

/**
 * Candidates re-checked against the remote in one rclone call: large enough that the
 * start-up cost of rclone is spread thin, small enough to stay close to "just verified".
 */
export const FREEZE_BATCH = 5000;
const HASH_TYPES = ['md5', 'sha1'] as const;

export interface FreezeContext {
  readonly repo: Repo;
  readonly task: TaskJobData;
  readonly rclone: Rclone;
  readonly log: TaskLogWriter;
  readonly signal: AbortSignal;
  readonly atime: AtimeSupport | undefined;
  readonly progress: (progress: TaskProgress) => void;
  /** Called when deletion begins (status `freezing`). */
  readonly onFreezeStart: () => Promise<void>;
  readonly now?: () => number;
  /** Where each deleted file is recorded (issue 16 §1); absent in tests of the freeze alone. */
  readonly catalogue?: FrozenCatalogue;
}

/** Files frozen (or that would be), bytes freed, and cold files the remote does not protect. */
export interface FreezeResult {
  readonly files: number;
  readonly bytes: number;
  readonly unprotected: number;
}

interface Candidate {
  readonly relative: string;
  readonly local: LocalFile;
}

/**
 * A local file as the walk hands it to the matcher: to be judged, or already known to be
 * kept. Recent and excluded files are matched too, so that the remote files left unmatched
 * are really those not in the local tree (the log said "3 files not in the local tree" for
 * 3 recently read local files: test/workers/freeze-summary.test.ts).
 */
type Walked = { readonly local: LocalFile } | { readonly kept: 'recent' | 'excluded' };

/**
 * @example
 * ```ts
 * const result = await runFreeze({ repo, task: job.data, rclone, log, signal, atime, progress, onFreezeStart });
 * ```
 */
export async function runFreeze(ctx: FreezeContext): Promise<FreezeResult> {
  const { repo, task, rclone, log, signal } = ctx;
  if (!repo.freezable) throw new TaskFailedError(`freeze refused: repository ${repo.localPath} is not freezable (freezable: false)`);
  if (ctx.atime && !ctx.atime.supported && !repo.disableAtimeTest) throw new TaskFailedError(`freeze refused: ${ctx.atime.reason}`);

  const relativePath = relativeToRepo(repo, task.path);
  const localStat = await lstat(task.path).catch(() => undefined);
  if (!localStat) {
    // Nothing local (already frozen, say) is nothing to do: a success, as on Baricadr. A path
    // the remote lacks too is a mistaken one, and fails (test/api/baricadr-compat.test.ts).
    if (!(await findOnRemote(rclone, repo, relativePath, signal))) throw new TaskFailedError(`${task.path} exists neither locally nor on the remote`);
    log.line(`nothing to freeze: ${task.path} does not exist locally (frozen already?)`);
    return { files: 0, bytes: 0, unprotected: 0 };
  }
  const isDir = localStat.isDirectory();
  const listedDir = isDir ? relativePath : parentOf(relativePath);
  const policy: Omit<FreezePolicy, 'nowMs'> = { freezeAgeDays: repo.freezeAge, force: task.force, verify: repo.verify };
  const now = ctx.now ?? Date.now;

  // Phase 1: list the remote and walk the local tree at the same time, matching them as
  // they stream. Phase 2 (actOnBatch) runs every FREEZE_BATCH candidates.
  const wantHashes = repo.verify === 'hash';
  const matcher = new StreamingMatcher<Walked>(wantHashes);
  const isExcluded = compileExcludes(repo.exclude);
  const judging: FreezePolicy = { ...policy, nowMs: now() };
  const root = repo.localPath.endsWith('/') ? repo.localPath : `${repo.localPath}/`;
  const repoRelativeOf = (relative: string): string => (listedDir === '' ? relative : `${listedDir}/${relative}`);
  let frozen = 0;
  let freed = 0;
  let unprotected = 0;
  const kept: KeptCounts = noneKept();
  let started = false;
  let batch: Candidate[] = [];
  let acting: Promise<void> = Promise.resolve();

  // Batches are acted on one at a time, in order, whichever side filled them.
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const full = batch;
    batch = [];
    acting = acting.then(async () => {
      if (!started && !task.dryRun) {
        started = true;
        await ctx.onFreezeStart();
      }
      const done = await actOnBatch(ctx, listedDir, full, { ...policy, nowMs: now() });
      frozen += done.files;
      freed += done.bytes;
      kept.changed += done.changed;
      ctx.progress({ percent: 0, bytes: freed, totalBytes: 0, files: frozen, totalFiles: 0 });
    });
    await acting;
  };

  const judge = async (relative: string, walked: Walked, remote: RemoteMatch | typeof AMBIGUOUS | undefined): Promise<void> => {
    if ('kept' in walked) {
      kept[walked.kept]++;
      return;
    }
    const { local } = walked;
    const repoRelative = repoRelativeOf(relative);
    if (remote === AMBIGUOUS) {
      unprotected++;
      kept.ambiguous++;
      log.event({ kind: 'unprotected', path: repoRelative, reason: 'ambiguous' });
      return;
    }
    const judged = await withLocalHashes(local, remote, wantHashes, root + repoRelative);
    if (!judged) return; // removed by its user since the walk saw it: nothing to freeze
    const verdict = decideFreeze(judged, remoteFor(local, remote), judging);
    if (verdict.freeze) {
      // With its hash: the second look at the remote compares it again.
      batch.push({ relative, local: judged });
      if (batch.length >= FREEZE_BATCH) await flush();
    } else {
      kept[verdict.reason]++;
      if (isUnprotected(verdict.reason)) {
        unprotected++;
        log.event({ kind: 'unprotected', path: repoRelative, reason: verdict.reason });
      }
    }
  };

  // When one side fails, the other stops too (and the listing's rclone is killed).
  const stop = new AbortController();
  const listingSignal = AbortSignal.any([signal, stop.signal]);
  const listing = async (): Promise<void> => {
    const entries: AsyncIterable<RemoteEntry> = isDir
      ? rclone.list(repo.remote, listedDir, { recursive: true, filesOnly: true, signal: listingSignal, ...(wantHashes ? { hash: true, hashTypes: [...HASH_TYPES] } : {}) })
      : singleEntry(ctx, relativePath);
    try {
      for await (const entry of entries) {
        const late = matcher.remote(entry);
        if (late) await judge(late.key, late.local, late.remote);
      }
    } catch (error) {
      matcher.listingStopped();
      throw error;
    }
    for (const late of matcher.listingComplete()) await judge(late.key, late.local, undefined);
  };
  const walking = async (): Promise<void> => {
    let sinceYield = 0;
    for (const relative of walkFiles(task.path, isDir, repo)) {
      // lstat is synchronous (a thread-pool round trip per file costs several times the
      // lstat itself); every 256 files the listing, and the job's lock renewal, get a turn.
      if (++sinceYield === 256) {
        sinceYield = 0;
        await new Promise((resolve) => setImmediate(resolve));
        if (stop.signal.aborted) return;
        if (signal.aborted) throw signal.reason;
      }
      const repoRelative = repoRelativeOf(relative);
      let walked: Walked;
      if (isExcluded(repoRelative)) walked = { kept: 'excluded' };
      else {
        const local = describeLocal(root + repoRelative);
        if (!local) continue;
        const early = decideFreeze(local, undefined, judging);
        // Kept whatever the remote holds; matched only to be counted as present locally.
        walked = !early.freeze && early.reason === 'recent' ? { kept: 'recent' } : { local };
      }
      const remote = matcher.local(relative, walked);
      if (remote !== WAITING) await judge(relative, walked, remote);
      else {
        await matcher.roomToWait();
        if (stop.signal.aborted) return;
      }
    }
  };
  await bothOrNeither(listing, walking, stop);
  await flush();
  log.line(`remote listing: ${plural(matcher.remoteHeld, 'file')} not in the local tree; at most ${plural(matcher.peakWaiting, 'local file')} waited for the listing`);
  const outcome = { dryRun: task.dryRun, files: frozen, bytes: freed, kept, freezeAgeDays: repo.freezeAge, force: task.force };
  log.event({ kind: 'summary', of: 'freeze', ...outcome, unprotected });
  const hint = freezeHint(outcome);
  if (hint) log.line(hint);
  if (unprotected) log.line(`${plural(unprotected, 'cold file is', 'cold files are')} not safe on the remote and ${unprotected === 1 ? 'was' : 'were'} kept`);
  return { files: frozen, bytes: freed, unprotected };
}

/** Runs both; if either fails, stops the other, waits for it, and rethrows the first failure. */
export async function bothOrNeither(a: () => Promise<void>, b: () => Promise<void>, stop: AbortController): Promise<void> {
  let first: { error: unknown } | undefined;
  const settle = (p: Promise<void>): Promise<void> =>
    p.catch((error: unknown) => {
      first ??= { error };
      stop.abort();
    });
  await Promise.all([settle(a()), settle(b())]);
  if (first) throw first.error;
}

/** The remote entry for a single file (its `.rclonelink` for a symlink), named as the local file. */
async function* singleEntry(ctx: FreezeContext, relativePath: string): AsyncIterable<RemoteEntry> {
  const target = await findOnRemote(ctx.rclone, ctx.repo, relativePath, ctx.signal);
  if (target?.entry) yield { ...target.entry, path: path.posix.basename(target.remotePath) };
}

/** A symlink is only safe when the remote holds it as a symlink; a file only as a file. */
function remoteFor(local: LocalFile, remote: RemoteMatch | undefined): RemoteFile | undefined {
  if (!remote) return undefined;
  return (local.kind === 'symlink') === remote.isLink ? remote : undefined;
}

async function actOnBatch(ctx: FreezeContext, listedDir: string, batch: readonly Candidate[], policy: FreezePolicy): Promise<{ files: number; bytes: number; changed: number }> {
  const { repo, rclone, log, signal, task } = ctx;
  const remoteName = (c: Candidate): string => (c.local.kind === 'symlink' ? c.relative + RCLONELINK_SUFFIX : c.relative);
  const wantHashes = repo.verify === 'hash';
  let fresh: Map<string, RemoteEntry> | undefined;
  // A dry run deletes nothing, so the second look at the remote and at the local file
  // (which protect a deletion from what changed since the judgement) would only cost time.
  if (!task.dryRun) {
    try {
      fresh = await rclone.statMany(repo.remote, listedDir, batch.map(remoteName), { signal, ...(wantHashes ? { hash: true, hashTypes: [...HASH_TYPES] } : {}) });
    } catch (error) {
      throw new TaskFailedError(`the remote stopped answering while freezing; nothing more was deleted (${(error as Error).message})`, { cause: error });
    }
  }
  const repoRoot = repo.localPath.endsWith('/') ? repo.localPath : `${repo.localPath}/`;
  let files = 0;
  let bytes = 0;
  let changed = 0;
  const deleted: FrozenFile[] = [];
  for (const candidate of batch) {
    const repoRelative = listedDir === '' ? candidate.relative : `${listedDir}/${candidate.relative}`;
    const full = repoRoot + repoRelative;
    if (fresh && !decideFreeze(candidate.local, toRemoteFile(fresh.get(remoteName(candidate))), policy).freeze) {
      log.event({ kind: 'kept', path: repoRelative, reason: 'changed-remote' });
      changed++;
      continue;
    }
    if (!task.dryRun) {
      const now = describeLocal(full);
      if (!now || !unchangedSince(stripHashes(candidate.local), now)) {
        log.event({ kind: 'kept', path: repoRelative, reason: 'changed-locally' });
        changed++;
        continue;
      }
      await unlink(full);
      deleted.push(catalogued(repoRelative, candidate.local, task.taskId));
    }
    log.event({ kind: 'frozen', path: repoRelative, bytes: candidate.local.size, dryRun: task.dryRun });
    files++;
    bytes += candidate.local.kind === 'file' ? candidate.local.size : 0;
  }
  // One write per batch, after the deletions it records: a file is catalogued only once gone.
  if (deleted.length > 0 && ctx.catalogue) {
    try {
      await ctx.catalogue.record(repo.localPath, deleted);
    } catch (error) {
      throw new TaskFailedError(`froze ${plural(deleted.length, 'file')} but could not record them in the catalogue of frozen files; nothing more was deleted (${(error as Error).message})`, { cause: error });
    }
  }
  return { files, bytes, changed };
}

/** The catalogue's record of a file just deleted (the hash its judgement compared, if any). */
function catalogued(repoRelative: string, local: LocalFile, taskId: string): FrozenFile {
  const [hash] = Object.entries(local.hashes ?? {}).map(([type, hex]) => `${type}:${hex}`);
  return { path: repoRelative, kind: local.kind, size: local.size, mtimeMs: local.mtimeMs, hash: hash ?? null, frozenAt: new Date().toISOString(), taskId };
}

function toRemoteFile(entry: RemoteEntry | undefined): RemoteFile | undefined {
  return entry && { size: entry.size, mtimeMs: Date.parse(entry.modTime), ...(entry.hashes ? { hashes: entry.hashes } : {}) };
}

function stripHashes(local: LocalFile): LocalFile {
  const { hashes: _hashes, ...rest } = local;
  return rest;
}

/** lstat (and readlink) of a regular file or symlink; undefined for anything else or if gone. */
export function describeLocal(full: string): LocalFile | undefined {
  const stat = lstatSync(full, { throwIfNoEntry: false });
  if (!stat) return undefined;
  if (stat.isSymbolicLink()) {
    return { kind: 'symlink', size: stat.size, mtimeMs: stat.mtimeMs, atimeMs: stat.atimeMs, linkTarget: readlinkSync(full) };
  }
  if (!stat.isFile()) return undefined;
  return { kind: 'file', size: stat.size, mtimeMs: stat.mtimeMs, atimeMs: stat.atimeMs };
}

/**
 * With `verify: hash`, hashes the local file, but only when size and type already match.
 * Undefined when the file is gone by then.
 */
async function withLocalHashes(local: LocalFile, remote: RemoteMatch | undefined, wanted: boolean, full: string): Promise<LocalFile | undefined> {
  if (!wanted || local.kind !== 'file' || !remote?.hashes || remote.size !== local.size) return local;
  const type = HASH_TYPES.find((t) => remote.hashes![t] !== undefined);
  if (!type) return local;
  const hash = createHash(type);
  // O_NOATIME: hashing must not make the file look freshly read (it would then be kept).
  // A file its user removed after the walk saw it is no reason to fail the whole freeze
  // (test/safety/freeze-faults.test.ts found that).
  const handle = await open(full, constants.O_RDONLY | (constants.O_NOATIME ?? 0)).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
    throw error;
  });
  if (!handle) return undefined;
  try {
    for await (const chunk of handle.createReadStream()) hash.update(chunk as Buffer);
  } finally {
    await handle.close().catch(() => undefined);
  }
  return { ...local, hashes: { [type]: hash.digest('hex') } };
}

/**
 * Files and symlinks below `root` (or `root` itself when it is not a directory), as
 * paths relative to the listed directory: breadth first, as rclone lists, so that few
 * local files wait for the listing; one directory open at a time, read synchronously in
 * blocks (the caller yields to the event loop).
 */
export function* walkFiles(root: string, isDir: boolean, repo: Repo): Generator<string> {
  if (!isDir) {
    yield path.basename(root);
    return;
  }
  const stagingDir = path.join(repo.localPath, STAGING_DIR_NAME);
  const base = root.endsWith('/') ? root : `${root}/`;
  let pending: string[] = [''];
  let next = 0;
  while (next < pending.length) {
    const relDir = pending[next++]!;
    if (next > 4096 && next * 2 > pending.length) {
      pending = pending.slice(next);
      next = 0;
    }
    const dir = relDir === '' ? root : base + relDir;
    if (dir === stagingDir) continue;
    const handle = opendirSync(dir, { bufferSize: 256 });
    try {
      for (let dirent = handle.readSync(); dirent !== null; dirent = handle.readSync()) {
        const relative = relDir === '' ? dirent.name : `${relDir}/${dirent.name}`;
        if (dirent.isDirectory()) pending.push(relative);
        else if (dirent.isFile() || dirent.isSymbolicLink()) yield relative;
      }
    } finally {
      handle.closeSync();
    }
  }
}
