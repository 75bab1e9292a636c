/**
 * The lease of a running attempt: the Redis record that says "this attempt of the task is
 * acting" ({@link PathLocks.markRunning}), kept alive by heartbeats, and the attempt's
 * promise to stop before that record can expire.
 *
 * A new attempt of a task (BullMQ offers a job again once its job lock expired) waits until
 * no record of an earlier attempt is left. The record expires `lifetimeMs` after its last
 * heartbeat reached Redis, by Redis's clock, and time runs on while Redis is unreachable:
 * after an outage longer than the lifetime, Redis comes back with the record already gone
 * while the earlier attempt, which could not reach Redis, still runs. Waiting for the record
 * alone let both run at once for about a second (test/safety/redis.test.ts found it).
 *
 * So the holder fences itself: when no heartbeat has been confirmed for
 * {@link FENCE_FRACTION} of the lifetime, counted from when that heartbeat was *sent* (so the
 * record's expiry, set when Redis received it, is later still), it is told it has lost the
 * lease, and has the rest of the lifetime to stop before a new attempt may start. A heartbeat
 * that finds the record gone or another attempt's says the same at once.
 */
import type { PathLocks } from './index.js';

/** Part of the lifetime after the last confirmed heartbeat at which the holder gives up. */
export const FENCE_FRACTION = 0.6;
/** Heartbeats per lifetime: two may go unanswered (a slow Redis) before the fence. */
const HEARTBEATS_PER_LIFETIME = 4;

/** What a lease needs of the locks (narrow, for tests). */
export type LeaseLocks = Pick<PathLocks, 'markRunning' | 'refreshRunning' | 'clearRunning'>;

/** Why the holder lost its lease. */
export type LeaseLoss = 'unconfirmed' | 'taken';

/**
 * @example
 * ```ts
 * const lease = await AttemptLease.hold(locks, taskId, randomUUID(), 30_000, (why) => controller.abort('lock-lost'));
 * try { await run(controller.signal); } finally { await lease.release(); }
 * ```
 */
export class AttemptLease {
  private heartbeat: NodeJS.Timeout | undefined;
  private fence: NodeJS.Timeout | undefined;
  /** When the fence falls (performance.now() time): only ever moved later. */
  private fenceAt = 0;
  private stopped = false;

  private constructor(
    private readonly locks: LeaseLocks,
    private readonly taskId: string,
    private readonly attemptId: string,
    private readonly lifetimeMs: number,
    private readonly onLost: (why: LeaseLoss) => void,
  ) {}

  /**
   * Records the attempt as acting and keeps the record alive until {@link release}. `onLost`
   * is called at most once, when the attempt must stop (see the module comment).
   */
  static async hold(locks: LeaseLocks, taskId: string, attemptId: string, lifetimeMs: number, onLost: (why: LeaseLoss) => void): Promise<AttemptLease> {
    const lease = new AttemptLease(locks, taskId, attemptId, lifetimeMs, onLost);
    const sentAt = performance.now();
    await locks.markRunning(taskId, attemptId, lifetimeMs);
    lease.confirmed(sentAt);
    lease.heartbeat = setInterval(() => lease.beat(), Math.max(50, Math.floor(lifetimeMs / HEARTBEATS_PER_LIFETIME)));
    lease.heartbeat.unref();
    return lease;
  }

  /** Stops the heartbeats and removes the record (unless another attempt's replaced it). */
  async release(): Promise<void> {
    this.stop();
    await this.locks.clearRunning(this.taskId, this.attemptId);
  }

  private beat(): void {
    const sentAt = performance.now();
    this.locks.refreshRunning(this.taskId, this.attemptId, this.lifetimeMs).then(
      (alive) => (alive ? this.confirmed(sentAt) : this.lose('taken')),
      // Unreachable: the fence decides.
      () => undefined,
    );
  }

  /** Moves the fence to {@link FENCE_FRACTION} of the lifetime after `sentAt` (a late answer to an older heartbeat moves nothing). */
  private confirmed(sentAt: number): void {
    const at = sentAt + this.lifetimeMs * FENCE_FRACTION;
    if (this.stopped || at <= this.fenceAt) return;
    this.fenceAt = at;
    clearTimeout(this.fence);
    this.fence = setTimeout(() => this.lose('unconfirmed'), Math.max(0, at - performance.now()));
    this.fence.unref();
  }

  private lose(why: LeaseLoss): void {
    if (this.stopped) return;
    this.stop();
    this.onLost(why);
  }

  private stop(): void {
    this.stopped = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.fence);
  }
}
