/**
 * A real SFTP server for tests: `rclone serve sftp` over a local directory, password auth,
 * loopback only. The password travels in the environment (`RCLONE_PASS`), never on the
 * command line, because tests check that it does not show up in `ps` output.
 *
 * The server does NOT use `--links`: a `x.rclonelink` file under `root` is served as the
 * plain file it is, just as a real OpenSSH server would hold what rclone uploaded.
 * `rclone serve sftp` also answers `md5sum`/`sha1sum` exec requests, so clients get hashes.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, LOOPBACK, waitForPort } from './ports.js';
import { rcloneBaseEnv } from './rclone-env.js';
import {
  removeOnExit,
  requireBinary,
  retryOnPortClash,
  spawnService,
  waitUntilReady,
  type ServiceProcess,
} from './process.js';

export interface SftpServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** The local directory served as the SFTP root (`/` for clients). */
  readonly root: string;
  /** The server's process id (to freeze it with SIGSTOP, say). */
  readonly pid: number;
  /** Its host key as OpenSSH writes public keys (`ssh-ed25519 AAAA…`): a fresh one per server. */
  readonly hostPublicKey: string;
  stop(): Promise<void>;
}

export interface StartSftpOptions {
  /** Directory to serve; created if missing, never deleted by the harness. */
  readonly root: string;
  /** Default `glacis`. */
  readonly user?: string;
  /** Default: random per server, so it can be grepped for unambiguously. */
  readonly password?: string;
  /**
   * rclone `--bwlimit` for what the server sends, e.g. `'1M'`: a slow remote, for tests that
   * watch a transfer while it runs. Default: unlimited.
   */
  readonly bwLimit?: string;
  /** Listen on this port (a server restarted in place); default a free one. */
  readonly port?: number;
}

const STARTUP_TIMEOUT_MS = 15_000;

/**
 * A private state dir with an ed25519 host key and an empty authorized_keys file. Without
 * them rclone generates a 2048-bit RSA key (~1 s) into ~/.cache/rclone, shared by
 * concurrent servers, and reads the developer's ~/.ssh/authorized_keys.
 */
function makeStateDir(): { dir: string; hostKey: string; authorizedKeys: string; hostPublicKey: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'glacis-sftp-'));
  const hostKey = path.join(dir, 'host_ed25519');
  const authorizedKeys = path.join(dir, 'authorized_keys');
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  // PKCS#8 PEM: Go's ssh.ParsePrivateKey (inside rclone) accepts it.
  writeFileSync(hostKey, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(authorizedKeys, '', { mode: 0o600 });
  return { dir, hostKey, authorizedKeys, hostPublicKey: openSshEd25519(Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url')) };
}

/** RFC 8709's wire form of an ed25519 public key, as a known_hosts or authorized_keys line has it. */
function openSshEd25519(raw: Buffer): string {
  const field = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, (b.length >> 8) & 0xff, b.length & 0xff]), b]);
  return `ssh-ed25519 ${Buffer.concat([field(Buffer.from('ssh-ed25519')), field(raw)]).toString('base64')}`;
}

async function launch(
  binary: string,
  port: number,
  opts: { root: string; user: string; password: string; bwLimit: string | undefined },
  state: { dir: string; hostKey: string; authorizedKeys: string },
): Promise<ServiceProcess> {
  const args = [
    'serve', 'sftp', opts.root,
    '--addr', `${LOOPBACK}:${port}`,
    '--user', opts.user,
    '--key', state.hostKey,
    '--authorized-keys', state.authorizedKeys,
    // Serve what is on disk NOW: tests write fixtures straight into `root`, and the VFS
    // would otherwise keep showing a directory listing up to 5 minutes old.
    '--dir-cache-time', '0s',
  ];
  const env = {
    ...rcloneBaseEnv(),
    // Any rclone flag can be given as RCLONE_<FLAG>: this is --pass, kept out of argv.
    RCLONE_PASS: opts.password,
    RCLONE_CACHE_DIR: path.join(state.dir, 'cache'),
    ...(opts.bwLimit === undefined ? {} : { RCLONE_BWLIMIT: opts.bwLimit }),
  };
  const proc = spawnService('rclone serve sftp', binary, args, { env });
  // The log line proves *this* process bound the port; a bare connect could reach a stranger.
  await waitUntilReady(proc, () => /SFTP server listening on/.test(proc.output()), STARTUP_TIMEOUT_MS);
  await waitForPort(port, STARTUP_TIMEOUT_MS);
  return proc;
}

export async function startSftp(opts: StartSftpOptions): Promise<SftpServer> {
  const binary = requireBinary('rclone');
  const root = path.resolve(opts.root);
  mkdirSync(root, { recursive: true });
  const user = opts.user ?? 'glacis';
  const password = opts.password ?? `pw-${randomBytes(12).toString('hex')}`;
  const state = makeStateDir();
  removeOnExit(state.dir);

  let port = 0;
  let proc: ServiceProcess;
  try {
    const fixedPort = opts.port;
    proc =
      fixedPort === undefined
        ? await retryOnPortClash(async () => {
            port = await freePort();
            return launch(binary, port, { root, user, password, bwLimit: opts.bwLimit }, state);
          })
        : await launch(binary, (port = fixedPort), { root, user, password, bwLimit: opts.bwLimit }, state);
  } catch (err) {
    rmSync(state.dir, { recursive: true, force: true });
    throw err;
  }

  return {
    host: LOOPBACK,
    port,
    user,
    password,
    root,
    pid: proc.pid,
    hostPublicKey: state.hostPublicKey,
    stop: async () => {
      await proc.terminate();
      rmSync(state.dir, { recursive: true, force: true });
    },
  };
}
