/**
 * `GET /health` and `GET /ready`: the process answers whatever happens; readiness follows
 * Redis and the database, answers quickly when one is down, and recovers with them.
 */
import type { Server } from 'node:http';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { ready } from '../../src/api/health.js';
import { connectRedis } from '../../src/queue/connection.js';
import { probeDependencies } from '../../src/metrics/index.js';
import { openTaskStore } from '../../src/store/index.js';
import { freePort } from '../harness/ports.js';
import { startRedis, type RedisServer } from '../harness/redis.js';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { makeRemote, tempDir } from '../helpers/remotes.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(redisUrl?: string): Promise<TestGlacis> {
  const repo = tempDir('health-repo');
  const glacis = await startGlacis({ repos: { [repo]: (await makeRemote('local')).settings }, worker: false, ...(redisUrl ? { redisUrl } : {}) });
  cleanups.push(() => glacis.stop());
  return glacis;
}

async function timed<T>(operation: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await operation();
  return { result, ms: performance.now() - started };
}

describe('with Redis and the database up', () => {
  it('is healthy and ready', async () => {
    const glacis = await start();
    expect(await glacis.get('/health')).toEqual({ status: 200, body: { status: 'ok' } });
    expect(await glacis.get('/ready')).toEqual({ status: 200, body: { ready: true, redis: true, database: true } });
  });
});

describe('with Redis unreachable', () => {
  it('refusing connections from the start: healthy, not ready (503 within 2 s)', async () => {
    const glacis = await start(`redis://127.0.0.1:${await freePort()}`);
    expect(await glacis.get('/health')).toEqual({ status: 200, body: { status: 'ok' } });
    const { result, ms } = await timed(() => glacis.get('/ready'));
    expect(result).toEqual({ status: 503, body: { error: 'not ready: Redis is unreachable', redis: false, database: true } });
    // A functional requirement (probes must not hang), with a generous bound.
    expect(ms).toBeLessThan(2000);
  });

  it('going away and coming back: ready follows it without a restart', async () => {
    const redis: RedisServer = await startRedis();
    cleanups.push(() => redis.stop());
    const glacis = await start(redis.url);
    expect((await glacis.get('/ready')).status).toBe(200);

    await redis.stop();
    const { result, ms } = await timed(() => glacis.get('/ready'));
    expect(result).toEqual({ status: 503, body: { error: 'not ready: Redis is unreachable', redis: false, database: true } });
    expect(ms).toBeLessThan(2000);
    expect((await glacis.get('/health')).status).toBe(200);

    await redis.restart();
    let again = await glacis.get('/ready');
    for (const deadline = Date.now() + 10_000; again.status !== 200 && Date.now() < deadline; again = await glacis.get('/ready')) {
      expect(again.status).toBe(503);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(again).toEqual({ status: 200, body: { ready: true, redis: true, database: true } });
  });
});

describe('with the database unreachable too', () => {
  it('names both in one 503', async () => {
    const store = await openTaskStore(`${tempDir('health-db')}/glacis.sqlite`);
    await store.close();
    const redis = connectRedis(`redis://127.0.0.1:${await freePort()}`, 'producer');
    cleanups.push(async () => redis.disconnect());
    const app = express().get('/ready', ready(() => probeDependencies({ redis, store })));
    const server: Server = await new Promise((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const response = await fetch(`http://127.0.0.1:${port}/ready`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ error: 'not ready: Redis and the database are unreachable', redis: false, database: false });
  });
});
