/**
 * Broken configurations for the config suite: each variant's files (written over a working
 * base: `./repo` with a `local` remote `./remote`, and a local.cfg of three lines, so a
 * variant's own local.cfg lines start at line 4), and what its one error line must name.
 */

export interface BrokenConfig {
  readonly what: string;
  /** Which kind of mistake, for the figures. */
  readonly source: 'repos.yaml' | 'local.cfg' | 'environment' | 'runtime';
  /** Files written in the working directory; `local.cfg` lines are appended to the base. */
  readonly files: Readonly<Record<string, string>>;
  readonly env?: Readonly<Record<string, string>>;
  /** Named first: the file as configured, `environment`, or `settings` (a value that is well-formed but unusable). */
  readonly file: string;
  readonly line?: number;
  readonly repo?: string;
  /** The key at fault; absent when the fault is the repo entry itself or the file as a whole. */
  readonly key?: string;
  /** A value that must not be shown. */
  readonly secret?: string;
}

const REPOS = './repos.yaml';
/** The base local.cfg has three lines: a variant's first line is line 4. */
const FIRST_LINE = 4;

/** A repos.yaml whose one repo, `./repo`, has these settings lines. */
const oneRepo = (...lines: string[]): string => `./repo:\n${lines.map((l) => `  ${l}\n`).join('')}`;

const inRepo = (what: string, key: string | undefined, yaml: string, extra: Partial<BrokenConfig> = {}): BrokenConfig => ({
  what: `repos.yaml: ${what}`,
  source: 'repos.yaml',
  files: { 'repos.yaml': yaml },
  file: REPOS,
  repo: './repo',
  ...(key === undefined ? {} : { key }),
  ...extra,
});
const sftp = (...lines: string[]): string => oneRepo('backend: sftp', ...lines);
const s3 = (...lines: string[]): string => oneRepo('backend: s3', ...lines);
const local = (...lines: string[]): string => oneRepo('backend: local', 'path: ./remote', ...lines);

const inCfg = (what: string, key: string | undefined, lines: string, extra: Partial<BrokenConfig> = {}): BrokenConfig => ({
  what: `local.cfg: ${what}`,
  source: 'local.cfg',
  files: { 'local.cfg': lines },
  file: 'local.cfg',
  ...(key === undefined ? {} : { key }),
  ...extra,
});
const inEnv = (key: string, value: string, extra: Partial<BrokenConfig> = {}): BrokenConfig => ({
  what: `environment: ${key}=${value}`,
  source: 'environment',
  files: {},
  env: { [key]: value },
  file: 'environment',
  key,
  ...extra,
});
const unusable = (what: string, key: string, lines: string, extra: Partial<BrokenConfig> = {}): BrokenConfig => ({
  what: `unusable path: ${what}`,
  source: 'runtime',
  files: { 'local.cfg': lines },
  file: 'settings',
  key,
  ...extra,
});

export const BROKEN_CONFIGS: readonly BrokenConfig[] = [
  // repos.yaml: one repo's settings.
  inRepo('no backend', 'backend', oneRepo('path: ./remote')),
  inRepo('an unknown backend', 'backend', oneRepo('backend: ftp', 'path: ./remote')),
  inRepo('backend as a list', 'backend', oneRepo('backend: [local]', 'path: ./remote')),
  inRepo('a misspelt key', 'pasword', local('pasword: hunter2')),
  inRepo('local without path', 'path', oneRepo('backend: local')),
  inRepo('local path that does not exist', 'path', oneRepo('backend: local', 'path: ./nowhere')),
  inRepo('local path that is a file', 'path', oneRepo('backend: local', 'path: ./repos.yaml')),
  inRepo('local path as a number', 'path', oneRepo('backend: local', 'path: 42')),
  inRepo('local path inside the repo', 'path', oneRepo('backend: local', 'path: ./repo/cold'), {
    files: { 'repos.yaml': oneRepo('backend: local', 'path: ./repo/cold'), 'repo/cold/.keep': '' },
  }),
  inRepo('sftp without url', 'url', sftp('user: ada', 'password: pw-Secret-1')),
  inRepo('sftp url without a colon', 'url', sftp('url: example.org', 'user: ada', 'password: pw-Secret-2'), { secret: 'pw-Secret-2' }),
  inRepo('sftp without user', 'user', sftp('url: "example.org:data"', 'password: pw-Secret-3'), { secret: 'pw-Secret-3' }),
  inRepo('sftp with neither password nor key_file', 'password', sftp('url: "example.org:data"', 'user: ada')),
  inRepo('sftp password YAML reads as a number', 'password', sftp('url: "example.org:data"', 'user: ada', 'password: 0987654'), { secret: '987654' }),
  inRepo('sftp password empty', 'password', sftp('url: "example.org:data"', 'user: ada', "password: ''")),
  inRepo('sftp port 0', 'port', sftp('url: "example.org:data"', 'user: ada', 'password: pw', 'port: 0')),
  inRepo('sftp port as a word', 'port', sftp('url: "example.org:data"', 'user: ada', 'password: pw', 'port: ssh')),
  inRepo('sftp port 70000', 'port', sftp('url: "example.org:data"', 'user: ada', 'password: pw', 'port: 70000')),
  inRepo('sftp key_file empty', 'key_file', sftp('url: "example.org:data"', 'user: ada', "key_file: ''")),
  inRepo('s3 without provider', 'provider', s3('path: bucket/prefix')),
  inRepo('s3 endpoint not http', 'endpoint', s3('provider: Other', 'path: bucket', 'endpoint: ftp://example.org')),
  inRepo('s3 access key id without secret key', 'secret_access_key', s3('provider: Other', 'path: bucket', 'access_key_id: AKIA1')),
  inRepo('s3 secret key without access key id', 'access_key_id', s3('provider: Other', 'path: bucket', 'secret_access_key: sk-Secret-4'), { secret: 'sk-Secret-4' }),
  inRepo('s3 secret key as a number', 'secret_access_key', s3('provider: Other', 'path: bucket', 'access_key_id: AKIA1', 'secret_access_key: 7654321'), { secret: '7654321' }),
  inRepo('s3 without path', 'path', s3('provider: Other')),
  inRepo('s3 path only slashes', 'path', s3('provider: Other', 'path: /')),
  inRepo('rclone without type', 'type', oneRepo('backend: rclone', 'path: data')),
  inRepo('rclone type with a space', 'type', oneRepo('backend: rclone', 'type: Web DAV')),
  inRepo('rclone options as a list', 'options', oneRepo('backend: rclone', 'type: webdav', 'options: [url]')),
  inRepo('rclone option name with a dash', 'options.Bad-Name', oneRepo('backend: rclone', 'type: webdav', 'options:', '  Bad-Name: x')),
  inRepo('rclone option value a map', 'options.pass', oneRepo('backend: rclone', 'type: webdav', 'options:', '  pass:', '    nested: pw-Secret-5'), { secret: 'pw-Secret-5' }),
  inRepo('freeze_age 1', 'freeze_age', local('freeze_age: 1')),
  inRepo('freeze_age a word', 'freeze_age', local('freeze_age: soon')),
  inRepo('freeze_age 10001', 'freeze_age', local('freeze_age: 10001')),
  inRepo('freezable not a boolean', 'freezable', local('freezable: perhaps')),
  inRepo('auto_freeze not a boolean', 'auto_freeze', local('auto_freeze: maybe')),
  inRepo('auto_freeze_interval 0', 'auto_freeze_interval', local('auto_freeze_interval: 0')),
  inRepo('auto_freeze_cron of two fields', 'auto_freeze_cron', local('auto_freeze_cron: "* *"')),
  inRepo('auto_freeze_cron minute 61', 'auto_freeze_cron', local('auto_freeze: true', 'auto_freeze_cron: "61 * * * *"')),
  inRepo('auto_freeze_cron hour 24', 'auto_freeze_cron', local('auto_freeze: true', 'auto_freeze_cron: "0 24 * * *"')),
  inRepo('auto_freeze_cron weekday 8', 'auto_freeze_cron', local('auto_freeze: true', 'auto_freeze_cron: "0 3 * * 8"')),
  inRepo('auto_freeze_cron of words', 'auto_freeze_cron', local('auto_freeze_cron: "at three daily"')),
  inRepo('chown_uid -1', 'chown_uid', local('chown_uid: -1')),
  inRepo('chown_gid 70000', 'chown_gid', local('chown_gid: 70000')),
  inRepo('verify md5', 'verify', local('verify: md5')),
  inRepo('exclude a number', 'exclude', local('exclude: 42')),
  inRepo('exclude a list holding a number', 'exclude', local('exclude: ["*.tmp", 3]')),
  inRepo('disable_atime_test not a boolean', 'disable_atime_test', local('disable_atime_test: sometimes')),
  // repos.yaml: the repo entry itself (the repo is the key at fault).
  inRepo('settings not a map', undefined, './repo: local\n'),
  inRepo('a repo directory that does not exist', undefined, './nope:\n  backend: local\n  path: ./remote\n', { repo: './nope' }),
  inRepo('a repo that is a file', undefined, './repos.yaml:\n  backend: local\n  path: ./remote\n', { repo: './repos.yaml' }),
  inRepo('a repo inside another', undefined, `./repo:\n  backend: local\n  path: ./remote\n./repo/sub:\n  backend: local\n  path: ./remote2\n`, {
    repo: './repo',
    files: {
      'repos.yaml': `./repo:\n  backend: local\n  path: ./remote\n./repo/sub:\n  backend: local\n  path: ./remote2\n`,
      'repo/sub/.keep': '',
      'remote2/.keep': '',
    },
  }),
  inRepo('the same repo twice', undefined, `./repo:\n  backend: local\n  path: ./remote\n./repo/:\n  backend: local\n  path: ./remote2\n`, {
    files: { 'repos.yaml': `./repo:\n  backend: local\n  path: ./remote\n./repo/:\n  backend: local\n  path: ./remote2\n`, 'remote2/.keep': '' },
  }),
  // repos.yaml: the file as a whole (no repo to name: the line says where).
  inRepo('a mis-indented key', undefined, './repo:\n  backend: local\n path: ./remote\n', { repo: undefined, line: 3 }),
  inRepo('an unclosed quote', undefined, './repo:\n  backend: local\n  path: "./remote\n', { repo: undefined, line: 4 }),
  inRepo('a key given twice', undefined, './repo:\n  backend: local\n  path: ./remote\n  path: ./other\n', { repo: undefined, line: 4 }),
  inRepo('a tab for indentation', undefined, './repo:\n\tbackend: local\n', { repo: undefined, line: 2 }),
  inRepo('an empty file', undefined, '', { repo: undefined }),
  inRepo('a list at the top level', undefined, '- ./repo\n', { repo: undefined }),

  // local.cfg values.
  inCfg('PORT a word', 'PORT', "PORT = 'many'\n"),
  inCfg('PORT 0', 'PORT', 'PORT = 0\n'),
  inCfg('PORT 70000', 'PORT', 'PORT = 70000\n'),
  inCfg('PORT a fraction', 'PORT', 'PORT = 9100.5\n'),
  inCfg('DATABASE_URL a MySQL URL', 'DATABASE_URL', "DATABASE_URL = 'mysql://glacis:pw-Secret-6@db/glacis'\n", { secret: 'pw-Secret-6' }),
  inCfg('DATABASE_URL a postgres URL without a database', 'DATABASE_URL', "DATABASE_URL = 'postgresql://glacis:pw-Secret-11@db'\n", { secret: 'pw-Secret-11' }),
  inCfg('RUN_MODE unknown', 'RUN_MODE', "RUN_MODE = 'debug'\n"),
  inCfg('WORKER_CONCURRENCY 0', 'WORKER_CONCURRENCY', 'WORKER_CONCURRENCY = 0\n'),
  inCfg('WORKER_CONCURRENCY 65', 'WORKER_CONCURRENCY', 'WORKER_CONCURRENCY = 65\n'),
  inCfg('QUEUE_PREFIX with a space', 'QUEUE_PREFIX', "QUEUE_PREFIX = 'has space'\n"),
  inCfg('WORKER_LOCK_DURATION 1', 'WORKER_LOCK_DURATION', 'WORKER_LOCK_DURATION = 1\n'),
  inCfg('WORKER_SHUTDOWN_GRACE negative', 'WORKER_SHUTDOWN_GRACE', 'WORKER_SHUTDOWN_GRACE = -1\n'),
  inCfg('HOST empty', 'HOST', "HOST = ''\n"),
  inCfg('REPOS_CONF empty', 'REPOS_CONF', "REPOS_CONF = ''\n"),
  inCfg('RCLONE_EXECUTABLE empty', 'RCLONE_EXECUTABLE', "RCLONE_EXECUTABLE = ''\n"),
  inCfg('GLACIS_VERSION empty', 'GLACIS_VERSION', "GLACIS_VERSION = ''\n"),
  inCfg('MAIL_PORT a word', 'MAIL_PORT', "MAIL_PORT = 'smtp'\n"),
  inCfg('MAIL_USE_TLS not a boolean', 'MAIL_USE_TLS', "MAIL_USE_TLS = 'maybe'\n"),
  inCfg('MAIL_USE_SSL 2', 'MAIL_USE_SSL', 'MAIL_USE_SSL = 2\n'),
  inCfg('MAIL_SENDER not an address', 'MAIL_SENDER', "MAIL_SENDER = 'not an address'\n"),
  inCfg('MAIL_ADMIN with a bad address', 'MAIL_ADMIN', "MAIL_ADMIN = 'admin@example.org, nope'\n"),
  inCfg('MAIL_SERVER with a space', 'MAIL_SERVER', "MAIL_SERVER = 'smtp example.org'\n"),
  inCfg('MAIL_USERNAME with a line break', 'MAIL_USERNAME', "MAIL_USERNAME = 'ada\\nBcc: eve'\n"),
  inCfg('MAIL_PASSWORD a number', 'MAIL_PASSWORD', 'MAIL_PASSWORD = 86420975\n', { secret: '86420975' }),
  inCfg('MAIL_RETRY_DELAY 0', 'MAIL_RETRY_DELAY', 'MAIL_RETRY_DELAY = 0\n'),
  inCfg('API_TOKENS too short', 'API_TOKENS', "API_TOKENS = 'tok-Secret-7'\n", { secret: 'tok-Secret-7' }),
  inCfg('API_TOKENS with an empty token', 'API_TOKENS', "API_TOKENS = 'abcdefghijklmnopqrstuvwx,'\n", { secret: 'abcdefghijklmnopqrstuvwx' }),
  inCfg('API_TOKENS_FILE missing', 'API_TOKENS_FILE', "API_TOKENS_FILE = './no-tokens'\n"),
  inCfg('API_TOKENS_FILE holding a short token', 'API_TOKENS_FILE', "API_TOKENS_FILE = './tokens'\n", {
    files: { 'local.cfg': "API_TOKENS_FILE = './tokens'\n", tokens: '# ops\ntok-Secret-8\n' },
    secret: 'tok-Secret-8',
  }),
  inCfg('METRICS_TOKEN too short', 'METRICS_TOKEN', "METRICS_TOKEN = 'x'\n"),
  inCfg('CLEANUP_AGE 10 seconds', 'CLEANUP_AGE', 'CLEANUP_AGE = 10\n'),
  inCfg('CLEANUP_INTERVAL a word', 'CLEANUP_INTERVAL', "CLEANUP_INTERVAL = 'often'\n"),
  inCfg('CLEANUP_ZOMBIES_INTERVAL negative', 'CLEANUP_ZOMBIES_INTERVAL', 'CLEANUP_ZOMBIES_INTERVAL = -5\n'),
  inCfg('REPOS_CONF naming a missing file', 'REPOS_CONF', "REPOS_CONF = './nope.yaml'\n", { file: './nope.yaml' }),
  inCfg('REPOS_CONF naming a directory', 'REPOS_CONF', "REPOS_CONF = './remote'\n", { file: './remote' }),
  // local.cfg syntax.
  inCfg('a line without "="', undefined, 'PORT 9100\n', { line: FIRST_LINE }),
  inCfg('an unterminated string', undefined, "HOST = '127.0.0.1\n", { line: FIRST_LINE }),
  inCfg('an expression', 'PORT', 'PORT = 9100 + 1\n', { line: FIRST_LINE }),
  inCfg('a key without a value', 'PORT', 'PORT =\n', { line: FIRST_LINE }),
  inCfg('a bracket never closed', 'CELERY_ACCEPT_CONTENT', "CELERY_ACCEPT_CONTENT = ['json',\n", { line: FIRST_LINE }),
  inCfg('a closing bracket alone', undefined, ']\n', { line: FIRST_LINE }),

  // Environment overrides.
  inEnv('PORT', 'abc'),
  inEnv('REDIS_URL', 'http://glacis:pw-Secret-9@127.0.0.1:6379', { secret: 'pw-Secret-9' }),
  inEnv('WORKER_CONCURRENCY', 'zero'),
  inEnv('MAIL_ADMIN', 'nope'),
  inEnv('API_TOKENS', 'tok-Secret-10', { secret: 'tok-Secret-10' }),

  // Well-formed values naming something unusable: refused at start-up, not at the first task.
  unusable('RCLONE_EXECUTABLE missing', 'RCLONE_EXECUTABLE', "RCLONE_EXECUTABLE = '/nonexistent/rclone'\n"),
  unusable('RCLONE_EXECUTABLE a directory', 'RCLONE_EXECUTABLE', "RCLONE_EXECUTABLE = '/etc'\n"),
  unusable('RCLONE_EXECUTABLE not executable', 'RCLONE_EXECUTABLE', "RCLONE_EXECUTABLE = './repos.yaml'\n"),
  unusable('DATABASE_URL below a file', 'DATABASE_URL', "DATABASE_URL = './repos.yaml/glacis.sqlite'\n"),
  unusable('DATABASE_URL in /proc', 'DATABASE_URL', "DATABASE_URL = '/proc/glacis.sqlite'\n"),
  unusable('DATABASE_URL a directory', 'DATABASE_URL', "DATABASE_URL = './remote'\n"),
  // Nothing listens on port 1: the connection is refused, and the message must not show the password.
  unusable('DATABASE_URL a PostgreSQL server that is not there', 'DATABASE_URL', "DATABASE_URL = 'postgresql://glacis:pw-Secret-12@127.0.0.1:1/glacis'\n", { secret: 'pw-Secret-12' }),
];
