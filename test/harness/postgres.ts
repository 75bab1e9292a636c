/**
 * A real, throw-away PostgreSQL server for tests: Debian's `postgresql` package, a cluster
 * made by `initdb` in a temporary directory, listening on 127.0.0.1 on a port chosen at run
 * time (and on a Unix socket in that directory, never the system's /var/run/postgresql).
 * Password authentication (scram) on purpose: DATABASE_URL then carries a secret, as it does
 * in production, and the tests can check it never leaks.
 *
 * initdb and postgres refuse to run as root: when the tests run as root, both are run as the
 * `postgres` user the package creates (setpriv), and the directory is handed to that user.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort, LOOPBACK } from './ports.js';
import { findBinary, removeOnExit, requireBinary, retryOnPortClash, spawnService, waitUntilReady, type ServiceProcess } from './process.js';

export interface PostgresServer {
  /** `postgresql://glacis:<password>@127.0.0.1:<port>/postgres`: the superuser, for creating databases. */
  readonly adminUrl: string;
  readonly port: number;
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 30_000;
const INSTALL_HINT = 'apt-get install postgresql';
const USER = 'glacis';

/** The directory holding initdb and postgres: Debian keeps them off PATH, under /usr/lib/postgresql/<major>/bin. */
function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a)) : [];
  for (const major of majors) {
    const dir = path.join(root, major, 'bin');
    if (existsSync(path.join(dir, 'postgres')) && existsSync(path.join(dir, 'initdb'))) return dir;
  }
  const onPath = findBinary('postgres');
  if (onPath !== undefined && findBinary('initdb') !== undefined) return path.dirname(onPath);
  throw new Error(`Glacis tests need a PostgreSQL server (initdb and postgres under ${root}/<version>/bin or on PATH), which is missing. Install it: ${INSTALL_HINT}`);
}

/** The argv prefix that runs a command as the `postgres` user when we are root; empty otherwise. */
function asPostgresUser(): { prefix: string[]; uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return { prefix: [] };
  const setpriv = requireBinary('setpriv');
  let uid: number;
  let gid: number;
  try {
    uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  } catch {
    throw new Error(`Glacis tests run as root and need the "postgres" user to run PostgreSQL as; it is missing. Install it: ${INSTALL_HINT}`);
  }
  // --pdeathsig after the credential change: the kernel clears it on setuid, setpriv sets it last.
  return { prefix: [setpriv, '--reuid', String(uid), '--regid', String(gid), '--clear-groups', '--pdeathsig', 'KILL', '--'], uid, gid };
}

/** True once the server accepts a login with the password. */
async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * initdb into a fresh directory and start postgres on a free loopback port; resolves once a
 * password login works.
 *
 * @example
 * ```ts
 * const server = await startPostgres();
 * const url = await createDatabase(server.adminUrl);
 * ```
 */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBinDir();
  const user = asPostgresUser();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'glacis-postgres-'));
  removeOnExit(dir);
  const data = path.join(dir, 'data');
  const password = randomBytes(18).toString('base64url');
  const passwordFile = path.join(dir, 'pwfile');
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  if (user.uid !== undefined && user.gid !== undefined) {
    chownSync(dir, user.uid, user.gid);
    chownSync(passwordFile, user.uid, user.gid);
  }
  chmodSync(dir, 0o700);
  const run = (command: string, args: readonly string[]): void => {
    const [file, ...rest] = [...user.prefix, command, ...args];
    try {
      execFileSync(file!, rest, { cwd: dir, stdio: 'pipe' });
    } catch (error) {
      const output = error as { stdout?: Buffer; stderr?: Buffer; message: string };
      throw new Error(`${path.basename(command)} failed: ${output.message}\n${String(output.stdout ?? '')}${String(output.stderr ?? '')}`);
    }
  };
  // UTF-8 and the C locale: byte order, what Glacis's path ranges assume anyway (its columns say so).
  run(path.join(bin, 'initdb'), ['-D', data, '-U', USER, `--pwfile=${passwordFile}`, '--auth=scram-sha-256', '--encoding=UTF8', '--locale=C', '--no-sync']);
  rmSync(passwordFile, { force: true });

  let port = 0;
  const proc: ServiceProcess = await retryOnPortClash(async () => {
    port = await freePort();
    const [file, ...rest] = [...user.prefix, path.join(bin, 'postgres')];
    const started = spawnService('postgres', file!, [
      ...rest,
      '-D', data,
      '-p', String(port),
      '-k', dir,
      '-c', `listen_addresses=${LOOPBACK}`,
      // A throw-away cluster: no durability, so the loaded test machine spends nothing on fsync.
      '-c', 'fsync=off',
      '-c', 'synchronous_commit=off',
      '-c', 'full_page_writes=off',
      '-c', 'max_connections=300',
      '-c', 'shared_buffers=32MB',
    ], { cwd: dir });
    const url = `postgresql://${USER}:${encodeURIComponent(password)}@${LOOPBACK}:${port}/postgres`;
    await waitUntilReady(started, async () => /ready to accept connections/.test(started.output()) && (await canConnect(url)), STARTUP_TIMEOUT_MS);
    return started;
  });

  return {
    adminUrl: `postgresql://${USER}:${encodeURIComponent(password)}@${LOOPBACK}:${port}/postgres`,
    port,
    stop: async () => {
      // SIGTERM is postgres's "smart" shutdown, which waits for clients; SIGINT ("fast") does not.
      if (!proc.hasExited()) process.kill(proc.pid, 'SIGINT');
      await Promise.race([proc.exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      await proc.terminate();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A new, empty database on the shared server: each test gets its own, so tests in parallel
 * never see each other's tasks. Returns its URL (with the password).
 *
 * @example
 * ```ts
 * const url = await createDatabase(sharedServices().postgresUrl);
 * const store = await openTaskStore(url);
 * ```
 */
export async function createDatabase(adminUrl: string): Promise<string> {
  const name = `glacis_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`create database ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
