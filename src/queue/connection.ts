import { Redis, type RedisOptions } from 'ioredis';

/**
 * How a Redis connection behaves when Redis is unreachable.
 * - `producer` (API): commands fail at once instead of queueing in ioredis's offline
 *   queue, so a request can answer 503 within two seconds; it keeps reconnecting.
 * - `worker` (BullMQ Worker, blocking commands): waits for Redis for ever, as BullMQ requires.
 */
export type ConnectionRole = 'producer' | 'worker';

/**
 * Opens a Redis connection for the given role.
 *
 * @example
 * ```ts
 * const redis = connectRedis('redis://127.0.0.1:6379', 'producer');
 * ```
 */
export function connectRedis(url: string, role: ConnectionRole): Redis {
  const common: RedisOptions = {
    connectTimeout: 1500,
    retryStrategy: (attempt) => Math.min(attempt * 200, 1000),
    lazyConnect: false,
  };
  const options: RedisOptions =
    role === 'producer'
      ? { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 1500 }
      : { ...common, maxRetriesPerRequest: null, enableReadyCheck: false };
  const redis = new Redis(url, options);
  // Without a listener ioredis prints every failed reconnection; the health of the
  // connection is reported through requests (503) instead.
  redis.on('error', () => undefined);
  return redis;
}

/** True for errors that mean "Redis is not reachable right now". */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return (
    /Stream isn't writeable|enableOfflineQueue|Connection is closed|ECONNREFUSED|ETIMEDOUT|Command timed out|MaxRetriesPerRequest|Reached the max retries/i.test(error.message) ||
    (error as NodeJS.ErrnoException).code === 'ECONNREFUSED'
  );
}

/**
 * Waits until the connection is ready, or `timeoutMs` passes. A producer connection
 * refuses commands until it has connected, so a process gives it this chance at
 * start-up; if Redis is down it starts anyway and answers 503 until Redis is back.
 *
 * @returns whether the connection is ready.
 */
export function waitUntilConnected(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      resolve(false);
    }, timeoutMs);
    const onReady = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    redis.once('ready', onReady);
  });
}

/**
 * Redis stayed unreachable for the whole start-up wait (`REDIS_STARTUP_TIMEOUT`): the
 * command exits with code 3 and this one line (its `name` is what the CLI checks, so that
 * the client commands need not load ioredis).
 */
export class RedisUnreachableError extends Error {
  override readonly name = 'RedisUnreachableError';
}

/**
 * The Redis URL without its credentials, for messages.
 *
 * @example
 * ```ts
 * safeRedisUrl('redis://:secret@db:6379/0'); // 'redis://db:6379/0'
 * ```
 */
export function safeRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return 'REDIS_URL';
  }
}
