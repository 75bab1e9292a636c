/**
 * Cancellation across processes: the API publishes a task id, and whichever worker
 * runs that task aborts it. Pub/sub, because the API does not know which host runs it.
 */
import type { Redis } from 'ioredis';

function channel(prefix: string): string {
  return `${prefix}:cancel`;
}

/** Asks every worker to abort the task if it is running it. */
export async function publishCancel(redis: Redis, prefix: string, taskId: string): Promise<void> {
  await redis.publish(channel(prefix), taskId);
}

/**
 * Calls `onCancel` with each cancelled task id. `subscriber` must be a connection of
 * its own (a subscribed ioredis connection can do nothing else).
 *
 * @example
 * ```ts
 * await subscribeCancel(redis.duplicate(), 'glacis', (id) => worker.cancelJob(id));
 * ```
 */
export async function subscribeCancel(subscriber: Redis, prefix: string, onCancel: (taskId: string) => void): Promise<void> {
  subscriber.on('message', (ch: string, message: string) => {
    if (ch === channel(prefix)) onCancel(message);
  });
  await subscriber.subscribe(channel(prefix));
}
