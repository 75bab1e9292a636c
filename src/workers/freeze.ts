/**
 * Freeze: delete cold local files that the remote holds identically. Never touches the
 * remote. The only operation that can lose data, so it is deliberately two-phased:
 *
 * 1. Judge: list the remote once into a hash map, walk the local tree (streamed), and
 *    keep as candidates the files {@link decideFreeze} allows.
 * 2. Act, a batch at a time: ask the remote again for exactly those files, judge each
 *    again with the fresh answer, check the local file is unchanged since it was judged
 *    (size, mtime, atime), and only then delete it. If the remote stops answering, or fails
 *    more than 10 % of these re-checks after 100 files, the task fails and nothing more is
 *    deleted. `max_files_per_run` / `max_bytes_per_run` stop it early (src/freeze/run-guard.ts).
 *
 * A freeze with origin `watermark` (issue 16 §3) judges with `watermark_min_age` instead of
 * `freeze_age`, and acts only on the least recently read safe files that bring the disk to
 * its `low_watermark` (src/policy/lru-selection.ts: counted on a first walk, selected on a
 * second one, or among the candidates kept from the first when they are few).
 */
import { HASH_TYPES, withLocalHashes } from './local-hash.js';
import { lstatSync, opendirSync, readlinkSync } from 'node:fs';
import { lstat, statfs, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Repo } from '../config/types.js';
import type { AtimeSupport } from '../freeze/atime.js';
import { decideFreeze, isUnprotected, unchangedSince, type FreezePolicy, type LocalFile, type RemoteFile } from '../freeze/decision.js';
import { StreamingMatcher, WAITING } from '../freeze/matcher.js';
import { LOW_MARK_REACHED, RemoteInTroubleError, RunGuard } from '../freeze/run-guard.js';
import { freezeHint, noneKept, type KeptCounts } from '../freeze/summary.js';
import { AMBIGUOUS, type RemoteMatch } from '../freeze/remote-index.js';
import { compileExcludes } from '../paths/exclude.js';
import { relativeToRepo } from '../paths/index.js';
import type { TaskJobData, TaskProgress } from '../queue/task-queue.js';
import { RCLONELINK_SUFFIX, type ListedFiles, type Rclone, type RemoteEntry } from '../rclone/index.js';
import { findOnRemote, parentOf } from '../rclone/remote-paths.js';
import type { FrozenCatalogue, FrozenFile } from '../store/catalogue.js';
import type { TaskLogWriter } from '../store/task-logs.js';
import { filesystemFigures } from '../policy/filesystem.js';
import { LruSelection, type LruPlan } from '../policy/lru-selection.js';
import { checkWatermarks, DEFAULT_WATERMARK_MIN_AGE_DAYS, type WatermarkCheck } from '../policy/watermark.js';
import type { AdminAlert, JsonValue } from '../tasks/kind.js';
import { plural } from '../text/plural.js';
import { formatSize } from '../text/size.js';
import { TaskFailedError } from './errors.js';
import { STAGING_DIR_NAME } from './staging.js';

/**
 * Candidates re-checked against the remote in one rclone call: large enough that the
 * start-up cost of rclone is spread thin, small enough to stay close to "just verified".
 */
export const FREEZE_BATCH = 5000;

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
  /**
   * Mails `MAIL_ADMIN` at once (TaskRunContext.alert). A watermark freeze that cannot reach
   * the low mark says so this way, with the unprotected figures.
   */
  readonly alert?: (alert: AdminAlert) => Promise<void>;
  /** Candidates a watermark freeze keeps from its first walk (default {@link KEPT_FROM_FIRST_PASS}); more: it walks twice. */
  readonly keptFromFirstPass?: number;
}

/** Files frozen (or that would be), bytes freed, and cold files the remote does not protect. */
export interface FreezeResult {
  readonly files: number;
  readonly bytes: number;
  readonly unprotected: number;
  /** What a watermark freeze reached, or why a freeze stopped early (a limit). */
  readonly result?: JsonValue;
}

interface Candidate {
  readonly relative: string;
  readonly local: LocalFile;
  /** Bytes deleting it frees (`st_blocks * 512`): what a watermark freeze counts towards its target. */
  readonly allocated: number;
}

/**
 * Candidates a watermark freeze keeps from its first walk to select from, rather than
 * walking again: about 150 bytes each. A larger tree is walked (and listed) twice.
 */
export const KEPT_FROM_FIRST_PASS = 200_000;

/** A watermark freeze's facts, read when it starts. */
interface WatermarkRun {
  readonly marks: { readonly high: number; readonly low: number };
  readonly minAgeDays: number;
  /** Usage when the freeze started, and the bytes to free to be at or under the low mark. */
  readonly check: WatermarkCheck;
}

/** What the log says of the remote listing (of the first walk). */
interface ListingFigures {
  readonly remoteHeld: number;
  readonly peakWaiting: number;
}

interface WatermarkSelection {
  readonly plan: LruPlan;
  readonly selectedBytes: number;
}

/** What a watermark freeze could not free, for its log, result and mail. */
interface KeptFigures {
  /** Cold files (older than watermark_min_age) the remote does not hold identically. */
  readonly unprotected: number;
  readonly unprotectedBytes: number;
  /** Files read within watermark_min_age. */
  readonly recent: number;
}

/**
 * A local file as the walk hands it to the matcher: to be judged, or already known to be
 * kept. Recent and excluded files are matched too, so that the remote files left unmatched
 * are really those not in the local tree (the log said "3 files not in the local tree" for
 * 3 recently read local files: test/workers/freeze-summary.test.ts).
 */
type Walked = { readonly local: WalkedFile } | { readonly kept: 'recent' | 'excluded' };

/** Work a step left running (a hash read, a batch acted on), or none: most steps finish at once. */
type Pending = Promise<void> | undefined;

/** A local file as the walk saw it, with the bytes deleting it frees (`st_blocks * 512`: what a watermark freeze counts). */
export type WalkedFile = LocalFile & { readonly allocated: number };

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
  const watermark = task.origin === 'watermark' ? await startWatermarkRun(ctx) : undefined;
  if (watermark?.check.bytesToFree === 0) {
    log.line(`the disk is at ${percent(watermark.check.usedPercent)} %, at or under low_watermark (${watermark.marks.low} %): nothing to free`);
    return { files: 0, bytes: 0, unprotected: 0, result: watermarkResult(watermark, watermark.check, undefined) };
  }
  const isDir = localStat.isDirectory();
  const listedDir = isDir ? relativePath : parentOf(relativePath);
  // A watermark freeze obeys every rule but freeze_age, replaced by watermark_min_age (issue 16 §3).
  const policy: Omit<FreezePolicy, 'nowMs'> = watermark
    ? { freezeAgeDays: watermark.minAgeDays, force: false, verify: repo.verify }
    : { freezeAgeDays: repo.freezeAge, force: task.force, verify: repo.verify };
  const now = ctx.now ?? Date.now;

  const wantHashes = repo.verify === 'hash';
  const isExcluded = compileExcludes(repo.exclude);
  const judging: FreezePolicy = { ...policy, nowMs: now() };
  const root = repo.localPath.endsWith('/') ? repo.localPath : `${repo.localPath}/`;
  const repoRelativeOf = (relative: string): string => (listedDir === '' ? relative : `${listedDir}/${relative}`);
  const guard = new RunGuard({
    ...(repo.maxFilesPerRun === undefined ? {} : { maxFiles: repo.maxFilesPerRun }),
    ...(repo.maxBytesPerRun === undefined ? {} : { maxBytes: repo.maxBytesPerRun }),
    ...(watermark ? { targetAllocatedBytes: watermark.check.bytesToFree } : {}),
  });
  let frozen = 0;
  let freed = 0;
  let unprotected = 0;
  let unprotectedBytes = 0;
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
      if (guard.stopped !== undefined) return;
      if (!started && !task.dryRun) {
        started = true;
        await ctx.onFreezeStart();
      }
      const done = await actOnBatch(ctx, listedDir, full, { ...policy, nowMs: now() }, guard);
      frozen += done.files;
      freed += done.bytes;
      kept.changed += done.changed;
      ctx.progress({ percent: 0, bytes: freed, totalBytes: 0, files: frozen, totalFiles: 0 });
    });
    await acting;
  };
  const enqueue = (candidate: Candidate): Pending => {
    batch.push(candidate);
    return batch.length >= FREEZE_BATCH ? flush() : undefined;
  };

  /**
   * Phase 1: list the remote and walk the local tree at the same time, matching them as
   * they stream; each file the freeze decision allows goes to `onCandidate`. `counting`:
   * this pass counts what is kept (a watermark freeze may walk twice, and counts once).
   */
  const judgeTree = async (onCandidate: (candidate: Candidate) => Pending, counting: boolean): Promise<ListingFigures> => {
    const matcher = new StreamingMatcher<Walked>(wantHashes);
    const halted = (): boolean => guard.stopped !== undefined;
    // Synchronous unless a hash is read or a batch acted on: a promise a file cost a sixth
    // of the main thread's JavaScript in the freeze-decision bench.
    const judge = (relative: string, walked: Walked, remote: RemoteMatch | typeof AMBIGUOUS | undefined): Pending => {
      if ('kept' in walked) {
        if (counting) kept[walked.kept]++;
        return;
      }
      if (halted()) return;
      const { local } = walked;
      const repoRelative = repoRelativeOf(relative);
      if (remote === AMBIGUOUS) {
        if (!counting) return;
        unprotected++;
        unprotectedBytes += local.size;
        kept.ambiguous++;
        log.event({ kind: 'unprotected', path: repoRelative, reason: 'ambiguous' });
        return;
      }
      if (wantHashes) return judgeHashed(relative, local, remote, repoRelative);
      return decided(relative, local, local, remote, repoRelative);
    };
    const judgeHashed = async (relative: string, local: WalkedFile, remote: RemoteMatch | undefined, repoRelative: string): Promise<void> => {
      const judged = await withLocalHashes(local, remote, wantHashes, root + repoRelative);
      if (!judged) return; // removed by its user since the walk saw it: nothing to freeze
      await decided(relative, local, judged, remote, repoRelative);
    };
    const decided = (relative: string, local: WalkedFile, judged: LocalFile, remote: RemoteMatch | undefined, repoRelative: string): Pending => {
      const verdict = decideFreeze(judged, remoteFor(local, remote), judging);
      if (verdict.freeze) {
        // With its hash: the second look at the remote compares it again.
        return onCandidate({ relative, local: judged, allocated: local.allocated });
      } else if (counting) {
        kept[verdict.reason]++;
        if (isUnprotected(verdict.reason)) {
          unprotected++;
          unprotectedBytes += local.size;
          log.event({ kind: 'unprotected', path: repoRelative, reason: verdict.reason });
        }
      }
      return undefined;
    };

    // When one side fails, the other stops too (and the listing's rclone is killed).
    const stop = new AbortController();
    const listingSignal = AbortSignal.any([signal, stop.signal]);
    const listing = async (): Promise<void> => {
      const entries: AsyncIterable<RemoteEntry | ListedFiles> = isDir
        ? rclone.listFiles(repo.remote, listedDir, { signal: listingSignal, ...(wantHashes ? { hash: true, hashTypes: [...HASH_TYPES] } : {}) })
        : singleEntry(ctx, relativePath);
      try {
        for await (const item of entries) {
          // A limit reached: nothing more will be frozen, so the rest is not judged.
          if (halted()) break;
          if ('count' in item) {
            for (const late of matcher.remoteFiles(item)) await judge(late.key, late.local, late.remote);
            continue;
          }
          const late = matcher.remote(item);
          if (late) await judge(late.key, late.local, late.remote);
        }
      } catch (error) {
        matcher.listingStopped();
        throw error;
      }
      if (halted()) return matcher.listingStopped();
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
          if (stop.signal.aborted || halted()) return;
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
        if (remote !== WAITING) {
          const pending = judge(relative, walked, remote);
          if (pending) await pending;
        }
        else {
          await matcher.roomToWait();
          if (stop.signal.aborted || halted()) return;
        }
      }
    };
    await bothOrNeither(listing, walking, stop);
    // Figures only: the matcher (and what it still holds) is let go before a second walk.
    return { remoteHeld: matcher.remoteHeld, peakWaiting: matcher.peakWaiting };
  };

  let listed: ListingFigures;
  let selection: WatermarkSelection | undefined;
  if (!watermark) {
    listed = await judgeTree(enqueue, true);
  } else {
    // Least recently read first, in bounded memory (src/policy/lru-selection.ts): pass 1
    // counts the safe files by age; pass 2 selects, from the candidates kept in pass 1
    // when they were few, else from a second walk (judged again: a file changed since
    // is simply not selected).
    const lru = new LruSelection({ targetBytes: watermark.check.bytesToFree, nowMs: judging.nowMs, minAgeDays: watermark.minAgeDays });
    let firstPass: Candidate[] | undefined = [];
    listed = await judgeTree((candidate) => {
      lru.count(candidate.local.atimeMs, candidate.allocated);
      if (firstPass && firstPass.length < (ctx.keptFromFirstPass ?? KEPT_FROM_FIRST_PASS)) firstPass.push(candidate);
      else firstPass = undefined;
      return undefined;
    }, true);
    const plan = lru.plan();
    const pass = lru.secondPass<Candidate>();
    const consider = async (candidate: Candidate): Promise<void> => {
      for (const selected of pass.consider(candidate.local.atimeMs, candidate.allocated, candidate)) await enqueue(selected);
    };
    if (firstPass) for (const candidate of firstPass) await consider(candidate);
    else await judgeTree(consider, false);
    const outcome = pass.finish();
    for (const candidate of outcome.held) await enqueue(candidate);
    log.line(
      `selected ${plural(outcome.selectedFiles, 'file')} (${formatSize(outcome.selectedBytes)}) of ${plural(plan.eligibleFiles, 'safe file')} (${formatSize(plan.eligibleBytes)}) older than watermark_min_age, ` +
        `least recently read first${firstPass ? '' : ', walking the tree a second time'}${outcome.exact ? '' : ' (boundary approximated to stay within memory)'}`,
    );
    selection = { plan, selectedBytes: outcome.selectedBytes };
  }
  await flush();
  log.line(`remote listing: ${plural(listed.remoteHeld, 'file')} not in the local tree; at most ${plural(listed.peakWaiting, 'local file')} waited for the listing`);
  const outcome = { dryRun: task.dryRun, files: frozen, bytes: freed, kept, freezeAgeDays: policy.freezeAgeDays, force: policy.force };
  log.event({ kind: 'summary', of: 'freeze', ...outcome, unprotected });
  const hint = freezeHint(outcome);
  if (hint) log.line(hint);
  if (unprotected) log.line(`${plural(unprotected, 'cold file is', 'cold files are')} not safe on the remote and ${unprotected === 1 ? 'was' : 'were'} kept`);
  if (guard.stopped !== undefined && !(watermark && guard.stopped === LOW_MARK_REACHED)) log.line(`stopped early: ${guard.stopped}; the rest was not judged`);
  let result: JsonValue | undefined;
  if (watermark) {
    const after = task.dryRun
      ? { ...watermark.check, bytesToFree: Math.max(0, watermark.check.bytesToFree - (selection?.selectedBytes ?? 0)) }
      : checkWatermarks(filesystemFigures(await statfs(repo.localPath)), watermark.marks);
    result = watermarkResult(watermark, after, { unprotected, unprotectedBytes, recent: kept.recent, stopped: guard.stopped });
    await reportWatermarkOutcome(ctx, watermark, after, { unprotected, unprotectedBytes, recent: kept.recent });
  } else if (guard.stopped !== undefined) {
    result = { stopped: guard.stopped };
  }
  return { files: frozen, bytes: freed, unprotected, ...(result === undefined ? {} : { result }) };
}

async function startWatermarkRun(ctx: FreezeContext): Promise<WatermarkRun> {
  const { repo, task } = ctx;
  if (!repo.watermarks) throw new TaskFailedError(`watermark freeze refused: repository ${repo.localPath} has no high_watermark and low_watermark`);
  if (task.path !== repo.localPath) throw new TaskFailedError(`watermark freeze refused: it frees a whole repository (${repo.localPath}), not ${task.path}`);
  const check = checkWatermarks(filesystemFigures(await statfs(repo.localPath)), repo.watermarks);
  const minAgeDays = repo.watermarkMinAge ?? DEFAULT_WATERMARK_MIN_AGE_DAYS;
  ctx.log.line(
    `watermark freeze: the disk is at ${percent(check.usedPercent)} % (high_watermark ${repo.watermarks.high} %, low_watermark ${repo.watermarks.low} %); ` +
      `${plural(check.bytesToFree, 'byte')} to free, least recently read first, none read within ${plural(minAgeDays, 'day')} (watermark_min_age)`,
  );
  return { marks: repo.watermarks, minAgeDays, check };
}

function watermarkResult(run: WatermarkRun, after: WatermarkCheck, figures: (KeptFigures & { readonly stopped: string | undefined }) | undefined): JsonValue {
  return {
    watermark: {
      high: run.marks.high,
      low: run.marks.low,
      used_percent_before: run.check.usedPercent,
      used_percent_after: after.usedPercent,
      bytes_to_free: run.check.bytesToFree,
      missing_bytes: after.bytesToFree,
      ...(figures ? { unprotected_files: figures.unprotected, unprotected_bytes: figures.unprotectedBytes, recent_files: figures.recent } : {}),
      ...(figures?.stopped !== undefined && figures.stopped !== LOW_MARK_REACHED ? { stopped: figures.stopped } : {}),
    },
  };
}

/** The end of a watermark freeze: the log says whether the low mark was reached; when not, by how much, and MAIL_ADMIN hears of it. */
async function reportWatermarkOutcome(ctx: FreezeContext, run: WatermarkRun, after: WatermarkCheck, kept: KeptFigures): Promise<void> {
  const { log, repo, task } = ctx;
  const would = task.dryRun ? 'would be' : 'is';
  if (after.bytesToFree === 0) {
    log.line(`low_watermark reached: the disk ${would} at ${percent(after.usedPercent)} % (low_watermark ${run.marks.low} %)`);
    return;
  }
  const missing = `${formatSize(after.bytesToFree)} (${plural(after.bytesToFree, 'byte')})`;
  const line = `low_watermark not reached: the disk ${would} at ${percent(after.usedPercent)} % (low_watermark ${run.marks.low} %); ${missing} more would have to be freed`;
  const why =
    `Not safe to free: ${plural(kept.unprotected, 'cold file')} (${formatSize(kept.unprotectedBytes)}) the remote lacks or holds differently; ` +
    `${plural(kept.recent, 'file')} read within watermark_min_age (${plural(run.minAgeDays, 'day')}).`;
  log.line(line);
  log.line(why);
  if (!ctx.alert || task.dryRun) return;
  const text = [
    'Hello,',
    `A watermark freeze of ${repo.localPath} could not bring its disk under low_watermark.`,
    `${line}.`,
    why,
    'Back those files up to the remote (or free space otherwise) before the disk fills.',
    `Task: ${task.taskId}`,
    'Cheers',
  ].join('\n\n');
  await ctx.alert({ subject: `Glacis: ${repo.localPath} stays above low_watermark: ${formatSize(after.bytesToFree)} missing`, text: `${text}\n` });
}

/** Percent for messages: one decimal, as `df` people read it. */
function percent(value: number): string {
  return (Math.round(value * 10) / 10).toString();
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

async function actOnBatch(ctx: FreezeContext, listedDir: string, batch: readonly Candidate[], policy: FreezePolicy, guard: RunGuard): Promise<{ files: number; bytes: number; changed: number }> {
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
    const size = candidate.local.kind === 'file' ? candidate.local.size : 0;
    if (!guard.allows(size)) break;
    const repoRelative = listedDir === '' ? candidate.relative : `${listedDir}/${candidate.relative}`;
    const full = repoRoot + repoRelative;
    if (fresh) {
      const stillSafe = decideFreeze(candidate.local, toRemoteFile(fresh.get(remoteName(candidate))), policy).freeze;
      if (!stillSafe) {
        log.event({ kind: 'kept', path: repoRelative, reason: 'changed-remote' });
        changed++;
      }
      try {
        guard.recheck(stillSafe);
      } catch (error) {
        if (!(error instanceof RemoteInTroubleError)) throw error;
        // The failing task's log says it too, after the files already frozen.
        log.line(error.message);
        throw new TaskFailedError(error.message, { cause: error });
      }
      if (!stillSafe) continue;
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
    bytes += size;
    guard.frozen(size, candidate.allocated);
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

/**
 * lstat (and readlink) of a regular file or symlink; undefined for anything else or if gone.
 * With what deleting it frees: its allocated blocks, not its size (sparse files, small files
 * on large blocks).
 */
export function describeLocal(full: string): WalkedFile | undefined {
  const stat = lstatSync(full, { throwIfNoEntry: false });
  if (!stat) return undefined;
  const allocated = stat.blocks * 512;
  if (stat.isSymbolicLink()) {
    return { kind: 'symlink', size: stat.size, mtimeMs: stat.mtimeMs, atimeMs: stat.atimeMs, linkTarget: readlinkSync(full), allocated };
  }
  if (!stat.isFile()) return undefined;
  return { kind: 'file', size: stat.size, mtimeMs: stat.mtimeMs, atimeMs: stat.atimeMs, allocated };
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
