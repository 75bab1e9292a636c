/**
 * Path-overlap locking: at most one task acts on any file at a time.
 *
 * - A request on a path equal to or below an unfinished task of the same type and
 *   dry-run flag is that task: its id is returned and nothing new is made.
 * - Any other overlap makes a new task that waits until the overlapping tasks that
 *   were unfinished when it was claimed have ended.
 *
 * The decision lives in Redis (see ./scripts.ts) so several API processes and
 * workers on several hosts share it.
 */
import type { Redis } from 'ioredis';
import { selfAndAncestors } from '../paths/index.js';
import type { TaskType } from '../store/types.js';
import { BLOCKERS_SCRIPT, CLAIM_SCRIPT, CLEAR_RUNNING_SCRIPT, MARK_RUNNING_SCRIPT, REFRESH_RUNNING_SCRIPT, RELEASE_SCRIPT } from './scripts.js';

/** What a claim asks for. `path` must already be normalised (see `src/paths`). */
export interface ClaimRequest {
  readonly taskId: string;
  readonly type: TaskType;
  readonly path: string;
  readonly dryRun: boolean;
}

/** Either an existing task already covers the request, or the new task was claimed. */
export type ClaimOutcome =
  | { readonly kind: 'existing'; readonly taskId: string }
  | { readonly kind: 'claimed'; readonly taskId: string; readonly blockers: number };

/** -1 when the task no longer holds a claim; otherwise its unfinished blockers. */
export type BlockerCount = number;

interface LockCommands {
  glacisClaim(prefix: string, ...args: string[]): Promise<[number, string, number?]>;
  glacisRelease(prefix: string, id: string): Promise<number>;
  glacisBlockers(prefix: string, id: string): Promise<number>;
  glacisMarkRunning(prefix: string, id: string, attempt: string, lifetimeMs: string): Promise<number>;
  glacisRefreshRunning(prefix: string, id: string, attempt: string, lifetimeMs: string): Promise<number>;
  glacisClearRunning(prefix: string, id: string, attempt: string): Promise<number>;
}

/**
 * @example
 * ```ts
 * const locks = new PathLocks(redis, 'glacis:locks');
 * const outcome = await locks.claim({ taskId: randomUUID(), type: 'pull', path: '/data/lab1/raw', dryRun: false });
 * if (outcome.kind === 'existing') return outcome.taskId;
 * // … later, in the worker:
 * if ((await locks.blockers(outcome.taskId)) === 0) { run(); await locks.release(outcome.taskId); }
 * ```
 */
export class PathLocks {
  private readonly commands: LockCommands;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    const withCommands = redis as Redis & Partial<LockCommands>;
    if (!withCommands.glacisClaim) {
      redis.defineCommand('glacisClaim', { numberOfKeys: 1, lua: CLAIM_SCRIPT });
      redis.defineCommand('glacisRelease', { numberOfKeys: 1, lua: RELEASE_SCRIPT });
      redis.defineCommand('glacisBlockers', { numberOfKeys: 1, lua: BLOCKERS_SCRIPT });
      redis.defineCommand('glacisMarkRunning', { numberOfKeys: 1, lua: MARK_RUNNING_SCRIPT });
      redis.defineCommand('glacisRefreshRunning', { numberOfKeys: 1, lua: REFRESH_RUNNING_SCRIPT });
      redis.defineCommand('glacisClearRunning', { numberOfKeys: 1, lua: CLEAR_RUNNING_SCRIPT });
    }
    this.commands = redis as unknown as LockCommands;
  }

  /** Atomically finds the task already covering the request, or claims the path for a new one. */
  async claim(request: ClaimRequest): Promise<ClaimOutcome> {
    const reply = await this.commands.glacisClaim(
      this.prefix,
      request.path,
      request.type,
      request.dryRun ? '1' : '0',
      request.taskId,
      ...selfAndAncestors(request.path),
    );
    return reply[0] === 0
      ? { kind: 'existing', taskId: reply[1] }
      : { kind: 'claimed', taskId: reply[1], blockers: Number(reply[2] ?? 0) };
  }

  /** How many blockers of the task are still unfinished; -1 if it holds no claim any more. */
  async blockers(taskId: string): Promise<BlockerCount> {
    return Number(await this.commands.glacisBlockers(this.prefix, taskId));
  }

  /**
   * The unfinished tasks this one waits for (the overlapping ones claimed before it), for
   * people to read: not atomic, and the answer may be stale by the time it is shown.
   */
  async waitingFor(taskId: string): Promise<string[]> {
    const others = await this.redis.smembers(`${this.prefix}:blockers:${taskId}`);
    const alive = await Promise.all(others.map(async (other) => (await this.redis.exists(`${this.prefix}:task:${other}`)) === 1));
    return others.filter((_, i) => alive[i]).sort();
  }

  /**
   * Records `attemptId` as the attempt acting for the task now, for `lifetimeMs` unless
   * {@link refreshRunning} extends it (until {@link clearRunning} or the release of its
   * claim). False, recording nothing, if the task holds no claim.
   */
  async markRunning(taskId: string, attemptId: string, lifetimeMs: number): Promise<boolean> {
    return (await this.commands.glacisMarkRunning(this.prefix, taskId, attemptId, String(wholeMs(lifetimeMs)))) === 1;
  }

  /**
   * The running attempt's heartbeat: its record lives `lifetimeMs` more. False if the
   * record is gone (expired, released) or is another attempt's; it is then not revived.
   */
  async refreshRunning(taskId: string, attemptId: string, lifetimeMs: number): Promise<boolean> {
    return (await this.commands.glacisRefreshRunning(this.prefix, taskId, attemptId, String(wholeMs(lifetimeMs)))) === 1;
  }

  /** Forgets `attemptId` as acting for the task, unless another attempt was recorded since. */
  async clearRunning(taskId: string, attemptId: string): Promise<void> {
    await this.commands.glacisClearRunning(this.prefix, taskId, attemptId);
  }

  /** The attempt recorded as acting for the task, if any (see {@link markRunning}). */
  async runningAttempt(taskId: string): Promise<string | undefined> {
    return (await this.redis.get(`${this.prefix}:running:${taskId}`)) ?? undefined;
  }

  /** Ends the task's claim, letting the tasks it blocked go ahead. Idempotent. */
  async release(taskId: string): Promise<boolean> {
    return (await this.commands.glacisRelease(this.prefix, taskId)) === 1;
  }
}

function wholeMs(ms: number): number {
  if (!Number.isInteger(ms) || ms < 1) throw new TypeError(`a running record's lifetime must be a positive whole number of ms: ${ms}`);
  return ms;
}
