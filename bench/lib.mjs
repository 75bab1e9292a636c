/**
 * What the benchmarks share: real services started on free loopback ports (redis-server,
 * PostgreSQL, `rclone serve sftp`, `glacis serve` / `glacis worker` as separate processes), RSS from
 * /proc, timing helpers and the result file. Product code is imported from the compiled
 * tree: $GLACIS_DIST, default ./dist (`npm run build`).
 *
 * Every child is started here and stopped by its own pid when the bench ends, however it ends.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes, generateKeyPairSync } from 'node:crypto';
import { chownSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const distDir = path.resolve(process.env.GLACIS_DIST ?? path.join(root, 'dist'));
export const rcloneBinary = process.env.RCLONE_EXECUTABLE ?? '/usr/bin/rclone';

/** Imports a compiled module: `dist('src/cli/ports.js')`. */
export function dist(relative) {
  return import(path.join(distDir, relative));
}

const { freePort, waitForPort } = await dist('src/cli/ports.js');
export { freePort, waitForPort };

/**
 * `--name value` options with defaults (`--name` alone for booleans); `--quick` swaps in the quick defaults. Unknown
 * options are an error, so a typo never silently runs the full-size benchmark.
 */
export function options(defaults, quick = {}) {
  const argv = process.argv.slice(2);
  const isQuick = argv.includes('--quick');
  const result = { ...defaults, ...(isQuick ? quick : {}), quick: isQuick };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') continue;
    const name = arg.replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!arg.startsWith('--') || !(name in defaults)) {
      throw new Error(`unknown option ${arg}; known: --quick ${Object.keys(defaults).map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(' ')}`);
    }
    if (typeof defaults[name] === 'boolean') {
      result[name] = true;
      continue;
    }
    const value = argv[++i];
    result[name] = typeof defaults[name] === 'number' ? Number(value) : value;
    if (typeof defaults[name] === 'number' && !Number.isFinite(result[name])) throw new Error(`${arg} needs a number`);
  }
  return result;
}

const children = new Set();

/**
 * Spawns a long-running service with its output in `logFile` (a pipe left unread
 * would stall it). Resolves once `ready()` holds; rejects with the log's tail if the
 * process exits first or `timeoutMs` passes.
 */
export async function startService(name, command, args, { env = {}, cwd, logFile, ready, timeoutMs = 20_000 }) {
  const fd = openSync(logFile, 'a');
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  children.add(child);
  child.once('exit', () => children.delete(child));
  const service = {
    name,
    child,
    pid: child.pid,
    log: () => readFileSync(logFile, 'utf8'),
    rssKB: () => rssKB(child.pid),
    stop: () => stopChild(child),
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${name} exited at start (${child.exitCode ?? child.signalCode}):\n${tail(service.log())}`);
    }
    if (await ready(service)) return service;
    if (Date.now() > deadline) {
      await service.stop();
      throw new Error(`${name} not ready after ${timeoutMs} ms:\n${tail(service.log())}`);
    }
    await sleep(50);
  }
}

function tail(text) {
  return text.split('\n').slice(-20).join('\n');
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export function stopChild(child, graceMs = 10_000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Stops every service this process started, newest first. */
export async function stopAll() {
  for (const child of [...children].reverse()) await stopChild(child);
}

// Ctrl-C must not leave servers behind on the shared machine.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    for (const child of children) child.kill('SIGKILL');
    process.exit(130);
  });
}

/** A throw-away redis-server: loopback, no persistence. */
export async function startRedis(dir) {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const redis = await startService('redis-server', 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    logFile: path.join(dir, 'redis.log'),
    ready: async () => /Ready to accept connections/.test(readFileSync(path.join(dir, 'redis.log'), 'utf8')),
  });
  return { ...redis, url: `redis://127.0.0.1:${port}` };
}

/**
 * A throw-away PostgreSQL cluster (Debian's `postgresql` package): `initdb` into a temporary
 * directory of its own (removed by `stop()`; the postgres user must be able to reach it),
 * loopback on a free port, password login. initdb and postgres refuse root: as root both
 * run as the package's `postgres` user. `createDatabase(name)` returns a new database's URL.
 * (The tests have the same in test/harness/postgres.ts, in TypeScript.)
 */
export async function startPostgres() {
  const root = '/usr/lib/postgresql';
  const major = existsSync(root) ? readdirSync(root).filter((n) => /^\d+$/.test(n)).sort((a, b) => b - a)[0] : undefined;
  if (major === undefined) throw new Error('bench:api needs PostgreSQL: apt-get install postgresql');
  const bin = path.join(root, major, 'bin');
  const dir = mkdtempSync(path.join(tmpdir(), 'glacis-bench-postgres-'));
  const asRoot = process.getuid() === 0;
  const ids = asRoot ? { uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })) } : undefined;
  const prefix = ids ? ['setpriv', '--reuid', String(ids.uid), '--regid', String(ids.gid), '--clear-groups', '--'] : [];
  const password = randomBytes(18).toString('base64url');
  writeFileSync(path.join(dir, 'pwfile'), `${password}\n`, { mode: 0o600 });
  if (ids) for (const file of [dir, path.join(dir, 'pwfile')]) chownSync(file, ids.uid, ids.gid);
  const [initdb, ...initArgs] = [...prefix, path.join(bin, 'initdb'), '-D', path.join(dir, 'data'), '-U', 'bench', `--pwfile=${path.join(dir, 'pwfile')}`, '--auth=scram-sha-256', '--encoding=UTF8', '--locale=C', '--no-sync'];
  execFileSync(initdb, initArgs, { cwd: dir, stdio: 'ignore' });
  const port = await freePort();
  const logFile = path.join(dir, 'postgres.log');
  if (ids) { writeFileSync(logFile, ''); chownSync(logFile, ids.uid, ids.gid); }
  const [command, ...args] = [...prefix, path.join(bin, 'postgres'), '-D', path.join(dir, 'data'), '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'];
  const server = await startService('postgres', command, args, { cwd: dir, logFile, ready: async () => /ready to accept connections/.test(readFileSync(logFile, 'utf8')), timeoutMs: 60_000 });
  const admin = `postgresql://bench:${password}@127.0.0.1:${port}/postgres`;
  const { default: pg } = await import('pg');
  return {
    ...server,
    // SIGINT: postgres's fast shutdown (SIGTERM waits for clients).
    stop: async () => {
      server.child.kill('SIGINT');
      await stopChild(server.child);
      rmSync(dir, { recursive: true, force: true });
    },
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: admin });
      await client.connect();
      try {
        await client.query(`create database ${name}`);
      } finally {
        await client.end();
      }
      return `postgresql://bench:${password}@127.0.0.1:${port}/${name}`;
    },
  };
}

/**
 * `rclone serve sftp` over `servedDir` with a random password. The password travels as
 * RCLONE_PASS in the server's environment (rclone reads any flag from RCLONE_<FLAG>), never
 * on a command line. Its own host key and an empty authorized_keys file: otherwise rclone
 * writes a key into ~/.cache and reads the user's ~/.ssh/authorized_keys.
 */
export async function startSftp(servedDir, stateDir) {
  mkdirSync(stateDir, { recursive: true });
  const hostKey = path.join(stateDir, 'host_ed25519');
  const authorizedKeys = path.join(stateDir, 'authorized_keys');
  writeFileSync(hostKey, generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(authorizedKeys, '', { mode: 0o600 });
  const password = randomBytes(18).toString('base64url');
  const port = await freePort();
  const logFile = path.join(stateDir, 'sftp.log');
  const server = await startService(
    'rclone serve sftp',
    rcloneBinary,
    ['serve', 'sftp', servedDir, '--addr', `127.0.0.1:${port}`, '--user', 'bench', '--key', hostKey, '--authorized-keys', authorizedKeys],
    {
      env: { RCLONE_CONFIG: '/dev/null', RCLONE_PASS: password, RCLONE_CACHE_DIR: path.join(stateDir, 'cache') },
      logFile,
      ready: async () => /SFTP server listening on/.test(readFileSync(logFile, 'utf8')),
    },
  );
  return { ...server, host: '127.0.0.1', port, user: 'bench', password };
}

/**
 * A Glacis instance's environment (its own SQLite database and queue prefix; `extra` may name
 * a PostgreSQL one instead) for a
 * repos map written to `dir/repos.yaml` (mode 600: it may hold the SFTP password).
 */
export async function glacisEnv(dir, repos, redisUrl, extra = {}) {
  mkdirSync(dir, { recursive: true });
  const reposFile = path.join(dir, 'repos.yaml');
  writeFileSync(reposFile, stringify(repos), { mode: 0o600 });
  return {
    REDIS_URL: redisUrl,
    REPOS_CONF: reposFile,
    DATABASE_URL: path.join(dir, 'glacis.sqlite'),
    PORT: String(await freePort()),
    QUEUE_PREFIX: `bench${randomBytes(3).toString('hex')}`,
    RCLONE_EXECUTABLE: rcloneBinary,
    ...extra,
  };
}

/**
 * `glacis serve` or `glacis worker` as its own process, run from $GLACIS_DIST through a
 * one-line entry (bin/glacis.js always loads ./dist). Started in `dir`, so a stray
 * ./local.cfg elsewhere is never read. `nodeFlags` go to node itself (e.g. `--trace-gc`).
 */
export async function startGlacis(command, dir, env, nodeFlags = []) {
  const entry = path.join(dir, 'glacis-entry.mjs');
  writeFileSync(entry, `import { main } from ${JSON.stringify(path.join(distDir, 'src/cli/main.js'))};\nawait main(process.argv);\n`);
  const logFile = path.join(dir, `${command}.log`);
  const readyLine = command === 'serve' ? /Glacis API listening/ : /Glacis worker started/;
  return startService(`glacis ${command}`, process.execPath, [...nodeFlags, entry, command], {
    cwd: dir,
    env,
    logFile,
    // Loading the compiled tree takes a while when the shared machine is busy.
    timeoutMs: 60_000,
    ready: async () => readyLine.test(readFileSync(logFile, 'utf8')),
  });
}

/** VmRSS of a live process, in kB, from /proc. */
export function rssKB(pid) {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

/** Runs a command to completion; rejects on a non-zero exit. Output is discarded unless `capture`. */
export function run(command, argv, { env, cwd, capture = false } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { cwd, env: env ?? process.env, stdio: ['ignore', capture ? 'pipe' : 'ignore', 'pipe'] });
    children.add(child);
    let out = '';
    let err = '';
    child.stdout?.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
    child.on('error', reject);
    child.on('exit', (code) => {
      children.delete(child);
      if (code === 0) resolve(out);
      else reject(new Error(`${command} exited with ${code}: ${err}`));
    });
  });
}

/** A JSON HTTP call to a Glacis API. */
export async function api(baseUrl, method, route, body) {
  const response = await fetch(baseUrl + route, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${text}`);
  return JSON.parse(text);
}

/** Polls a task until it has ended; throws unless it finished. */
export async function waitForTask(baseUrl, taskId, { timeoutMs = 3_600_000, pollMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const task = await api(baseUrl, 'GET', `/tasks/status/${taskId}`);
    if (task.status === 'finished') return task;
    if (task.status === 'failed' || task.status === 'cancelled') throw new Error(`task ${taskId} ${task.status}: ${task.error}`);
    if (Date.now() > deadline) throw new Error(`task ${taskId} still ${task.status} after ${timeoutMs} ms`);
    await sleep(pollMs);
  }
}

/** Seconds since `started` (a process.hrtime.bigint()). */
export function secondsSince(started) {
  return Number(process.hrtime.bigint() - started) / 1e9;
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function median(values) {
  return percentile([...values].sort((a, b) => a - b), 50);
}

export function round(x, digits = 2) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * Where results are written: bench/results, or $BENCH_RESULTS_DIR (the smoke test's runs,
 * test/bench/smoke.test.ts, must not overwrite the measured results).
 */
export const resultsDir = process.env.BENCH_RESULTS_DIR ?? path.join(root, 'bench/results');

/** Writes <resultsDir>/<name>.json, stamped with the time and the machine's size. */
export function writeResult(name, result) {
  const dir = resultsDir;
  mkdirSync(dir, { recursive: true });
  const stamped = { benchmark: name, ...result, when: new Date().toISOString(), machine: machine() };
  writeFileSync(path.join(dir, `${name}.json`), `${JSON.stringify(stamped, null, 2)}\n`);
  return stamped;
}

function machine() {
  const loadavg = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const cpus = readFileSync('/proc/cpuinfo', 'utf8').match(/^processor\s*:/gm)?.length ?? 0;
  return { cpus, loadavg, node: process.version };
}
