/**
 * The `glacis` command: `serve` (API), `worker` (task processor), `up` (both, with
 * Redis started if none is configured), and the client commands of src/cli/client.
 */
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/errors.js';
import { loadRepos } from '../config/repos.js';
import { loadSettings } from '../config/settings.js';
import type { Settings } from '../config/types.js';
import { createLogger, describeError, type Logger } from '../log/index.js';
import { PACKAGE_VERSION } from '../runtime/version.js';
import { CliError, EXIT, registerClientCommands } from './client/index.js';
import { startEmbeddedRedis } from './embedded-redis.js';

/** Exit codes, as documented in the README. */
export { EXIT };

// The runtime (express, BullMQ, SQLite, …) is loaded by the server commands only, so that
// the client commands start in a fraction of the time.
const loadRuntime = () => import('../runtime/index.js');

interface GlobalOptions {
  config?: string;
}

function loadConfig(options: GlobalOptions): { settings: Settings; log: Logger; repos: ReturnType<typeof loadRepos> } {
  const settings = loadSettings({ ...(options.config ? { configPath: options.config } : {}), env: process.env, warn: (m) => process.stderr.write(`warning: ${m}\n`) });
  const log = createLogger(settings.runMode);
  const repos = loadRepos(settings.reposConf);
  if (repos.length === 0) log.warn(`no repositories configured in ${settings.reposConf}`);
  return { settings, log, repos };
}

/** Runs until SIGTERM/SIGINT, then calls `stop` once. */
function onShutdown(log: Logger, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal} received: shutting down`);
    stop().then(
      () => process.exit(EXIT.ok),
      (error: unknown) => {
        log.error('shutdown failed', { error: describeError(error) });
        process.exit(EXIT.failure);
      },
    );
  };
  process.on('SIGTERM', () => handler('SIGTERM'));
  process.on('SIGINT', () => handler('SIGINT'));
}

async function serve(options: GlobalOptions): Promise<void> {
  const { settings, log, repos } = loadConfig(options);
  const { openRuntime, startApi } = await loadRuntime();
  const runtime = await openRuntime(settings, repos, log);
  const server = await startApi(runtime);
  log.info(`Glacis API listening on http://${settings.host}:${settings.port}`, { repos: repos.length });
  onShutdown(log, async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await runtime.close();
  });
}

async function worker(options: GlobalOptions): Promise<void> {
  const { settings, log, repos } = loadConfig(options);
  const { openRuntime, startTaskWorker } = await loadRuntime();
  const runtime = await openRuntime(settings, repos, log);
  const running = await startTaskWorker(runtime);
  log.info(`Glacis worker started (concurrency ${settings.workerConcurrency})`, { repos: repos.length });
  onShutdown(log, async () => {
    await running.close();
    await runtime.close();
  });
}

async function up(options: GlobalOptions): Promise<void> {
  const loaded = loadConfig(options);
  const { log, repos } = loaded;
  let settings = loaded.settings;
  const embedded = settings.redisUrlExplicit ? undefined : await startEmbeddedRedis('./data/redis');
  if (embedded) {
    settings = { ...settings, redisUrl: embedded.url };
    log.info(`started redis-server at ${embedded.url} (data in ./data/redis)`);
  }
  const { openRuntime, startApi, startTaskWorker } = await loadRuntime();
  const runtime = await openRuntime(settings, repos, log);
  const server = await startApi(runtime);
  const running = await startTaskWorker(runtime);
  log.info(`Glacis is up: API on http://${settings.host}:${settings.port}, one worker`, { repos: repos.map((r) => r.localPath) });
  onShutdown(log, async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await running.close();
    await runtime.close();
    await embedded?.stop();
  });
}

/**
 * @example
 * ```ts
 * await main(['node', 'glacis', 'serve', '--config', './local.cfg']);
 * ```
 */
export async function main(argv: readonly string[]): Promise<void> {
  const program = new Command('glacis')
    .description('Hot/cold tiering of file repositories: freeze cold files that are safe on a remote, pull them back on demand.')
    .version(PACKAGE_VERSION)
    .option('-c, --config <file>', "local.cfg to read (default: $GLACIS_CONFIG, else ./local.cfg when present)")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  program.command('serve').description('run the REST API (and the schedulers)').action(() => serve(program.opts<GlobalOptions>()));
  program.command('worker').description('run a worker that processes pull and freeze tasks').action(() => worker(program.opts<GlobalOptions>()));
  program
    .command('up')
    .description('run the API and one worker together; starts its own redis-server when REDIS_URL is not set')
    .action(() => up(program.opts<GlobalOptions>()));
  registerClientCommands(program);
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    process.exitCode = exitCodeFor(error);
  }
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  if (error instanceof CliError) {
    process.stderr.write(`glacis: ${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof ConfigError) {
    process.stderr.write(`glacis: configuration error: ${error.message}\n`);
    return EXIT.usage;
  }
  const message = describeError(error);
  if (/ECONNREFUSED|Redis/i.test(message)) {
    process.stderr.write(`glacis: cannot reach Redis: ${message}. Is redis-server running, and is REDIS_URL right?\n`);
    return EXIT.unreachable;
  }
  process.stderr.write(`glacis: ${message}\n`);
  return EXIT.failure;
}
