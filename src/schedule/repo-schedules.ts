/**
 * What every per-repo schedule shares (auto-freeze, auto-push): BullMQ job schedulers kept
 * in Redis under a fixed id per repo, so that however many API processes start, each repo
 * has exactly one schedule of each kind; each start updates them to the current config and
 * removes those of repos that lost theirs. A fired schedule only *submits* a task, through
 * the same path locks and task records as a user's request (origin `schedule`).
 */
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Repo } from '../config/types.js';

export interface RepoScheduleJobData {
  readonly path: string;
}

/** When a repo's schedule fires: a cron pattern or a fixed interval. */
export type RepoRepeat = { readonly pattern: string } | { readonly every: number };

/** One kind of per-repo schedule. */
export interface RepoScheduleKind {
  /** The BullMQ queue its schedulers and fired jobs live in. */
  readonly queueName: string;
  /** Prefix of each scheduler's id (the repo's path follows). */
  readonly schedulerPrefix: string;
  /** The fired jobs' name (shown by the board). */
  readonly jobName: string;
  /** The repo's schedule, or undefined when it has none. */
  readonly repeatOf: (repo: Repo) => RepoRepeat | undefined;
}

/** The schedulers' queue (shared by the API, which sets schedules, and workers, which fire them). */
export function repoScheduleQueue(kind: RepoScheduleKind, connection: Redis, prefix: string): Queue<RepoScheduleJobData> {
  const queue = new Queue<RepoScheduleJobData>(kind.queueName, { connection, prefix });
  queue.on('error', () => undefined);
  return queue;
}

/**
 * Makes the schedules of `kind` in Redis match `repos`.
 *
 * @returns the repo paths that have a schedule now.
 */
export async function syncRepoSchedules(kind: RepoScheduleKind, queue: Queue<RepoScheduleJobData>, repos: readonly Repo[]): Promise<string[]> {
  const wanted = repos.flatMap((repo) => {
    const repeat = kind.repeatOf(repo);
    return repeat === undefined ? [] : [{ repo, repeat }];
  });
  for (const { repo, repeat } of wanted) {
    await queue.upsertJobScheduler(`${kind.schedulerPrefix}${repo.localPath}`, repeat, {
      name: kind.jobName,
      data: { path: repo.localPath },
      opts: { removeOnComplete: { count: 100 }, removeOnFail: { count: 100 }, stackTraceLimit: 0 },
    });
  }
  const keep = new Set(wanted.map(({ repo }) => `${kind.schedulerPrefix}${repo.localPath}`));
  // As many schedulers as repos at most: listing them all is cheap.
  for (const scheduler of await queue.getJobSchedulers(0, -1)) {
    const id = scheduler.key;
    if (id.startsWith(kind.schedulerPrefix) && !keep.has(id)) await queue.removeJobScheduler(id);
  }
  return wanted.map(({ repo }) => repo.localPath);
}

/** Consumes fired schedules of `kind`: each calls `fire` with its repo's path. */
export function startRepoScheduleWorker(
  kind: RepoScheduleKind,
  connection: Redis,
  prefix: string,
  fire: (path: string) => Promise<string>,
  onError: (error: unknown) => void,
): Worker<RepoScheduleJobData, string> {
  const worker = new Worker<RepoScheduleJobData, string>(kind.queueName, (job) => fire(job.data.path), { connection, prefix, concurrency: 1 });
  worker.on('error', onError);
  worker.on('failed', (_job, error) => onError(error));
  return worker;
}
