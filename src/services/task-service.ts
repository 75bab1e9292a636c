/**
 * Task life cycle as the API sees it: submit a pull or freeze, look tasks up,
 * read their logs, cancel, retry and remove them.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Repo } from '../config/types.js';
import type { ClaimOutcome, ClaimRequest, PathLocks } from '../locks/index.js';
import type { TaskEndNotifier } from '../notify/notifier.js';
import { publishCancel } from '../queue/cancellation.js';
import { isRedisUnavailable } from '../queue/connection.js';
import type { TaskProgress, TaskQueue } from '../queue/task-queue.js';
import type { TaskEventKind } from '../store/task-events.js';
import { isTaskId, type LoggedEvent, type TaskLogs } from '../store/task-logs.js';
import { findTaskKind, RUNNING_STATUSES, UNFINISHED_STATUSES } from '../tasks/registry.js';
import { ENDED_STATUSES, type Task, type TaskOrigin, type TaskQuery, type TaskStore, type TaskType } from '../store/index.js';
import { normalizeEmail } from './email.js';
import { resolveForRequest } from './request-path.js';
import { BadRequestError, ConflictError, NotFoundError, UnavailableError } from './errors.js';

/**
 * How long removing a running task waits for its worker to stop it (rclone gets SIGTERM,
 * then SIGKILL two seconds later) and release its path. Past this the answer is given
 * anyway and the worker releases the path when it is done.
 */
export const CANCEL_WAIT_MS = 8_000;
const CANCEL_POLL_MS = 25;
/** How long a request waits for the path of a task that has just ended to be freed (its worker frees it right after). */
const ENDING_WAIT_MS = 5_000;
const ENDING_POLL_MS = 25;

/** A request to pull or freeze, as received (validated here). */
export interface SubmitRequest {
  readonly type: TaskType;
  readonly path: unknown;
  readonly email?: unknown;
  readonly dryRun?: boolean;
  readonly force?: boolean;
  readonly origin?: TaskOrigin;
}

/** The task that will do a submitted request's work. */
export interface Submitted {
  readonly task: string;
  /** An unfinished task of the same kind already covered the path: the request joined it. */
  readonly joined: boolean;
}

/** What the task service works with: one module per outside system. */
export interface TaskServiceDeps {
  readonly repos: readonly Repo[];
  readonly store: TaskStore;
  readonly locks: PathLocks;
  readonly queue: TaskQueue;
  readonly logs: TaskLogs;
  /** Producer connection, for cancellation messages. */
  readonly redis: Redis;
  readonly prefix: string;
  /** Told of a task cancelled by its removal. */
  readonly notifier: TaskEndNotifier;
  /** Whether mails are sent (`MAIL_SERVER` set): a request with an `email` is refused otherwise. */
  readonly mailEnabled: boolean;
}

/**
 * @example
 * ```ts
 * const tasks = new TaskService(deps);
 * const id = await tasks.submit({ type: 'pull', path: '/data/lab1/raw' });
 * const task = await tasks.get(id);
 * ```
 */
export class TaskService {
  constructor(private readonly deps: TaskServiceDeps) {}

  /**
   * Returns the id of the task that will do the work: an unfinished task of the same
   * kind already covering the path, or a new one.
   */
  async submit(request: SubmitRequest): Promise<string> {
    return (await this.submitting(request)).task;
  }

  /** As {@link submit}, also saying whether the request joined an unfinished task rather than creating one. */
  async submitting(request: SubmitRequest): Promise<Submitted> {
    const { path, repo } = await resolveForRequest(this.deps.repos, request.path);
    const email = normalizeEmail(request.email);
    // Refused here, naming the repo, rather than accepted and failed later by the worker
    // (which still refuses: a repos file may change between the two).
    const kind = findTaskKind(request.type);
    // Only kinds a worker runs are queued (the zombie clean-up is run by the API itself).
    if (!kind?.run) throw new BadRequestError(`Tasks of type ${request.type} are not submitted: no worker runs them`);
    const refused = kind.refusedIn?.(repo);
    if (refused !== undefined) throw new BadRequestError(refused);
    // Accepted, it failed later in silence: the user waited for a mail that never came.
    if (email !== null && !this.deps.mailEnabled) throw new BadRequestError('"email" cannot be honoured: this server sends no mail (MAIL_SERVER is not set); leave "email" out');
    const dryRun = request.dryRun ?? false;
    const force = request.force ?? false;
    const taskId = randomUUID();
    const outcome = await this.claimUnlessEnding({ taskId, type: request.type, path, dryRun });
    if (outcome.kind === 'existing') return { task: outcome.taskId, joined: true };
    try {
      await this.deps.store.create({ id: taskId, type: request.type, path, dryRun, force, email, origin: request.origin ?? 'user' });
    } catch (error) {
      await this.deps.locks.release(taskId).catch(() => undefined);
      throw error;
    }
    try {
      await redisOr503(() => this.deps.queue.add({ taskId, type: request.type, path, dryRun, force, ...(request.origin && request.origin !== 'user' ? { origin: request.origin } : {}) }));
    } catch (error) {
      // The claim would otherwise hold the path until zombie clean-up.
      await this.deps.locks.release(taskId).catch(() => undefined);
      await this.deps.store.update(taskId, { status: 'failed', finished: new Date().toISOString(), error: 'could not be queued: Redis unreachable' });
      throw error;
    }
    return { task: taskId, joined: false };
  }

  /**
   * Claims the path, never joining a task that has already ended: a worker records a task's
   * end, then frees its path, and a request in between would join a task that will do
   * nothing more (test/api/tasks.test.ts "is never joined"). Such a claim is tried again
   * until the path is freed; after {@link ENDING_WAIT_MS} the ended task is answered as
   * before (its worker died between the two: zombie clean-up frees the path).
   */
  private async claimUnlessEnding(claim: ClaimRequest): Promise<ClaimOutcome> {
    const deadline = Date.now() + ENDING_WAIT_MS;
    for (;;) {
      const outcome = await redisOr503(() => this.deps.locks.claim(claim));
      if (outcome.kind !== 'existing' || Date.now() >= deadline) return outcome;
      const joined = await this.deps.store.get(outcome.taskId);
      if (!joined || !ENDED_STATUSES.includes(joined.status)) return outcome;
      await sleep(ENDING_POLL_MS);
    }
  }

  /** @throws NotFoundError */
  async get(taskId: string): Promise<Task> {
    const task = isTaskId(taskId) ? await this.deps.store.get(taskId) : undefined;
    if (!task) throw new NotFoundError(`Task ${taskId} not found. Maybe it is too old.`);
    return task;
  }

  list(query?: TaskQuery): Promise<Task[]> {
    return this.deps.store.list(query);
  }

  /**
   * What the worker last reported of a running task's progress. Undefined when the task is
   * not running, nothing was reported yet, or Redis cannot say: the status is answered anyway.
   */
  async progress(task: Task): Promise<TaskProgress | undefined> {
    if (!RUNNING_STATUSES.includes(task.status)) return undefined;
    try {
      return await this.deps.queue.progress(task.id);
    } catch (error) {
      if (isRedisUnavailable(error)) return undefined;
      throw error;
    }
  }

  /**
   * What a waiting task waits for: the unfinished overlapping tasks it must let end first
   * (none: it waits for a free worker). Undefined when it is not waiting, or Redis cannot say.
   */
  async waitingFor(task: Task): Promise<string[] | undefined> {
    if (task.status !== 'waiting') return undefined;
    try {
      return await this.deps.locks.waitingFor(task.id);
    } catch (error) {
      if (isRedisUnavailable(error)) return undefined;
      throw error;
    }
  }

  /** The task's log text ('' if it has not written any yet). @throws NotFoundError */
  async log(taskId: string): Promise<string> {
    await this.get(taskId);
    return (await this.deps.logs.read(taskId)) ?? '';
  }

  /**
   * One page of the task's events, in order: at most `limit`, of `kinds` (all when absent),
   * numbered above `after`; `more` when others already follow. Bounded: the store reads pages,
   * this stops one event past the limit. @throws NotFoundError
   */
  async events(taskId: string, page: { readonly kinds?: readonly TaskEventKind[]; readonly after: number; readonly limit: number }): Promise<{ events: LoggedEvent[]; more: boolean }> {
    await this.get(taskId);
    const events: LoggedEvent[] = [];
    for await (const logged of this.deps.logs.events(taskId, { ...(page.kinds ? { kinds: page.kinds } : {}), after: page.after })) {
      if (events.length === page.limit) return { events, more: true };
      events.push(logged);
    }
    return { events, more: false };
  }

  /**
   * Stops a waiting or running task and keeps its record, with status `cancelled`. A running
   * task is stopped by its worker; this waits for its path to be free (as {@link remove} does)
   * before it answers and mails, so the log the mail lists files from is complete.
   *
   * @throws NotFoundError, ConflictError when the task has already ended.
   */
  async cancel(taskId: string): Promise<Task> {
    const task = await this.get(taskId);
    const cancelled = ENDED_STATUSES.includes(task.status) ? undefined : await this.stop(task);
    if (!cancelled) {
      const now = await this.get(taskId);
      throw new ConflictError(`Task ${taskId} has already ended (${now.status}): there is nothing to cancel`);
    }
    await this.deps.notifier.taskEnded(cancelled);
    return cancelled;
  }

  /**
   * Submits again what a failed or cancelled task asked for (type, path, dry run, force,
   * email). Returns the id of the task that will do it: new, or, as for any submission, an
   * unfinished one of the same kind already covering the path.
   *
   * @throws NotFoundError, ConflictError when the task is not failed or cancelled.
   */
  async retry(taskId: string): Promise<string> {
    const task = await this.get(taskId);
    if (task.status !== 'failed' && task.status !== 'cancelled') {
      throw new ConflictError(`Task ${taskId} is ${task.status}: only a failed or cancelled task can be retried`);
    }
    // A kind no worker runs is not submitted like a pull or freeze: the zombie clean-up,
    // which GET /zombie starts anew.
    if (!findTaskKind(task.type)?.run) {
      throw new ConflictError(task.type === 'zombie' ? `Task ${taskId} is a zombie clean-up: GET /zombie starts a new one` : `Task ${taskId} (${task.type}) is not run from the queue: it cannot be retried`);
    }
    // Whoever asks for the retry asks through the API: a retried auto-freeze is a user's request.
    return this.submit({ type: task.type, path: task.path, email: task.email, dryRun: task.dryRun, force: task.force, origin: 'user' });
  }

  /**
   * Cancels the task if it has not ended, then deletes its record and log.
   * A running task is stopped by its worker, which releases the lock once its rclone
   * process has exited and its staging files are gone; this waits for that (up to
   * {@link CANCEL_WAIT_MS}), so that a request for the same path made after the answer
   * gets a new task rather than the id of the one just removed.
   */
  async remove(taskId: string): Promise<Task> {
    const task = await this.get(taskId);
    if (!ENDED_STATUSES.includes(task.status)) {
      const cancelled = await this.stop(task);
      // Its record and log are about to be deleted: the mail job carries the record.
      if (cancelled) await this.deps.notifier.taskEnded(cancelled, { removed: true });
    }
    await this.deps.store.delete(taskId);
    await this.deps.logs.remove(taskId);
    return task;
  }

  /**
   * Marks the task cancelled (if it still had not ended), then has its job removed or its
   * worker stop it, and waits for its path to be free. Returns the cancelled record, or
   * undefined when the task ended on its own first.
   */
  private async stop(task: Task): Promise<Task | undefined> {
    const cancelled = await this.deps.store.transition(task.id, UNFINISHED_STATUSES, {
      status: 'cancelled',
      finished: new Date().toISOString(),
      error: 'cancelled by request',
    });
    if (!cancelled) return undefined;
    const running = await redisOr503(async () => {
      const job = await this.deps.queue.getJob(task.id);
      if (job && (await job.isActive())) {
        await publishCancel(this.deps.redis, this.deps.prefix, task.id);
        return true;
      }
      try {
        await job?.remove();
      } catch {
        // It became active in between: its worker will see the cancelled status.
        await publishCancel(this.deps.redis, this.deps.prefix, task.id);
        return true;
      }
      await this.deps.locks.release(task.id);
      return false;
    });
    if (running) await this.waitForRelease(task.id);
    return cancelled;
  }

  /** Waits until the task no longer holds its path lock, or {@link CANCEL_WAIT_MS} passed. */
  private async waitForRelease(taskId: string): Promise<void> {
    const deadline = Date.now() + CANCEL_WAIT_MS;
    while ((await redisOr503(() => this.deps.locks.blockers(taskId))) !== -1 && Date.now() < deadline) {
      await sleep(CANCEL_POLL_MS);
    }
  }
}

/** Runs a Redis operation, turning "Redis unreachable" into a 503. */
export async function redisOr503<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (isRedisUnavailable(error)) throw new UnavailableError('Redis is unreachable; try again shortly');
    throw error;
  }
}
