/**
 * Wires the pieces together for a process: the outside systems (database, Redis,
 * rclone, task logs) and the services built on them. `glacis serve`, `glacis worker`
 * and `glacis up` all start from here.
 */
import { createServer, type Server } from 'node:http';
import type { Redis } from 'ioredis';
import { createApp } from '../api/app.js';
import { answerClientError } from '../api/errors.js';
import type { BoardQueue } from '../api/board.js';
import type { Repo, Settings } from '../config/types.js';
import { checkSettingsUsable, unusableSetting } from '../config/usable.js';
import { PathLocks } from '../locks/index.js';
import { findRepo } from '../paths/index.js';
import { describeError, type Logger } from '../log/index.js';
import { countRcloneFailure, createMetricsRegistry, DEPENDENCY_TIMEOUT_MS, probeDependencies, withTimeout } from '../metrics/index.js';
import { registerReportGauges } from '../metrics/report.js';
import { connectRedis, isRedisUnavailable, RedisUnreachableError, safeRedisUrl, waitUntilConnected } from '../queue/connection.js';
import { TaskQueue } from '../queue/task-queue.js';
import { makeRedactor, MIN_REDACTED_LENGTH, Rclone, remoteEnv, secretSettings } from '../rclone/index.js';
import { createAdminAlerter, type AdminAlerter } from '../notify/alert.js';
import { MailQueue } from '../notify/mail-queue.js';
import { startMailWorker } from '../notify/mail-worker.js';
import { Mailer } from '../notify/mailer.js';
import { createTaskEndNotifier, mailEnabled, type TaskEndNotifier } from '../notify/notifier.js';
import { BrowseService } from '../services/browse-service.js';
import { ListingService } from '../services/listing-service.js';
import { ReportService } from '../services/report-service.js';
import { redisOr503, TaskService } from '../services/task-service.js';
import { cleanZombies, startZombieTask } from '../services/zombies.js';
import { autoFreezeQueue, startAutoFreezeWorker, syncAutoFreezeSchedules } from '../schedule/auto-freeze.js';
import { startWatermarkWorker, syncWatermarkSchedule, watermarkQueue } from '../schedule/watermark.js';
import { autoPushQueue, startAutoPushWorker, syncAutoPushSchedules } from '../schedule/auto-push.js';
import { housekeepingQueue, startHousekeepingWorker, syncHousekeepingSchedules } from '../schedule/housekeeping.js';
import { reportScheduleQueue, startReportScheduleWorker, syncReportSchedules } from '../schedule/report.js';
import { removeOldTasks } from '../services/housekeeping.js';
import { databaseKind, databasePassword, shownDatabaseUrl } from '../config/database-url.js';
import { openTaskStore, type TaskStore } from '../store/index.js';
import { UNFINISHED_STATUSES } from '../tasks/registry.js';
import type { TaskLogs } from '../store/task-logs.js';
import { startWorker, type RunningWorker } from '../workers/index.js';
import { PACKAGE_VERSION } from './version.js';

export { PACKAGE_VERSION };

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
  /** Queues the mails of every task that ends, whichever process ends it. */
  readonly notifier: TaskEndNotifier;
  /** The mail queue, when mail is on (`MAIL_SERVER` or `MAIL_SUPPRESS_SEND`). */
  readonly mailQueue?: MailQueue;
  /** Mails `MAIL_ADMIN` at once on a task's behalf (the report's loss alert). */
  readonly alert: AdminAlerter;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /**
   * `api`: starts without Redis (requests that need it answer 503 until it is back).
   * `worker` (also `up`): waits `REDIS_STARTUP_TIMEOUT` for it, then fails with {@link RedisUnreachableError}.
   */
  readonly role: 'api' | 'worker';
}

/** Says once what is wrong and what to check, instead of a connection error per retry. */
async function waitForRedisAtStart(redis: Redis, settings: Settings, log: Logger, role: RuntimeOptions['role']): Promise<void> {
  const where = safeRedisUrl(settings.redisUrl);
  const firstWaitMs = Math.min(3000, settings.redisStartupTimeoutMs);
  if (await waitUntilConnected(redis, firstWaitMs)) return;
  if (role === 'api') {
    log.warn(`Redis at ${where} is not reachable yet: the API answers 503 to requests that need it until it is. Check that redis-server runs there and that REDIS_URL is right`);
    return;
  }
  const seconds = settings.redisStartupTimeoutMs / 1000;
  log.warn(`Redis at ${where} is not reachable; waiting up to ${seconds} s (REDIS_STARTUP_TIMEOUT). Check that redis-server runs there and that REDIS_URL is right`);
  if (await waitUntilConnected(redis, settings.redisStartupTimeoutMs - firstWaitMs)) {
    log.info(`Redis at ${where} is reachable`);
    return;
  }
  throw new RedisUnreachableError(`cannot reach Redis at ${where} after ${seconds} s (REDIS_STARTUP_TIMEOUT): is redis-server running there, and is REDIS_URL right?`);
}

/**
 * @example
 * ```ts
 * const runtime = await openRuntime(settings, repos, logger);
 * const server = await startApi(runtime);
 * ```
 */
export async function openRuntime(settings: Settings, repos: readonly Repo[], log: Logger, options: RuntimeOptions = { role: 'api' }): Promise<Runtime> {
  // A broken path setting is a configuration error naming its key, not a failure later.
  await checkSettingsUsable(settings);
  const store = await openTaskStore(settings.databaseUrl).catch((error: unknown) => {
    // The shown URL has its password masked; pg's own messages never quote it.
    throw databaseKind(settings.databaseUrl) === 'postgres'
      ? unusableSetting('DATABASE_URL', 'a PostgreSQL server Glacis can reach, log in to and create its tables in', shownDatabaseUrl(settings.databaseUrl), error)
      : unusableSetting('DATABASE_URL', 'a SQLite file Glacis can create and open', settings.databaseUrl, error);
  });
  const redis = connectRedis(settings.redisUrl, 'producer');
  await waitForRedisAtStart(redis, settings, log, options.role).catch(async (error: unknown) => {
    redis.disconnect();
    await store.close();
    throw error;
  });
  const prefix = settings.queuePrefix;
  const queue = new TaskQueue(redis, prefix);
  // API tokens too: every logged error goes through `redact`, whatever it quotes.
  const apiSecrets = [...(settings.apiTokens ?? []), ...(settings.metricsToken === undefined ? [] : [settings.metricsToken])];
  const mailSecrets = settings.mail.password === undefined ? [] : [settings.mail.password];
  const databaseSecrets = [databasePassword(settings.databaseUrl)].filter((secret) => secret !== undefined);
  const redact = makeRedactor([...repos.flatMap((repo) => remoteEnv(repo.remote).secrets), ...apiSecrets, ...mailSecrets, ...databaseSecrets]);
  warnShortSecrets(settings, repos, log);
  const locks = new PathLocks(redis, `${prefix}:locks`);
  const logs = store.logs;
  const mailQueue = mailEnabled(settings.mail) ? new MailQueue(redis, { prefix, retryDelayMs: settings.mail.retryDelayMs }) : undefined;
  const notifier = createTaskEndNotifier({ mail: settings.mail, queue: mailQueue, log, redact, autoFreezeMail: (path) => findRepo(repos, path)?.autoFreezeMail });
  return {
    settings,
    repos,
    log,
    store,
    redis,
    locks,
    queue,
    logs,
    rclone: new Rclone({ executable: settings.rcloneExecutable, transferStallTimeoutMs: settings.transferStallTimeoutMs }),
    redact,
    tasks: new TaskService({ repos, store, locks, queue, logs, redis, prefix, notifier, mailEnabled: mailEnabled(settings.mail) }),
    notifier,
    ...(mailQueue ? { mailQueue } : {}),
    alert: createAdminAlerter({ mail: settings.mail, queue: mailQueue, log, redact }),
    async close() {
      await queue.close().catch(() => undefined);
      await mailQueue?.close().catch(() => undefined);
      redis.disconnect();
      await store.close();
    },
  };
}

/** Secrets too short to be redacted (see `MIN_REDACTED_LENGTH`): named by key, never shown. */
function warnShortSecrets(settings: Settings, repos: readonly Repo[], log: Logger): void {
  const advice = `is shorter than ${MIN_REDACTED_LENGTH} characters, too short to be told apart from other text: it is not redacted from messages; use a longer secret`;
  for (const repo of repos) {
    for (const { key } of secretSettings(repo.remote).filter(({ value }) => value.length < MIN_REDACTED_LENGTH)) {
      log.warn(`${settings.reposConf}: repo "${repo.name}": key "${key}" ${advice}`);
    }
  }
  if (settings.mail.password !== undefined && settings.mail.password.length < MIN_REDACTED_LENGTH) log.warn(`key "MAIL_PASSWORD" ${advice}`);
}

/** Starts the REST API; resolves once it listens. */
export async function startApi(runtime: Runtime): Promise<Server> {
  const { settings, log } = runtime;
  const schedules = autoFreezeQueue(runtime.redis, settings.queuePrefix);
  const pushSchedules = autoPushQueue(runtime.redis, settings.queuePrefix);
  const housekeeping = housekeepingQueue(runtime.redis, settings.queuePrefix);
  const reportSchedules = reportScheduleQueue(runtime.redis, settings.queuePrefix);
  const watermarks = watermarkQueue(runtime.redis, settings.queuePrefix);
  try {
    // A BullMQ queue waits for ever for a connection that was never ready: fail instead.
    if (runtime.redis.status !== 'ready') throw new Error('Redis is not reachable');
    const scheduled = await syncAutoFreezeSchedules(schedules, runtime.repos);
    if (scheduled.length > 0) log.info('auto-freeze scheduled', { repos: scheduled });
    const pushes = await syncAutoPushSchedules(pushSchedules, runtime.repos);
    if (pushes.length > 0) log.info('auto-push scheduled', { repos: pushes });
    await syncHousekeepingSchedules(housekeeping, { cleanup: settings.cleanupIntervalMs, zombies: settings.zombiesIntervalMs });
    const reporting = await syncReportSchedules(reportSchedules, runtime.repos);
    if (reporting.length > 0) log.info('reports scheduled', { repos: reporting });
    if (await syncWatermarkSchedule(watermarks, runtime.repos, settings.watermarkCheckIntervalMs)) log.info('watermark check scheduled', { every_seconds: settings.watermarkCheckIntervalMs / 1000 });
  } catch (error) {
    // Redis down at start-up: the API still starts (and answers 503); the next start syncs.
    log.error('could not update the auto-freeze, auto-push and housekeeping schedules', { error: runtime.redact(describeError(error)) });
  }
  // Kept open for Bull Board while the API serves, and closed with the server. They share
  // the runtime's connection, so closing them only lets go of it (before `runtime.close()`).
  const boardQueues: BoardQueue[] = [runtime.queue.queue, schedules, pushSchedules, housekeeping, reportSchedules, ...(runtime.mailQueue ? [runtime.mailQueue.queue] : [])];
  const closeBoardQueues = (): Promise<unknown> => Promise.all([schedules.close(), pushSchedules.close(), housekeeping.close(), reportSchedules.close(), watermarks.close()]).catch(() => undefined);
  const reports = new ReportService(runtime.repos, runtime.store);
  const metricsRegistry = createMetricsRegistry({ store: runtime.store, queue: runtime.queue.queue, redis: runtime.redis, prefix: settings.queuePrefix });
  registerReportGauges(metricsRegistry, () => reports.latestOfEachRepo(), (operation) => withTimeout(operation, DEPENDENCY_TIMEOUT_MS));
  const app = createApp({
    tasks: runtime.tasks,
    listing: new ListingService(runtime.repos, runtime.rclone),
    browse: new BrowseService(runtime.repos, runtime.rclone, runtime.store.catalogue),
    reports,
    version: settings.version ?? PACKAGE_VERSION,
    startZombieTask: () => redisOr503(() => startZombieTask({ ...runtime, onError: (error) => log.error('zombie clean-up failed', { error: runtime.redact(describeError(error)) }) })),
    onServerError: (error) => log.error('request failed', { error: runtime.redact(describeError(error)) }),
    auth: { apiTokens: settings.apiTokens, metricsToken: settings.metricsToken },
    boardQueues,
    probeDependencies: () => probeDependencies({ redis: runtime.redis, store: runtime.store }),
    metrics: metricsRegistry,
  });
  // Not `app.listen`: Express 5 hands a listen error (EADDRINUSE) to the callback, and
  // resolving there left `glacis up` "up" on a port it never had (test/cli/startup.test.ts).
  const server = createServer(app);
  // Requests Node's parser refuses get a JSON error too, not a bare status line.
  server.on('clientError', answerClientError);
  server.once('close', () => void closeBoardQueues());
  return new Promise((resolve, reject) => {
    server.once('error', (error) => {
      if (server.listening) return;
      void closeBoardQueues();
      reject(error);
    });
    server.listen(settings.port, settings.host, () => resolve(server));
  });
}

/** Starts a worker consuming the task queue, the consumers of fired auto-freeze and housekeeping schedules, and the mail sender. */
export async function startTaskWorker(runtime: Runtime): Promise<RunningWorker> {
  const { settings, log } = runtime;
  const connection = connectRedis(settings.redisUrl, 'worker');
  // Redis going away made BullMQ report ECONNREFUSED twice a second for ever: say it once,
  // with what to check, and once more when it is back.
  let redisLost = false;
  const onError = (error: unknown): void => {
    if (isRedisUnavailable(error)) {
      if (!redisLost) log.error(`lost Redis at ${safeRedisUrl(settings.redisUrl)} (${runtime.redact(describeError(error))}); retrying. Check that redis-server runs there and that REDIS_URL is right`);
      redisLost = true;
      return;
    }
    log.error('worker error', { error: runtime.redact(describeError(error)) });
  };
  connection.on('ready', () => {
    if (redisLost) log.info('Redis is reachable again');
    redisLost = false;
  });
  const running = await startWorker(
    connection,
    {
      repos: runtime.repos,
      store: runtime.store,
      // On the worker's connection, which waits for Redis: the runtime's fails at once (for
      // the API's 503s), so a task ending while Redis was down left its path locked for
      // ever, and every overlapping task waiting (test/safety/redis.test.ts found it).
      locks: new PathLocks(connection, `${settings.queuePrefix}:locks`),
      logs: runtime.logs,
      rclone: runtime.rclone,
      redact: runtime.redact,
      log,
      // The runtime's connection fails fast when Redis is down: a lost count never holds up a task.
      countRcloneFailure: () => countRcloneFailure(runtime.redis, settings.queuePrefix),
      notifier: runtime.notifier,
      alert: runtime.alert,
    },
    {
      concurrency: settings.workerConcurrency,
      prefix: settings.queuePrefix,
      lockDurationMs: settings.workerLockDurationMs,
      shutdownGraceMs: settings.shutdownGraceMs,
      onError,
    },
  );
  const autoFreeze = startAutoFreezeWorker(connection.duplicate(), settings.queuePrefix, (request) => runtime.tasks.submit(request), onError);
  const reportSchedule = startReportScheduleWorker(connection.duplicate(), settings.queuePrefix, (request) => runtime.tasks.submit(request), onError);
  const autoPush = startAutoPushWorker(connection.duplicate(), settings.queuePrefix, (request) => runtime.tasks.submit(request), onError);
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
  const watermarkChecks = startWatermarkWorker(
    connection.duplicate(),
    settings.queuePrefix,
    {
      repos: runtime.repos,
      redis: runtime.redis,
      prefix: settings.queuePrefix,
      submit: (request) => runtime.tasks.submit(request),
      unfinished: async (taskId) => {
        const task = await runtime.store.get(taskId);
        return task !== undefined && UNFINISHED_STATUSES.includes(task.status);
      },
    },
    onError,
    (outcome) => {
      for (const { repo, task } of outcome.submitted) log.info('watermark freeze submitted: the disk is above high_watermark', { repo, task });
    },
  );
  const mails = runtime.mailQueue
    ? startMailWorker(
        connection.duplicate(),
        { store: runtime.store, logs: runtime.logs, mailer: new Mailer(settings.mail, log), admins: settings.mail.admins, log },
        { prefix: settings.queuePrefix, onError },
      )
    : undefined;
  return {
    worker: running.worker,
    async close() {
      await Promise.all([running.close(), autoFreeze.close(), reportSchedule.close(), autoPush.close(), housekeeping.close(), watermarkChecks.close(), mails?.close()]);
    },
  };
}
