/**
 * The running attempt's lease against a real Redis: kept alive past its lifetime while Redis
 * answers; given up before its record can expire once Redis stops answering (the record
 * expires by Redis's clock while Redis is down: test/safety/redis.test.ts saw a new attempt
 * start while the earlier one still ran); given up at once when the record is taken.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, expect, it } from 'vitest';
import { AttemptLease, type LeaseLoss } from '../../src/locks/attempt-lease.js';
import { PathLocks } from '../../src/locks/index.js';
import { startRedis, type RedisServer } from '../harness/redis.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setUp(): Promise<{ server: RedisServer; redis: Redis; locks: PathLocks; prefix: string; taskId: string }> {
  const server = await startRedis();
  cleanups.push(() => server.stop());
  // As the workers' connections: commands wait for a reconnect instead of failing.
  const redis = new Redis(server.url, { maxRetriesPerRequest: null, retryStrategy: () => 100 });
  redis.on('error', () => undefined);
  cleanups.push(() => redis.disconnect());
  const prefix = `test-${randomUUID()}`;
  const locks = new PathLocks(redis, prefix);
  const taskId = randomUUID();
  expect(await locks.claim({ taskId, type: 'pull', path: '/repo/a', dryRun: false })).toMatchObject({ kind: 'claimed' });
  return { server, redis, locks, prefix, taskId };
}

function lossRecorder(): { losses: Array<{ why: LeaseLoss; at: number }>; onLost: (why: LeaseLoss) => void; next: () => Promise<void> } {
  const losses: Array<{ why: LeaseLoss; at: number }> = [];
  let wake: (() => void) | undefined;
  return {
    losses,
    onLost: (why) => {
      losses.push({ why, at: Date.now() });
      wake?.();
    },
    next: () => new Promise<void>((resolve) => (losses.length > 0 ? resolve() : (wake = resolve))),
  };
}

it('keeps the record alive for several lifetimes while Redis answers, and removes it on release', async () => {
  const { locks, taskId } = await setUp();
  const attempt = randomUUID();
  const { losses, onLost } = lossRecorder();
  const lease = await AttemptLease.hold(locks, taskId, attempt, 600, onLost);
  for (let i = 0; i < 6; i++) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await locks.runningAttempt(taskId)).toBe(attempt);
  }
  expect(losses).toEqual([]);
  await lease.release();
  expect(await locks.runningAttempt(taskId)).toBeUndefined();
});

it('gives the lease up before its record can expire when Redis stops answering', async () => {
  const { server, redis, locks, prefix, taskId } = await setUp();
  const { losses, onLost, next } = lossRecorder();
  // Not released: with Redis gone a release would wait for it; a lost lease beats no more.
  await AttemptLease.hold(locks, taskId, randomUUID(), 6_000, onLost);
  // The record's expiry as Redis has it now; later heartbeats can only move it later.
  const expiresAt = await redis.pexpiretime(`${prefix}:running:${taskId}`);
  expect(expiresAt).toBeGreaterThan(Date.now());
  await server.stop();
  await next();
  expect(losses.map((loss) => loss.why)).toEqual(['unconfirmed']);
  // Given up with time left to stop before a new attempt may start (the rest of the lifetime).
  expect(losses[0]!.at).toBeLessThan(expiresAt);
});

it('gives the lease up at once when its record is gone (released by a zombie clean-up) or another attempt holds it', async () => {
  const { locks, taskId } = await setUp();
  const { losses, onLost, next } = lossRecorder();
  const lease = await AttemptLease.hold(locks, taskId, randomUUID(), 2_000, onLost);
  cleanups.push(() => lease.release());
  await locks.markRunning(taskId, randomUUID(), 60_000);
  await next();
  expect(losses.map((loss) => loss.why)).toEqual(['taken']);
});
