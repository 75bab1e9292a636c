/**
 * How a {@link RemoteSpec} reaches rclone: as `RCLONE_CONFIG_GLACISREMOTE_*` variables in
 * the child's environment (never on the command line, which any local user can read
 * with `ps`), plus the `glacisremote:path` string that addresses it.
 */
import { existsSync } from 'node:fs';
import type { RemoteSpec } from '../config/types.js';
import { obscure, reveal } from './obscure.js';
import { makeRedactor, type Redactor } from './redact.js';

/**
 * The one remote name Glacis configures in every rclone child.
 *
 * @example
 * ```ts
 * `${REMOTE_NAME}:bucket/prefix`; // 'glacisremote:bucket/prefix'
 * ```
 */
export const REMOTE_NAME = 'glacisremote';

const CONFIG_PREFIX = `RCLONE_CONFIG_${REMOTE_NAME.toUpperCase()}_`;

/** rclone's own spelling of the S3 providers, so a lower-cased `minio` still gets Minio's quirks. */
const S3_PROVIDERS = [
  'AWS', 'Alibaba', 'ArvanCloud', 'Ceph', 'ChinaMobile', 'Cloudflare', 'DigitalOcean',
  'Dreamhost', 'HuaweiOBS', 'IBMCOS', 'IDrive', 'IONOS', 'LyveCloud', 'Minio', 'Netease',
  'Other', 'Qiniu', 'RackCorp', 'Scaleway', 'SeaweedFS', 'StackPath', 'Storj', 'TencentCOS',
  'Wasabi',
] as const;

// Self-hosted stores are typically reached by IP or a name without bucket wildcard DNS.
const PATH_STYLE_PROVIDERS = new Set(['Other', 'Minio', 'Ceph', 'SeaweedFS']);

// rclone backends whose "directories" are only key prefixes: a missing prefix lists as empty.
const BUCKET_BACKENDS = new Set([
  's3', 'b2', 'google cloud storage', 'gcs', 'azureblob', 'swift', 'qingstor',
  'oracleobjectstorage', 'storj', 'tardigrade', 'memory',
]);

// Generic option names whose values are secrets whatever they look like.
const SECRET_OPTION = /pass|secret|key|token|credential|sas_url/i;

/**
 * A remote turned into child-environment variables.
 *
 * @example
 * ```ts
 * const { vars, secrets }: RemoteEnv = remoteEnv(repo.remote);
 * ```
 */
export interface RemoteEnv {
  /** `RCLONE_CONFIG_GLACISREMOTE_*` variables. */
  readonly vars: Readonly<Record<string, string>>;
  /** Every value in `vars` (and its plain/obscured counterpart) that must never be shown. */
  readonly secrets: readonly string[];
}

/**
 * The `RCLONE_CONFIG_GLACISREMOTE_*` variables describing `remote`. Passwords are
 * obscured as rclone requires; the result's `secrets` lists both forms for redaction.
 *
 * For generic rclone remotes the option values are passed verbatim, as they would be
 * written in rclone.conf: password-type options must therefore already be obscured.
 *
 * @example
 * ```ts
 * remoteEnv({ backend: 'sftp', host: 'h', path: 'data', user: 'u', password: 'pw' }).vars;
 * // { RCLONE_CONFIG_GLACISREMOTE_TYPE: 'sftp', ..._HOST: 'h', ..._USER: 'u', ..._PASS: '<obscured>' }
 * ```
 */
export function remoteEnv(remote: RemoteSpec): RemoteEnv {
  const vars: Record<string, string> = {};
  const secrets = secretsOf(remote);
  const set = (key: string, value: string | number | boolean | undefined): void => {
    if (value === undefined || value === '') return;
    vars[CONFIG_PREFIX + key] = String(value);
  };

  switch (remote.backend) {
    case 'local':
      set('TYPE', 'local');
      break;
    case 'sftp':
      set('TYPE', 'sftp');
      set('HOST', remote.host);
      set('PORT', remote.port);
      set('USER', remote.user);
      set('KEY_FILE', remote.keyFile);
      set('KNOWN_HOSTS_FILE', remote.knownHostsFile);
      if (remote.password !== undefined && remote.password !== '') {
        const obscured = obscure(remote.password);
        set('PASS', obscured);
        secrets.push(obscured);
      }
      break;
    case 's3': {
      const provider = canonicalProvider(remote.provider);
      set('TYPE', 's3');
      set('PROVIDER', provider);
      set('ENDPOINT', remote.endpoint);
      set('REGION', remote.region);
      set('ACCESS_KEY_ID', remote.accessKeyId);
      set('SECRET_ACCESS_KEY', remote.secretAccessKey);
      // Credentials come from the repo config only, never from whatever AWS_* the service inherited.
      set('ENV_AUTH', false);
      if (PATH_STYLE_PROVIDERS.has(provider)) set('FORCE_PATH_STYLE', true);
      break;
    }
    case 'rclone':
      for (const [name, value] of Object.entries(remote.options)) {
        const key = optionEnvKey(name);
        if (key !== 'TYPE') set(key, value);
      }
      set('TYPE', remote.type);
      break;
  }
  return { vars, secrets };
}

/**
 * The secret values of a remote spec, for redacting text outside this module (the
 * obscured forms this module generates never leave it unredacted, so they are not here).
 * Generic rclone options count as secret unless they are booleans, plain numbers or
 * sizes, or under 3 characters, under a name that does not suggest a secret; an option
 * value that is an obscured password contributes its plain form too.
 *
 * @example
 * ```ts
 * secretsOf({ backend: 's3', provider: 'AWS', path: 'b', secretAccessKey: 'abc/123' }); // ['abc/123']
 * ```
 */
export function secretsOf(remote: RemoteSpec): string[] {
  const secrets: string[] = [];
  for (const { value, revealed } of secretSettings(remote)) {
    secrets.push(value);
    if (revealed !== undefined) secrets.push(revealed);
  }
  return secrets;
}

/** A secret of a remote and the repos-file key it came from. */
export interface SecretSetting {
  /** The repos file key: `password`, `secret_access_key`, `options.<name>`. */
  readonly key: string;
  readonly value: string;
  /** An obscured rclone option's clear text, when it reveals to printable text. */
  readonly revealed?: string;
}

/**
 * The secrets of a remote with the key each came from, so start-up can name the key of a
 * secret too short to be redacted (never its value).
 *
 * @example
 * ```ts
 * secretSettings({ backend: 'sftp', host: 'h', path: '', user: 'u', password: 'pw' }); // [{ key: 'password', value: 'pw' }]
 * ```
 */
export function secretSettings(remote: RemoteSpec): SecretSetting[] {
  switch (remote.backend) {
    case 'local':
      return [];
    case 'sftp':
      return remote.password ? [{ key: 'password', value: remote.password }] : [];
    case 's3':
      return remote.secretAccessKey ? [{ key: 'secret_access_key', value: remote.secretAccessKey }] : [];
    case 'rclone':
      return Object.entries(remote.options).flatMap(([name, value]) => {
        if (!isSecretOption(name, value)) return [];
        const revealed = reveal(value);
        return [{ key: `options.${name}`, value, ...(revealed !== undefined && /^[\P{C}]+$/u.test(revealed) ? { revealed } : {}) }];
      });
  }
}

/**
 * Child environment and extra flags for one rclone invocation.
 *
 * @example
 * ```ts
 * const { env, args, redact }: ChildEnv = childEnv(process.env, repo.remote);
 * ```
 */
export interface ChildEnv {
  readonly env: NodeJS.ProcessEnv;
  /** Flags that must accompany the environment (e.g. `--ca-cert` replacing `AWS_CA_BUNDLE`). */
  readonly args: readonly string[];
  readonly redact: Redactor;
}

/**
 * The full environment for an rclone child: `baseEnv` minus every `RCLONE_*` variable
 * (a stray `RCLONE_CONFIG_*`, `RCLONE_PASSWORD_COMMAND` or flag variable must not change
 * what Glacis does) and minus `AWS_CA_BUNDLE`, which rclone 1.60's S3 backend refuses to
 * start with ("LoadCustomCABundleError ... unsupported transport"); the same bundle is
 * handed over as `--ca-cert` instead, which sftp and local ignore.
 *
 * @example
 * ```ts
 * const { env, args, redact } = childEnv(process.env, repo.remote);
 * spawn('rclone', ['lsjson', ...args, remoteRoot(repo.remote, '')], { env });
 * ```
 */
export function childEnv(baseEnv: NodeJS.ProcessEnv, remote?: RemoteSpec): ChildEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(baseEnv)) {
    if (value === undefined || key.startsWith('RCLONE_') || key === 'AWS_CA_BUNDLE') continue;
    env[key] = value;
  }
  env.RCLONE_CONFIG = '/dev/null';

  const args: string[] = [];
  const caBundle = baseEnv.AWS_CA_BUNDLE;
  // A dangling bundle path would make every command fail; without it rclone uses the system roots.
  if (caBundle && existsSync(caBundle)) args.push(`--ca-cert=${caBundle}`);

  let secrets: readonly string[] = [];
  if (remote) {
    const r = remoteEnv(remote);
    Object.assign(env, r.vars);
    secrets = r.secrets;
  }
  return { env, args, redact: makeRedactor(secrets) };
}

/**
 * A repo-relative path cleaned for use under a remote: no leading, trailing or doubled
 * slashes, no `.` segments. `..` is refused so that a path can never climb above the
 * repository's prefix on the remote.
 *
 * @example
 * ```ts
 * normalizeRelPath('/a//b/./c/'); // 'a/b/c'
 * ```
 */
export function normalizeRelPath(relPath: string): string {
  const parts = relPath.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new Error(`Remote-relative path must not contain "..": ${relPath}`);
  return parts.join('/');
}

/**
 * The path on the remote (without the remote name) that `relPath` maps to: the spec's
 * `path` joined with `relPath`. Absolute bases stay absolute, relative ones (sftp paths
 * relative to the login directory, `bucket/prefix`) stay relative.
 *
 * @example
 * ```ts
 * remotePath({ backend: 's3', provider: 'AWS', path: 'bucket/pre/' }, 'a/b'); // 'bucket/pre/a/b'
 * ```
 */
export function remotePath(remote: RemoteSpec, relPath: string): string {
  const rel = normalizeRelPath(relPath);
  let base = remote.path;
  // Buckets are never absolute; rclone would otherwise look for a bucket named "".
  if (isBucketBased(remote)) base = base.replace(/^\/+/, '');
  const absolute = base.startsWith('/');
  const parts = [...base.split('/').filter((p) => p !== '' && p !== '.'), ...(rel === '' ? [] : rel.split('/'))];
  return (absolute ? '/' : '') + parts.join('/');
}

/**
 * How rclone addresses `relPath` of a remote: `glacisremote:<path>/<relPath>`.
 *
 * @example
 * ```ts
 * remoteRoot({ backend: 'sftp', host: 'h', path: 'store/lab1' }, 'sub/file.txt');
 * // 'glacisremote:store/lab1/sub/file.txt'
 * remoteRoot({ backend: 'local', path: '/mnt/cold/' }, ''); // 'glacisremote:/mnt/cold'
 * ```
 */
export function remoteRoot(remote: RemoteSpec, relPath: string): string {
  return `${REMOTE_NAME}:${remotePath(remote, relPath)}`;
}

/**
 * True for stores whose directories are only key prefixes (S3 and friends), where rclone
 * reports a missing prefix as an existing, empty directory.
 *
 * @example
 * ```ts
 * isBucketBased({ backend: 's3', provider: 'Minio', path: 'b' }); // true
 * ```
 */
export function isBucketBased(remote: RemoteSpec): boolean {
  if (remote.backend === 's3') return true;
  if (remote.backend === 'rclone') return BUCKET_BACKENDS.has(remote.type.toLowerCase());
  return false;
}

function canonicalProvider(provider: string): string {
  return S3_PROVIDERS.find((p) => p.toLowerCase() === provider.toLowerCase()) ?? provider;
}

function optionEnvKey(name: string): string {
  return name.replace(/^-+/, '').replace(/[^A-Za-z0-9]/g, '_').toUpperCase();
}

// Every generic value counts as secret, except booleans, and numbers or tiny values under
// harmless names: redacting "true", "22" or "s" everywhere would make rclone's messages unreadable.
function isSecretOption(name: string, value: string): boolean {
  if (value === '' || /^(true|false)$/i.test(value)) return false;
  if (SECRET_OPTION.test(name)) return true;
  return value.length >= 3 && !/^\d+(\.\d+)?[a-zA-Z]{0,2}$/.test(value);
}
