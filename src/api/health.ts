/**
 * The routes for probes and scrapers: `/health` (the process answers), `/ready` (and so
 * do Redis and the database) and `/metrics` (Prometheus). Kept apart from the API routes
 * so each can be guarded on its own (the metrics token applies to `/metrics` only).
 */
import type { RequestHandler } from 'express';
import type { Registry } from 'prom-client';
import type { DependencyStatus } from '../metrics/index.js';
import type { HealthJson, NotReadyJson, ReadyJson } from '../wire/index.js';

/**
 * `GET /health`: 200 `{"status":"ok"}` as long as the process serves requests; touches
 * nothing else, so a Redis outage does not get the API restarted by its supervisor.
 *
 * @example
 * ```ts
 * app.get('/health', health);
 * ```
 */
export const health: RequestHandler = (_req, res) => {
  res.json({ status: 'ok' } satisfies HealthJson);
};

/**
 * `GET /ready`: 200 `{"ready":true,"redis":true,"database":true}` when both answer,
 * else 503 `{"error":"…","redis":false,"database":true}`; within the probe's time bound.
 *
 * @example
 * ```ts
 * app.get('/ready', ready(() => probeDependencies({ redis, store })));
 * ```
 */
export function ready(probe: () => Promise<DependencyStatus>): RequestHandler {
  return async (_req, res) => {
    const status = await probe();
    const down = [...(status.redis ? [] : ['Redis']), ...(status.database ? [] : ['the database'])];
    res.set('Cache-Control', 'no-store');
    if (down.length === 0) res.json({ ready: true, redis: true, database: true } satisfies ReadyJson);
    else res.status(503).json({ error: `not ready: ${down.join(' and ')} ${down.length > 1 ? 'are' : 'is'} unreachable`, redis: status.redis, database: status.database } satisfies NotReadyJson);
  };
}

/**
 * `GET /metrics`: the registry in Prometheus's text format. Always 200 once the scrape
 * completes: a dependency that does not answer leaves its metrics out.
 *
 * @example
 * ```ts
 * app.get('/metrics', metrics(createMetricsRegistry(sources)));
 * ```
 */
export function metrics(registry: Registry): RequestHandler {
  return async (_req, res) => {
    const text = await registry.metrics();
    res.set('Cache-Control', 'no-store').type(registry.contentType).send(text);
  };
}
