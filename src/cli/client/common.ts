/**
 * What every client command shares: the `--json` and `--server` options, finding the
 * server to talk to, and checking arguments before anything is sent.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { wholeNumberIn } from '../../text/values.js';
import { configPath, readClientConfig, resolveTarget } from './config.js';
import { GlacisClient } from './http.js';
import { note } from './output.js';

/** Options every client command takes. */
export interface CommonOptions {
  readonly json?: boolean;
  readonly server?: string;
}

/**
 * Adds `--json` and `--server` to a client command.
 *
 * @example
 * ```ts
 * withCommonOptions(group.command('list')).action(…);
 * ```
 */
export function withCommonOptions(command: Command): Command {
  return command
    .option('--json', 'print JSON, for scripts')
    .option('-s, --server <name|url>', 'server to use: a name from ~/.glacis.yml or a URL (default: $GLACIS_URL, else the default server)')
    .hook('preAction', quietOnClosedPipe);
}

/** `glacis file list … | head`: a reader that leaves early is no error, and no stack trace. */
function quietOnClosedPipe(): void {
  if (process.stdout.listenerCount('error') > 0) return;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

/**
 * A client for the server the options, the environment and `~/.glacis.yml` designate.
 *
 * @throws CliError (exit 2) when no server is configured or the name is unknown.
 * @example
 * ```ts
 * const client = clientFor(command.opts<CommonOptions>());
 * ```
 */
export function clientFor(options: CommonOptions): GlacisClient {
  const config = readClientConfig(configPath(), (message) => note(`warning: ${message}`));
  return new GlacisClient(resolveTarget(config, { ...(options.server !== undefined ? { server: options.server } : {}), env: process.env }));
}

/**
 * Commander parser for `--max-depth`: a whole number from 0 (everything) to 10000, as the API takes.
 *
 * @example
 * ```ts
 * command.option('--max-depth <n>', 'levels to descend', parseDepth);
 * ```
 */
export function parseDepth(value: string): number {
  const depth = wholeNumberIn(value, { min: 0, max: 10_000 });
  if (depth === undefined) throw new InvalidArgumentError('expected a whole number from 0 (everything) to 10000.');
  return depth;
}

/**
 * Commander parser for `--limit`: a whole number from 1 to 10000.
 *
 * @example
 * ```ts
 * command.option('--limit <n>', 'at most this many', parseLimit);
 * ```
 */
export function parseLimit(value: string): number {
  const limit = wholeNumberIn(value, { min: 1, max: 10_000 });
  if (limit === undefined) throw new InvalidArgumentError('expected a whole number from 1 to 10000.');
  return limit;
}

/**
 * An absolute path for the server: relative paths are taken from the current directory as
 * the shell shows it (`$PWD`, which keeps symlinks the repository may be configured with),
 * falling back on the real working directory.
 *
 * @example
 * ```ts
 * resolveUserPath('raw/2024'); // '/data/lab1/raw/2024' when run from /data/lab1
 * ```
 */
export function resolveUserPath(given: string): string {
  return path.resolve(shellDirectory(), given);
}

function shellDirectory(): string {
  const real = process.cwd();
  const shown = process.env.PWD;
  if (!shown || !path.isAbsolute(shown)) return real;
  try {
    const [a, b] = [statSync(shown), statSync(real)];
    return a.dev === b.dev && a.ino === b.ino ? shown : real;
  } catch {
    return real;
  }
}
