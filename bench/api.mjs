#!/usr/bin/env node
/**
 * API under load, and the lock decision at scale, each against a baseline in the same run.
 *
 * 1. `POST /pull` with 64 concurrent clients on a `glacis serve` process (no worker, so
 *    every task stays unfinished) holding 10,000 unfinished tasks, against the same on an
 *    instance holding almost none (only its warm-up's). Each request is a new task on a
 *    path of its own: path check, lock claim, database insert, queue add. Throughput,
 *    p50, p99; `GET /version` on the same server gives the HTTP floor for context.
 *    Run for both task stores, side by side: SQLite (a file) and PostgreSQL (a local
 *    server started here, over TCP on loopback); the PostgreSQL/SQLite ratios are printed.
 * 2. Lock decision time (`PathLocks.claim`, one Redis Lua script) with 100,000 recorded
 *    claims against 100: round trip from the client and Redis's own time per call
 *    (INFO commandstats). The claim looks up by key and by range, so the ratio must stay
 *    under 2.
 *
 *   npm run bench:api [-- --quick] [--tasks 10000] [--clients 64] [--requests 4000]
 *                     [--claims 100000] [--timed-claims 5000] [--rounds 2]
 *
 * Both instances (and the lock prefixes) share one redis-server and one machine, and the
 * rounds alternate between them, so other jobs on the machine weigh on both alike.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { dist, glacisEnv, median, options, percentile, round, startGlacis, startPostgres, startRedis, stopAll, writeResult } from './lib.mjs';

const opts = options(
  { tasks: 10_000, clients: 64, requests: 4_000, claims: 100_000, timedClaims: 5_000, rounds: 2, warmup: 300 },
  { tasks: 1_000, requests: 1_000, claims: 10_000, timedClaims: 1_000, rounds: 1, warmup: 200 },
);
const { PathLocks } = await dist('src/locks/index.js');
const TARGET_LOCK_RATIO = 2;

const base = mkdtempSync(path.join(tmpdir(), 'glacis-bench-api-'));
let postgres;
try {
  const redis = await startRedis(path.join(base, 'redis'));
  postgres = await startPostgres();
  const post = {};
  for (const store of ['sqlite', 'postgres']) post[store] = await postPullBenchmark(redis, store, postgres);
  const lock = await lockBenchmark(redis);
  const storeRatio = {
    loadedThroughput: round(post.postgres.loaded.throughput / post.sqlite.loaded.throughput),
    loadedP99: round(post.postgres.loaded.p99Ms / post.sqlite.loaded.p99Ms),
  };
  const result = { clients: opts.clients, post, storeRatio, lock };
  writeResult(opts.quick ? 'api.quick' : 'api', result);
  for (const [store, p] of Object.entries(post)) {
    console.log(
      `POST /pull (${store}), ${opts.clients} clients: ${p.loaded.throughput}/s, p50 ${p.loaded.p50Ms} ms, p99 ${p.loaded.p99Ms} ms with ${opts.tasks} unfinished tasks; ` +
        `${p.empty.throughput}/s, p50 ${p.empty.p50Ms} ms, p99 ${p.empty.p99Ms} ms with ~${opts.warmup}: p99 ratio ${p.p99Ratio}x (GET /version ${p.floor.throughput}/s)`,
    );
  }
  console.log(`PostgreSQL vs SQLite with ${opts.tasks} unfinished tasks: throughput ${storeRatio.loadedThroughput}x, p99 ${storeRatio.loadedP99}x`);
  console.log(
    `lock claim with ${opts.claims} vs 100 claims: ${lock.loaded.serverUsPerCall} vs ${lock.small.serverUsPerCall} µs in Redis, ` +
      `ratio ${lock.serverRatio}x, round trip p50 ${lock.loaded.p50Us} vs ${lock.small.p50Us} µs, ratio ${lock.roundTripRatio}x (target < ${TARGET_LOCK_RATIO})`,
  );
} finally {
  await postgres?.stop();
  await stopAll();
  rmSync(base, { recursive: true, force: true });
}

async function postPullBenchmark(redis, store, postgres) {
  process.stderr.write(`POST /pull on ${store}\n`);
  const instances = {};
  for (const name of ['empty', 'loaded']) {
    const dir = path.join(base, store, name);
    const local = path.join(dir, 'local');
    mkdirSync(local, { recursive: true });
    mkdirSync(path.join(dir, 'remote'));
    const database = store === 'postgres' ? { DATABASE_URL: await postgres.createDatabase(`bench_${name}`) } : {};
    const env = await glacisEnv(dir, { [local]: { backend: 'local', path: path.join(dir, 'remote') } }, redis.url, database);
    const serve = await startGlacis('serve', dir, env);
    const url = `http://127.0.0.1:${env.PORT}`;
    let next = 0;
    // A path of its own per request: every request makes a new, unblocked task.
    const pull = () => postPull(url, path.join(local, `p${next % 100}`, `f${next++}`));
    instances[name] = { serve, url, pull };
    process.stderr.write(`${name}: warm-up, ${opts.warmup} requests…\n`);
    await load(opts.warmup, opts.clients, pull);
  }
  process.stderr.write(`loaded: recording ${opts.tasks} unfinished tasks…\n`);
  await load(opts.tasks - opts.warmup, opts.clients, instances.loaded.pull);

  const samples = { empty: [], loaded: [] };
  for (let r = 0; r < opts.rounds; r++) {
    for (const name of r % 2 === 0 ? ['empty', 'loaded'] : ['loaded', 'empty']) {
      const s = await load(opts.requests, opts.clients, instances[name].pull);
      samples[name].push(s);
      process.stderr.write(`  round ${r + 1}: ${name} ${s.throughput}/s, p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms\n`);
    }
  }
  const floor = await load(opts.requests, opts.clients, () => getVersion(instances.loaded.url));
  const summary = (list) => ({
    throughput: round(median(list.map((s) => s.throughput)), 0),
    p50Ms: round(median(list.map((s) => s.p50Ms))),
    p99Ms: round(median(list.map((s) => s.p99Ms))),
    rounds: list,
  });
  const empty = summary(samples.empty);
  const loaded = summary(samples.loaded);
  // The next store's run has the machine to itself.
  for (const instance of Object.values(instances)) await instance.serve.stop();
  return {
    requestsPerRound: opts.requests,
    empty: { recordedAtStart: opts.warmup, ...empty },
    loaded: { recordedAtStart: opts.tasks, ...loaded },
    floor: { route: 'GET /version', ...floor },
    throughputRatio: round(empty.throughput / loaded.throughput),
    p50Ratio: round(loaded.p50Ms / empty.p50Ms),
    p99Ratio: round(loaded.p99Ms / empty.p99Ms),
  };
}

async function postPull(url, target) {
  const response = await fetch(`${url}/pull`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path: target }) });
  const body = await response.text();
  if (response.status !== 200) throw new Error(`POST /pull ${response.status}: ${body}`);
}

async function getVersion(url) {
  const response = await fetch(`${url}/version`);
  await response.text();
  if (response.status !== 200) throw new Error(`GET /version ${response.status}`);
}

/** `count` calls of `request`, `clients` at a time; throughput and latency percentiles. */
async function load(count, clients, request) {
  const latencies = [];
  let issued = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (issued < count) {
        issued++;
        const t = process.hrtime.bigint();
        await request();
        latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  return { requests: count, throughput: round(count / seconds, 0), p50Ms: round(percentile(latencies, 50)), p99Ms: round(percentile(latencies, 99)) };
}

/**
 * Claims on two prefixes of the same Redis, one holding 100 claims and one `opts.claims`,
 * laid out like real trees (lab/project/run/file). Timed claims are new files next to
 * recorded ones, so every ancestor lookup lands on populated keys; each is released
 * right after, so the counts stay put.
 */
async function lockBenchmark(redisServer) {
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  try {
    const pathOf = (i, leaf = `f${i}`) => `/data/lab${i % 10}/proj${Math.floor(i / 10) % 100}/run${Math.floor(i / 1000)}/${leaf}`;
    const prefixes = { small: { count: 100, locks: new PathLocks(redis, 'benchlocks-small') }, loaded: { count: opts.claims, locks: new PathLocks(redis, 'benchlocks-loaded') } };
    for (const [name, p] of Object.entries(prefixes)) {
      process.stderr.write(`locks: recording ${p.count} claims (${name})…\n`);
      for (let i = 0; i < p.count; i += 1000) {
        const batch = [];
        for (let j = i; j < Math.min(p.count, i + 1000); j++) batch.push(p.locks.claim({ taskId: `t${j}`, type: j % 3 ? 'pull' : 'freeze', path: pathOf(j), dryRun: false }));
        await Promise.all(batch);
      }
    }
    const samples = { small: [], loaded: [] };
    let next = 0;
    const timed = async (name) => {
      const { count, locks } = prefixes[name];
      const latencies = [];
      const ids = [];
      await redis.config('RESETSTAT');
      for (let i = 0; i < opts.timedClaims; i++) {
        const near = (next++ * 7919) % count;
        const taskId = `timed${next}`;
        const t = process.hrtime.bigint();
        const outcome = await locks.claim({ taskId, type: 'pull', path: pathOf(near, `new${next}`), dryRun: false });
        latencies.push(Number(process.hrtime.bigint() - t) / 1e3);
        if (outcome.kind !== 'claimed' || outcome.blockers !== 0) throw new Error(`unexpected claim outcome ${JSON.stringify(outcome)}`);
        ids.push(taskId);
      }
      const stats = await redis.info('commandstats');
      for (const id of ids) await locks.release(id);
      // evalsha: ioredis runs defined commands by their SHA once Redis has the script.
      const match = /cmdstat_evalsha:calls=(\d+),usec=(\d+)/.exec(stats);
      latencies.sort((a, b) => a - b);
      return { claims: opts.timedClaims, serverUsPerCall: match ? round(Number(match[2]) / Number(match[1])) : NaN, p50Us: round(percentile(latencies, 50), 0), p99Us: round(percentile(latencies, 99), 0) };
    };
    for (let r = 0; r < opts.rounds * 2; r++) {
      for (const name of r % 2 === 0 ? ['small', 'loaded'] : ['loaded', 'small']) {
        const s = await timed(name);
        samples[name].push(s);
        process.stderr.write(`  locks round ${r + 1}: ${name} ${s.serverUsPerCall} µs in Redis, round trip p50 ${s.p50Us} µs, p99 ${s.p99Us} µs\n`);
      }
    }
    const summary = (list, count) => ({
      recorded: count,
      serverUsPerCall: round(median(list.map((s) => s.serverUsPerCall))),
      p50Us: round(median(list.map((s) => s.p50Us)), 0),
      p99Us: round(median(list.map((s) => s.p99Us)), 0),
      rounds: list,
    });
    const small = summary(samples.small, 100);
    const loaded = summary(samples.loaded, opts.claims);
    return {
      small,
      loaded,
      serverRatio: round(loaded.serverUsPerCall / small.serverUsPerCall),
      roundTripRatio: round(loaded.p50Us / small.p50Us),
      target: TARGET_LOCK_RATIO,
    };
  } finally {
    redis.disconnect();
  }
}
