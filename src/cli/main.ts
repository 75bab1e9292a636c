/**
 * The `glacis` command: `serve` (API), `worker` (task processor), `up` (both, with
 * Redis started if none is configured), and the client commands of src/cli/client.
 */
import type { Server } from 'node:http';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ConfigError } from '../config/errors.js';
import { loadRepos } from '../config/repos.js';
import { loadSettings } from '../config/settings.js';
import { checkSettingsUsable } from '../config/usable.js';
import type { Settings } from '../config/types.js';
import { createLogger, describeError, logFormat, type Logger } from '../log/index.js';
import { PACKAGE_VERSION } from '../runtime/version.js';
import { wholeNumberIn } from '../text/values.js';
import { CliError, EXIT, registerClientCommands } from './client/index.js';
import { startEmbeddedRedis, type EmbeddedRedis } from './embedded-redis.js';
import { acquireUpLock } from './up-lock.js';

/** Exit codes, as documented in the README. */
export { EXIT };

// The runtime (express, BullMQ, SQLite, …) is loaded by the server commands only, so that
// the client commands start in a fraction of the time.
const loadRuntime = () => import('../runtime/index.js');

interface GlobalOptions {
  config?: string;
}

interface ServerOptions {
  port?: number;
}

/** Set by the server commands: their start-up failing ends the process. */
let serverCommand = false;

/** How much longer than the grace period a shutdown may take before the process gives up on it. */
const SHUTDOWN_MARGIN_MS = 5_000;

function loadConfig(options: GlobalOptions, serverOptions: ServerOptions = {}): { settings: Settings; log: Logger; repos: ReturnType<typeof loadRepos> } {
  serverCommand = true;
  const loaded = loadSettings({ ...(options.config ? { configPath: options.config } : {}), env: process.env, warn: (m) => process.stderr.write(`warning: ${m}\n`) });
  const settings = serverOptions.port === undefined ? loaded : { ...loaded, port: serverOptions.port };
  const log = createLogger(logFormat(settings.runMode, settings.logFormat, process.stdout.isTTY));
  const repos = loadRepos(settings.reposConf, (m) => process.stderr.write(`warning: ${m}\n`));
  if (repos.length === 0) log.warn(`no repositories configured in ${settings.reposConf}`);
  return { settings, log, repos };
}

/** `--port`: the same range as `PORT`. */
function parsePort(value: string): number {
  const port = wholeNumberIn(value, { min: 1, max: 65535 });
  if (port !== undefined) return port;
  throw new InvalidArgumentError('a port must be a whole number from 1 to 65535.');
}

/**
 * Runs until SIGTERM/SIGINT, then calls `stop` once. The stop is bounded: BullMQ's `close()`
 * waits for Redis, so a worker told to stop after Redis went away never exited
 * (test/cli/startup.test.ts). After the grace period and a margin the process says what it
 * abandons and exits; a second signal exits at once.
 */
function onShutdown(log: Logger, graceMs: number, stop: () => Promise<void>): void {
  let stopping = false;
  const handler = (signal: string): void => {
    if (stopping) {
      log.warn(`${signal} received again: exiting now; running tasks are handed to another worker once their lock expires`);
      process.exit(EXIT.failure);
    }
    stopping = true;
    const boundMs = graceMs + SHUTDOWN_MARGIN_MS;
    log.info(`${signal} received: shutting down (at most ${boundMs / 1000} s)`);
    setTimeout(() => {
      log.error(
        `shutdown did not finish within ${boundMs / 1000} s (is Redis reachable?): exiting; what was pending is abandoned, and running tasks are handed to another worker once their lock expires`,
      );
      process.exit(EXIT.failure);
    }, boundMs).unref();
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

/** Stops the HTTP server: idle keep-alive connections at once, the others when answered. */
function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  return closed;
}

/** Runs `cleanup` (best effort) when `start` fails, then rethrows: nothing half-started stays behind. */
async function orCleanUp<T>(start: () => Promise<T>, cleanup: () => Promise<void>): Promise<T> {
  try {
    return await start();
  } catch (error) {
    await cleanup().catch(() => undefined);
    throw error;
  }
}

async function serve(options: GlobalOptions, serverOptions: ServerOptions): Promise<void> {
  const { settings, log, repos } = loadConfig(options, serverOptions);
  const { openRuntime, startApi } = await loadRuntime();
  const runtime = await openRuntime(settings, repos, log, { role: 'api' });
  const server = await orCleanUp(() => startApi(runtime), () => runtime.close());
  log.info(`Glacis API listening on http://${settings.host}:${settings.port}`, { repos: repos.length });
  onShutdown(log, settings.shutdownGraceMs, async () => {
    await closeServer(server);
    await runtime.close();
  });
}

async function worker(options: GlobalOptions): Promise<void> {
  const { settings, log, repos } = loadConfig(options);
  const { openRuntime, startTaskWorker } = await loadRuntime();
  const runtime = await openRuntime(settings, repos, log, { role: 'worker' });
  const running = await orCleanUp(() => startTaskWorker(runtime), () => runtime.close());
  log.info(`Glacis worker started (concurrency ${settings.workerConcurrency})`, { repos: repos.length });
  onShutdown(log, settings.shutdownGraceMs, async () => {
    await running.close();
    await runtime.close();
  });
}

async function up(options: GlobalOptions, serverOptions: ServerOptions): Promise<void> {
  const loaded = loadConfig(options, serverOptions);
  const { log, repos } = loaded;
  let settings = loaded.settings;
  // Before anything starts: a second `up` here would start a second redis-server on the same files.
  const lock = acquireUpLock('./data');
  let embedded: EmbeddedRedis | undefined;
  const cleanups: Array<() => Promise<void>> = [];
  const cleanUp = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  };
  cleanups.push(async () => lock.release());
  const { server, running, runtime } = await orCleanUp(async () => {
    if (!settings.redisUrlExplicit) {
      const started = await startEmbeddedRedis('./data/redis');
      embedded = started;
      cleanups.push(() => started.stop());
      settings = { ...settings, redisUrl: started.url };
      log.info(`started redis-server at ${started.url} (data in ./data/redis)`);
    }
    const { openRuntime, startApi, startTaskWorker } = await loadRuntime();
    const runtime = await openRuntime(settings, repos, log, { role: 'worker' });
    cleanups.push(() => runtime.close());
    const server = await startApi(runtime);
    cleanups.push(() => closeServer(server));
    const running = await startTaskWorker(runtime);
    return { server, running, runtime };
  }, cleanUp);
  log.info(`Glacis is up: API on http://${settings.host}:${settings.port}, one worker`, { repos: repos.map((r) => r.localPath) });
  onShutdown(log, settings.shutdownGraceMs, async () => {
    await closeServer(server);
    await running.close();
    await runtime.close();
    await embedded?.stop();
    lock.release();
  });
}

/** `glacis check`: the repositories as configured here, each tested; exit 1 when something is wrong. */
async function check(options: GlobalOptions): Promise<void> {
  // The server's own rules, not a copy: the repos file as loadRepos reads it (every key) and
  // the settings as its start-up checks them. Before, a missing RCLONE_EXECUTABLE stopped the
  // server naming the key while check said each remote failed (test/cli/check.test.ts).
  const { settings, repos } = loadConfig(options);
  await checkSettingsUsable(settings);
  const { checkRepos } = await import('./check.js');
  const { Rclone } = await import('../rclone/index.js');
  if (repos.length === 0) throw new CliError(`no repositories configured in ${settings.reposConf}: add one (see repos.example.yaml)`, EXIT.failure);
  let problems = 0;
  let warnings = 0;
  for await (const report of checkRepos(repos, new Rclone({ executable: settings.rcloneExecutable }))) {
    process.stdout.write(`${report.heading}\n`);
    for (const line of report.lines) {
      if (line.level === 'fail') problems++;
      if (line.level === 'warn') warnings++;
      process.stdout.write(`  ${{ ok: 'ok  ', warn: 'WARN', fail: 'FAIL' }[line.level]}  ${line.text}\n`);
    }
  }
  const counted = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`;
  process.stdout.write(`${(repos.length === 1 ? '1 repository' : `${repos.length} repositories`)} checked: ${problems === 0 ? 'no problem' : counted(problems, 'problem')}${warnings ? `, ${counted(warnings, 'warning')}` : ''}\n`);
  if (problems > 0) process.exitCode = EXIT.failure;
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
  const portOption = (): Option => new Option('-p, --port <port>', 'the API\'s port (overrides PORT)').argParser(parsePort);
  program
    .command('serve')
    .description('run the REST API (and the schedulers)')
    .addOption(portOption())
    .action((serverOptions: ServerOptions) => serve(program.opts<GlobalOptions>(), serverOptions));
  program
    .command('check')
    .description('on the server: list the configured repositories and test each (local directory, remote, atime); exit 1 on a problem')
    .action(() => check(program.opts<GlobalOptions>()));
  program.command('worker').description('run a worker that processes the queued tasks (pull, freeze, report, push)').action(() => worker(program.opts<GlobalOptions>()));
  program
    .command('up')
    .description('run the API and one worker together; starts its own redis-server when REDIS_URL is not set')
    .addOption(portOption())
    .action((serverOptions: ServerOptions) => up(program.opts<GlobalOptions>(), serverOptions));
  registerClientCommands(program);
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    process.exitCode = exitCodeFor(error);
    // A server command that failed to start may hold connections still trying: never linger.
    if (serverCommand) process.exit(process.exitCode);
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
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    const { port, address } = error as { port?: number; address?: string };
    const what = code === 'EADDRINUSE' ? 'is already in use' : 'may not be used by this user';
    process.stderr.write(`glacis: port ${port ?? '?'} ${what} on ${address ?? 'this host'}: stop what listens there, or choose another port (--port or PORT)\n`);
    return EXIT.usage;
  }
  if (error instanceof Error && error.name === 'RedisUnreachableError') {
    process.stderr.write(`glacis: ${error.message}\n`);
    return EXIT.unreachable;
  }
  const message = describeError(error);
  if (/ECONNREFUSED|Redis/i.test(message)) {
    process.stderr.write(`glacis: cannot reach Redis: ${message}. Is redis-server running, and is REDIS_URL right?\n`);
    return EXIT.unreachable;
  }
  process.stderr.write(`glacis: ${message}\n`);
  return EXIT.failure;
}
