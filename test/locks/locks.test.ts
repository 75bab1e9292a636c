import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PathLocks, type ClaimRequest } from '../../src/locks/index.js';
import { startRedis, type RedisServer } from '../harness/redis.js';

let server: RedisServer;
let redis: Redis;

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});

/** A fresh key prefix per test: tests never see each other's claims. */
function freshLocks(): PathLocks {
  return new PathLocks(redis, `test-${randomUUID()}`);
}

function request(path: string, overrides: Partial<ClaimRequest> = {}): ClaimRequest {
  return { taskId: randomUUID(), type: 'pull', path, dryRun: false, ...overrides };
}

describe('PathLocks', () => {
  it('gives the same task for the same path, or a path below it, of the same kind', async () => {
    const locks = freshLocks();
    const first = await locks.claim(request('/repo/a'));
    expect(first).toMatchObject({ kind: 'claimed', blockers: 0 });
    expect(await locks.claim(request('/repo/a'))).toEqual({ kind: 'existing', taskId: first.taskId });
    expect(await locks.claim(request('/repo/a/b/c'))).toEqual({ kind: 'existing', taskId: first.taskId });
  });

  it('makes a waiting task for a parent of a running task, which may start once the child ends', async () => {
    const locks = freshLocks();
    const child = await locks.claim(request('/repo/a/b'));
    const parent = await locks.claim(request('/repo/a'));
    expect(parent).toMatchObject({ kind: 'claimed', blockers: 1 });
    expect(parent.taskId).not.toBe(child.taskId);
    expect(await locks.blockers(parent.taskId)).toBe(1);
    await locks.release(child.taskId);
    expect(await locks.blockers(parent.taskId)).toBe(0);
  });

  it('makes the other type, or the other dry-run flag, wait on the same path', async () => {
    const locks = freshLocks();
    const pull = await locks.claim(request('/repo/a'));
    const freeze = await locks.claim(request('/repo/a', { type: 'freeze' }));
    const dry = await locks.claim(request('/repo/a/x', { dryRun: true }));
    expect(freeze).toMatchObject({ kind: 'claimed', blockers: 1 });
    expect(dry).toMatchObject({ kind: 'claimed', blockers: 2 });
    await locks.release(pull.taskId);
    expect(await locks.blockers(freeze.taskId)).toBe(0);
    expect(await locks.blockers(dry.taskId)).toBe(1);
  });

  it('goes by segment: /repo/ab and /repo/abc do not overlap', async () => {
    const locks = freshLocks();
    await locks.claim(request('/repo/abc', { type: 'freeze' }));
    expect(await locks.claim(request('/repo/ab'))).toMatchObject({ kind: 'claimed', blockers: 0 });
    expect(await locks.claim(request('/repo/ab/c', { type: 'freeze' }))).toMatchObject({ kind: 'claimed', blockers: 1 });
  });

  it('decides atomically: 50 concurrent identical claims make one task', async () => {
    const locks = freshLocks();
    const outcomes = await Promise.all(Array.from({ length: 50 }, () => locks.claim(request('/repo/same'))));
    const ids = new Set(outcomes.map((o) => o.taskId));
    expect(ids.size).toBe(1);
    expect(outcomes.filter((o) => o.kind === 'claimed')).toHaveLength(1);
  });

  it('holds across separate connections (several API processes)', async () => {
    const prefix = `test-${randomUUID()}`;
    const other = new Redis(server.url);
    try {
      const a = new PathLocks(redis, prefix);
      const b = new PathLocks(other, prefix);
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).claim(request('/repo/shared'))));
      expect(new Set(results.map((r) => r.taskId)).size).toBe(1);
    } finally {
      other.disconnect();
    }
  });

  it('release is idempotent and reports a task without a claim as -1', async () => {
    const locks = freshLocks();
    const claimed = await locks.claim(request('/repo/x'));
    expect(await locks.release(claimed.taskId)).toBe(true);
    expect(await locks.release(claimed.taskId)).toBe(false);
    expect(await locks.blockers(claimed.taskId)).toBe(-1);
    expect(await locks.claim(request('/repo/x'))).toMatchObject({ kind: 'claimed', blockers: 0 });
  });

  it('a task released while others wait on the same path frees the path only when all are gone', async () => {
    const locks = freshLocks();
    const pull = await locks.claim(request('/repo/p'));
    const freeze = await locks.claim(request('/repo/p', { type: 'freeze' }));
    await locks.release(pull.taskId);
    // The freeze still holds /repo/p: a new pull of a child must wait for it.
    expect(await locks.claim(request('/repo/p/child'))).toMatchObject({ kind: 'claimed', blockers: 1 });
    await locks.release(freeze.taskId);
  });

  it('handles the filesystem root as a path', async () => {
    const locks = freshLocks();
    await locks.claim(request('/deep/er'));
    expect(await locks.claim(request('/', { type: 'freeze' }))).toMatchObject({ kind: 'claimed', blockers: 1 });
  });

  it('records one acting attempt per claimed task; only that attempt clears it, and the release forgets it', async () => {
    const locks = freshLocks();
    const { taskId } = await locks.claim(request('/repo/a'));
    expect(await locks.runningAttempt(taskId)).toBeUndefined();
    expect(await locks.markRunning(taskId, 'first', 60_000)).toBe(true);
    expect(await locks.runningAttempt(taskId)).toBe('first');
    // A later attempt took over; the earlier one finishing late must not erase its record.
    expect(await locks.markRunning(taskId, 'second', 60_000)).toBe(true);
    await locks.clearRunning(taskId, 'first');
    expect(await locks.runningAttempt(taskId)).toBe('second');
    await locks.clearRunning(taskId, 'second');
    expect(await locks.runningAttempt(taskId)).toBeUndefined();
    await locks.markRunning(taskId, 'third', 60_000);
    await locks.release(taskId);
    expect(await locks.runningAttempt(taskId)).toBeUndefined();
    // Without a claim nothing is recorded (no key left behind for ever).
    expect(await locks.markRunning(taskId, 'fourth', 60_000)).toBe(false);
    expect(await locks.runningAttempt(taskId)).toBeUndefined();
  });

  it('forgets a running record its attempt stops refreshing (a dead worker), keeps one it refreshes', async () => {
    const locks = freshLocks();
    const { taskId } = await locks.claim(request('/repo/heartbeat'));
    expect(await locks.markRunning(taskId, 'dead', 300)).toBe(true);
    expect(await locks.runningAttempt(taskId)).toBe('dead');
    // Expiry is Redis's clock: poll with a generous deadline rather than time it.
    const deadline = Date.now() + 20_000;
    while ((await locks.runningAttempt(taskId)) !== undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await locks.runningAttempt(taskId)).toBeUndefined();
    // Too late: an expired record is not revived by a heartbeat.
    expect(await locks.refreshRunning(taskId, 'dead', 60_000)).toBe(false);
    expect(await locks.runningAttempt(taskId)).toBeUndefined();

    expect(await locks.markRunning(taskId, 'alive', 60_000)).toBe(true);
    expect(await locks.refreshRunning(taskId, 'other', 60_000)).toBe(false);
    expect(await locks.refreshRunning(taskId, 'alive', 60_000)).toBe(true);
    expect(await locks.runningAttempt(taskId)).toBe('alive');
    await locks.release(taskId);
    expect(await locks.refreshRunning(taskId, 'alive', 60_000)).toBe(false);
    expect(await locks.runningAttempt(taskId)).toBeUndefined();
  });
});
