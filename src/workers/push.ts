/**
 * Push: copy local files that the remote lacks or holds differently to the remote, so that
 * freeze never depends on a backup job nobody watches (issue 18). The one task that writes
 * a repo's remote, only where `pushable: true`, and it never deletes there: a replaced
 * remote file is first moved to the versions store beside the remote (src/push/versions.ts),
 * and versions older than `push_keep_versions_days` are all push ever removes.
 *
 * 1. Judge: walk the local tree and list the remote at the same time, matched as they
 *    stream (freeze's {@link StreamingMatcher}: remote files not yet asked for wait in its
 *    compact index, a bounded number of local files wait for the listing), and let
 *    {@link decidePush} say, file by file, new, unchanged, replace or hold (the shrink
 *    guard). The files to push and those held go to files in a temporary directory as they
 *    are judged, so memory stays bounded at millions of files (`bench/push.mjs --files`).
 * 2. Guard: a push replacing more than `push_change_limit` % of the remote files it looked
 *    at pushes nothing and fails (the admins are mailed, as for any failure).
 * 3. Act: {@link Rclone.pushFiles} uploads to an incoming area and moves whole files into
 *    place, replaced ones kept as versions; then old versions expire. Each file in place is
 *    a `pushed` event (the mails list them), each held one a `held` event.
 * 4. Held files fail the task once the rest is pushed: the admins are mailed their names.
 */
import { HASH_TYPES, withLocalHashes } from './local-hash.js';
import { closeSync, createReadStream, lstatSync, openSync, readlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { StreamingMatcher, WAITING } from '../freeze/matcher.js';
import { AMBIGUOUS, type RemoteMatch } from '../freeze/remote-index.js';
import { compileExcludes } from '../paths/exclude.js';
import { relativeToRepo } from '../paths/index.js';
import { decidePush, describeHold, pushRefusal, tooManyChanges, type HoldReason, type PushFile, type PushVerdict } from '../push/decision.js';
import { expiredVersionDirs, incomingDirOf, versionDirName, versionsRemote } from '../push/versions.js';
import { RCLONELINK_SUFFIX, RemoteNotFoundError, type RemoteEntry } from '../rclone/index.js';
import { parentOf } from '../rclone/remote-paths.js';
import type { TaskEvent } from '../store/task-events.js';
import type { JsonValue, TaskRunContext, TaskRunResult } from '../tasks/kind.js';
import { plural } from '../text/plural.js';
import { TaskFailedError } from './errors.js';
import { bothOrNeither, walkFiles } from './freeze.js';

/** Held files named in the task's error (all are in its log). */
const HELD_NAMED_MAX = 20;
/** Events written between two awaited flushes of the task log: its buffer stays small at millions of files. */
const EVENTS_PER_FLUSH = 5000;

/** Extra facts a test may fix. */
export interface PushRunOptions {
  readonly now?: () => number;
}

/** A held file, as its event says it: repo-relative path, the local and the remote sizes. */
interface Held {
  readonly path: string;
  readonly reason: HoldReason;
  readonly bytes: number;
  readonly remoteBytes: number;
}

/** A file to push: repo-relative, its local size when judged, and whether it replaces a remote copy. */
interface ToPush {
  readonly path: string;
  readonly bytes: number;
  readonly replaced: boolean;
}

/** What judging the tree found; the files themselves went to the spools. */
interface Judged {
  readonly added: number;
  readonly replaced: number;
  readonly unchanged: number;
  readonly bytes: number;
  /** Remote files under the path that push looked at (excluded names are not). */
  readonly remoteFiles: number;
  /** The first {@link HELD_NAMED_MAX} held files, for the task's error. */
  readonly heldNamed: readonly Held[];
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

  const localStat = lstatSync(task.path, { throwIfNoEntry: false });
  if (!localStat) throw new TaskFailedError(`${task.path} does not exist locally: nothing to push`, { onUserInput: true });
  const isDir = localStat.isDirectory();
  const relativePath = relativeToRepo(repo, task.path);
  const listedDir = isDir ? relativePath : parentOf(relativePath);

  const work = await mkdtemp(path.join(tmpdir(), 'glacis-push-'));
  // The names for rclone's --files-from-raw (relative to the listed directory, a symlink
  // with its .rclonelink suffix); the same files for their events; the held files.
  const names = new LineSpool(path.join(work, 'files'));
  const pushing = new LineSpool(path.join(work, 'pushing'));
  const held = new LineSpool(path.join(work, 'held'));
  try {
    // Phase 1: judge every file.
    const judged = await judgeTree(ctx, isDir, listedDir, settings.shrinkLimitPercent, {
      push: (remoteName, file) => {
        names.add(remoteName);
        pushing.add(JSON.stringify([file.path, file.bytes, file.replaced]));
      },
      hold: (file) => held.add(JSON.stringify([file.path, file.reason, file.bytes, file.remoteBytes])),
    });
    for (const spool of [names, pushing, held]) spool.close();
    const { added, replaced, unchanged, bytes, remoteFiles } = judged;

    // Phase 2: the mass-change guard, before anything is written. A push of one named file
    // is a deliberate act on that file, not a sweep (test/push/push.test.ts "single file").
    if (!task.force && isDir && tooManyChanges({ replacing: replaced + held.count, remoteFiles }, settings.changeLimitPercent)) {
      const message =
        `push stopped: it would replace ${replaced + held.count} of the ${plural(remoteFiles, 'remote file')} under ${task.path} ` +
        `(more than push_change_limit ${settings.changeLimitPercent} %), which looks like damage (ransomware, a bad mount) rather than work; nothing was pushed. ` +
        'Check the local files; if the change is wanted, push again with force, or raise push_change_limit';
      log.line(message);
      throw new TaskFailedError(message);
    }
    await emit(ctx, held, ([file, reason, localBytes, remoteBytes]) => ({ kind: 'held', path: String(file), reason: reason as HoldReason, bytes: Number(localBytes), remoteBytes: Number(remoteBytes) }));

    const versionDir = versionDirName(new Date(now()), task.taskId);
    const result = (removedVersions: number): JsonValue => ({
      new: added,
      replaced,
      unchanged,
      held: held.count,
      remote_files: remoteFiles,
      versions_dir: replaced > 0 && !task.dryRun ? versionDir : null,
      versions_removed: removedVersions,
    });
    const pushedEvents = (dryRun: boolean): Promise<void> =>
      emit(ctx, pushing, ([file, size, replacing]) => ({ kind: 'pushed', path: String(file), bytes: Number(size), replaced: replacing === true, ...(dryRun ? { dryRun } : {}) }));
    if (task.dryRun) {
      await pushedEvents(true);
      log.line(`dry run: ${plural(names.count, 'file')} would be pushed (${added} new, ${replaced} replaced), ${unchanged} unchanged, ${held.count} held`);
      return { files: names.count, bytes, result: result(0) };
    }

    // Phase 3: push, then expire old versions.
    await ctx.enterRunning();
    const versions = versionsRemote(repo.remote);
    let pushed = 0;
    let pushedBytes = 0;
    if (names.count > 0) {
      try {
        const copied = await rclone.pushFiles(repo.remote, versions, {
          localDir: isDir ? task.path : path.dirname(task.path),
          remoteDir: listedDir,
          filesFrom: names.file,
          incomingDir: incomingDirOf(task.taskId),
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
        // repo's remote: this task's own directory there is removed (a killed worker's is
        // swept when a worker starts: removeStaleIncoming, src/workers/incoming.ts).
        await rclone.purge(versions, incomingDirOf(task.taskId)).catch(() => undefined);
        throw error;
      }
      // rclone's move exited 0: every listed file is in place under its final name.
      await pushedEvents(false);
    }
    const removed = await expireVersions(ctx, settings.keepVersionsDays, now());
    log.line(`pushed ${plural(pushed, 'file')} (${added} new, ${replaced} replaced, each replaced remote file kept in ${versions.path}/${versionDir}); ${unchanged} unchanged${removed > 0 ? `; ${plural(removed, 'old version directory', 'old version directories')} removed` : ''}`);

    // Phase 4: held files are the admins' to look at: the failure mail names them.
    if (held.count > 0) {
      const named = judged.heldNamed.map((h) => `${h.path} (${describeHold(h.reason, h.bytes, h.remoteBytes)})`).join(', ');
      throw new TaskFailedError(
        `pushed ${plural(pushed, 'file')}, but held ${plural(held.count, 'file')} that shrank by more than push_shrink_limit ${settings.shrinkLimitPercent} % or became empty, ` +
        `compared with the remote copy: ${named}${held.count > HELD_NAMED_MAX ? `, and ${held.count - HELD_NAMED_MAX} more (see the task log)` : ''}. ` +
        'Check them; push with force to replace the remote copies anyway (they are kept as versions)',
      );
    }
    return { files: pushed, bytes: pushedBytes, result: result(removed) };
  } finally {
    for (const spool of [names, pushing, held]) spool.close();
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * Phase 1: lists the remote and walks the local tree at the same time, matching them as
 * they stream (as freeze does), and hands each file to push, or held, to `found`.
 */
async function judgeTree(
  ctx: TaskRunContext,
  isDir: boolean,
  listedDir: string,
  shrinkLimitPercent: number,
  found: { readonly push: (remoteName: string, file: ToPush) => void; readonly hold: (held: Held) => void },
): Promise<Judged> {
  const { repo, task, signal } = ctx;
  const repoRelativeOf = (relative: string): string => (listedDir === '' ? relative : `${listedDir}/${relative}`);
  const isExcluded = compileExcludes(repo.exclude);
  const wantHashes = repo.verify === 'hash';
  const root = task.path.endsWith('/') || !isDir ? task.path : `${task.path}/`;
  const fullOf = (relative: string): string => (isDir ? root + relative : task.path);
  const counts = { added: 0, replaced: 0, unchanged: 0, bytes: 0, remoteFiles: 0 };
  const heldNamed: Held[] = [];

  const judge = async (relative: string, local: PushFile, match: RemoteMatch | typeof AMBIGUOUS | undefined): Promise<void> => {
    const repoRelative = repoRelativeOf(relative);
    let verdict: PushVerdict;
    let remoteBytes = 0;
    if (match === AMBIGUOUS) {
      // The remote holds both `x` and `x.rclonelink`: which one this file would be compared
      // with is unknown, so it is pushed; the copy it replaces is kept as a version.
      verdict = { action: 'replace' };
    } else {
      // A symlink matches only a `.rclonelink`, a file only a file: otherwise the remote lacks
      // it. (Were both `x` and `x.rclonelink` listed, a file that waited for the listing is
      // matched with the first to come: at worst pushed again, the copy it replaces kept.)
      const remote: PushFile | undefined = match && (local.kind === 'symlink') === match.isLink
        ? { kind: local.kind, size: match.size, mtimeMs: match.mtimeMs, ...(match.hashes ? { hashes: match.hashes } : {}) }
        : undefined;
      remoteBytes = remote?.size ?? 0;
      const judged = await withLocalHashes(local, remote, wantHashes, fullOf(relative));
      if (!judged) return; // removed since the walk saw it: nothing to push
      verdict = decidePush(judged, remote, { shrinkLimitPercent, verify: repo.verify, force: task.force });
    }
    switch (verdict.action) {
      case 'unchanged':
        counts.unchanged++;
        return;
      case 'hold': {
        const file: Held = { path: repoRelative, reason: verdict.reason, bytes: local.size, remoteBytes };
        if (heldNamed.length < HELD_NAMED_MAX) heldNamed.push(file);
        found.hold(file);
        return;
      }
      case 'new':
        counts.added++;
        break;
      case 'replace':
        counts.replaced++;
        break;
    }
    counts.bytes += local.size;
    found.push(local.kind === 'symlink' ? relative + RCLONELINK_SUFFIX : relative, { path: repoRelative, bytes: local.size, replaced: verdict.action === 'replace' });
  };

  const matcher = new StreamingMatcher<PushFile>(wantHashes);
  // When one side fails, the other stops too (and the listing's rclone is killed).
  const stop = new AbortController();
  const listingSignal = AbortSignal.any([signal, stop.signal]);
  const listing = async (): Promise<void> => {
    try {
      for await (const entry of remoteEntries(ctx, listedDir, isDir ? undefined : path.basename(task.path), wantHashes, listingSignal)) {
        if (entry.isDir || isExcluded(repoRelativeOf(entry.path))) continue;
        counts.remoteFiles++;
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
      // As freeze's walk: lstat is synchronous, so every 256 files the listing gets a turn.
      if (++sinceYield === 256) {
        sinceYield = 0;
        await new Promise((resolve) => setImmediate(resolve));
        if (stop.signal.aborted) return;
      }
      if (signal.aborted) throw signal.reason;
      if (isExcluded(repoRelativeOf(relative))) continue;
      const local = describeLocal(fullOf(relative));
      if (!local) continue;
      const remote = matcher.local(relative, local);
      if (remote !== WAITING) await judge(relative, local, remote);
      else {
        await matcher.roomToWait();
        if (stop.signal.aborted) return;
      }
    }
  };
  await bothOrNeither(listing, walking, stop);
  return { ...counts, heldNamed };
}

/** The remote's files under `dir` (or the one file `name` there, and its `.rclonelink`), streamed; none when the remote lacks them. */
async function* remoteEntries(ctx: TaskRunContext, dir: string, name: string | undefined, hash: boolean, signal: AbortSignal): AsyncGenerator<RemoteEntry> {
  const hashing = hash ? { hash: true, hashTypes: [...HASH_TYPES] } : {};
  if (name !== undefined) {
    yield* (await ctx.rclone.statMany(ctx.repo.remote, dir, [name, name + RCLONELINK_SUFFIX], { signal, ...hashing })).values();
    return;
  }
  try {
    yield* ctx.rclone.list(ctx.repo.remote, dir, { recursive: true, filesOnly: true, signal, ...hashing });
  } catch (error) {
    if (!(error instanceof RemoteNotFoundError)) throw error;
  }
}

/** Writes one event per line of `spool`, flushing the task log every {@link EVENTS_PER_FLUSH}. */
async function emit(ctx: TaskRunContext, spool: LineSpool, toEvent: (fields: unknown[]) => TaskEvent): Promise<void> {
  let written = 0;
  for await (const line of spool.lines()) {
    ctx.log.event(toEvent(JSON.parse(line) as unknown[]));
    if (++written % EVENTS_PER_FLUSH === 0) await ctx.log.flush();
  }
}

/**
 * Lines written to a file as they come, a block at a time, and read back as a stream: the
 * lists a push builds never sit whole in memory.
 */
class LineSpool {
  private fd: number | undefined;
  private buffer: string[] = [];
  private buffered = 0;
  /** Lines added. */
  count = 0;

  constructor(readonly file: string) {
    this.fd = openSync(file, 'w', 0o600);
  }

  add(line: string): void {
    this.buffer.push(line);
    this.buffered += line.length;
    this.count++;
    if (this.buffered >= 1 << 16) this.write();
  }

  /** Writes what is buffered and closes the file (once: later calls do nothing). */
  close(): void {
    if (this.fd === undefined) return;
    this.write();
    closeSync(this.fd);
    this.fd = undefined;
  }

  async *lines(): AsyncGenerator<string> {
    this.close();
    if (this.count === 0) return;
    const reader = createInterface({ input: createReadStream(this.file), crlfDelay: Infinity });
    try {
      for await (const line of reader) yield line;
    } finally {
      reader.close();
    }
  }

  private write(): void {
    if (this.buffer.length === 0 || this.fd === undefined) return;
    writeFileSync(this.fd, `${this.buffer.join('\n')}\n`);
    this.buffer = [];
    this.buffered = 0;
  }
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

function describeLocal(full: string): PushFile | undefined {
  const stat = lstatSync(full, { throwIfNoEntry: false });
  if (!stat) return undefined;
  if (stat.isSymbolicLink()) return { kind: 'symlink', size: Buffer.byteLength(readlinkSync(full)), mtimeMs: stat.mtimeMs };
  if (!stat.isFile()) return undefined;
  return { kind: 'file', size: stat.size, mtimeMs: stat.mtimeMs };
}


