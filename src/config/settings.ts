/**
 * Service settings: Baricadr's `local.cfg` format, overridden key by key by environment
 * variables of the same name, then validated into {@link Settings}.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ConfigError, describeType, describeValue, quote } from './errors.js';
import { parseLocalCfg, type LocalCfgValue } from './local-cfg.js';
import { isEmailAddress } from '../text/email.js';
import { parseBoolean, parseDuration, wholeNumberIn } from '../text/values.js';
import { databaseKind } from './database-url.js';
import type { LogFormat, MailAddress, MailSettings, RunMode, Settings } from './types.js';

/** Options of {@link loadSettings}. */
export interface LoadSettingsOptions {
  /** The `local.cfg` to read; wins over `GLACIS_CONFIG`. */
  readonly configPath?: string;
  /** Where overrides and `PATH` come from; pass `process.env` in production. */
  readonly env: NodeJS.ProcessEnv;
  /** Receives one line per ignored or unknown key; defaults to `console.warn`. */
  readonly warn?: (message: string) => void;
  /** Directory in which `./local.cfg` is looked for and a relative config path is read; default `process.cwd()`. */
  readonly cwd?: string;
}

const ENV_SOURCE = 'environment';
const RUN_MODES: readonly RunMode[] = ['dev', 'test', 'prod'];
const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];
const FALLBACK_RCLONE = '/usr/bin/rclone';
/** Redis key characters that read well in `redis-cli`; braces allow a Redis Cluster hash tag. */
const QUEUE_PREFIX_PATTERN = /^[A-Za-z0-9_.:{}-]+$/;
/** Below a few seconds a busy worker misses lock renewals and healthy tasks get retried. */
const LOCK_SECONDS = { min: 5, max: 3600 } as const;
const GRACE_SECONDS = { min: 0, max: 86400 } as const;
const STALL_SECONDS = { min: 1, max: 86400 } as const;
/** 0 turns a housekeeping job off. */
const HOUSEKEEPING_SECONDS = { min: 0, max: 365 * 86_400 } as const;

/**
 * Each setting's name, and the names it is also accepted under (Baricadr's, checked after it).
 * Exported so that a test can hold local.example.cfg and the README to exactly these keys.
 *
 * @example
 * ```ts
 * SETTING_NAMES.reposConf; // ['REPOS_CONF', 'BARICADR_REPOS_CONF']
 * ```
 */
export const SETTING_NAMES = {
  reposConf: ['REPOS_CONF', 'BARICADR_REPOS_CONF'],
  redisUrl: ['REDIS_URL'],
  databaseUrl: ['DATABASE_URL'],
  host: ['HOST'],
  port: ['PORT'],
  workerConcurrency: ['WORKER_CONCURRENCY'],
  runMode: ['RUN_MODE', 'BARICADR_RUN_MODE'],
  queuePrefix: ['QUEUE_PREFIX'],
  workerLockDuration: ['WORKER_LOCK_DURATION'],
  shutdownGrace: ['WORKER_SHUTDOWN_GRACE'],
  transferStallTimeout: ['TRANSFER_STALL_TIMEOUT'],
  redisStartupTimeout: ['REDIS_STARTUP_TIMEOUT'],
  logFormat: ['LOG_FORMAT'],
  rcloneExecutable: ['RCLONE_EXECUTABLE'],
  version: ['GLACIS_VERSION', 'BARICADR_VERSION'],
  cleanupInterval: ['CLEANUP_INTERVAL'],
  cleanupAge: ['CLEANUP_AGE'],
  zombiesInterval: ['CLEANUP_ZOMBIES_INTERVAL'],
  apiTokens: ['API_TOKENS'],
  apiTokensFile: ['API_TOKENS_FILE'],
  metricsToken: ['METRICS_TOKEN'],
  mailServer: ['MAIL_SERVER'],
  mailPort: ['MAIL_PORT'],
  mailUseSsl: ['MAIL_USE_SSL'],
  mailUseTls: ['MAIL_USE_TLS'],
  mailUsername: ['MAIL_USERNAME'],
  mailPassword: ['MAIL_PASSWORD'],
  mailSender: ['MAIL_SENDER'],
  mailAdmin: ['MAIL_ADMIN'],
  mailSuppressSend: ['MAIL_SUPPRESS_SEND'],
  mailRetryDelay: ['MAIL_RETRY_DELAY'],
  watermarkCheckInterval: ['WATERMARK_CHECK_INTERVAL'],
} as const satisfies Record<string, readonly string[]>;

/** Keys read by features that later issues add; kept in `raw`, overridable from the environment. */
const LATER_KEYS: readonly string[] = [];
/** Flask-Mail and Baricadr's cleanup jobs have more keys than Glacis lists; keep them quietly. */
const LATER_PREFIXES: readonly string[] = ['MAIL_', 'CLEANUP_'];

/** Baricadr-only keys: an existing Baricadr `local.cfg` must load, so these only warn. */
const BARICADR_ONLY_KEYS: readonly string[] = [
  'BROKER_TRANSPORT', 'SECRET_KEY', 'DEBUG', 'TESTING', 'LOG_FOLDER', 'MAX_TASK_DURATION',
];
/** `CELERY` without underscore also covers `CELERYD_*` and `CELERYBEAT_*`. */
const BARICADR_ONLY_PREFIXES: readonly string[] = ['CELERY', 'SQLALCHEMY_'];

/**
 * Keys Glacis read once and no longer needs: accepted (an older local.cfg or a Baricadr one
 * still loads) and ignored with one warning saying why.
 */
const RETIRED_KEYS: Readonly<Record<string, string>> = {
  TASK_LOG_DIR: 'task logs are kept in the database (DATABASE_URL)',
};

const SETTING_KEYS: readonly string[] = Object.values(SETTING_NAMES).flat();
/** The only environment variables Glacis reads as settings: never the whole environment. */
const ENV_KEYS: readonly string[] = [...SETTING_KEYS, ...LATER_KEYS];
/** Names the settings file; read from the environment only. */
const CONFIG_ENV_KEY = 'GLACIS_CONFIG';

/**
 * Every environment variable {@link loadSettings} reads: the settings file's name and each
 * setting's key. Deployment files (compose, systemd units) are checked against it, so that a
 * misspelt key there fails a test instead of being silently ignored.
 *
 * @example
 * ```ts
 * const unread = Object.keys(serviceEnv).filter((key) => !SETTINGS_ENV_KEYS.includes(key));
 * ```
 */
export const SETTINGS_ENV_KEYS: readonly string[] = Object.freeze([CONFIG_ENV_KEY, ...ENV_KEYS]);

/** A value with the key and source it came from, so errors can name both. */
interface Found {
  readonly key: string;
  readonly source: string;
  readonly value: LocalCfgValue;
}

/** The layered key/value view that the validators read from. */
interface Sources {
  readonly env: NodeJS.ProcessEnv;
  readonly file: Readonly<Record<string, LocalCfgValue>>;
  readonly fileName: string;
  /** Directory against which a relative `API_TOKENS_FILE` is read. */
  readonly cwd: string;
}

/**
 * Load and validate the service settings.
 *
 * The file is `opts.configPath`, else `$GLACIS_CONFIG`, else `./local.cfg` if it exists, else
 * none (defaults only). Every known key may be overridden by an environment variable of the
 * same name. Keys that only meant something to Baricadr, and unknown keys, produce one
 * warning each and are ignored. Relative paths are returned as written.
 *
 * @throws ConfigError when the file cannot be read or parsed, or a value is invalid.
 * @example
 * ```ts
 * const settings = loadSettings({ env: process.env, warn: (m) => logger.warn(m) });
 * server.listen(settings.port, settings.host);
 * ```
 */
export function loadSettings(opts: LoadSettingsOptions): Settings {
  const cwd = opts.cwd ?? process.cwd();
  const warn = opts.warn ?? ((message: string) => console.warn(message));
  const configFile = chooseConfigFile(opts.configPath, opts.env, cwd);
  const file = configFile === undefined ? {} : readConfigFile(configFile, cwd);
  const fileName = configFile ?? ENV_SOURCE;
  const kept = filterFileKeys(file, fileName, warn);
  for (const [key, why] of Object.entries(RETIRED_KEYS)) {
    if (opts.env[key] !== undefined && opts.env[key] !== '') warn(`${ENV_SOURCE}: key ${quote(key)} ignored: ${why}`);
  }
  return buildSettings({ env: opts.env, file: kept, fileName, cwd });
}

function chooseConfigFile(
  configPath: string | undefined,
  env: NodeJS.ProcessEnv,
  cwd: string,
): string | undefined {
  if (configPath) return configPath;
  if (env[CONFIG_ENV_KEY]) return env[CONFIG_ENV_KEY];
  return fs.existsSync(path.join(cwd, 'local.cfg')) ? 'local.cfg' : undefined;
}

function readConfigFile(fileName: string, cwd: string): Record<string, LocalCfgValue> {
  let text: string;
  try {
    text = fs.readFileSync(path.resolve(cwd, fileName), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'read error';
    throw new ConfigError({ file: fileName }, `cannot read the settings file (${code})`);
  }
  return parseLocalCfg(text, fileName);
}

function filterFileKeys(
  file: Readonly<Record<string, LocalCfgValue>>,
  fileName: string,
  warn: (message: string) => void,
): Record<string, LocalCfgValue> {
  const kept: Record<string, LocalCfgValue> = {};
  for (const [key, value] of Object.entries(file)) {
    if (SETTING_KEYS.includes(key) || isLaterKey(key)) kept[key] = value;
    else if (RETIRED_KEYS[key] !== undefined) warn(`${fileName}: key ${quote(key)} ignored: ${RETIRED_KEYS[key]}`);
    else if (isBaricadrOnlyKey(key)) warn(`${fileName}: key ${quote(key)} ignored: only meaningful to Baricadr`);
    else warn(`${fileName}: unknown key ${quote(key)} ignored (known keys: ${[...SETTING_KEYS, ...LATER_KEYS].join(', ')})`);
  }
  return kept;
}

function isLaterKey(key: string): boolean {
  return LATER_KEYS.includes(key) || LATER_PREFIXES.some((prefix) => key.startsWith(prefix));
}

function isBaricadrOnlyKey(key: string): boolean {
  return BARICADR_ONLY_KEYS.includes(key) || BARICADR_ONLY_PREFIXES.some((prefix) => key.startsWith(prefix));
}

function buildSettings(sources: Sources): Settings {
  const redis = find(sources, SETTING_NAMES.redisUrl);
  const version = find(sources, SETTING_NAMES.version);
  return {
    reposConf: stringSetting(sources, SETTING_NAMES.reposConf, './repos.yaml'),
    redisUrl: redis === undefined ? 'redis://127.0.0.1:6379' : redisUrl(redis, sources),
    redisUrlExplicit: redis !== undefined,
    databaseUrl: databaseUrlSetting(sources),
    host: stringSetting(sources, SETTING_NAMES.host, '127.0.0.1'),
    port: intSetting(sources, SETTING_NAMES.port, 9100, { min: 1, max: 65535 }),
    workerConcurrency: intSetting(sources, SETTING_NAMES.workerConcurrency, 2, { min: 1, max: 64 }),
    runMode: runModeSetting(sources),
    queuePrefix: queuePrefixSetting(sources),
    workerLockDurationMs: secondsSetting(sources, SETTING_NAMES.workerLockDuration, 30, LOCK_SECONDS),
    shutdownGraceMs: secondsSetting(sources, SETTING_NAMES.shutdownGrace, 60, GRACE_SECONDS),
    transferStallTimeoutMs: secondsSetting(sources, SETTING_NAMES.transferStallTimeout, 120, STALL_SECONDS),
    redisStartupTimeoutMs: secondsSetting(sources, SETTING_NAMES.redisStartupTimeout, 30, { min: 1, max: 3600 }),
    ...logFormatSetting(sources),
    rcloneExecutable: stringSetting(
      sources,
      SETTING_NAMES.rcloneExecutable,
      findOnPath('rclone', sources.env.PATH) ?? FALLBACK_RCLONE,
    ),
    ...(version === undefined ? {} : { version: nonEmptyString(version, sources) }),
    cleanupIntervalMs: secondsSetting(sources, SETTING_NAMES.cleanupInterval, 21_600, HOUSEKEEPING_SECONDS),
    cleanupAgeMs: secondsSetting(sources, SETTING_NAMES.cleanupAge, 365 * 86_400, { min: 3600, max: 100 * 365 * 86_400 }),
    zombiesIntervalMs: secondsSetting(sources, SETTING_NAMES.zombiesInterval, 3600, HOUSEKEEPING_SECONDS),
    watermarkCheckIntervalMs: secondsSetting(sources, SETTING_NAMES.watermarkCheckInterval, 300, STALL_SECONDS),
    ...tokenSettings(sources),
    mail: mailSettings(sources),
    raw: Object.freeze(rawValues(sources)),
  };
}

/**
 * The first of `names` set in the environment, else the first set in the file. An empty
 * environment variable counts as unset, as shells make `VAR=` easy to leave behind.
 */
function find(sources: Sources, names: readonly string[]): Found | undefined {
  for (const key of names) {
    const value = sources.env[key];
    if (value !== undefined && value !== '') return { key, source: ENV_SOURCE, value };
  }
  for (const key of names) {
    const value = sources.file[key];
    if (value !== undefined) return { key, source: sources.fileName, value };
  }
  return undefined;
}

function rawValues(sources: Sources): Record<string, LocalCfgValue> {
  const raw: Record<string, LocalCfgValue> = { ...sources.file };
  for (const key of ENV_KEYS) {
    const value = sources.env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  return raw;
}

function stringSetting(sources: Sources, names: readonly string[], fallback: string): string {
  const found = find(sources, names);
  return found === undefined ? fallback : nonEmptyString(found, sources);
}

function nonEmptyString(found: Found, sources: Sources): string {
  if (typeof found.value === 'string' && found.value.trim() !== '') return found.value;
  const allowed = typeof found.value === 'string' ? 'a non-empty string' : 'a quoted string';
  throw invalid(found, sources, allowed, describeType(found.value));
}

function intSetting(
  sources: Sources,
  names: readonly string[],
  fallback: number,
  range: { readonly min: number; readonly max: number },
): number {
  const found = find(sources, names);
  if (found === undefined) return fallback;
  // Environment values are strings, and Baricadr's own files quote numbers (`'3600'`).
  const value = wholeNumberIn(found.value, range);
  if (value !== undefined) return value;
  throw invalid(found, sources, `a whole number from ${range.min} to ${range.max}`, describeValue(found.value));
}

/**
 * A duration setting: whole seconds (Baricadr's form), in milliseconds, read by the one
 * duration parser; `fallback` and `range` in seconds. test/config/settings.test.ts lists every
 * setting that is one.
 */
function secondsSetting(sources: Sources, names: readonly string[], fallback: number, range: { readonly min: number; readonly max: number }): number {
  const found = find(sources, names);
  const value = parseDuration(found === undefined ? fallback : found.value, 'seconds', range);
  if (value !== undefined) return value;
  if (found === undefined) throw new Error(`the default of ${names[0]} is outside its range`);
  throw invalid(found, sources, `a whole number of seconds from ${range.min} to ${range.max}`, describeValue(found.value));
}

function runModeSetting(sources: Sources): RunMode {
  const found = find(sources, SETTING_NAMES.runMode);
  if (found === undefined) return 'prod';
  const mode = RUN_MODES.find((m) => m === found.value);
  if (mode !== undefined) return mode;
  throw invalid(found, sources, `one of ${RUN_MODES.join(', ')}`, describeValue(found.value));
}

/** Unset: chosen at start-up from `RUN_MODE` and whether stdout is a terminal. */
function logFormatSetting(sources: Sources): Pick<Settings, 'logFormat'> {
  const found = find(sources, SETTING_NAMES.logFormat);
  if (found === undefined) return {};
  const format = LOG_FORMATS.find((f) => typeof found.value === 'string' && f === found.value.trim().toLowerCase());
  if (format !== undefined) return { logFormat: format };
  throw invalid(found, sources, `one of ${LOG_FORMATS.join(', ')}`, describeValue(found.value));
}

function queuePrefixSetting(sources: Sources): string {
  const found = find(sources, SETTING_NAMES.queuePrefix);
  if (found === undefined) return 'glacis';
  const prefix = nonEmptyString(found, sources);
  if (QUEUE_PREFIX_PATTERN.test(prefix)) return prefix;
  throw invalid(found, sources, 'letters, digits and _ . : { } - only', describeValue(prefix));
}

/** The URL may carry a password, so it is never quoted back. */
function redisUrl(found: Found, sources: Sources): string {
  const url = nonEmptyString(found, sources);
  if (/^rediss?:\/\/./.test(url)) return url;
  throw invalid(found, sources, 'a redis:// or rediss:// URL');
}

/** Glacis stores its state in SQLite; a Baricadr-style postgres URL here is a mistake. */
function databaseUrlSetting(sources: Sources): string {
  const found = find(sources, SETTING_NAMES.databaseUrl);
  if (found === undefined) return './data/glacis.sqlite';
  const url = nonEmptyString(found, sources);
  // Two letters or more, so that a Windows drive letter is not taken for a scheme.
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]+):/.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined || scheme === 'sqlite' || scheme === 'file') return url;
  // Never the value in the message: a database URL may hold a password.
  const allowed = 'a file path, a sqlite: URL, or a postgresql://user:password@host:port/database URL';
  if (databaseKind(url) !== 'postgres') throw invalid(found, sources, allowed);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid(found, sources, allowed, 'a postgresql:// URL that does not parse');
  }
  if (parsed.hostname === '' || parsed.pathname.length <= 1) throw invalid(found, sources, allowed, 'a postgresql:// URL without a host or a database name');
  return url;
}

/** Long enough not to be guessed online; visible ASCII, so it survives headers, basic auth and the comma list. */
const MIN_TOKEN_LENGTH = 16;
const TOKEN_ALLOWED = `${MIN_TOKEN_LENGTH} or more visible ASCII characters, without spaces or commas`;

/**
 * `API_TOKENS` and the lines of `API_TOKENS_FILE` together, and `METRICS_TOKEN`. Problems
 * name the key and where the bad token is, never the token.
 */
function tokenSettings(sources: Sources): Pick<Settings, 'apiTokens' | 'metricsToken'> {
  const listed = find(sources, SETTING_NAMES.apiTokens);
  const file = find(sources, SETTING_NAMES.apiTokensFile);
  const metrics = find(sources, SETTING_NAMES.metricsToken);
  const fromList = (found: Found): string[] =>
    checkTokens(found, sources, nonEmptyString(found, sources).split(','), {
      allowed: `a comma-separated list of tokens of ${TOKEN_ALLOWED}`,
      where: (n) => ` at position ${n}`,
    });
  const apiTokens = [
    ...(listed === undefined ? [] : fromList(listed)),
    ...(file === undefined ? [] : tokensFromFile(file, sources)),
  ];
  const metricsToken = metrics === undefined
    ? undefined
    : checkTokens(metrics, sources, [nonEmptyString(metrics, sources)], { allowed: `a token of ${TOKEN_ALLOWED}`, where: () => '' })[0];
  return {
    ...(apiTokens.length > 0 ? { apiTokens: Object.freeze(apiTokens) } : {}),
    ...(metricsToken === undefined ? {} : { metricsToken }),
  };
}

/** One token per line; blank lines and `#` comment lines skipped. */
function tokensFromFile(found: Found, sources: Sources): string[] {
  const fileName = nonEmptyString(found, sources);
  let text: string;
  try {
    text = fs.readFileSync(path.resolve(sources.cwd, fileName), 'utf8');
  } catch (err) {
    throw invalid(found, sources, 'a readable file with one token per line', `${quote(fileName)}: ${(err as NodeJS.ErrnoException).code ?? 'read error'}`);
  }
  const lines = text.split('\n').map((line, index) => ({ token: line.trim(), number: index + 1 }));
  const kept = lines.filter(({ token }) => token !== '' && !token.startsWith('#'));
  if (kept.length === 0) throw invalid(found, sources, 'a file with one token per line', `no token in ${quote(fileName)}`);
  return checkTokens(found, sources, kept.map(({ token }) => token), {
    allowed: `a file of tokens of ${TOKEN_ALLOWED}, one per line`,
    where: (n) => ` on line ${kept[n - 1]?.number} of ${quote(fileName)}`,
  });
}

/**
 * The tokens, trimmed, if each is acceptable. An error says what was `allowed` and, through
 * `where(n)`, which token (n from 1) was not: never the token itself.
 */
function checkTokens(
  found: Found,
  sources: Sources,
  tokens: readonly string[],
  explain: { readonly allowed: string; readonly where: (n: number) => string },
): string[] {
  return tokens.map((raw, index) => {
    const token = raw.trim();
    const problem =
      token === '' ? 'an empty token'
      : token.length < MIN_TOKEN_LENGTH ? `a token shorter than ${MIN_TOKEN_LENGTH} characters`
      : /^[\x21-\x2b\x2d-\x7e]+$/.test(token) ? undefined
      : 'a token with a space, comma or non-ASCII character';
    if (problem === undefined) return token;
    throw invalid(found, sources, explain.allowed, `${problem}${explain.where(index + 1)}`);
  });
}

/** Flask-Mail's keys; a password or user name is never quoted back. */
function mailSettings(sources: Sources): MailSettings {
  const server = find(sources, SETTING_NAMES.mailServer);
  const username = find(sources, SETTING_NAMES.mailUsername);
  const password = find(sources, SETTING_NAMES.mailPassword);
  return {
    ...(server === undefined ? {} : { server: hostSetting(server, sources) }),
    port: intSetting(sources, SETTING_NAMES.mailPort, 25, { min: 1, max: 65535 }),
    useSsl: boolSetting(sources, SETTING_NAMES.mailUseSsl, false),
    useTls: boolSetting(sources, SETTING_NAMES.mailUseTls, false),
    ...(username === undefined ? {} : { username: headerSafeString(username, sources) }),
    ...(password === undefined ? {} : { password: nonEmptyString(password, sources) }),
    sender: senderSetting(sources),
    admins: adminsSetting(sources),
    suppressSend: boolSetting(sources, SETTING_NAMES.mailSuppressSend, false),
    retryDelayMs: secondsSetting(sources, SETTING_NAMES.mailRetryDelay, 60, { min: 1, max: 86_400 }),
  };
}

function hostSetting(found: Found, sources: Sources): string {
  const host = nonEmptyString(found, sources).trim();
  if (/^[A-Za-z0-9.:_-]+$/.test(host)) return host;
  throw invalid(found, sources, 'a host name or IP address');
}

/** Sent in SMTP commands: a line break would end the command early. */
function headerSafeString(found: Found, sources: Sources): string {
  const value = nonEmptyString(found, sources);
  if (!/[\x00-\x1f\x7f]/.test(value)) return value;
  throw invalid(found, sources, 'a string without control characters or line breaks');
}

/** Environment values are strings; Baricadr's files write True / False. */
function boolSetting(sources: Sources, names: readonly string[], fallback: boolean): boolean {
  const found = find(sources, names);
  if (found === undefined) return fallback;
  const value = parseBoolean(found.value);
  if (value !== undefined) return value;
  throw invalid(found, sources, 'True or False', describeValue(found.value));
}

/** `glacis@example.org` or `Glacis <glacis@example.org>`; the default names this host. */
function senderSetting(sources: Sources): MailAddress {
  const found = find(sources, SETTING_NAMES.mailSender);
  if (found === undefined) return { address: `glacis@${os.hostname()}` };
  const text = headerSafeString(found, sources).trim();
  const named = /^([^<>"]*?)\s*<([^<>\s]+)>$/.exec(text);
  const address = named ? named[2]! : text;
  const name = named?.[1]?.trim();
  if (isEmailAddress(address)) return name ? { name, address } : { address };
  throw invalid(found, sources, 'a mail address, or "Name <address>"', describeValue(text));
}

function adminsSetting(sources: Sources): readonly string[] {
  const found = find(sources, SETTING_NAMES.mailAdmin);
  if (found === undefined) return [];
  if (typeof found.value !== 'string') throw invalid(found, sources, 'comma-separated mail addresses', describeType(found.value));
  const admins = found.value.split(',').map((address) => address.trim()).filter((address) => address !== '');
  const bad = admins.find((address) => !isEmailAddress(address));
  if (bad === undefined) return Object.freeze([...new Set(admins)]);
  throw invalid(found, sources, 'comma-separated mail addresses', describeValue(bad));
}

function invalid(found: Found, sources: Sources, allowed: string, got?: string): ConfigError {
  const file = found.source === ENV_SOURCE ? ENV_SOURCE : sources.fileName;
  return ConfigError.invalidValue({ file }, found.key, allowed, got);
}

/**
 * The first executable `command` in the directories of `pathVar`. Empty and relative entries
 * are skipped: they mean the current directory, which must not choose our rclone. So are
 * `node_modules` directories (see below).
 */
function findOnPath(command: string, pathVar: string | undefined): string | undefined {
  for (const dir of (pathVar ?? '').split(path.delimiter)) {
    if (!path.isAbsolute(dir)) continue;
    // npm puts node_modules/.bin first on PATH, and rclone.js installs a `rclone` there:
    // a Node wrapper that would download rclone, not rclone itself.
    if (dir.split(path.sep).includes('node_modules')) continue;
    const candidate = path.join(dir, command);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function isExecutableFile(candidate: string): boolean {
  try {
    fs.accessSync(candidate, fs.constants.X_OK);
    return fs.statSync(candidate).isFile();
  } catch {
    return false;
  }
}
