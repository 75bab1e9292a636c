import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ConfigError } from '../../src/config/errors.js';
import { loadSettings, type LoadSettingsOptions } from '../../src/config/settings.js';
import type { Settings } from '../../src/config/types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, 'fixtures');
const repoRoot = path.resolve(here, '..', '..');

let dir: string;
/** An empty PATH, so the rclone default does not depend on the machine running the tests. */
const NO_PATH = { PATH: '' };

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glacis-settings-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function writeCfg(text: string, name = 'local.cfg'): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

function load(opts: Partial<LoadSettingsOptions>): { settings: Settings; warnings: string[] } {
  const warnings: string[] = [];
  const settings = loadSettings({ env: NO_PATH, cwd: dir, warn: (m) => warnings.push(m), ...opts });
  return { settings, warnings };
}

function loadError(opts: Partial<LoadSettingsOptions>): ConfigError {
  try {
    load(opts);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadSettings: sources', () => {
  it('uses the defaults when there is no file', () => {
    const { settings, warnings } = load({});
    expect(settings).toEqual({
      reposConf: './repos.yaml',
      redisUrl: 'redis://127.0.0.1:6379',
      redisUrlExplicit: false,
      databaseUrl: './data/glacis.sqlite',
      host: '127.0.0.1',
      port: 9100,
      workerConcurrency: 2,
      runMode: 'prod',
      queuePrefix: 'glacis',
      workerLockDurationMs: 30_000,
      shutdownGraceMs: 60_000,
      transferStallTimeoutMs: 120_000,
      redisStartupTimeoutMs: 30_000,
      rcloneExecutable: '/usr/bin/rclone',
      cleanupIntervalMs: 21_600_000,
      cleanupAgeMs: 31_536_000_000,
      zombiesIntervalMs: 3_600_000,
      watermarkCheckIntervalMs: 300_000,
      mail: {
        port: 25,
        useSsl: false,
        useTls: false,
        sender: { address: `glacis@${os.hostname()}` },
        admins: [],
        suppressSend: false,
        retryDelayMs: 60_000,
      },
      raw: {},
    });
    expect(settings.version).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it('reads ./local.cfg from the working directory when it exists', () => {
    writeCfg('PORT = 9200\n');
    expect(load({}).settings.port).toBe(9200);
  });

  it('prefers configPath over GLACIS_CONFIG over ./local.cfg', () => {
    writeCfg('PORT = 9201\n');
    const viaEnv = writeCfg('PORT = 9202\n', 'env.cfg');
    const explicit = writeCfg('PORT = 9203\n', 'explicit.cfg');
    expect(load({ env: { ...NO_PATH, GLACIS_CONFIG: viaEnv } }).settings.port).toBe(9202);
    expect(load({ configPath: explicit, env: { ...NO_PATH, GLACIS_CONFIG: viaEnv } }).settings.port).toBe(9203);
  });

  it('reads a relative config path against cwd and keeps relative paths as written', () => {
    writeCfg("REPOS_CONF = 'conf/repos.yaml'\n", 'glacis.cfg');
    const { settings } = load({ configPath: 'glacis.cfg' });
    expect(settings.reposConf).toBe('conf/repos.yaml');
  });

  it('accepts TASK_LOG_DIR and ignores it with one warning: task logs are in the database', () => {
    const file = writeCfg("TASK_LOG_DIR = '/var/log/glacis'\n", 'old.cfg');
    const fromFile = load({ configPath: file });
    expect(fromFile.warnings).toEqual([`${file}: key "TASK_LOG_DIR" ignored: task logs are kept in the database (DATABASE_URL)`]);
    expect(fromFile.settings).not.toHaveProperty('taskLogDir');
    expect(load({ env: { ...NO_PATH, TASK_LOG_DIR: '/var/log/glacis' } }).warnings).toEqual([
      'environment: key "TASK_LOG_DIR" ignored: task logs are kept in the database (DATABASE_URL)',
    ]);
  });

  it('fails on an explicit config file that does not exist', () => {
    const err = loadError({ configPath: path.join(dir, 'missing.cfg') });
    expect(err.message).toBe(`${path.join(dir, 'missing.cfg')}: cannot read the settings file (ENOENT)`);
  });

  it('lets an environment variable override the file, key by key', () => {
    const file = writeCfg("PORT = 9300\nHOST = '0.0.0.0'\nREDIS_URL = 'redis://file:6379'\n");
    const { settings } = load({
      configPath: file,
      env: { ...NO_PATH, PORT: '9301', REDIS_URL: 'redis://env:6379/1' },
    });
    expect(settings.port).toBe(9301);
    expect(settings.host).toBe('0.0.0.0');
    expect(settings.redisUrl).toBe('redis://env:6379/1');
    expect(settings.redisUrlExplicit).toBe(true);
  });

  it('treats an empty environment variable as unset', () => {
    const file = writeCfg('PORT = 9300\n');
    expect(load({ configPath: file, env: { ...NO_PATH, PORT: '' } }).settings.port).toBe(9300);
  });

  it('marks REDIS_URL explicit when it comes from the file', () => {
    const file = writeCfg("REDIS_URL = 'redis://127.0.0.1:6379'\n");
    expect(load({ configPath: file }).settings.redisUrlExplicit).toBe(true);
  });

  it("accepts Baricadr's names as aliases, the Glacis name winning within a source", () => {
    const file = writeCfg(
      "BARICADR_REPOS_CONF = '/etc/baricadr/repos.yml'\nBARICADR_RUN_MODE = 'dev'\nBARICADR_VERSION = '1.2.3'\n",
    );
    expect(load({ configPath: file }).settings).toMatchObject({
      reposConf: '/etc/baricadr/repos.yml',
      runMode: 'dev',
      version: '1.2.3',
    });
    const env = { ...NO_PATH, BARICADR_RUN_MODE: 'test', REPOS_CONF: './mine.yaml', GLACIS_VERSION: '2.0.0' };
    expect(load({ configPath: file, env }).settings).toMatchObject({
      reposConf: './mine.yaml',
      runMode: 'test',
      version: '2.0.0',
    });
    const both = writeCfg("RUN_MODE = 'prod'\nBARICADR_RUN_MODE = 'dev'\n", 'both.cfg');
    expect(load({ configPath: both }).settings.runMode).toBe('prod');
  });

  it('finds rclone on PATH, in PATH order, ignoring relative entries', () => {
    const first = path.join(dir, 'bin1');
    const second = path.join(dir, 'bin2');
    for (const binDir of [first, second]) {
      fs.mkdirSync(binDir);
      fs.writeFileSync(path.join(binDir, 'rclone'), '#!/bin/sh\n', { mode: 0o755 });
    }
    fs.writeFileSync(path.join(dir, 'rclone'), '#!/bin/sh\n', { mode: 0o755 });
    const PATH = ['.', 'relative', path.join(dir, 'empty'), second, first].join(path.delimiter);
    expect(load({ env: { PATH } }).settings.rcloneExecutable).toBe(path.join(second, 'rclone'));
    const file = writeCfg("RCLONE_EXECUTABLE = '/opt/rclone/rclone'\n");
    expect(load({ configPath: file, env: { PATH } }).settings.rcloneExecutable).toBe('/opt/rclone/rclone');
  });

  it('skips a non-executable rclone on PATH', () => {
    fs.writeFileSync(path.join(dir, 'rclone'), 'not a program', { mode: 0o644 });
    // root may execute anything with an x bit; a 0644 file has none, so this holds for root too.
    expect(load({ env: { PATH: dir } }).settings.rcloneExecutable).toBe('/usr/bin/rclone');
  });
});

describe('loadSettings: Baricadr compatibility and raw keys', () => {
  it("loads a Baricadr local.cfg, warning once per Baricadr-only key", () => {
    const file = path.join(fixtures, 'baricadr-local.cfg');
    const { settings, warnings } = load({ configPath: file });
    expect(settings.reposConf).toBe('/etc/baricadr/repos.yml');
    expect(settings.version).toBe('1.0.0');
    const ignored = [
      'SECRET_KEY', 'DEBUG', 'TESTING', 'BROKER_TRANSPORT', 'CELERY_BROKER_URL', 'CELERY_RESULT_BACKEND',
      'CELERY_TASK_SERIALIZER', 'CELERY_DISABLE_RATE_LIMITS', 'CELERY_ACCEPT_CONTENT', 'CELERYD_CONCURRENCY',
      'SQLALCHEMY_DATABASE_URI', 'SQLALCHEMY_ECHO', 'SQLALCHEMY_TRACK_MODIFICATIONS',
      'SQLALCHEMY_ENGINE_OPTIONS', 'LOG_FOLDER', 'MAX_TASK_DURATION',
    ];
    const expected = [
      ...ignored.map((key) => `${file}: key "${key}" ignored: only meaningful to Baricadr`),
      `${file}: key "TASK_LOG_DIR" ignored: task logs are kept in the database (DATABASE_URL)`,
    ];
    expect([...warnings].sort()).toEqual(expected.sort());
    for (const key of ignored) expect(settings.raw).not.toHaveProperty(key);
    expect(settings.raw).toMatchObject({
      MAIL_SENDER: 'baricadr@lab.example.org',
      MAIL_SERVER: 'mailhog',
      MAIL_PORT: 1025,
    });
    expect(settings.cleanupIntervalMs).toBe(21_600_000);
    expect(settings.cleanupAgeMs).toBe(31_536_000_000);
  });

  it('warns about an unknown key by name and ignores it', () => {
    const file = writeCfg("PROT = 9100\nMAIL_DEBUG = True\n");
    const { settings, warnings } = load({ configPath: file });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(`^${escape(file)}: unknown key "PROT" ignored \\(known keys: REPOS_CONF, .*PORT`));
    expect(settings.raw).toEqual({ MAIL_DEBUG: true });
  });

  it('overrides later keys from the environment, as strings, but never reads unknown variables', () => {
    const file = writeCfg("MAIL_SERVER = 'mailhog'\n");
    const env = { ...NO_PATH, MAIL_SERVER: 'smtp.example.org', CLEANUP_AGE: '7200', HOME: '/root', CELERY_X: '1' };
    const { settings } = load({ configPath: file, env });
    expect(settings.raw).toEqual({ MAIL_SERVER: 'smtp.example.org', CLEANUP_AGE: '7200' });
    expect(settings.cleanupAgeMs).toBe(7_200_000);
  });
});

describe('loadSettings: validation', () => {
  it.each([
    ['PORT = 0', 'local.cfg: key "PORT" must be a whole number from 1 to 65535 (got 0)'],
    ['PORT = 70000', 'local.cfg: key "PORT" must be a whole number from 1 to 65535 (got 70000)'],
    ['PORT = 9100.5', 'local.cfg: key "PORT" must be a whole number from 1 to 65535 (got 9100.5)'],
    ["PORT = 'http'", 'local.cfg: key "PORT" must be a whole number from 1 to 65535 (got "http")'],
    ['WORKER_CONCURRENCY = 65', 'local.cfg: key "WORKER_CONCURRENCY" must be a whole number from 1 to 64 (got 65)'],
    ["RUN_MODE = 'production'", 'local.cfg: key "RUN_MODE" must be one of dev, test, prod (got "production")'],
    ['HOST = 127', 'local.cfg: key "HOST" must be a quoted string (got a number)'],
    ["QUEUE_PREFIX = 'my queue'", 'local.cfg: key "QUEUE_PREFIX" must be letters, digits and _ . : { } - only (got "my queue")'],
    ['WORKER_LOCK_DURATION = 1', 'local.cfg: key "WORKER_LOCK_DURATION" must be a whole number of seconds from 5 to 3600 (got 1)'],
    ['WORKER_SHUTDOWN_GRACE = -1', 'local.cfg: key "WORKER_SHUTDOWN_GRACE" must be a whole number of seconds from 0 to 86400 (got -1)'],
    ['TRANSFER_STALL_TIMEOUT = 0', 'local.cfg: key "TRANSFER_STALL_TIMEOUT" must be a whole number of seconds from 1 to 86400 (got 0)'],
    ['BARICADR_VERSION = 1.0', 'local.cfg: key "BARICADR_VERSION" must be a quoted string (got a number)'],
    ['REDIS_STARTUP_TIMEOUT = 0', 'local.cfg: key "REDIS_STARTUP_TIMEOUT" must be a whole number of seconds from 1 to 3600 (got 0)'],
    ["LOG_FORMAT = 'yaml'", 'local.cfg: key "LOG_FORMAT" must be one of json, pretty (got "yaml")'],
  ])('%s', (line, message) => {
    writeCfg(`${line}\n`);
    expect(loadError({ configPath: 'local.cfg' }).message).toBe(message);
  });

  it('reads the queue settings, converting seconds to milliseconds', () => {
    const env = { ...NO_PATH, QUEUE_PREFIX: '{glacis-prod}', WORKER_LOCK_DURATION: '45', WORKER_SHUTDOWN_GRACE: '0', TRANSFER_STALL_TIMEOUT: '7' };
    expect(load({ env }).settings).toMatchObject({
      queuePrefix: '{glacis-prod}',
      workerLockDurationMs: 45_000,
      shutdownGraceMs: 0,
      transferStallTimeoutMs: 7_000,
    });
  });

  it('reads REDIS_STARTUP_TIMEOUT in seconds and LOG_FORMAT', () => {
    const env = { ...NO_PATH, REDIS_STARTUP_TIMEOUT: '7', LOG_FORMAT: 'Pretty' };
    expect(load({ env }).settings).toMatchObject({ redisStartupTimeoutMs: 7_000, logFormat: 'pretty' });
  });

  it('accepts quoted numbers, as Baricadr files write them', () => {
    writeCfg("PORT = '9400'\nWORKER_CONCURRENCY = '4'\n");
    expect(load({}).settings).toMatchObject({ port: 9400, workerConcurrency: 4 });
  });

  it('names the environment as the source of a bad environment value', () => {
    const err = loadError({ env: { ...NO_PATH, BARICADR_RUN_MODE: 'staging' } });
    expect(err.message).toBe('environment: key "BARICADR_RUN_MODE" must be one of dev, test, prod (got "staging")');
  });

  it('never shows a REDIS_URL or DATABASE_URL, which may hold a password', () => {
    writeCfg("REDIS_URL = 'http://user:s3cret@redis:6379'\n");
    const redis = loadError({});
    fs.rmSync(path.join(dir, 'local.cfg'));
    expect(redis.message).toBe('local.cfg: key "REDIS_URL" must be a redis:// or rediss:// URL');
    const db = loadError({ env: { ...NO_PATH, DATABASE_URL: 'mysql://pg:s3cret@db/pg' } });
    expect(db.message).toBe(
      'environment: key "DATABASE_URL" must be a file path, a sqlite: URL, or a postgresql://user:password@host:port/database URL',
    );
    const noDatabase = loadError({ env: { ...NO_PATH, DATABASE_URL: 'postgresql://pg:s3cret@db' } });
    expect(noDatabase.message).toBe(
      'environment: key "DATABASE_URL" must be a file path, a sqlite: URL, or a postgresql://user:password@host:port/database URL (got a postgresql:// URL without a host or a database name)',
    );
    expect(redis.message + db.message + noDatabase.message).not.toContain('s3cret');
  });

  it('housekeeping intervals: whole seconds, 0 for off; CLEANUP_AGE at least an hour', () => {
    const { settings } = load({ env: { ...NO_PATH, CLEANUP_INTERVAL: '0', CLEANUP_ZOMBIES_INTERVAL: '60' } });
    expect(settings.cleanupIntervalMs).toBe(0);
    expect(settings.zombiesIntervalMs).toBe(60_000);
    expect(loadError({ env: { ...NO_PATH, CLEANUP_AGE: '600' } }).message).toBe(
      'environment: key "CLEANUP_AGE" must be a whole number of seconds from 3600 to 3153600000 (got "600")',
    );
    expect(loadError({ env: { ...NO_PATH, CLEANUP_INTERVAL: '6h' } }).message).toMatch(/^environment: key "CLEANUP_INTERVAL" must be a whole number of seconds from 0 to /);
  });

  /**
   * Every setting that is a duration, read by the one duration parser (src/text/values.ts
   * `parseDuration`): whole seconds as Baricadr's files write them, quoted or not, and refused
   * naming the unit. Before, each was `1000 * intSetting(…)` and its error said "a whole
   * number", leaving the unit to guess.
   */
  it.each([
    ['WORKER_LOCK_DURATION', (s: Settings) => s.workerLockDurationMs, 5, 3600],
    ['WORKER_SHUTDOWN_GRACE', (s: Settings) => s.shutdownGraceMs, 0, 86_400],
    ['TRANSFER_STALL_TIMEOUT', (s: Settings) => s.transferStallTimeoutMs, 1, 86_400],
    ['REDIS_STARTUP_TIMEOUT', (s: Settings) => s.redisStartupTimeoutMs, 1, 3600],
    ['CLEANUP_INTERVAL', (s: Settings) => s.cleanupIntervalMs, 0, 365 * 86_400],
    ['CLEANUP_AGE', (s: Settings) => s.cleanupAgeMs, 3600, 100 * 365 * 86_400],
    ['CLEANUP_ZOMBIES_INTERVAL', (s: Settings) => s.zombiesIntervalMs, 0, 365 * 86_400],
    ['WATERMARK_CHECK_INTERVAL', (s: Settings) => s.watermarkCheckIntervalMs, 1, 86_400],
    ['MAIL_RETRY_DELAY', (s: Settings) => s.mail.retryDelayMs, 1, 86_400],
  ] as const)('%s is a duration in seconds (Baricadr\'s form), refused naming the unit', (key, read, min, max) => {
    writeCfg(`${key} = '3600'\n`);
    expect(read(load({}).settings)).toBe(3_600_000);
    writeCfg(`${key} = ${max}\n`);
    expect(read(load({}).settings)).toBe(max * 1000);
    for (const bad of ["'1h'", String(max + 1), '1.5', "'-1'"]) {
      writeCfg(`${key} = ${bad}\n`);
      expect(loadError({ configPath: 'local.cfg' }).message).toMatch(new RegExp(`^local\\.cfg: key "${key}" must be a whole number of seconds from ${min} to ${max} \\(got `));
    }
  });

  it('accepts SQLite URLs, plain paths and PostgreSQL URLs for DATABASE_URL', () => {
    for (const url of ['sqlite:///var/lib/glacis.sqlite', 'file:glacis.sqlite', '/var/lib/glacis.sqlite', 'db.sqlite', 'postgresql://glacis:pw@db:5432/glacis', 'postgres://glacis@db/glacis']) {
      expect(load({ env: { ...NO_PATH, DATABASE_URL: url } }).settings.databaseUrl).toBe(url);
    }
  });
});

describe('local.example.cfg', () => {
  const example = path.join(repoRoot, 'local.example.cfg');

  it('loads without error or warning', () => {
    const { settings, warnings } = load({ configPath: example });
    expect(settings.reposConf).toBe('./repos.example.yaml');
    expect(warnings).toEqual([]);
  });

  it('documents the real defaults: uncommenting every example still loads, without warnings', () => {
    const text = fs.readFileSync(example, 'utf8');
    const uncommented = text.replace(/^# ([A-Z_]+ = .*)$/gm, '$1');
    expect(uncommented).not.toBe(text);
    const file = writeCfg(uncommented, 'uncommented.cfg');
    const { settings, warnings } = load({ configPath: file });
    expect(warnings).toEqual([]);
    const defaults = load({}).settings;
    expect({ ...settings, raw: {}, version: undefined, rcloneExecutable: '' }).toEqual({
      ...defaults,
      reposConf: './repos.example.yaml',
      redisUrlExplicit: true,
      raw: {},
      version: undefined,
      rcloneExecutable: '',
    });
    // Keys whose default is "unset" are documented as `KEY = None`, which sets nothing.
    expect(Object.keys(settings.raw)).toEqual(
      expect.arrayContaining(['MAIL_PORT', 'MAIL_USE_SSL', 'MAIL_USE_TLS', 'MAIL_SUPPRESS_SEND', 'MAIL_RETRY_DELAY']),
    );
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
