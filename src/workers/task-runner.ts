/**
 * The life cycle every task goes through in a worker, whatever its type: wait for
 * overlapping tasks, mark it started, run it, record the outcome, release the lock.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DelayedError } from 'bullmq';
import type { Repo } from '../config/types.js';
import { AttemptLease } from '../locks/attempt-lease.js';
import type { PathLocks } from '../locks/index.js';
import { findRepo } from '../paths/index.js';
import type { TaskJob, TaskJobResult, TaskProgress } from '../queue/task-queue.js';
import { explainRemoteFailure, RcloneError, RemoteNotFoundError, type Rclone } from '../rclone/index.js';
import type { TaskLogs } from '../store/task-logs.js';
import { ENDED_STATUSES, type Task, type TaskStore } from '../store/index.js';
import type { AdminAlert, TaskRunContext } from '../tasks/kind.js';
import { findTaskKind, RUNNING_STATUSES, UNFINISHED_STATUSES } from '../tasks/registry.js';
import type { TaskEndNotifier, TaskEndOptions } from '../notify/notifier.js';
import type { AtimeSupport } from '../freeze/atime.js';
import { forTask, type Logger } from '../log/index.js';
import { isRcloneFailure } from '../metrics/index.js';
import { plural } from '../text/plural.js';
import { TaskFailedError, type AbortReason } from './errors.js';
import { removeEarlierAttempts } from './staging.js';


/**
 * The line an attempt writes when it stops because its worker lost the job while Redis was
 * unreachable: the worker was alive, so the stall BullMQ counts is not the job's fault
 * ({@link lastAttemptLostRedis}).
 */
const LOST_REDIS_STOP = 'stopped: this worker lost the job while Redis was unreachable; the next attempt takes the task over';

/** How often a task held back by an overlapping one checks again. */
export const BLOCKED_RECHECK_MS = 500;
/** How often a new attempt looks whether the earlier one has stopped (see {@link RunnerDeps.handoverMs}). */
const HANDOVER_POLL_MS = 100;

export interface RunnerDeps {
  readonly repos: readonly Repo[];
  readonly store: TaskStore;
  readonly locks: PathLocks;
  readonly logs: TaskLogs;
  readonly rclone: Rclone;
  /** Removes secrets from any text before it is stored. */
  readonly redact: (text: string) => string;
  /** Whether atime moves in each freezable repo (by local path), tested at worker start. */
  readonly atimeSupport: ReadonlyMap<string, AtimeSupport>;
  /** Told of every task that ends here (finished, failed, cancelled), after its log is closed. */
  readonly notifier: TaskEndNotifier;
  /** The process log (task events, each line with its `task_id`); the task's own log is {@link TaskLogs}. */
  readonly log: Logger;
  /** Counts a task failed by rclone, for `/metrics`; may reject (Redis down): callers ignore that. */
  readonly countRcloneFailure: () => Promise<void>;
  /**
   * The job lock's duration: how long the record of a running attempt lives past its last
   * heartbeat (its lease: src/locks/attempt-lease.ts), hence the longest a new attempt of a
   * task waits for an earlier one to stop. A live worker that lost the job's lock, or could
   * not renew its lease for 60 % of this, stops within it;
   * a killed one stops refreshing its record, which expires at most this long after its
   * death, by when BullMQ has about noticed the job stalled (test/workers/handover.test.ts).
   */
  readonly handoverMs: number;
  /** Mails `MAIL_ADMIN` on a running task's behalf (the report's loss alert); never rejects. */
  readonly alert: (taskId: string, alert: AdminAlert) => Promise<void>;
}

/**
 * Processes one job. Returns undefined when there was nothing to do (the task was
 * cancelled or removed before it started).
 *
 * @throws DelayedError when the task must wait for an overlapping one (BullMQ's protocol).
 */
export async function runTaskJob(job: TaskJob, token: string | undefined, stopSignal: AbortSignal, deps: RunnerDeps): Promise<TaskJobResult | undefined> {
  const { taskId } = job.data;
  // Aborted by the worker (cancel, shutdown, the job lock lost) or by the attempt's own lease.
  const leaseLost = new AbortController();
  const signal = AbortSignal.any([stopSignal, leaseLost.signal]);
  const events = forTask(deps.log, taskId);
  const task = await deps.store.get(taskId);
  if (!task || ENDED_STATUSES.includes(task.status)) {
    await deps.locks.release(taskId);
    return undefined;
  }
  const blockers = await deps.locks.blockers(taskId);
  if (blockers === -1) {
    const message = 'its path lock was released while it waited (cleaned up as a zombie); submit it again';
    events.warn('task failed', { type: task.type, error: message });
    const ended = await fail(deps, taskId, message);
    if (ended) await deps.notifier.taskEnded(ended);
    return undefined;
  }
  if (blockers > 0) {
    await job.moveToDelayed(Date.now() + BLOCKED_RECHECK_MS, token);
    throw new DelayedError();
  }
  // BullMQ offers a job again once its lock has expired, which a Redis outage longer than
  // the lock causes while the earlier attempt still runs: both would act on the same files
  // (test/safety/redis.test.ts found it). The earlier one stops when its worker sees the
  // lock lost ('lock-lost') or its lease unconfirmed (src/locks/attempt-lease.ts); this one
  // waits for that.
  await earlierAttemptStopped(deps, taskId);

  const log = await deps.logs.open(taskId);
  let ended: Task | undefined;
  let lease: AttemptLease | undefined;
  let endOptions: TaskEndOptions = {};
  try {
    const repo = findRepo(deps.repos, task.path);
    if (!repo) throw new TaskFailedError(`${task.path} is no longer in a configured repository`);
    const started = await deps.store.transition(taskId, UNFINISHED_STATUSES, { status: 'started', started: new Date().toISOString() });
    if (!started) return undefined;
    lease = await AttemptLease.hold(deps.locks, taskId, randomUUID(), deps.handoverMs, () => leaseLost.abort('lock-lost' satisfies AbortReason));
    log.line(`${task.type}${task.dryRun ? ' (dry run)' : ''} of ${task.path} started`);
    events.info('task started', { type: task.type, path: task.path, dry_run: task.dryRun });
    // Submission queues only kinds with a run; a record of a kind this Glacis does not know
    // (a newer one wrote it) fails here, saying so, rather than sitting queued.
    const kind = findTaskKind(task.type);
    if (!kind?.run) throw new TaskFailedError(`this worker cannot run tasks of type ${task.type}`);
    const context: TaskRunContext = {
      repo,
      task: job.data,
      rclone: deps.rclone,
      log,
      signal,
      atime: deps.atimeSupport.get(repo.localPath),
      progress: (p: TaskProgress) => void job.updateProgress({ ...p }).catch(() => undefined),
      enterRunning: async () => {
        await deps.store.transition(taskId, RUNNING_STATUSES, { status: kind.runningStatus });
      },
      catalogue: deps.store.catalogue,
      alert: (alert) => deps.alert(taskId, alert),
    };
    const result = await kind.run(context);
    // The closing line is in the database before the record says the task ended: whoever
    // sees `finished` reads the whole log (test/workers/log-complete.test.ts).
    log.line(`finished: ${plural(result.files, 'file')}, ${plural(result.bytes, 'byte')}${result.unprotected ? `, ${plural(result.unprotected, 'cold file')} unprotected` : ''}`);
    await log.flush();
    ended = await deps.store.transition(taskId, RUNNING_STATUSES, {
      status: 'finished',
      finished: new Date().toISOString(),
      files: result.files,
      bytes: result.bytes,
      ...(result.unprotected !== undefined ? { unprotected: result.unprotected } : {}),
      ...(result.result !== undefined ? { result: result.result } : {}),
    });
    events.info('task finished', { type: task.type, files: result.files, bytes: result.bytes, ...(result.unprotected ? { unprotected: result.unprotected } : {}) });
    return { files: result.files, bytes: result.bytes, ...(result.unprotected !== undefined ? { unprotected: result.unprotected } : {}) };
  } catch (error) {
    if (signal.aborted && (signal.reason as AbortReason) === 'shutdown') {
      // Hand the job back: another worker (or this one, restarted) picks it up again.
      log.line('worker shutting down: task handed back to the queue');
      events.info('task handed back to the queue: worker shutting down', { type: task.type });
      await job.moveToDelayed(Date.now(), token);
      throw new DelayedError();
    }
    if (signal.aborted && (signal.reason as AbortReason) === 'lock-lost') {
      // The next attempt runs the task and records it. The job goes back to the queue if it
      // is still this worker's (only the lease was lost); if BullMQ's lock was lost, the move
      // is refused and BullMQ offers the job again itself.
      log.event({ kind: 'message', text: LOST_REDIS_STOP, level: 'warn' });
      // In the database before Redis is back: BullMQ may count the job stalled at once, and
      // the worker that learns it reads this line to tell an outage from a crash.
      await log.flush();
      events.warn('task left to its next attempt: the job lock was lost', { type: task.type });
      await job.moveToDelayed(Date.now(), token).catch(() => undefined);
      throw new DelayedError();
    }
    const message = signal.aborted ? 'cancelled by request' : deps.redact(failureMessage(error, findRepo(deps.repos, task.path)));
    log.event(signal.aborted ? { kind: 'message', text: 'cancelled' } : { kind: 'message', text: `failed: ${message}`, level: 'error' });
    await log.flush();
    if (signal.aborted) events.info('task cancelled', { type: task.type });
    else {
      events.warn('task failed', { type: task.type, error: message });
      // Counted before the failure is recorded, so whoever sees the task failed sees it counted.
      if (isRcloneFailure(error)) await deps.countRcloneFailure().catch(() => undefined);
    }
    ended = await (signal.aborted
      ? deps.store.transition(taskId, UNFINISHED_STATUSES, { status: 'cancelled', finished: new Date().toISOString(), error: message })
      : fail(deps, taskId, message));
    if (!signal.aborted && error instanceof TaskFailedError && error.onUserInput) endOptions = { onUserInput: true };
    throw new TaskFailedError(message);
  } finally {
    await log.close();
    // After the close: the mail lists the files from the log, which must be complete.
    if (ended) await deps.notifier.taskEnded(ended, endOptions);
    await lease?.release();
    // Handed back or taken over: the task keeps its path for its next attempt.
    if (!(signal.aborted && (signal.reason === 'shutdown' || signal.reason === 'lock-lost'))) await deps.locks.release(taskId);
  }
}

/**
 * Waits until no other attempt of the task is recorded as acting (it cleared its record,
 * or it expired: see {@link RunnerDeps.handoverMs}), or {@link RunnerDeps.handoverMs} passed.
 */
async function earlierAttemptStopped(deps: RunnerDeps, taskId: string): Promise<void> {
  const deadline = Date.now() + deps.handoverMs;
  while ((await deps.locks.runningAttempt(taskId)) !== undefined && Date.now() < deadline) await sleep(HANDOVER_POLL_MS);
}

async function fail(deps: RunnerDeps, taskId: string, message: string): Promise<Task | undefined> {
  return deps.store.transition(taskId, UNFINISHED_STATUSES, { status: 'failed', finished: new Date().toISOString(), error: message });
}

/**
 * A remote failure names the repository and the likely key to fix (rclone's own words name
 * neither: a wrong SFTP password read "the server failed"); anything else, its message.
 */
function failureMessage(error: unknown, repo: Repo | undefined): string {
  if (repo && error instanceof RcloneError && !(error instanceof RemoteNotFoundError)) return explainRemoteFailure(error, repo);
  return errorMessage(error);
}

function errorMessage(error: unknown): string {
  if (error instanceof TaskFailedError) return error.message;
  if (error instanceof Error) return `${error.name === 'Error' ? '' : `${error.name}: `}${error.message}`;
  return String(error);
}

/**
 * True when the task's last attempt stopped because its live worker lost Redis (its log ends
 * with that attempt's {@link LOST_REDIS_STOP} line), rather than dying with its worker.
 */
export async function lastAttemptLostRedis(deps: Pick<RunnerDeps, 'logs'>, taskId: string): Promise<boolean> {
  const last = await deps.logs.lastEvent(taskId);
  return last?.event.kind === 'message' && last.event.text === LOST_REDIS_STOP;
}

/**
 * Records a job that BullMQ itself gave up on (stalled too often: its worker died
 * repeatedly) as failed, and frees its path.
 */
export async function recordAbandonedJob(deps: RunnerDeps, taskId: string, reason: string): Promise<void> {
  const message = `terminated prematurely: ${deps.redact(reason)}`;
  forTask(deps.log, taskId).warn('task failed', { error: message });
  const ended = await fail(deps, taskId, message);
  await deps.locks.release(taskId);
  // No attempt of it runs again, and the next worker start (which sweeps stale staging)
  // may be far off: a killed transfer's partial files would fill the disk meanwhile
  // (test/safety/crash.test.ts found them left behind).
  for (const repo of deps.repos) await removeEarlierAttempts(repo, taskId);
  if (ended) await deps.notifier.taskEnded(ended);
}
