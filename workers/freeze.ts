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
import { constants, lstatSync, readlinkSync } from 'node:fs';
import { lstat, open, opendir, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Repo } from '../src/config/types.js';
import type { AtimeSupport } from '../src/freeze/atime.js';
import { decideFreeze, unchangedSince, UNPROTECTED, type FreezePolicy, type KeepReason, type LocalFile, type RemoteFile } from '../src/freeze/decision.js';
import { RemoteIndex } from '../src/freeze/remote-index.js';
import { compileExcludes } from '../src/paths/exclude.js';
import { relativeToRepo } from '../src/paths/index.js';
import type { TaskJobData, TaskProgress } from '../src/queue/task-queue.js';
import { RCLONELINK_SUFFIX, type Rclone, type RemoteEntry } from '../src/rclone/index.js';
import { findOnRemote, parentOf } from '../src/services/remote-paths.js';
import type { TaskLogWriter } from '../src/store/task-logs.js';
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
  if (!localStat) throw new TaskFailedError(`${task.path} does not exist locally: nothing to freeze`);
  const isDir = localStat.isDirectory();
  const listedDir = isDir ? relativePath : parentOf(relativePath);
  const policy: Omit<FreezePolicy, 'nowMs'> = { freezeAgeDays: repo.freezeAge, force: task.force, verify: repo.verify };
  const now = ctx.now ?? Date.now;

  // Phase 1: the remote listing (any failure here fails the task before anything is deleted).
  const index = new RemoteIndex();
  const wantHashes = repo.verify === 'hash';
  if (isDir) {
    for await (const entry of rclone.list(repo.remote, listedDir, { recursive: true, filesOnly: true, signal, ...(wantHashes ? { hash: true, hashTypes: [...HASH_TYPES] } : {}) })) {
      index.add(entry, wantHashes);
    }
  } else {
    const target = await findOnRemote(rclone, repo, relativePath, signal);
    if (target?.entry) index.add({ ...target.entry, path: path.posix.basename(target.remotePath) }, wantHashes);
  }
  log.line(`remote listing: ${index.size} files`);

  const isExcluded = compileExcludes(repo.exclude);
  let frozen = 0;
  let freed = 0;
  let unprotected = 0;
  let started = false;
  let batch: Candidate[] = [];

  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    if (!started && !task.dryRun) {
      started = true;
      await ctx.onFreezeStart();
    }
    const done = await actOnBatch(ctx, listedDir, batch, { ...policy, nowMs: now() });
    frozen += done.files;
    freed += done.bytes;
    batch = [];
    ctx.progress({ percent: 0, bytes: freed, totalBytes: 0, files: frozen, totalFiles: 0 });
  };

  // Phase 1 (cont.): walk and judge; phase 2 runs every FREEZE_BATCH candidates.
  const judging: FreezePolicy = { ...policy, nowMs: now() };
  const root = repo.localPath.endsWith('/') ? repo.localPath : `${repo.localPath}/`;
  for await (const relative of walkFiles(task.path, isDir, repo)) {
    if (signal.aborted) throw signal.reason;
    const repoRelative = listedDir === '' ? relative : `${listedDir}/${relative}`;
    if (isExcluded(repoRelative)) continue;
    const full = root + repoRelative;
    const local = await describeLocal(full);
    if (!local) continue;
    const remote = index.get(relative);
    const judged = await withLocalHashes(local, remote, wantHashes, full);
    const verdict = decideFreeze(judged, remoteFor(local, remote), judging);
    if (verdict.freeze) {
      // With its hash: the second look at the remote compares it again.
      batch.push({ relative, local: judged });
      if (batch.length >= FREEZE_BATCH) await flush();
    } else if (UNPROTECTED.includes(verdict.reason)) {
      unprotected++;
      log.line(`cold but not frozen (${describeReason(verdict.reason)}): ${repoRelative}`);
    }
  }
  await flush();
  const verb = task.dryRun ? 'would freeze' : 'froze';
  log.line(`${verb} ${frozen} files, ${freed} bytes${unprotected ? `; ${unprotected} cold files are not safe on the remote and were kept` : ''}`);
  return { files: frozen, bytes: freed, unprotected };
}

/** A symlink is only safe when the remote holds it as a symlink; a file only as a file. */
function remoteFor(local: LocalFile, remote: (RemoteFile & { isLink: boolean }) | undefined): RemoteFile | undefined {
  if (!remote) return undefined;
  return (local.kind === 'symlink') === remote.isLink ? remote : undefined;
}

async function actOnBatch(ctx: FreezeContext, listedDir: string, batch: readonly Candidate[], policy: FreezePolicy): Promise<{ files: number; bytes: number }> {
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
      throw new TaskFailedError(`the remote stopped answering while freezing; nothing more was deleted (${(error as Error).message})`);
    }
  }
  let files = 0;
  let bytes = 0;
  for (const candidate of batch) {
    const full = path.join(repo.localPath, listedDir, candidate.relative);
    const repoRelative = path.join(listedDir, candidate.relative);
    if (fresh && !decideFreeze(candidate.local, toRemoteFile(fresh.get(remoteName(candidate))), policy).freeze) {
      log.line(`kept ${repoRelative}: the remote copy changed or vanished since it was listed`);
      continue;
    }
    if (!task.dryRun) {
      const now = await describeLocal(full);
      if (!now || !unchangedSince(stripHashes(candidate.local), now)) {
        log.line(`kept ${repoRelative}: it was read or changed while the freeze ran`);
        continue;
      }
      await unlink(full);
    }
    log.line(`${task.dryRun ? 'would freeze' : 'froze'} ${repoRelative} (${candidate.local.size} bytes)`);
    files++;
    bytes += candidate.local.kind === 'file' ? candidate.local.size : 0;
  }
  return { files, bytes };
}

function toRemoteFile(entry: RemoteEntry | undefined): RemoteFile | undefined {
  return entry && { size: entry.size, mtimeMs: Date.parse(entry.modTime), ...(entry.hashes ? { hashes: entry.hashes } : {}) };
}

function stripHashes(local: LocalFile): LocalFile {
  const { hashes: _hashes, ...rest } = local;
  return rest;
}

let statsSinceYield = 0;

/**
 * lstat (and readlink) of a regular file or symlink; undefined for anything else or if gone.
 * Synchronous on purpose: for millions of files, a thread-pool round trip per lstat costs
 * several times the lstat itself. The event loop is given a turn every 256 calls, so the
 * worker keeps renewing its job lock.
 */
async function describeLocal(full: string): Promise<LocalFile | undefined> {
  if (++statsSinceYield >= 256) {
    statsSinceYield = 0;
    await new Promise((resolve) => setImmediate(resolve));
  }
  const stat = lstatSync(full, { throwIfNoEntry: false });
  if (!stat) return undefined;
  if (stat.isSymbolicLink()) {
    return { kind: 'symlink', size: stat.size, mtimeMs: stat.mtimeMs, atimeMs: stat.atimeMs, linkTarget: readlinkSync(full) };
  }
  if (!stat.isFile()) return undefined;
  return { kind: 'file', size: stat.size, mtimeMs: stat.mtimeMs, atimeMs: stat.atimeMs };
}

/** With `verify: hash`, hashes the local file, but only when size and type already match. */
async function withLocalHashes(local: LocalFile, remote: (RemoteFile & { isLink: boolean }) | undefined, wanted: boolean, full: string): Promise<LocalFile> {
  if (!wanted || local.kind !== 'file' || !remote?.hashes || remote.size !== local.size) return local;
  const type = HASH_TYPES.find((t) => remote.hashes![t] !== undefined);
  if (!type) return local;
  const hash = createHash(type);
  // O_NOATIME: hashing must not make the file look freshly read (it would then be kept).
  const handle = await open(full, constants.O_RDONLY | (constants.O_NOATIME ?? 0));
  try {
    for await (const chunk of handle.createReadStream()) hash.update(chunk as Buffer);
  } finally {
    await handle.close().catch(() => undefined);
  }
  return { ...local, hashes: { [type]: hash.digest('hex') } };
}

/**
 * Files and symlinks below `root` (or `root` itself when it is not a directory), as
 * paths relative to the listed directory, one directory open at a time.
 */
async function* walkFiles(root: string, isDir: boolean, repo: Repo): AsyncIterable<string> {
  if (!isDir) {
    yield path.basename(root);
    return;
  }
  const stagingDir = path.join(repo.localPath, STAGING_DIR_NAME);
  const pending: string[] = [''];
  while (pending.length > 0) {
    const relDir = pending.pop()!;
    const dir = path.join(root, relDir);
    if (dir === stagingDir) continue;
    for await (const dirent of await opendir(dir)) {
      const relative = relDir === '' ? dirent.name : `${relDir}/${dirent.name}`;
      if (dirent.isDirectory()) pending.push(relative);
      else if (dirent.isFile() || dirent.isSymbolicLink()) yield relative;
    }
  }
}

function describeReason(reason: KeepReason): string {
  switch (reason) {
    case 'missing-remote':
      return 'missing on the remote';
    case 'differs':
      return 'the remote copy differs';
    case 'newer-locally':
      return 'changed locally since the last backup';
    case 'unverifiable':
      return 'no hash to compare with the remote';
    case 'recent':
      return 'recently used';
  }
}
