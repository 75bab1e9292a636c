/**
 * `~/.glacis.yml`: the servers the client knows (URL and token) and which one is the
 * default. It holds tokens, so it is written with mode 0600 and a warning is given when
 * others can read it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { CliError, EXIT } from './exit.js';

/** One server as stored in the file. */
export interface ServerEntry {
  readonly url: string;
  /** Absent: the server does not ask for one. */
  readonly token?: string;
}

/** The whole file. */
export interface ClientConfig {
  readonly default?: string;
  readonly servers: Readonly<Record<string, ServerEntry>>;
}

/** The server a command talks to, once flags, environment and file are combined. */
export interface Target {
  readonly url: string;
  readonly token?: string;
  /** Its name in the file, when it came from there. */
  readonly name?: string;
}

const SERVER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const fileSchema = z.strictObject({
  default: z.string().regex(SERVER_NAME).optional(),
  servers: z
    .record(z.string().regex(SERVER_NAME), z.strictObject({ url: z.string().refine((url) => safeNormalize(url) !== undefined), token: z.string().min(1).optional() }))
    .default({}),
});

/**
 * Where the file lives: `~/.glacis.yml` (`HOME` decides, so tests and sudo users can move it).
 *
 * @example
 * ```ts
 * configPath(); // '/home/ada/.glacis.yml'
 * ```
 */
export function configPath(): string {
  return path.join(os.homedir(), '.glacis.yml');
}

/**
 * Reads the file; an absent file is an empty configuration.
 *
 * @param warn told when the file holds a token and is readable by other users.
 * @throws CliError (exit 2) when the file is not valid.
 * @example
 * ```ts
 * const config = readClientConfig(configPath(), (m) => process.stderr.write(`warning: ${m}\n`));
 * ```
 */
export function readClientConfig(file: string, warn: (message: string) => void): ClientConfig {
  if (!existsSync(file)) return { servers: {} };
  let raw: unknown;
  try {
    raw = parse(readFileSync(file, 'utf8')) ?? {};
  } catch (error) {
    throw new CliError(`${file} is not valid YAML (${firstLine(error)}): fix it or run "glacis init"`, EXIT.usage);
  }
  const result = fileSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const key = issue.path.map(String).join('.') || 'the top level';
    throw new CliError(`${file}: bad ${key}: ${describeIssue(issue.path)}; fix it or run "glacis init"`, EXIT.usage);
  }
  const config = result.data;
  if (config.default !== undefined && !(config.default in config.servers)) {
    throw new CliError(`${file}: default "${config.default}" is not one of its servers; fix it or run "glacis init"`, EXIT.usage);
  }
  // Only a file that holds a token is worth a warning: one listing servers without tokens
  // was warned about on every command (issue 15, test/cli/client-config.test.ts).
  const holdsTokens = Object.values(config.servers).some((server) => server.token !== undefined);
  if (holdsTokens && (statSync(file).mode & 0o077) !== 0) warn(`${file} holds tokens and others can read it: run "chmod 600 ${file}"`);
  return config;
}

function describeIssue(where: ReadonlyArray<PropertyKey>): string {
  const last = String(where[where.length - 1] ?? '');
  if (last === 'url') return 'expected an http:// or https:// URL';
  if (last === 'token') return 'expected a non-empty token';
  if (last === 'default' || where.length === 2) return 'expected a server name of letters, digits, ".", "_" or "-"';
  return 'expected "default: NAME" and "servers: {NAME: {url, token}}"';
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
}

/**
 * Writes the file atomically, readable by its owner only (even if an older copy was not).
 *
 * @example
 * ```ts
 * writeClientConfig(configPath(), { default: 'local', servers: { local: { url: 'http://127.0.0.1:9100' } } });
 * ```
 */
export function writeClientConfig(file: string, config: ClientConfig): void {
  const text = `# Glacis client settings, written by "glacis init". It holds API tokens: keep it private.\n${stringify(config)}`;
  // A fresh file created 0600 and renamed over the old one: the tokens are never readable by others.
  const temporary = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(temporary, text, { mode: 0o600, flag: 'wx' });
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new CliError(`cannot write ${file}: ${firstLine(error)}`, EXIT.failure);
  }
}

/**
 * Adds or replaces a server; the first one saved, or one saved with `makeDefault`, becomes the default.
 *
 * @example
 * ```ts
 * const next = withServer(config, 'prod', { url: 'https://glacis.example.org', token }, false);
 * ```
 */
export function withServer(config: ClientConfig, name: string, entry: ServerEntry, makeDefault: boolean): ClientConfig {
  const servers = { ...config.servers, [name]: entry };
  const keepDefault = config.default !== undefined && config.default in servers && !makeDefault;
  return { default: keepDefault ? config.default : name, servers };
}

/**
 * Checks a server name given on the command line or at the prompt.
 *
 * @throws CliError (exit 2)
 * @example
 * ```ts
 * checkServerName('prod'); // 'prod'
 * ```
 */
export function checkServerName(name: string): string {
  if (!SERVER_NAME.test(name)) throw new CliError(`bad server name "${name}": use letters, digits, ".", "_" or "-" (up to 64)`, EXIT.usage);
  return name;
}

/**
 * Checks a server URL and returns it without a trailing slash.
 *
 * @throws CliError (exit 2)
 * @example
 * ```ts
 * normalizeUrl('http://127.0.0.1:9100/'); // 'http://127.0.0.1:9100'
 * ```
 */
export function normalizeUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new CliError(`bad server URL "${text}": expected one like http://127.0.0.1:9100`, EXIT.usage);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`bad server URL "${text}": only http:// and https:// are supported`, EXIT.usage);
  }
  if (url.username || url.password) {
    throw new CliError('the server URL must not hold a user or password: the token is asked for separately', EXIT.usage);
  }
  return url.href.replace(/\/+$/, '');
}

/** What decides the target, besides the file. */
export interface TargetInputs {
  /** `--server NAME|URL`. */
  readonly server?: string;
  readonly env: NodeJS.ProcessEnv;
}

/**
 * The server to talk to. `--server` (a name from the file, or a URL) wins over `GLACIS_URL`,
 * which wins over the file's default; `GLACIS_TOKEN` wins over the file's token. A URL given
 * directly still uses the token saved for that URL, if any.
 *
 * @throws CliError (exit 2) when nothing says which server, or the name is unknown.
 * @example
 * ```ts
 * const target = resolveTarget(config, { server: 'prod', env: process.env });
 * ```
 */
export function resolveTarget(config: ClientConfig, inputs: TargetInputs): Target {
  const envToken = inputs.env.GLACIS_TOKEN || undefined;
  const byUrl = (url: string): Target => {
    // Several names may share the URL: the default, else one that holds a token.
    const matches = Object.entries(config.servers).filter(([, entry]) => safeNormalize(entry.url) === url);
    const saved = matches.find(([name]) => name === config.default) ?? matches.find(([, entry]) => entry.token) ?? matches[0];
    const token = envToken ?? saved?.[1].token;
    return { url, ...(token ? { token } : {}), ...(saved ? { name: saved[0] } : {}) };
  };
  const byName = (name: string): Target => {
    const entry = config.servers[name];
    if (!entry) {
      const known = Object.keys(config.servers);
      const listed = known.length > 0 ? ` (known: ${known.join(', ')})` : '';
      throw new CliError(`no server named "${name}" in ${configPath()}${listed}: run "glacis init --name ${name}"`, EXIT.usage);
    }
    const token = envToken ?? entry.token;
    return { url: normalizeUrl(entry.url), ...(token ? { token } : {}), name };
  };
  if (inputs.server !== undefined) return /^[a-z][a-z0-9+.-]*:\/\//i.test(inputs.server) ? byUrl(normalizeUrl(inputs.server)) : byName(inputs.server);
  if (inputs.env.GLACIS_URL) return byUrl(normalizeUrl(inputs.env.GLACIS_URL));
  if (config.default !== undefined) return byName(config.default);
  throw new CliError('no Glacis server configured: run "glacis init", or set GLACIS_URL', EXIT.usage);
}

function safeNormalize(url: string): string | undefined {
  try {
    return normalizeUrl(url);
  } catch {
    return undefined;
  }
}
