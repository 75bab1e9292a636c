/**
 * Prometheus metrics for `GET /metrics`. Workers are separate processes (often on other
 * hosts), so nothing is counted in this process: every scrape reads the shared state —
 * aggregates over the task records (one indexed scan), the queue's job counts and the
 * workers' rclone failure counter in Redis. A dependency that does not answer leaves its
 * metrics out of the scrape instead of failing it.
 */
import type { Redis } from 'ioredis';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { TaskQueue } from '../queue/task-queue.js';
import { RcloneError, RemoteNotFoundError } from '../rclone/errors.js';
import type { TaskStatsGroup, TaskStore } from '../store/types.js';
import { QUEUED_KIND_NAMES, TASK_KINDS, TASK_STATUSES } from '../tasks/registry.js';
import { DEPENDENCY_TIMEOUT_MS, withTimeout } from './dependencies.js';

export { DEPENDENCY_TIMEOUT_MS, probeDependencies, withTimeout, type Dependencies, type DependencyStatus } from './dependencies.js';

/** Upper bounds, in seconds, of the task duration histogram's buckets: a second to a day. */
export const TASK_DURATION_BOUNDS: readonly number[] = [1, 10, 60, 300, 900, 3600, 4 * 3600, 12 * 3600, 86_400];

/** Queue states reported by `glacis_queue_jobs`; waiting + prioritized + delayed is the backlog. */
const QUEUE_STATES = ['waiting', 'prioritized', 'delayed', 'active'] as const;

export interface MetricsSources {
  readonly store: Pick<TaskStore, 'stats'>;
  readonly queue: Pick<TaskQueue['queue'], 'getJobCounts'>;
  /** A connection that fails fast when Redis is down (the API's `producer` connection). */
  readonly redis: Redis;
  /** The queue prefix shared with the workers. */
  readonly prefix: string;
}

/**
 * A registry of its own (not prom-client's global one), so several instances in one
 * process (tests) do not collide. Includes prom-client's default process metrics.
 *
 * @example
 * ```ts
 * const registry = createMetricsRegistry({ store, queue: taskQueue.queue, redis, prefix: 'glacis' });
 * app.get('/metrics', async (_req, res) => res.type(registry.contentType).send(await registry.metrics()));
 * ```
 */
export function createMetricsRegistry(sources: MetricsSources, timeoutMs: number = DEPENDENCY_TIMEOUT_MS): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  // Every metric's collect() runs at each scrape, concurrently: they share one read of each source.
  const snapshot = sharedWhileRunning(() => readSnapshot(sources, timeoutMs));

  new Gauge({
    name: 'glacis_tasks',
    help: 'Task records by type and status (as kept: ended tasks are removed after CLEANUP_AGE).',
    labelNames: ['type', 'status'],
    registers,
    async collect() {
      this.reset();
      const { tasks } = await snapshot();
      if (!tasks) return;
      // Kinds a worker runs (the zombie clean-up is not counted here, as before).
      for (const type of QUEUED_KIND_NAMES) for (const status of TASK_STATUSES) this.set({ type, status }, 0);
      for (const group of tasks) this.set({ type: group.type, status: group.status }, group.count);
    },
  });
  // One bytes gauge per kind that declares one (glacis_pulled_bytes, glacis_freed_bytes).
  for (const kind of TASK_KINDS) {
    if (!kind.metricsBytes) continue;
    new Gauge({
      name: kind.metricsBytes.name,
      help: kind.metricsBytes.help,
      registers,
      async collect() {
        const { tasks } = await snapshot();
        if (tasks) this.set(sum(tasks.filter((group) => group.type === kind.name).map((group) => group.bytes)));
        else this.remove({});
      },
    });
  }
  new CountedHistogram(
    {
      name: 'glacis_task_duration_seconds',
      help: 'Run time (start to end) of the ended tasks on record, by type and final status.',
      labelNames: ['type', 'status'],
      buckets: [...TASK_DURATION_BOUNDS],
      registers,
    },
    async () =>
      ((await snapshot()).tasks ?? [])
        .filter((group) => group.timed > 0)
        .map((group) => ({ labels: { type: group.type, status: group.status }, buckets: group.durationBuckets, count: group.timed, sum: group.durationSeconds })),
  );

  new Gauge({
    name: 'glacis_queue_jobs',
    help: 'Jobs in the task queue by state (absent while Redis is unreachable).',
    labelNames: ['state'],
    registers,
    async collect() {
      this.reset();
      const { queue } = await snapshot();
      if (queue) for (const state of QUEUE_STATES) this.set({ state }, queue[state] ?? 0);
    },
  });
  new Counter({
    name: 'glacis_rclone_failures_total',
    help: 'Tasks failed by an rclone error, counted by the workers in Redis (absent while Redis is unreachable).',
    registers,
    async collect() {
      this.reset();
      const { rcloneFailures } = await snapshot();
      if (rcloneFailures === undefined) this.remove({});
      else this.inc(rcloneFailures);
    },
  });
  new Gauge({
    name: 'glacis_dependency_up',
    help: 'Whether a dependency answered during this scrape (1) or not (0).',
    labelNames: ['dependency'],
    registers,
    async collect() {
      const { tasks, queue } = await snapshot();
      this.set({ dependency: 'database' }, tasks ? 1 : 0);
      this.set({ dependency: 'redis' }, queue ? 1 : 0);
    },
  });
  return registry;
}

/**
 * Counts a task failed by rclone (called by workers; read by every API's `/metrics`).
 *
 * @example
 * ```ts
 * if (isRcloneFailure(error)) await countRcloneFailure(redis, 'glacis');
 * ```
 */
export async function countRcloneFailure(redis: Redis, prefix: string): Promise<void> {
  await redis.incr(rcloneFailuresKey(prefix));
}

/**
 * True when rclone itself failed (anywhere in the error's cause chain). A path missing on
 * the remote is the request's problem, not rclone's, and does not count.
 *
 * @example
 * ```ts
 * isRcloneFailure(new RcloneError('rclone copy failed (exit code 1)', { exitCode: 1 })); // true
 * ```
 */
export function isRcloneFailure(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 8; cause = cause.cause, depth++) {
    if (cause instanceof RcloneError) return !(cause instanceof RemoteNotFoundError);
  }
  return false;
}

function rcloneFailuresKey(prefix: string): string {
  return `${prefix}:metrics:rclone_failures`;
}

/** One scrape's reads; a source that failed or timed out is undefined. */
interface Snapshot {
  readonly tasks?: readonly TaskStatsGroup[];
  readonly queue?: Readonly<Record<string, number>>;
  readonly rcloneFailures?: number;
}

async function readSnapshot(sources: MetricsSources, timeoutMs: number): Promise<Snapshot> {
  const settle = <T>(operation: () => Promise<T>): Promise<T | undefined> => withTimeout(operation(), timeoutMs).catch(() => undefined);
  // Not connected: the queue would wait for the connection (up to the timeout) to fail anyway.
  const redisReady = sources.redis.status === 'ready';
  const [tasks, queue, rcloneFailures] = await Promise.all([
    settle(() => sources.store.stats(TASK_DURATION_BOUNDS)),
    redisReady ? settle(() => sources.queue.getJobCounts(...QUEUE_STATES)) : undefined,
    redisReady ? settle(async () => Number((await sources.redis.get(rcloneFailuresKey(sources.prefix))) ?? 0)) : undefined,
  ]);
  return {
    ...(tasks ? { tasks } : {}),
    ...(queue ? { queue } : {}),
    ...(rcloneFailures !== undefined ? { rcloneFailures } : {}),
  };
}

/** Calls to the returned function while `read` runs share its result; the next call reads again. */
function sharedWhileRunning<T>(read: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  return () => {
    running ??= read().finally(() => {
      running = undefined;
    });
    return running;
  };
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

/** One labelled series of a {@link CountedHistogram}: cumulative counts per bucket bound. */
interface CountedSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly buckets: readonly number[];
  readonly count: number;
  readonly sum: number;
}

/** A sample as prom-client's registry renders it: `metricName{labels,sharedLabels} value`. */
interface ExportedValue {
  readonly metricName: string;
  readonly labels: Record<string, string | number>;
  readonly sharedLabels: Readonly<Record<string, string>>;
  readonly value: number;
}

/**
 * A histogram whose buckets arrive already counted (by the database) rather than
 * observed one value at a time, which prom-client has no API for. The registry reads a
 * histogram through `getForPromString` (and `get` goes through it too), so that is
 * what this replaces, answering in prom-client's own shape; the exposition test parses
 * the result, so a change of that internal in prom-client fails loudly.
 */
class CountedHistogram<T extends string> extends Histogram<T> {
  private readonly bounds: readonly number[];
  private readonly metricName: string;
  private readonly metricHelp: string;

  constructor(
    config: { name: string; help: string; labelNames: readonly T[]; buckets: number[]; registers: Registry[] },
    private readonly read: () => Promise<readonly CountedSeries[]>,
  ) {
    super(config);
    this.bounds = config.buckets;
    this.metricName = config.name;
    this.metricHelp = config.help;
  }

  async getForPromString(): Promise<{ name: string; help: string; type: string; aggregator: string; values: ExportedValue[] }> {
    const bucket = `${this.metricName}_bucket`;
    const values = (await this.read()).flatMap((series): ExportedValue[] => [
      ...this.bounds.map((le, i) => ({ metricName: bucket, labels: { le }, sharedLabels: series.labels, value: series.buckets[i] ?? series.count })),
      { metricName: bucket, labels: { le: '+Inf' }, sharedLabels: series.labels, value: series.count },
      { metricName: `${this.metricName}_sum`, labels: {}, sharedLabels: series.labels, value: series.sum },
      { metricName: `${this.metricName}_count`, labels: {}, sharedLabels: series.labels, value: series.count },
    ]);
    return { name: this.metricName, help: this.metricHelp, type: 'histogram', aggregator: 'sum', values };
  }
}
