/**
 * `glacis init`: saves a server (URL and token) in `~/.glacis.yml` after testing the
 * connection. Asks on a terminal; `--url` (with `--token-stdin` or `GLACIS_TOKEN` for the
 * token, never an argument) makes it non-interactive.
 */
import type { Command } from 'commander';
import { checkServerName, configPath, normalizeUrl, readClientConfig, withServer, writeClientConfig, type ClientConfig, type ServerEntry } from './config.js';
import { CliError, EXIT } from './exit.js';
import { AuthError, GlacisClient } from './http.js';
import { note, print, printJson } from './output.js';
import { ask, confirm } from './prompt.js';

const DEFAULT_URL = 'http://127.0.0.1:9100';
const DEFAULT_NAME = 'default';

interface InitOptions {
  readonly url?: string;
  readonly name?: string;
  readonly tokenStdin?: boolean;
  readonly default?: boolean;
  readonly check: boolean;
  readonly json?: boolean;
}

/** What is about to be saved. */
interface Answers {
  readonly name: string;
  readonly entry: ServerEntry;
  readonly makeDefault: boolean;
}

/**
 * Registers `glacis init` on the program.
 *
 * @example
 * ```ts
 * registerInitCommand(program);
 * ```
 */
export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('save a server to ~/.glacis.yml (asks on a terminal; --url makes it non-interactive)')
    .option('--url <url>', 'server URL, e.g. http://127.0.0.1:9100')
    .option('--name <name>', `name of the server in the file (default: "${DEFAULT_NAME}", or the default server's)`)
    .option('--token-stdin', 'read the API token from standard input (else $GLACIS_TOKEN; none: no token)')
    .option('--default', 'make it the default server (the first one saved always is)')
    .option('--no-check', 'save without testing the connection')
    .option('--json', 'print what was saved as JSON (never the token)')
    .action((options: InitOptions) => init(options));
}

async function init(options: InitOptions): Promise<void> {
  const file = configPath();
  const config = readClientConfig(file, (message) => note(`warning: ${message}`));
  const interactive = options.url === undefined;
  if (interactive && !process.stdin.isTTY) {
    throw new CliError('standard input is not a terminal: pass --url (and --token-stdin or GLACIS_TOKEN if the server needs a token)', EXIT.usage);
  }
  const answers = interactive ? await askAnswers(config, options) : await flagAnswers(config, options);
  if (options.check) {
    const checked = await check(answers.entry, interactive);
    if (checked instanceof CliError) {
      if (!interactive) throw checked;
      process.stderr.write(`${checked.message}\n`);
      if (!(await confirm('Save anyway?', false))) throw new CliError('nothing was saved', checked.exitCode);
    } else if (!options.json) {
      print(`connected to ${answers.entry.url}: Glacis ${checked}`);
    }
  }
  writeClientConfig(file, withServer(config, answers.name, answers.entry, answers.makeDefault));
  const isDefault = answers.makeDefault || config.default === undefined || config.default === answers.name;
  if (options.json) printJson({ file, name: answers.name, url: answers.entry.url, token: answers.entry.token !== undefined, default: isDefault });
  else print(`saved server "${answers.name}"${isDefault ? ' (the default)' : ''} to ${file}`);
}

async function flagAnswers(config: ClientConfig, options: InitOptions): Promise<Answers> {
  const url = normalizeUrl(options.url!);
  const name = checkServerName(options.name ?? config.default ?? DEFAULT_NAME);
  const token = options.tokenStdin ? await readStdin() : process.env.GLACIS_TOKEN || undefined;
  if (options.tokenStdin && !token) throw new CliError('--token-stdin: standard input held no token', EXIT.usage);
  return { name, entry: { url, ...(token ? { token: checkToken(token) } : {}) }, makeDefault: options.default === true };
}

async function askAnswers(config: ClientConfig, options: InitOptions): Promise<Answers> {
  const knownNames = Object.keys(config.servers);
  const suggestedName = options.name ?? config.default ?? DEFAULT_NAME;
  // With one server or none, names do not matter: only ask when picking among several.
  const name = checkServerName(knownNames.length === 0 || options.name ? suggestedName : await ask('Name of this server', { fallback: suggestedName }));
  const saved = config.servers[name];
  const url = await askUntilValid(() => ask('Glacis server URL', { fallback: saved?.url ?? DEFAULT_URL }), normalizeUrl);
  let token: string | undefined;
  if (await confirm('Does the server require an API token?', saved?.token !== undefined)) {
    token = await askUntilValid(
      () => ask(saved?.token ? 'API token (not shown; Enter keeps the saved one)' : 'API token (not shown)', { secret: true, ...(saved?.token ? { fallback: saved.token } : {}) }),
      checkToken,
    );
  }
  const makeDefault =
    options.default === true || (config.default !== undefined && config.default !== name && (await confirm(`Make "${name}" the default server?`, true)));
  return { name, entry: { url, ...(token ? { token } : {}) }, makeDefault };
}

/** Asks again after an answer `check` refuses, saying why. */
async function askUntilValid<T>(question: () => Promise<string>, check: (answer: string) => T): Promise<T> {
  for (;;) {
    try {
      return check(await question());
    } catch (error) {
      if (!(error instanceof CliError) || error.exitCode !== EXIT.usage) throw error;
      process.stderr.write(`${error.message}\n`);
    }
  }
}

/**
 * Header-safe: visible ASCII only, as the server requires of its tokens.
 *
 * @throws CliError (exit 2)
 */
function checkToken(token: string): string {
  if (!/^[\x21-\x7e]+$/.test(token)) throw new CliError('the token must be visible ASCII characters, without spaces', EXIT.usage);
  return token;
}

/** The server's version, or the error that says why it could not be reached. */
async function check(entry: ServerEntry, interactive: boolean): Promise<string | CliError> {
  try {
    return await new GlacisClient(entry).version();
  } catch (error) {
    if (error instanceof AuthError) {
      const how = interactive ? 'run "glacis init" again and give the right one' : 'give it with --token-stdin or GLACIS_TOKEN';
      return new CliError(`${entry.url} ${error.tokenSent ? 'refused the token' : 'requires a token'}: ${how}`, error.exitCode);
    }
    if (error instanceof CliError) return error;
    throw error;
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}
