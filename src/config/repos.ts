/**
 * Reader for the repos YAML file, in Baricadr's schema: a map from local path to that repo's
 * settings. Everything is checked here so that the rest of Glacis can trust a {@link Repo}.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import { parseDocument } from 'yaml';

import { isSameOrInside } from '../paths/index.js';
import { parseBoolean, wholeNumberIn } from '../text/values.js';
import { watermarkError } from './watermarks.js';
import { ConfigError, type ConfigErrorContext, describeType, describeValue, quote } from './errors.js';
import type {
  GenericRcloneRemote,
  LocalRemote,
  RemoteSpec,
  Repo,
  S3Remote,
  SftpRemote,
  VerifyMode,
  AutoFreezeMail,
  PushSettings,
} from './types.js';

const BACKENDS = ['sftp', 's3', 'local', 'rclone'] as const;
type Backend = (typeof BACKENDS)[number];

/**
 * The keys each backend takes besides {@link COMMON_KEYS} and `backend`; any other key is an
 * error. Exported so that a test can hold repos.example.yaml and the README to them.
 *
 * @example
 * ```ts
 * BACKEND_KEYS.local; // ['path']
 * ```
 */
export const BACKEND_KEYS: Readonly<Record<Backend, readonly string[]>> = {
  sftp: ['url', 'user', 'password', 'port', 'key_file', 'known_hosts_file'],
  s3: ['provider', 'endpoint', 'path', 'access_key_id', 'secret_access_key', 'region'],
  local: ['path'],
  rclone: ['type', 'path', 'options'],
};
/** The keys of push (issue 18), all meaningful only with `pushable: true`. */
const PUSH_KEYS: readonly string[] = [
  'pushable', 'auto_push', 'auto_push_interval', 'auto_push_cron', 'push_keep_versions_days', 'push_shrink_limit', 'push_change_limit',
];

/**
 * The keys every repo may have, whatever its backend.
 *
 * @example
 * ```ts
 * COMMON_KEYS.includes('freeze_age'); // true
 * ```
 */
export const COMMON_KEYS: readonly string[] = [
  'exclude', 'freezable', 'freeze_age', 'auto_freeze', 'auto_freeze_interval', 'auto_freeze_cron',
  'auto_freeze_mail', 'chown_uid', 'chown_gid', 'disable_atime_test', 'verify', 'report_cron',
  'high_watermark', 'low_watermark', 'watermark_min_age', 'max_files_per_run', 'max_bytes_per_run',
  ...PUSH_KEYS,
];

/**
 * Keys whose values may be quoted back in error messages. Anything else (passwords, keys,
 * URLs that may embed credentials, rclone options) is described by its type only.
 */
const SHOWABLE_KEYS = new Set([
  'backend', 'exclude', 'freezable', 'freeze_age', 'auto_freeze', 'auto_freeze_interval',
  'auto_freeze_cron', 'auto_freeze_mail', 'chown_uid', 'chown_gid', 'disable_atime_test', 'verify', 'port', 'report_cron',
  'high_watermark', 'low_watermark', 'watermark_min_age', 'max_files_per_run', 'max_bytes_per_run',
  'provider', 'region', 'type', ...PUSH_KEYS,
]);

const VERIFY_MODES: readonly VerifyMode[] = ['size', 'hash'];
const AUTO_FREEZE_MAILS: readonly AutoFreezeMail[] = ['always', 'changes', 'never'];
const DAYS = { min: 2, max: 10000 } as const;
const VERSION_DAYS = { min: 1, max: 10000 } as const;
const HOURS = { min: 1, max: 8760 } as const;
const PERCENT = { min: 1, max: 100 } as const;
const ID_RANGE = { min: 0, max: 65535 } as const;
const PORT_RANGE = { min: 1, max: 65535 } as const;
/** `watermark_min_age`: 0 lets a watermark freeze evict a file read a moment ago. */
const MIN_AGE_DAYS = { min: 0, max: 10000 } as const;
/** `max_files_per_run`, `max_bytes_per_run`: any positive whole number JavaScript holds exactly. */
const RUN_LIMIT = { min: 1, max: Number.MAX_SAFE_INTEGER } as const;
const RCLONE_NAME = /^[a-z0-9]+$/;
const RCLONE_OPTION_NAME = /^[a-z0-9_]+$/;

/** One repo's settings while they are being checked. */
interface RepoInput {
  readonly where: ConfigErrorContext;
  readonly baseDir: string;
  readonly settings: ReadonlyMap<string, unknown>;
}

/**
 * Read and validate a repos YAML file. Relative paths in it are resolved against the file's
 * own directory, so the file can be moved together with the trees it describes.
 *
 * @param filePath the repos file; named as given in error messages.
 * @throws ConfigError when the file cannot be read or any repo is invalid.
 * @example
 * ```ts
 * const repos = loadRepos(settings.reposConf);
 * for (const repo of repos) console.log(repo.localPath, repo.remote.backend);
 * ```
 */
export function loadRepos(filePath: string, warn: (message: string) => void = () => undefined): Repo[] {
  let text: string;
  try {
    text = fs.readFileSync(filePath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'read error';
    // The file's name came from a setting: say which, so the operator knows what to fix.
    throw new ConfigError({ file: filePath, key: 'REPOS_CONF' }, `cannot read the repos file (${code}); it is named by key "REPOS_CONF"`);
  }
  return parseRepos(text, filePath, path.dirname(path.resolve(filePath)), warn);
}

/**
 * Validate the text of a repos YAML file.
 *
 * Repo directories (and `local` remotes) must exist; they are stored `realpath`-resolved.
 * Repos are returned in file order. No two repos may be the same directory or nested, after
 * symlinks are resolved.
 *
 * @param text the YAML.
 * @param fileName the name to put in error messages.
 * @param baseDir the directory relative paths are resolved against.
 * @throws ConfigError on the first problem found.
 * @example
 * ```ts
 * const repos = parseRepos('/data/lab1:\n  backend: local\n  path: /mnt/cold/lab1\n', 'repos.yaml', '/etc/glacis');
 * ```
 */
export function parseRepos(text: string, fileName: string, baseDir: string, warn: (message: string) => void = () => undefined): Repo[] {
  const repos = readTopLevel(text, fileName).map(([name, value]) =>
    parseRepo(name, value, fileName, baseDir, warn),
  );
  checkNoNesting(repos, fileName);
  checkLocalRemotesApart(repos, fileName);
  return repos;
}

// ---------------------------------------------------------------------------------------------
// YAML document

function readTopLevel(text: string, file: string): Array<[string, unknown]> {
  const top = toJs(text, file);
  if (top === null || top === undefined) {
    throw new ConfigError({ file }, 'the file is empty; expected a map of local path to repo settings');
  }
  if (!(top instanceof Map)) {
    throw new ConfigError(
      { file },
      `the top level must be a map of local path to repo settings (got ${describeType(top)})`,
    );
  }
  return [...top].map(([key, value]) => [repoName(key, file), value]);
}

/**
 * Maps as JS Maps keep file order even for keys like `2024`, which a plain object would
 * hoist. Merge keys (`<<: *defaults`) are on because PyYAML, and so Baricadr, accepts them.
 */
function toJs(text: string, file: string): unknown {
  const doc = parseDocument(text, { merge: true });
  const [first] = doc.errors;
  if (first) {
    // The library's message ends with an excerpt of the file, which may show a password.
    const message = (first.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    const pos = first.linePos?.[0];
    const where = pos ? `line ${pos.line}, column ${pos.col}: ` : '';
    throw new ConfigError({ file }, `${where}invalid YAML: ${message}`);
  }
  try {
    return doc.toJS({ mapAsMap: true });
  } catch (err) {
    throw new ConfigError({ file }, `invalid YAML: ${(err as Error).message}`);
  }
}

function repoName(key: unknown, file: string): string {
  if ((typeof key === 'string' && key.trim() !== '') || typeof key === 'number') return String(key);
  throw new ConfigError(
    { file },
    `every top-level key must be a local directory path (got ${describeType(key)})`,
  );
}

// ---------------------------------------------------------------------------------------------
// One repo

function parseRepo(name: string, value: unknown, file: string, baseDir: string, warn: (message: string) => void): Repo {
  const where: ConfigErrorContext = { file, repo: name };
  const input: RepoInput = { where, baseDir, settings: settingsMap(value, where) };
  const backend = parseBackend(input);
  checkKnownKeys(input, backend);
  const settings = {
    name,
    remote: parseRemote(input, backend),
    ...parseFreezing(input, warn),
    ...parseOwnership(input),
    ...parseWatermarks(input),
    ...parseRunLimits(input),
    verify: optionalEnum(input, 'verify', VERIFY_MODES) ?? 'size',
    ...optionalField('reportCron', optionalCron(input, 'report_cron')),
  };
  // Nothing may be frozen there: the marks would be checked for nothing.
  if (settings.watermarks && !settings.freezable) warn(`${file}: repo ${quote(name)}: keys "high_watermark" and "low_watermark" have no effect without freezable: true`);
  const push = parsePush(input, settings.remote, warn);
  // Last, so that a mistyped key is reported the same whether or not the directory exists.
  const localPath = existingDirectory(path.resolve(baseDir, name), where, 'the repo directory');
  return { localPath, ...settings, ...(push === undefined ? {} : { push }) };
}

type FreezingFields = Pick<
  Repo,
  'exclude' | 'freezable' | 'freezeAge' | 'autoFreeze' | 'autoFreezeInterval' | 'autoFreezeCron' | 'autoFreezeMail' | 'disableAtimeTest'
>;

function parseFreezing(input: RepoInput, warn: (message: string) => void): FreezingFields {
  const cron = optionalCron(input, 'auto_freeze_cron');
  const autoFreezeMail = optionalEnum(input, 'auto_freeze_mail', AUTO_FREEZE_MAILS);
  const autoFreeze = optionalBool(input, 'auto_freeze', false);
  // A schedule without auto_freeze: true never runs; a typo'd or forgotten flag looked like a schedule.
  for (const key of ['auto_freeze_cron', 'auto_freeze_interval', 'auto_freeze_mail']) {
    if (!autoFreeze && input.settings.has(key)) warn(`${input.where.file}: repo ${quote(input.where.repo ?? '')}: key ${quote(key)} has no effect without auto_freeze: true`);
  }
  return {
    exclude: parseExclude(input),
    freezable: optionalBool(input, 'freezable', false),
    freezeAge: optionalInt(input, 'freeze_age', DAYS, 'a whole number of days') ?? 180,
    autoFreeze,
    autoFreezeInterval: optionalInt(input, 'auto_freeze_interval', DAYS, 'a whole number of days') ?? 7,
    ...(cron === undefined ? {} : { autoFreezeCron: cron }),
    ...(autoFreezeMail === undefined ? {} : { autoFreezeMail }),
    disableAtimeTest: optionalBool(input, 'disable_atime_test', false),
  };
}

/** `{ [name]: value }`, or nothing when the value is absent (exactOptionalPropertyTypes). */
function optionalField<K extends string, V>(name: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [name]: value }) as { [P in K]?: V };
}

/**
 * The push keys: undefined unless `pushable: true`. Versions are kept beside the remote's
 * root (`<path>.glacis-versions`, see src/push/versions.ts), so the root needs a parent:
 * a bucket without prefix, or an SFTP login directory, has none on the same remote.
 */
function parsePush(input: RepoInput, remote: RemoteSpec, warn: (message: string) => void): PushSettings | undefined {
  const pushable = optionalBool(input, 'pushable', false);
  const autoPush = optionalBool(input, 'auto_push', false);
  if (!pushable) {
    if (autoPush) throw ConfigError.invalidValue(input.where, 'auto_push', 'false while the repo is not pushable (set pushable: true to push)', show('auto_push', true));
    for (const key of PUSH_KEYS) {
      if (key !== 'pushable' && key !== 'auto_push' && input.settings.has(key)) warn(`${input.where.file}: repo ${quote(input.where.repo ?? '')}: key ${quote(key)} has no effect without pushable: true`);
    }
    return undefined;
  }
  if (!hasParentOnRemote(remote)) {
    throw ConfigError.invalidValue(input.where, 'pushable', `false for a remote path without a parent (push keeps old versions beside it, in "<path>.glacis-versions": give ${remote.backend === 's3' ? 'path as bucket/prefix' : 'the remote a path inside a directory'})`, show('pushable', true));
  }
  const cron = optionalCron(input, 'auto_push_cron');
  for (const key of ['auto_push_cron', 'auto_push_interval']) {
    if (!autoPush && input.settings.has(key)) warn(`${input.where.file}: repo ${quote(input.where.repo ?? '')}: key ${quote(key)} has no effect without auto_push: true`);
  }
  return {
    keepVersionsDays: optionalInt(input, 'push_keep_versions_days', VERSION_DAYS, 'a whole number of days') ?? 30,
    shrinkLimitPercent: optionalInt(input, 'push_shrink_limit', PERCENT, 'a whole percentage') ?? 50,
    changeLimitPercent: optionalInt(input, 'push_change_limit', PERCENT, 'a whole percentage') ?? 20,
    autoPush,
    autoPushIntervalHours: optionalInt(input, 'auto_push_interval', HOURS, 'a whole number of hours') ?? 24,
    ...(cron === undefined ? {} : { autoPushCron: cron }),
  };
}

/** Whether the remote's root has a parent directory (or bucket) on the same remote, where versions can live. */
function hasParentOnRemote(remote: RemoteSpec): boolean {
  const parts = remote.path.split('/').filter((p) => p !== '' && p !== '.');
  // On S3 the first segment is the bucket: a sibling of it would be another bucket.
  const minimum = remote.backend === 's3' ? 2 : 1;
  return parts.length >= minimum;
}

function parseOwnership(input: RepoInput): Pick<Repo, 'chownUid' | 'chownGid'> {
  const chownUid = optionalInt(input, 'chown_uid', ID_RANGE, 'a whole number');
  const chownGid = optionalInt(input, 'chown_gid', ID_RANGE, 'a whole number');
  return {
    ...(chownUid === undefined ? {} : { chownUid }),
    ...(chownGid === undefined ? {} : { chownGid }),
  };
}

/** Issue 16 §3: the pair is validated by the one rule in src/policy/watermark.ts. */
function parseWatermarks(input: RepoInput): Pick<Repo, 'watermarks' | 'watermarkMinAge'> {
  const high = input.settings.get('high_watermark');
  const low = input.settings.get('low_watermark');
  const problem = watermarkError(high, low);
  if (problem !== undefined) throw new ConfigError({ ...input.where, key: /key "(\w+)"/.exec(problem)?.[1] ?? 'high_watermark' }, problem);
  const watermarkMinAge = optionalInt(input, 'watermark_min_age', MIN_AGE_DAYS, 'a whole number of days');
  return {
    ...(typeof high === 'number' && typeof low === 'number' ? { watermarks: { high, low } } : {}),
    ...(watermarkMinAge === undefined ? {} : { watermarkMinAge }),
  };
}

/** Issue 16 §4: limits on every freeze; absent = no limit. */
function parseRunLimits(input: RepoInput): Pick<Repo, 'maxFilesPerRun' | 'maxBytesPerRun'> {
  const maxFilesPerRun = optionalInt(input, 'max_files_per_run', RUN_LIMIT, 'a whole number of files');
  const maxBytesPerRun = optionalInt(input, 'max_bytes_per_run', RUN_LIMIT, 'a whole number of bytes');
  return {
    ...(maxFilesPerRun === undefined ? {} : { maxFilesPerRun }),
    ...(maxBytesPerRun === undefined ? {} : { maxBytesPerRun }),
  };
}

function settingsMap(value: unknown, where: ConfigErrorContext): Map<string, unknown> {
  if (!(value instanceof Map)) {
    throw new ConfigError(where, `settings must be a map of keys such as backend, path (got ${describeType(value)})`);
  }
  // A key written `port:` with no value reads as unset, like an absent key.
  const entries = [...value].filter(([, v]) => v !== null && v !== undefined);
  return new Map(entries.map(([k, v]) => [String(k), v]));
}

function parseBackend(input: RepoInput): Backend {
  const value = input.settings.get('backend');
  if (value === undefined) {
    throw ConfigError.missingKey(input.where, 'backend', `required; one of ${BACKENDS.join(', ')}`);
  }
  const backend = BACKENDS.find((b) => b === value);
  if (backend !== undefined) return backend;
  throw ConfigError.invalidValue(input.where, 'backend', `one of ${BACKENDS.join(', ')}`, describeValue(value));
}

function checkKnownKeys(input: RepoInput, backend: Backend): void {
  const allowed = ['backend', ...BACKEND_KEYS[backend], ...COMMON_KEYS];
  for (const key of input.settings.keys()) {
    if (!allowed.includes(key)) {
      throw ConfigError.unknownKey(input.where, key, allowed, `for backend ${backend}`);
    }
  }
}

function parseRemote(input: RepoInput, backend: Backend): RemoteSpec {
  switch (backend) {
    case 'sftp':
      return parseSftp(input);
    case 's3':
      return parseS3(input);
    case 'local':
      return parseLocal(input);
    case 'rclone':
      return parseGenericRclone(input);
  }
}

// ---------------------------------------------------------------------------------------------
// Remotes

function parseSftp(input: RepoInput): SftpRemote {
  const url = requiredString(input, 'url', 'required for backend sftp');
  const colon = url.indexOf(':');
  if (colon <= 0) {
    throw ConfigError.invalidValue(
      input.where,
      'url',
      '"host:path": a host, a colon, then the remote path (which may be empty)',
    );
  }
  const user = requiredString(input, 'user', 'required for backend sftp');
  const password = optionalString(input, 'password');
  const keyFile = optionalString(input, 'key_file');
  if (password === undefined && keyFile === undefined) {
    throw ConfigError.missingKey(input.where, 'password', 'backend sftp needs "password" or "key_file"');
  }
  const port = optionalInt(input, 'port', PORT_RANGE, 'a whole number');
  const knownHostsFile = optionalString(input, 'known_hosts_file');
  return {
    backend: 'sftp',
    host: url.slice(0, colon),
    path: url.slice(colon + 1),
    user,
    ...(port === undefined ? {} : { port }),
    ...(password === undefined ? {} : { password }),
    ...(keyFile === undefined ? {} : { keyFile: resolveKeyFile(keyFile, input.baseDir) }),
    ...(knownHostsFile === undefined ? {} : { knownHostsFile: resolveKeyFile(knownHostsFile, input.baseDir) }),
  };
}

/** rclone itself expands a leading `~` and `$VARS` in key_file and known_hosts_file, so those are left to it. */
function resolveKeyFile(keyFile: string, baseDir: string): string {
  if (keyFile.startsWith('~') || keyFile.startsWith('$')) return keyFile;
  return path.resolve(baseDir, keyFile);
}

function parseS3(input: RepoInput): S3Remote {
  const provider = requiredString(input, 'provider', 'required for backend s3, e.g. AWS, Ceph, Minio, Other');
  const endpoint = optionalString(input, 'endpoint');
  if (endpoint !== undefined && !isHttpUrl(endpoint)) {
    throw ConfigError.invalidValue(input.where, 'endpoint', 'an http:// or https:// URL');
  }
  const accessKeyId = optionalString(input, 'access_key_id');
  const secretAccessKey = optionalString(input, 'secret_access_key');
  requirePair(input, ['access_key_id', accessKeyId], ['secret_access_key', secretAccessKey]);
  const region = optionalString(input, 'region');
  return {
    backend: 's3',
    provider,
    path: s3Path(input),
    ...(endpoint === undefined ? {} : { endpoint }),
    ...(accessKeyId === undefined ? {} : { accessKeyId }),
    ...(secretAccessKey === undefined ? {} : { secretAccessKey }),
    ...(region === undefined ? {} : { region }),
  };
}

/** Slashes at either end carry no meaning for a bucket path; Baricadr's sample ends in one. */
function s3Path(input: RepoInput): string {
  const raw = requiredString(input, 'path', 'required for backend s3: bucket/prefix');
  const trimmed = raw.replace(/^\/+|\/+$/g, '');
  if (trimmed !== '') return trimmed;
  throw ConfigError.invalidValue(input.where, 'path', '"bucket" or "bucket/prefix"', describeValue(raw));
}

/** Half a key pair is always a mistake, and rclone would silently fall back to other auth. */
function requirePair(
  input: RepoInput,
  a: readonly [string, string | undefined],
  b: readonly [string, string | undefined],
): void {
  if (a[1] !== undefined && b[1] === undefined) {
    throw ConfigError.missingKey(input.where, b[0], `required when ${quote(a[0])} is set`);
  }
  if (b[1] !== undefined && a[1] === undefined) {
    throw ConfigError.missingKey(input.where, a[0], `required when ${quote(b[0])} is set`);
  }
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

function parseLocal(input: RepoInput): LocalRemote {
  const raw = requiredString(input, 'path', 'required for backend local');
  const where = { ...input.where, key: 'path' };
  return { backend: 'local', path: existingDirectory(path.resolve(input.baseDir, raw), where, 'key "path"') };
}

function parseGenericRclone(input: RepoInput): GenericRcloneRemote {
  const type = requiredString(input, 'type', 'required for backend rclone: an rclone backend name such as webdav');
  if (!RCLONE_NAME.test(type)) {
    throw ConfigError.invalidValue(input.where, 'type', 'an rclone backend name matching [a-z0-9]+', describeValue(type));
  }
  const remotePath = input.settings.has('path') ? stringValue(input, 'path') : '';
  return { backend: 'rclone', type, path: remotePath, options: parseOptions(input) };
}

/** Option values may be passwords or tokens, so only option names appear in messages. */
function parseOptions(input: RepoInput): Record<string, string> {
  const value = input.settings.get('options');
  if (value === undefined) return {};
  if (!(value instanceof Map)) {
    throw ConfigError.invalidValue(input.where, 'options', 'a map of rclone option names to values', describeType(value));
  }
  const options = new Map<string, string>();
  for (const [rawName, optionValue] of value) {
    const name = String(rawName);
    if (!RCLONE_OPTION_NAME.test(name)) {
      throw ConfigError.invalidValue(input.where, `options.${name}`, 'named like an rclone option, matching [a-z0-9_]+');
    }
    if (!['string', 'number', 'boolean'].includes(typeof optionValue)) {
      throw ConfigError.invalidValue(input.where, `options.${name}`, 'a string, number or boolean', describeType(optionValue));
    }
    options.set(name, String(optionValue));
  }
  return Object.fromEntries(options);
}

// ---------------------------------------------------------------------------------------------
// Values

function show(key: string, value: unknown): string {
  return SHOWABLE_KEYS.has(key) ? describeValue(value) : describeType(value);
}

function requiredString(input: RepoInput, key: string, why: string): string {
  if (!input.settings.has(key)) throw ConfigError.missingKey(input.where, key, why);
  const value = stringValue(input, key);
  if (value.trim() !== '') return value;
  throw ConfigError.invalidValue(input.where, key, 'a non-empty string');
}

function optionalString(input: RepoInput, key: string): string | undefined {
  if (!input.settings.has(key)) return undefined;
  const value = stringValue(input, key);
  if (value.trim() !== '') return value;
  throw ConfigError.invalidValue(input.where, key, 'a non-empty string (or leave the key out)');
}

/**
 * Numbers are refused rather than stringified: YAML reads `password: 0123` as 123, silently
 * changing a secret.
 */
function stringValue(input: RepoInput, key: string): string {
  const value = input.settings.get(key);
  if (typeof value === 'string') return value;
  throw ConfigError.invalidValue(input.where, key, 'a string (quote it in YAML)', show(key, value));
}

/** Baricadr's files say `True`; PyYAML also reads yes/no/on/off as booleans. */
function optionalBool(input: RepoInput, key: string, fallback: boolean): boolean {
  const value = input.settings.get(key);
  if (value === undefined) return fallback;
  const flag = parseBoolean(value);
  if (flag !== undefined) return flag;
  throw ConfigError.invalidValue(input.where, key, 'true or false', show(key, value));
}

/** Digit strings pass because Baricadr applied `int()` to `freeze_age`. */
function optionalInt(
  input: RepoInput,
  key: string,
  range: { readonly min: number; readonly max: number },
  what: string,
): number | undefined {
  const value = input.settings.get(key);
  if (value === undefined) return undefined;
  const n = wholeNumberIn(value, range);
  if (n !== undefined) return n;
  throw ConfigError.invalidValue(input.where, key, `${what} from ${range.min} to ${range.max}`, show(key, value));
}

function optionalEnum<T extends string>(input: RepoInput, key: string, allowed: readonly T[]): T | undefined {
  const value = input.settings.get(key);
  if (value === undefined) return undefined;
  const match = allowed.find((a) => a === value);
  if (match !== undefined) return match;
  throw ConfigError.invalidValue(input.where, key, `one of ${allowed.join(', ')}`, show(key, value));
}

/**
 * Loaded on first use: it brings luxon, and every client command reads this module without
 * ever validating a repos file.
 */
const cronParser = (): typeof import('cron-parser') => createRequire(import.meta.url)('cron-parser') as typeof import('cron-parser');

/** What `auto_freeze_cron` and `report_cron` allow; a 6-field expression starts with seconds. */
const CRON_ALLOWED = 'a cron expression of 5 or 6 space-separated fields';
const CRON_RANGES = 'minute 0-59, hour 0-23, day of month 1-31, month 1-12, day of week 0-7 (a 6th field, first, is seconds 0-59)';

/**
 * Parsed with the parser BullMQ schedules with (cron-parser, at BullMQ's pinned version), so
 * that what passes start-up is what runs: `61 * * * *` passed the field count, and the
 * scheduler then failed naming neither repo nor key (test/config/repos.test.ts).
 */
function optionalCron(input: RepoInput, key: 'auto_freeze_cron' | 'report_cron' | 'auto_push_cron'): string | undefined {
  const value = input.settings.get(key);
  if (value === undefined) return undefined;
  const fields = typeof value === 'string' ? value.trim().split(/\s+/) : [];
  if (fields.length !== 5 && fields.length !== 6) {
    throw ConfigError.invalidValue(input.where, key, CRON_ALLOWED, show(key, value));
  }
  const expression = fields.join(' ');
  try {
    cronParser().CronExpressionParser.parse(expression);
    return expression;
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).replace(/^Constraint error, /, '');
    throw ConfigError.invalidValue(input.where, key, `${CRON_ALLOWED}, each within its range: ${CRON_RANGES}`, `${show(key, value)}: ${reason}`);
  }
}

/** Baricadr's form is one comma-separated string; a YAML list also allows commas in globs. */
function parseExclude(input: RepoInput): string[] {
  const value = input.settings.get('exclude');
  if (value === undefined) return [];
  const allowed = 'a comma-separated string or a list of strings';
  if (typeof value === 'string') return cleanPatterns(value.split(','));
  if (Array.isArray(value)) {
    const bad = value.find((item) => typeof item !== 'string');
    if (bad === undefined) return cleanPatterns(value as string[]);
    throw ConfigError.invalidValue(input.where, 'exclude', allowed, `a list item that is ${describeType(bad)}`);
  }
  throw ConfigError.invalidValue(input.where, 'exclude', allowed, describeValue(value));
}

function cleanPatterns(patterns: readonly string[]): string[] {
  return patterns.map((p) => p.trim()).filter((p) => p !== '');
}

// ---------------------------------------------------------------------------------------------
// Directories

/** Resolved through symlinks so that nesting checks see the directories as the kernel does. */
function existingDirectory(absolute: string, where: ConfigErrorContext, what: string): string {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(absolute);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? 'error'})`;
    throw new ConfigError(where, `${what} ${quote(absolute)} ${reason}; it must be an existing directory`);
  }
  if (!stat.isDirectory()) {
    throw new ConfigError(where, `${what} ${quote(absolute)} is not a directory; it must be an existing directory`);
  }
  return fs.realpathSync.native(absolute);
}

function checkNoNesting(repos: readonly Repo[], file: string): void {
  repos.forEach((later, index) => {
    for (const earlier of repos.slice(0, index)) {
      const problem = nestingProblem(later, earlier) ?? nestingProblem(earlier, later);
      if (problem !== undefined) {
        throw new ConfigError({ file }, `${problem}; repos may not nest or repeat`);
      }
    }
  });
}

function nestingProblem(inner: Repo, outer: Repo): string | undefined {
  if (inner.localPath === outer.localPath) {
    return `repo path ${quote(inner.name)} is the same directory as repo ${quote(outer.name)} (after realpath: ${quote(inner.localPath)})`;
  }
  if (isSameOrInside(inner.localPath, outer.localPath)) {
    return `repo path ${quote(inner.name)} is inside repo ${quote(outer.name)} (after realpath: ${quote(inner.localPath)} is inside ${quote(outer.localPath)})`;
  }
  return undefined;
}

/**
 * A `local` remote that overlaps a repo would let freeze delete the only copy of a file, or
 * let a pull copy a tree into itself.
 */
function checkLocalRemotesApart(repos: readonly Repo[], file: string): void {
  for (const repo of repos) {
    if (repo.remote.backend !== 'local') continue;
    const remotePath = repo.remote.path;
    const clash = repos.find(
      (other) => isSameOrInside(remotePath, other.localPath) || isSameOrInside(other.localPath, remotePath),
    );
    if (clash !== undefined) {
      throw new ConfigError(
        { file, repo: repo.name, key: 'path' },
        `key "path" (backend local) ${quote(remotePath)} overlaps repo ${quote(clash.name)} (${quote(clash.localPath)}); a remote may not be inside a repo or contain one`,
      );
    }
  }
}
