/**
 * Whether the services Glacis depends on answer: what `GET /ready` reports and what
 * `/metrics` shows as `glacis_dependency_up`. Every check is bounded in time, so a
 * probe answers quickly even when Redis hangs or refuses.
 */
import type { Redis } from 'ioredis';
import type { TaskStore } from '../store/types.js';

/** How long a probe or a scrape waits for Redis or the database before calling it down. */
export const DEPENDENCY_TIMEOUT_MS = 1500;

export interface Dependencies {
  /** A connection that fails fast when Redis is down (the API's `producer` connection). */
  readonly redis: Redis;
  readonly store: Pick<TaskStore, 'ping'>;
}

export interface DependencyStatus {
  readonly redis: boolean;
  readonly database: boolean;
}

/**
 * @example
 * ```ts
 * const { redis, database } = await probeDependencies({ redis: runtime.redis, store: runtime.store });
 * ```
 */
export async function probeDependencies(deps: Dependencies, timeoutMs: number = DEPENDENCY_TIMEOUT_MS): Promise<DependencyStatus> {
  const answers = (operation: () => Promise<unknown>): Promise<boolean> =>
    withTimeout(operation(), timeoutMs).then(
      () => true,
      () => false,
    );
  const [redis, database] = await Promise.all([answers(() => deps.redis.ping()), answers(() => deps.store.ping())]);
  return { redis, database };
}

/**
 * Settles as `operation` does, or rejects once `timeoutMs` passed (the operation itself
 * goes on: its outcome is ignored).
 *
 * @example
 * ```ts
 * const counts = await withTimeout(queue.getJobCounts('waiting'), 1500);
 * ```
 */
export function withTimeout<T>(operation: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  // A late rejection of the abandoned operation must not become an unhandled one.
  operation.catch(() => undefined);
  return Promise.race([operation, expired]).finally(() => clearTimeout(timer));
}
