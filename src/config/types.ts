/**
 * The validated shape of Glacis's configuration: the service settings read from
 * `local.cfg` and the environment, and the repositories read from the repos YAML file.
 *
 * Everything here has already passed validation: code that receives a {@link Settings}
 * or a {@link Repo} may trust every field.
 */

/** How the service runs; Baricadr's `BARICADR_RUN_MODE` values. */
export type RunMode = 'dev' | 'test' | 'prod';

/** `LOG_FORMAT`: one JSON object per line, or one readable line per event. */
export type LogFormat = 'json' | 'pretty';

/**
 * Service settings, from `local.cfg` (Baricadr's format) overridden by environment
 * variables of the same name.
 *
 * @example
 * ```ts
 * const settings = loadSettings({ configPath: './local.cfg', env: process.env });
 * console.log(settings.port); // 9100
 * ```
 */
export interface Settings {
  /** Path of the repos YAML file (`REPOS_CONF`, alias `BARICADR_REPOS_CONF`). */
  readonly reposConf: string;
  /** `REDIS_URL`, default `redis://127.0.0.1:6379`. */
  readonly redisUrl: string;
  /** True when `REDIS_URL` came from the file or the environment rather than the default. */
  readonly redisUrlExplicit: boolean;
  /**
   * `DATABASE_URL`, default `./data/glacis.sqlite`: a file path or `sqlite:` URL (SQLite), or a
   * `postgresql://` / `postgres://` URL (PostgreSQL). May hold a password: never shown whole.
   */
  readonly databaseUrl: string;
  /** `HOST`, default `127.0.0.1`. */
  readonly host: string;
  /** `PORT`, default `9100`. */
  readonly port: number;
  /** `WORKER_CONCURRENCY`, default 2. */
  readonly workerConcurrency: number;
  /** `RUN_MODE` (alias `BARICADR_RUN_MODE`), default `prod`. */
  readonly runMode: RunMode;
  /** `QUEUE_PREFIX`, default `glacis`: prefix of every Redis key (queue and locks); instances sharing a Redis need distinct ones. */
  readonly queuePrefix: string;
  /** `WORKER_LOCK_DURATION` (seconds, default 30): a killed worker's task is retried after about this long. */
  readonly workerLockDurationMs: number;
  /** `WORKER_SHUTDOWN_GRACE` (seconds, default 60): how long SIGTERM lets running tasks finish before handing them back. */
  readonly shutdownGraceMs: number;
  /** `TRANSFER_STALL_TIMEOUT` (seconds, default 120): a pull whose copy moves no file and no byte this long fails. */
  readonly transferStallTimeoutMs: number;
  /** `REDIS_STARTUP_TIMEOUT` (seconds, default 30): how long a worker (or `up`) waits for Redis at start-up before exiting with code 3. */
  readonly redisStartupTimeoutMs: number;
  /** `LOG_FORMAT`; unset: JSON in `prod` unless stdout is a terminal, readable lines otherwise. */
  readonly logFormat?: LogFormat;
  /** `RCLONE_EXECUTABLE`, default the `rclone` found on `PATH`. */
  readonly rcloneExecutable: string;
  /** `CLEANUP_INTERVAL` (seconds, default 21600, 0 = off): how often ended tasks older than `CLEANUP_AGE` are removed. */
  readonly cleanupIntervalMs: number;
  /** `CLEANUP_AGE` (seconds, default 31536000 = 365 days, at least 3600): age after which an ended task and its log are removed. */
  readonly cleanupAgeMs: number;
  /** `CLEANUP_ZOMBIES_INTERVAL` (seconds, default 3600, 0 = off): how often tasks with no live job are marked failed. */
  readonly zombiesIntervalMs: number;
  /** `WATERMARK_CHECK_INTERVAL` (seconds, default 300, 1..86400): how often repos with watermarks have their filesystem checked. */
  readonly watermarkCheckIntervalMs: number;
  /**
   * `API_TOKENS` (comma-separated) plus the lines of `API_TOKENS_FILE`: tokens accepted on every
   * route. Default unset: authentication off. Each token: 16 or more visible ASCII characters,
   * no spaces or commas. Secret: never log it.
   */
  readonly apiTokens?: readonly string[];
  /** `METRICS_TOKEN`, default unset: a token accepted on `/metrics` only, same rules as `apiTokens`. Secret: never log it. */
  readonly metricsToken?: string;
  /** The `MAIL_*` keys: task notification mails. */
  readonly mail: MailSettings;
  /** `BARICADR_VERSION`-style override of the reported version; undefined means the package version. */
  readonly version?: string;
  /** Every key read from the file, as parsed, for keys that later issues add (mail, cleanup, auth). */
  readonly raw: Readonly<Record<string, string | number | boolean>>;
}

/** A mail address with an optional display name, as nodemailer takes it. */
export interface MailAddress {
  readonly name?: string;
  readonly address: string;
}

/**
 * Outgoing mail, Flask-Mail's keys as Baricadr reads them. Mail is on when `MAIL_SERVER` is
 * set (or `MAIL_SUPPRESS_SEND` is True, which composes and logs without sending).
 *
 * @example
 * ```ts
 * if (settings.mail.server !== undefined) console.log(`mail through ${settings.mail.server}:${settings.mail.port}`);
 * ```
 */
export interface MailSettings {
  /** `MAIL_SERVER`, default unset: no mail is sent. A host name or IP address. */
  readonly server?: string;
  /** `MAIL_PORT`, default 25 (1..65535). */
  readonly port: number;
  /** `MAIL_USE_SSL`, default False: TLS from the first byte (SMTPS, usually port 465). */
  readonly useSsl: boolean;
  /** `MAIL_USE_TLS`, default False: STARTTLS required; when False, STARTTLS is not attempted (as Flask-Mail). */
  readonly useTls: boolean;
  /** `MAIL_USERNAME`, default unset: no SMTP AUTH. */
  readonly username?: string;
  /** `MAIL_PASSWORD`, default unset. Secret: never log it. */
  readonly password?: string;
  /** `MAIL_SENDER`, default `glacis@<host name>`: an address, or `Name <address>`. */
  readonly sender: MailAddress;
  /** `MAIL_ADMIN`, default none: comma-separated addresses that get failures and auto-freeze summaries. */
  readonly admins: readonly string[];
  /** `MAIL_SUPPRESS_SEND`, default False: True composes mails and logs them (without body) instead of sending. */
  readonly suppressSend: boolean;
  /** `MAIL_RETRY_DELAY` (seconds, default 60, 1..86400): first retry delay of an unsent mail, doubled at each of 10 tries. */
  readonly retryDelayMs: number;
}

/** Remote reached over SFTP. Baricadr's `url: "host:remote/prefix"`. */
export interface SftpRemote {
  readonly backend: 'sftp';
  readonly host: string;
  readonly port?: number;
  /** Path on the server, as written after the colon (may be relative to the login directory). */
  readonly path: string;
  readonly user?: string;
  /** Secret: never log it, never put it on a command line. */
  readonly password?: string;
  readonly keyFile?: string;
  /**
   * OpenSSH known_hosts file holding the server's host key (rclone's `known_hosts_file`):
   * rclone then refuses a server whose key differs. Without it, any host key is accepted.
   */
  readonly knownHostsFile?: string;
}

/** Remote in an S3-compatible store. `path` is `bucket/prefix`. */
export interface S3Remote {
  readonly backend: 's3';
  readonly provider: string;
  readonly endpoint?: string;
  readonly path: string;
  readonly accessKeyId?: string;
  /** Secret: never log it, never put it on a command line. */
  readonly secretAccessKey?: string;
  readonly region?: string;
}

/** A local (or mounted: NFS, Lustre) directory used as the remote. */
export interface LocalRemote {
  readonly backend: 'local';
  /** Absolute directory path. */
  readonly path: string;
}

/** Any rclone backend: `type` is rclone's backend name, `options` its options (rclone's names, without the `--type-` prefix). */
export interface GenericRcloneRemote {
  readonly backend: 'rclone';
  readonly type: string;
  readonly path: string;
  /** Values may be secrets: never logged, handed to rclone through the environment. */
  readonly options: Readonly<Record<string, string>>;
}

export type RemoteSpec = SftpRemote | S3Remote | LocalRemote | GenericRcloneRemote;

/** What freeze compares before deleting: size and mtime, or also a hash. */
export type VerifyMode = 'size' | 'hash';

/** `auto_freeze_mail`: when MAIL_ADMIN hears of a finished auto-freeze (failures always). */
export type AutoFreezeMail = 'always' | 'changes' | 'never';

/**
 * One repository: a local tree with a full copy on a remote.
 *
 * @example
 * ```ts
 * const repos = loadRepos('/etc/glacis/repos.yaml');
 * const repo = repos.find((r) => r.localPath === '/data/lab1');
 * ```
 */
export interface Repo {
  /** Absolute, `realpath`-resolved, without trailing slash (except for `/`). */
  readonly localPath: string;
  /** The key as written in the repos file, for error messages. */
  readonly name: string;
  readonly remote: RemoteSpec;
  /** Glob patterns, rclone filter syntax (Baricadr's `exclude: "*xml , *tsv"`). */
  readonly exclude: readonly string[];
  readonly freezable: boolean;
  /** Days, 2..10000, default 180. */
  readonly freezeAge: number;
  readonly autoFreeze: boolean;
  /** Days, 2..10000, default 7. */
  readonly autoFreezeInterval: number;
  /** A cron expression replacing the interval, when set. */
  readonly autoFreezeCron?: string;
  /** `report_cron`: a report of the whole repo on this cron expression (issue 16 §2); absent: none. */
  readonly reportCron?: string;
  /** `auto_freeze_mail`; absent: `changes` (a summary only when files were frozen or cold files are unprotected). */
  readonly autoFreezeMail?: AutoFreezeMail;
  /** 0..65535 */
  readonly chownUid?: number;
  /** 0..65535 */
  readonly chownGid?: number;
  readonly disableAtimeTest: boolean;
  readonly verify: VerifyMode;
  /**
   * `high_watermark` / `low_watermark` (percent of the filesystem holding the repo, both or
   * neither, `0 < low < high <= 100`): above `high`, a watermark freeze frees the least
   * recently read files until usage is at or under `low`. Absent: no watermark freeze.
   */
  readonly watermarks?: { readonly high: number; readonly low: number };
  /** `watermark_min_age`: days, 0..10000 (absent: 1). A watermark freeze never evicts a file read more recently. */
  readonly watermarkMinAge?: number;
  /** `max_files_per_run`: a freeze stops once it has frozen this many files. Absent: no limit. */
  readonly maxFilesPerRun?: number;
  /** `max_bytes_per_run`: a freeze stops before a file would take the bytes it freed past this. Absent: no limit. */
  readonly maxBytesPerRun?: number;
  /** Present only with `pushable: true`: how push may write this repo's remote. Absent: the remote is read-only. */
  readonly push?: PushSettings;
}

/**
 * `pushable: true` and the `push_*` / `auto_push*` keys: the remote may be written by push,
 * which keeps replaced remote files as versions beside the remote's root.
 */
export interface PushSettings {
  /** `push_keep_versions_days` (1..10000, default 30): versions older than this are the only thing push removes. */
  readonly keepVersionsDays: number;
  /** `push_shrink_limit` (percent 1..100, default 50): a local file smaller than its remote copy by more is held. */
  readonly shrinkLimitPercent: number;
  /** `push_change_limit` (percent 1..100, default 20): a push replacing more of the remote files it looks at pushes nothing. */
  readonly changeLimitPercent: number;
  /** `auto_push`: push the whole repo on a schedule. */
  readonly autoPush: boolean;
  /** `auto_push_interval` (hours, 1..8760, default 24). */
  readonly autoPushIntervalHours: number;
  /** `auto_push_cron`, replacing the interval when set. */
  readonly autoPushCron?: string;
}
