/**
 * Wires the pieces together for a process: the outside systems (database, Redis,
 * rclone, task logs) and the services built on them. `glacis serve`, `glacis worker`
 * and `glacis up` all start from here.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { createApp } from '../api/app.js';
import type { Repo, Settings } from '../config/types.js';
import { PathLocks } from '../locks/index.js';
import { describeError, type Logger } from '../log/index.js';
import { connectRedis, waitUntilConnected } from '../queue/connection.js';
import { TaskQueue } from '../queue/task-queue.js';
import { makeRedactor, Rclone, remoteEnv } from '../rclone/index.js';
import { ListingService } from '../services/listing-service.js';
import { TaskService } from '../services/task-service.js';
import { cleanZombies } from '../services/zombies.js';
import { autoFreezeQueue, startAutoFreezeWorker, syncAutoFreezeSchedules } from '../schedule/auto-freeze.js';
import { housekeepingQueue, startHousekeepingWorker, syncHousekeepingSchedules } from '../schedule/housekeeping.js';
import { removeOldTasks } from '../services/housekeeping.js';
import { openTaskStore, type TaskStore } from '../store/index.js';
import { TaskLogs } from '../store/task-logs.js';
import { startWorker, type RunningWorker } from '../../workers/index.js';

/** The package version, reported by `/version` unless the settings override it. */
export const PACKAGE_VERSION: string = readPackageVersion();

// The same code runs from src/ (tests) and dist/src/ (installed): look upwards.
function readPackageVersion(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'glacis' && pkg.version) return pkg.version;
    } catch {
      // not here: keep looking
    }
  }
  return '0.0.0';
}

/** What every Glacis process shares. */
export interface Runtime {
  readonly settings: Settings;
  readonly repos: readonly Repo[];
  readonly log: Logger;
  readonly store: TaskStore;
  readonly redis: Redis;
  readonly locks: PathLocks;
  readonly queue: TaskQueue;
  readonly logs: TaskLogs;
  readonly rclone: Rclone;
  readonly redact: (text: string) => string;
  readonly tasks: TaskService;
  close(): Promise<void>;
}

/**
 * @example
 * ```ts
 * const runtime = await openRuntime(settings, repos, logger);
 * const server = await startApi(runtime);
 * ```
 */
export async function openRuntime(settings: Settings, repos: readonly Repo[], log: Logger): Promise<Runtime> {
  const store = await openTaskStore(settings.databaseUrl);
  const redis = connectRedis(settings.redisUrl, 'producer');
  if (!(await waitUntilConnected(redis, 3000))) log.warn('Redis is not reachable yet; requests that need it answer 503 until it is');
  const prefix = settings.queuePrefix;
  const queue = new TaskQueue(redis, prefix);
  const redact = makeRedactor(repos.flatMap((repo) => remoteEnv(repo.remote).secrets));
  const locks = new PathLocks(redis, `${prefix}:locks`);
  const logs = new TaskLogs(settings.taskLogDir);
  return {
    settings,
    repos,
    log,
    store,
    redis,
    locks,
    queue,
    logs,
    rclone: new Rclone({ executable: settings.rcloneExecutable }),
    redact,
    tasks: new TaskService({ repos, store, locks, queue, logs, redis, prefix }),
    async close() {
      await queue.close().catch(() => undefined);
      redis.disconnect();
      await store.close();
    },
  };
}

/** Starts the REST API; resolves once it listens. */
export async function startApi(runtime: Runtime): Promise<Server> {
  const { settings, log } = runtime;
  const schedules = autoFreezeQueue(runtime.redis, settings.queuePrefix);
  const housekeeping = housekeepingQueue(runtime.redis, settings.queuePrefix);
  try {
    const scheduled = await syncAutoFreezeSchedules(schedules, runtime.repos);
    if (scheduled.length > 0) log.info('auto-freeze scheduled', { repos: scheduled });
    await syncHousekeepingSchedules(housekeeping, { cleanup: settings.cleanupIntervalMs, zombies: settings.zombiesIntervalMs });
  } catch (error) {
    // Redis down at start-up: the API still starts (and answers 503); the next start syncs.
    log.error('could not update the auto-freeze and housekeeping schedules', { error: runtime.redact(describeError(error)) });
  } finally {
    await Promise.all([schedules.close(), housekeeping.close()]).catch(() => undefined);
  }
  const app = createApp({
    tasks: runtime.tasks,
    listing: new ListingService(runtime.repos, runtime.rclone),
    version: settings.version ?? PACKAGE_VERSION,
    cleanZombies: () => cleanZombies(runtime),
    onServerError: (error) => log.error('request failed', { error: runtime.redact(describeError(error)) }),
  });
  return new Promise((resolve, reject) => {
    const server = app.listen(settings.port, settings.host, () => resolve(server));
    server.once('error', reject);
  });
}

/** Starts a worker consuming the task queue, and the consumers of fired auto-freeze and housekeeping schedules. */
export async function startTaskWorker(runtime: Runtime): Promise<RunningWorker> {
  const { settings, log } = runtime;
  const onError = (error: unknown): void => log.error('worker error', { error: runtime.redact(describeError(error)) });
  const connection = connectRedis(settings.redisUrl, 'worker');
  const running = await startWorker(
    connection,
    { repos: runtime.repos, store: runtime.store, locks: runtime.locks, logs: runtime.logs, rclone: runtime.rclone, redact: runtime.redact },
    {
      concurrency: settings.workerConcurrency,
      prefix: settings.queuePrefix,
      lockDurationMs: settings.workerLockDurationMs,
      shutdownGraceMs: settings.shutdownGraceMs,
      onError,
    },
  );
  const autoFreeze = startAutoFreezeWorker(connection.duplicate(), settings.queuePrefix, (request) => runtime.tasks.submit(request), onError);
  const housekeeping = startHousekeepingWorker(
    connection.duplicate(),
    settings.queuePrefix,
    {
      cleanup: () => removeOldTasks(runtime, settings.cleanupAgeMs),
      zombies: async () => (await cleanZombies(runtime)).length,
    },
    (job, count) => {
      if (count > 0) log.info(job === 'cleanup' ? 'old tasks removed' : 'zombie tasks marked failed', { count });
    },
    onError,
  );
  return {
    worker: running.worker,
    async close() {
      await Promise.all([running.close(), autoFreeze.close(), housekeeping.close()]);
    },
  };
}
