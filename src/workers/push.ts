/**
 * Push: copy local files that the remote lacks or holds differently to the remote, so that
 * freeze never depends on a backup job nobody watches (issue 18). The one task that writes
 * a repo's remote, only where `pushable: true`, and it never deletes there: a replaced
 * remote file is first moved to the versions store beside the remote (src/push/versions.ts),
 * and versions older than `push_keep_versions_days` are all push ever removes.
 *
 * 1. Judge: walk the local tree and list the remote, and let {@link decidePush} say, file
 *    by file, new, unchanged, replace or hold (the shrink guard).
 * 2. Guard: a push replacing more than `push_change_limit` % of the remote files it looked
 *    at pushes nothing and fails (the admins are mailed, as for any failure).
 * 3. Act: {@link Rclone.pushFiles} uploads to an incoming area and moves whole files into
 *    place, replaced ones kept as versions; then old versions expire.
 * 4. Held files fail the task once the rest is pushed: the admins are mailed their names.
 */
import { createHash } from 'node:crypto';
import { constants, lstatSync, readlinkSync } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { compileExcludes } from '../paths/exclude.js';
import { relativeToRepo } from '../paths/index.js';
import { decidePush, pushRefusal, tooManyChanges, type HoldReason, type PushFile } from '../push/decision.js';
import { expiredVersionDirs, INCOMING_DIR, versionDirName, versionsRemote } from '../push/versions.js';
import { RCLONELINK_SUFFIX, RemoteNotFoundError, type RemoteEntry } from '../rclone/index.js';
import { parentOf } from '../rclone/remote-paths.js';
import type { JsonValue, TaskRunContext, TaskRunResult } from '../tasks/kind.js';
import { plural } from '../text/plural.js';
import { TaskFailedError } from './errors.js';
import { walkFiles } from './freeze.js';

const HASH_TYPES = ['md5', 'sha1'] as const;
/** Held files named in the task's error (all are in its log). */
const HELD_NAMED_MAX = 20;

/** Extra facts a test may fix. */
export interface PushRunOptions {
  readonly now?: () => number;
}

interface Held {
  readonly path: string;
  readonly reason: HoldReason;
  readonly localSize: number;
  readonly remoteSize: number;
}

/**
 * @example
 * ```ts
 * const result = await runPush(context); // { files, bytes, result: { new: 3, replaced: 1, … } }
 * ```
 */
export async function runPush(ctx: TaskRunContext, options: PushRunOptions = {}): Promise<TaskRunResult> {
  const { repo, task, rclone, log, signal } = ctx;
  const refusal = pushRefusal(repo);
  if (refusal !== undefined || !repo.push) throw new TaskFailedError(`push refused: ${refusal ?? ''}`, { onUserInput: true });
  const settings = repo.push;
  const now = options.now ?? Date.now;

  const relativePath = relativeToRepo(repo, task.path);
  const localStat = lstatSync(task.path, { throwIfNoEntry: false });
  if (!localStat) throw new TaskFailedError(`${task.path} does not exist locally: nothing to push`, { onUserInput: true });
  const isDir = localStat.isDirectory();
  const listedDir = isDir ? relativePath : parentOf(relativePath);
  const repoRelativeOf = (relative: string): string => (listedDir === '' ? relative : `${listedDir}/${relative}`);
  const isExcluded = compileExcludes(repo.exclude);
  const wantHashes = repo.verify === 'hash';

  // Phase 1: what the remote holds under the path (excluded names are not looked at).
  const remote = new Map<string, RemoteEntry>();
  for (const entry of await remoteEntries(ctx, listedDir, isDir ? undefined : path.basename(task.path), wantHashes)) {
    if (!isExcluded(repoRelativeOf(entry.path))) remote.set(entry.path, entry);
  }

  const toPush: string[] = [];
  const held: Held[] = [];
  let added = 0;
  let replaced = 0;
  let unchanged = 0;
  let bytes = 0;
  const root = task.path.endsWith('/') || !isDir ? task.path : `${task.path}/`;
  for (const relative of walkFiles(task.path, isDir, repo)) {
    if (signal.aborted) throw signal.reason;
    const repoRelative = repoRelativeOf(relative);
    if (isExcluded(repoRelative)) continue;
    const full = isDir ? root + relative : task.path;
    const local = describeLocal(full);
    if (!local) continue;
    const remoteName = local.kind === 'symlink' ? relative + RCLONELINK_SUFFIX : relative;
    const entry = remote.get(remoteName);
    const remoteFile = entry && toPushFile(entry, local.kind);
    const judged = await withLocalHashes(local, remoteFile, wantHashes, full);
    const verdict = decidePush(judged, remoteFile, { shrinkLimitPercent: settings.shrinkLimitPercent, verify: repo.verify, force: task.force });
    switch (verdict.action) {
      case 'unchanged':
        unchanged++;
        continue;
      case 'hold':
        held.push({ path: repoRelative, reason: verdict.reason, localSize: local.size, remoteSize: remoteFile?.size ?? 0 });
        continue;
      case 'new':
        added++;
        break;
      case 'replace':
        replaced++;
        break;
    }
    toPush.push(remoteName);
    bytes += local.size;
  }

  // Phase 2: the mass-change guard, before anything is written. A push of one named file
  // is a deliberate act on that file, not a sweep (test/push/push.test.ts "single file").
  const remoteFiles = remote.size;
  if (!task.force && isDir && tooManyChanges({ replacing: replaced + held.length, remoteFiles }, settings.changeLimitPercent)) {
    const message =
      `push stopped: it would replace ${replaced + held.length} of the ${plural(remoteFiles, 'remote file')} under ${task.path} ` +
      `(more than push_change_limit ${settings.changeLimitPercent} %), which looks like damage (ransomware, a bad mount) rather than work; nothing was pushed. ` +
      'Check the local files; if the change is wanted, push again with force, or raise push_change_limit';
    log.line(message);
    throw new TaskFailedError(message);
  }
  for (const h of held) log.line(`held ${h.path}: ${describeHold(h)}`);

  const versionDir = versionDirName(new Date(now()), task.taskId);
  const result = (removedVersions: number): JsonValue => ({
    new: added,
    replaced,
    unchanged,
    held: held.length,
    remote_files: remoteFiles,
    versions_dir: replaced > 0 && !task.dryRun ? versionDir : null,
    versions_removed: removedVersions,
  });
  if (task.dryRun) {
    for (const name of toPush) log.line(`would push ${repoRelativeOf(name)}`);
    log.line(`dry run: ${plural(toPush.length, 'file')} would be pushed (${added} new, ${replaced} replaced), ${unchanged} unchanged, ${held.length} held`);
    return { files: toPush.length, bytes, result: result(0) };
  }

  // Phase 3: push, then expire old versions.
  await ctx.enterRunning();
  const versions = versionsRemote(repo.remote);
  let pushed = 0;
  let pushedBytes = 0;
  if (toPush.length > 0) {
    const listDir = await mkdtemp(path.join(tmpdir(), 'glacis-push-'));
    try {
      const listFile = path.join(listDir, 'files');
      await writeFile(listFile, `${toPush.join('\n')}\n`);
      const copied = await rclone.pushFiles(repo.remote, versions, {
        localDir: isDir ? task.path : path.dirname(task.path),
        remoteDir: listedDir,
        filesFrom: listFile,
        incomingDir: `${INCOMING_DIR}/${task.taskId}`,
        backupDir: listedDir === '' ? versionDir : `${versionDir}/${listedDir}`,
        signal,
        onProgress: (p) => ctx.progress({
          percent: p.totalBytes > 0 ? Math.floor((100 * p.bytes) / p.totalBytes) : 0,
          bytes: p.bytes, totalBytes: p.totalBytes, files: p.transfers, totalFiles: p.totalTransfers,
          ...(p.currentFile !== undefined ? { currentFile: p.currentFile } : {}), speed: p.speed,
        }),
        onLog: (line) => log.line(line),
      });
      pushed = copied.files;
      pushedBytes = copied.bytes;
    } catch (error) {
      // A failed or cancelled upload leaves its part in the incoming area, outside the
      // repo's remote: this task's own directory there is removed (a killed worker's stays,
      // and its retry, the same task, takes it over).
      await rclone.purge(versions, `${INCOMING_DIR}/${task.taskId}`).catch(() => undefined);
      throw error;
    } finally {
      await rm(listDir, { recursive: true, force: true });
    }
  }
  const removed = await expireVersions(ctx, settings.keepVersionsDays, now());
  log.line(`pushed ${plural(pushed, 'file')} (${added} new, ${replaced} replaced, each replaced remote file kept in ${versions.path}/${versionDir}); ${unchanged} unchanged${removed > 0 ? `; ${plural(removed, 'old version directory', 'old version directories')} removed` : ''}`);

  // Phase 4: held files are the admins' to look at: the failure mail names them.
  if (held.length > 0) {
    const named = held.slice(0, HELD_NAMED_MAX).map((h) => `${h.path} (${describeHold(h)})`).join(', ');
    throw new TaskFailedError(
      `pushed ${plural(pushed, 'file')}, but held ${plural(held.length, 'file')} that shrank by more than push_shrink_limit ${settings.shrinkLimitPercent} % or became empty, ` +
      `compared with the remote copy: ${named}${held.length > HELD_NAMED_MAX ? `, and ${held.length - HELD_NAMED_MAX} more (see the task log)` : ''}. ` +
      'Check them; push with force to replace the remote copies anyway (they are kept as versions)',
    );
  }
  return { files: pushed, bytes: pushedBytes, result: result(removed) };
}

function describeHold(h: Held): string {
  return h.reason === 'emptied' ? `empty, the remote copy has ${plural(h.remoteSize, 'byte')}` : `${plural(h.localSize, 'byte')}, the remote copy ${plural(h.remoteSize, 'byte')}`;
}

/** The remote's files under `dir` (or the one file `name` there); none when the remote lacks it. */
async function remoteEntries(ctx: TaskRunContext, dir: string, name: string | undefined, hash: boolean): Promise<RemoteEntry[]> {
  const hashing = hash ? { hash: true, hashTypes: [...HASH_TYPES] } : {};
  if (name !== undefined) {
    const found = await ctx.rclone.statMany(ctx.repo.remote, dir, [name, name + RCLONELINK_SUFFIX], { signal: ctx.signal, ...hashing });
    return [...found.values()];
  }
  const entries: RemoteEntry[] = [];
  try {
    for await (const entry of ctx.rclone.list(ctx.repo.remote, dir, { recursive: true, filesOnly: true, signal: ctx.signal, ...hashing })) entries.push(entry);
  } catch (error) {
    if (!(error instanceof RemoteNotFoundError)) throw error;
  }
  return entries;
}

/** Removes the version directories past `push_keep_versions_days`: the only deletion push makes. */
async function expireVersions(ctx: TaskRunContext, keepDays: number, nowMs: number): Promise<number> {
  const versions = versionsRemote(ctx.repo.remote);
  const names: string[] = [];
  try {
    for await (const entry of ctx.rclone.list(versions, '', { signal: ctx.signal })) if (entry.isDir) names.push(entry.name);
  } catch (error) {
    if (!(error instanceof RemoteNotFoundError)) throw error;
  }
  const expired = expiredVersionDirs(names, nowMs, keepDays);
  for (const name of expired) {
    await ctx.rclone.purge(versions, name, ctx.signal);
    ctx.log.line(`removed old versions ${versions.path}/${name} (older than push_keep_versions_days ${keepDays})`);
  }
  return expired.length;
}

function toPushFile(entry: RemoteEntry, localKind: PushFile['kind']): PushFile {
  return {
    kind: localKind === 'symlink' && entry.path.endsWith(RCLONELINK_SUFFIX) ? 'symlink' : 'file',
    size: entry.size,
    mtimeMs: Date.parse(entry.modTime),
    ...(entry.hashes ? { hashes: entry.hashes } : {}),
  };
}

function describeLocal(full: string): PushFile | undefined {
  const stat = lstatSync(full, { throwIfNoEntry: false });
  if (!stat) return undefined;
  if (stat.isSymbolicLink()) return { kind: 'symlink', size: Buffer.byteLength(readlinkSync(full)), mtimeMs: stat.mtimeMs };
  if (!stat.isFile()) return undefined;
  return { kind: 'file', size: stat.size, mtimeMs: stat.mtimeMs };
}

/** With `verify: hash`, the local hash of a type the remote has, only when size and mtime already match. */
async function withLocalHashes(local: PushFile, remote: PushFile | undefined, wanted: boolean, full: string): Promise<PushFile> {
  if (!wanted || local.kind !== 'file' || !remote?.hashes || remote.size !== local.size) return local;
  const type = HASH_TYPES.find((t) => remote.hashes![t] !== undefined);
  if (!type) return local;
  const hash = createHash(type);
  // O_NOATIME: a push must not make a file look freshly read to freeze.
  const handle = await open(full, constants.O_RDONLY | (constants.O_NOATIME ?? 0));
  try {
    for await (const chunk of handle.createReadStream()) hash.update(chunk as Buffer);
  } finally {
    await handle.close().catch(() => undefined);
  }
  return { ...local, hashes: { [type]: hash.digest('hex') } };
}

