/**
 * The watermark check (issue 16 §3): every `WATERMARK_CHECK_INTERVAL` seconds, each
 * filesystem holding repos with `high_watermark` / `low_watermark` is looked at (`statfs`),
 * and one above a repo's high mark gets a freeze of that repo with origin `watermark` (it
 * frees least recently read files first, until the low mark: src/workers/freeze.ts).
 *
 * One check runs at a time whatever the number of processes: a BullMQ job scheduler under
 * a fixed id (set by the API, as auto-freeze's), consumed by the workers. At most one
 * watermark task at a time per filesystem: the task last submitted for a filesystem is
 * kept in Redis, and no other is submitted while it is unfinished. Several repos on one
 * filesystem take turns: each check picks the next one due after the last picked.
 */
import { stat, statfs } from 'node:fs/promises';
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Repo } from '../config/types.js';
import { filesystemFigures } from '../policy/filesystem.js';
import { checkWatermarks } from '../policy/watermark.js';

export const WATERMARK_QUEUE_NAME = 'glacis-watermark';
const SCHEDULER_ID = 'watermark-check';

/** What the check needs from the task service and the store. */
export interface WatermarkCheckDeps {
  readonly repos: readonly Repo[];
  /** The runtime's Redis connection, and the key prefix (`QUEUE_PREFIX`). */
  readonly redis: Redis;
  readonly prefix: string;
  readonly submit: (request: { type: 'freeze'; path: string; origin: 'watermark' }) => Promise<string>;
  /** True while the task has not ended. */
  readonly unfinished: (taskId: string) => Promise<boolean>;
}

/** What a check did, filesystem by filesystem (for the process log and tests). */
export interface WatermarkCheckOutcome {
  /** Repo path → the watermark freeze submitted for it. */
  readonly submitted: ReadonlyArray<{ readonly repo: string; readonly task: string }>;
  /** Filesystems above a high mark whose earlier watermark task is still running (named by their first repo). */
  readonly busy: readonly string[];
}

export interface WatermarkJobData {
  readonly check: true;
}

export function watermarkQueue(connection: Redis, prefix: string): Queue<WatermarkJobData> {
  const queue = new Queue<WatermarkJobData>(WATERMARK_QUEUE_NAME, { connection, prefix });
  queue.on('error', () => undefined);
  return queue;
}

/**
 * Makes the schedule in Redis match the config: a check every `intervalMs` when a repo has
 * watermarks, none otherwise.
 *
 * @returns whether the check is scheduled.
 * @example
 * ```ts
 * await syncWatermarkSchedule(watermarkQueue(redis, 'glacis'), repos, settings.watermarkCheckIntervalMs);
 * ```
 */
export async function syncWatermarkSchedule(queue: Queue<WatermarkJobData>, repos: readonly Repo[], intervalMs: number): Promise<boolean> {
  if (!repos.some((repo) => repo.watermarks)) {
    await queue.removeJobScheduler(SCHEDULER_ID);
    return false;
  }
  await queue.upsertJobScheduler(SCHEDULER_ID, { every: intervalMs }, {
    name: 'watermark-check',
    data: { check: true },
    opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 }, stackTraceLimit: 0 },
  });
  return true;
}

/**
 * Consumes fired checks.
 *
 * @example
 * ```ts
 * const worker = startWatermarkWorker(connection.duplicate(), 'glacis', deps, onError);
 * ```
 */
export function startWatermarkWorker(connection: Redis, prefix: string, deps: WatermarkCheckDeps, onError: (error: unknown) => void, onOutcome: (outcome: WatermarkCheckOutcome) => void = () => undefined): Worker<WatermarkJobData, WatermarkCheckOutcome> {
  const worker = new Worker<WatermarkJobData, WatermarkCheckOutcome>(
    WATERMARK_QUEUE_NAME,
    async () => {
      const outcome = await checkWatermarkRepos(deps);
      onOutcome(outcome);
      return outcome;
    },
    { connection, prefix, concurrency: 1 },
  );
  worker.on('error', onError);
  worker.on('failed', (_job, error) => onError(error));
  return worker;
}

/**
 * One check: for each filesystem holding repos with watermarks, a watermark freeze of the
 * next repo due there, unless that filesystem's previous one is unfinished.
 */
export async function checkWatermarkRepos(deps: WatermarkCheckDeps): Promise<WatermarkCheckOutcome> {
  const submitted: Array<{ repo: string; task: string }> = [];
  const busy: string[] = [];
  // A repo that may not be frozen has nothing a watermark freeze could free.
  for (const group of await byFilesystem(deps.repos.filter((repo) => repo.watermarks && repo.freezable))) {
    const figures = filesystemFigures(await statfs(group[0]!.localPath));
    const due = group.filter((repo) => checkWatermarks(figures, repo.watermarks!).due);
    if (due.length === 0) continue;
    // Named by its first repo (config order): the same on every host sharing the config.
    const key = `${deps.prefix}:watermark:${group[0]!.localPath}`;
    const last = parseLast(await deps.redis.get(key));
    if (last && (await deps.unfinished(last.task))) {
      busy.push(group[0]!.localPath);
      continue;
    }
    // Take turns: the first due after the one picked last (a repo whose freeze cannot free
    // enough would otherwise be picked for ever).
    const lastIndex = last ? group.findIndex((repo) => repo.localPath === last.repo) : -1;
    const repo = due.find((r) => group.indexOf(r) > lastIndex) ?? due[0]!;
    const task = await deps.submit({ type: 'freeze', path: repo.localPath, origin: 'watermark' });
    await deps.redis.set(key, JSON.stringify({ task, repo: repo.localPath }));
    submitted.push({ repo: repo.localPath, task });
  }
  return { submitted, busy };
}

/** Repos grouped by the filesystem holding them (device number), in config order. */
async function byFilesystem(repos: readonly Repo[]): Promise<Repo[][]> {
  const groups = new Map<number, Repo[]>();
  for (const repo of repos) {
    const { dev } = await stat(repo.localPath);
    const group = groups.get(dev);
    if (group) group.push(repo);
    else groups.set(dev, [repo]);
  }
  return [...groups.values()];
}

function parseLast(text: string | null): { task: string; repo: string } | undefined {
  if (text === null) return undefined;
  try {
    const value = JSON.parse(text) as { task?: unknown; repo?: unknown };
    return typeof value.task === 'string' && typeof value.repo === 'string' ? { task: value.task, repo: value.repo } : undefined;
  } catch {
    return undefined;
  }
}
