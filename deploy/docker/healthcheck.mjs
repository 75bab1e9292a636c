#!/usr/bin/env node
// Container healthcheck (docker-compose.prod.yml), run inside the glacis image:
//   node deploy/docker/healthcheck.mjs serve    GET /health of the API in this container
//   node deploy/docker/healthcheck.mjs worker   Redis answers PING (a worker serves no HTTP)
// Settings are read as `glacis` reads them (local.cfg, then the environment), so a PORT or
// REDIS_URL set in either is followed. Exit 0 healthy, 1 not; one line on stderr says why,
// never a URL (REDIS_URL may carry a password).
import { loadSettings } from '../../dist/src/config/settings.js';
import { withTimeout } from '../../dist/src/metrics/dependencies.js';
import { connectRedis, waitUntilConnected } from '../../dist/src/queue/connection.js';

/** Docker's default healthcheck timeout is 30 s; answer well within any sane setting. */
const TIMEOUT_MS = 2000;

/** An API bound to every interface is asked on loopback; one bound to an address, there. */
function probeHost(host) {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

async function checkApi(settings) {
  const response = await fetch(`http://${probeHost(settings.host)}:${settings.port}/health`, {
    signal: AbortSignal.timeout(TIMEOUT_MS),
  }).catch((error) => {
    throw new Error(`GET /health failed (${error?.cause?.code ?? error?.name ?? 'no answer'})`);
  });
  if (!response.ok) throw new Error(`GET /health answered ${response.status}`);
}

async function checkRedis(settings) {
  // A producer connection refuses commands until it is up, and gives up fast when Redis is down.
  const redis = connectRedis(settings.redisUrl, 'producer');
  try {
    if (!(await waitUntilConnected(redis, TIMEOUT_MS))) throw new Error('not connected');
    await withTimeout(redis.ping(), TIMEOUT_MS);
  } catch {
    throw new Error('Redis does not answer PING');
  } finally {
    redis.disconnect();
  }
}

const checks = { serve: checkApi, worker: checkRedis };
const role = process.argv[2];
const check = checks[role];
if (check === undefined) {
  process.stderr.write(`usage: healthcheck.mjs ${Object.keys(checks).join('|')}\n`);
  process.exit(2);
}
try {
  await check(loadSettings({ env: process.env, warn: () => undefined }));
  process.exit(0);
} catch (error) {
  process.stderr.write(`unhealthy: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
