/**
 * Proves each test service really works, through the same clients Glacis uses: ioredis for
 * Redis, the real rclone binary for SFTP and S3, pg for PostgreSQL. Nothing here is skipped: a missing binary
 * fails with the command that installs it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { freePort, isPortOpen, waitForPort } from './ports.js';
import { createDatabase } from './postgres.js';
import { deathSignalPrefix, requireBinary } from './process.js';
import { pingRedis, startRedis } from './redis.js';
import {
  caCertArgs,
  rcloneBaseEnv,
  rcloneOk,
  runRclone,
  s3RemoteEnv,
  sftpRemoteEnv,
} from './rclone-env.js';
import { s3CreateBucket, s3PutObject, startS3 } from './s3.js';
import { sharedServices } from './services.js';
import { startSftp } from './sftp.js';

/** One entry of `rclone lsjson` output (the fields these tests read). */
interface LsEntry {
  readonly Path: string;
  readonly Size: number;
  readonly IsDir: boolean;
  readonly Hashes?: Readonly<Record<string, string>>;
}

const tmpDirs: string[] = [];
afterAll(() => {
  for (const dir of tmpDirs) rmSync(dir, { recursive: true, force: true });
});

function tmpDir(label: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `glacis-harness-${label}-`));
  tmpDirs.push(dir);
  return dir;
}

/** A name no other test (or earlier run) uses: buckets need lowercase, 3-63 chars. */
function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

function md5(data: string | Buffer): string {
  return createHash('md5').update(data).digest('hex');
}

function sha1(data: string | Buffer): string {
  return createHash('sha1').update(data).digest('hex');
}

/** A small local tree: two files in two levels and a relative symlink to one of them. */
function makeTree(): string {
  const dir = tmpDir('tree');
  mkdirSync(path.join(dir, 'sub'));
  writeFileSync(path.join(dir, 'a.txt'), 'alpha\n');
  writeFileSync(path.join(dir, 'sub', 'b.txt'), 'beta\n');
  symlinkSync('a.txt', path.join(dir, 'link'));
  return dir;
}

function parseLs(json: string): LsEntry[] {
  return (JSON.parse(json) as LsEntry[]).sort((x, y) => x.Path.localeCompare(y.Path));
}

function files(entries: readonly LsEntry[]): string[] {
  return entries.filter((e) => !e.IsDir).map((e) => e.Path);
}

/** Asserts a tree copied back from a remote with --links equals {@link makeTree}'s. */
function expectTreeRestored(dir: string): void {
  expect(readFileSync(path.join(dir, 'a.txt'), 'utf8')).toBe('alpha\n');
  expect(readFileSync(path.join(dir, 'sub', 'b.txt'), 'utf8')).toBe('beta\n');
  expect(lstatSync(path.join(dir, 'link')).isSymbolicLink()).toBe(true);
  expect(readlinkSync(path.join(dir, 'link'))).toBe('a.txt');
}

/** Alive and not a zombie (a reparented zombie still answers kill(pid, 0)). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}

describe('ports', () => {
  it('freePort returns a port that can then be bound on 127.0.0.1', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await waitForPort(port, 2_000);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('waitForPort fails with a message naming the port when nothing listens', async () => {
    const port = await freePort();
    await expect(waitForPort(port, 300)).rejects.toThrow(`127.0.0.1:${port}`);
  });
});

describe('missing binaries fail clearly, never skip', () => {
  it('names the binary and the apt-get command', () => {
    const savedPath = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      expect(() => requireBinary('redis-server')).toThrow(/"redis-server".*apt-get install .*redis-server/s);
      expect(() => requireBinary('rclone')).toThrow(/"rclone".*apt-get install rclone/s);
    } finally {
      process.env.PATH = savedPath;
    }
  });
});

describe('redis', () => {
  it('the shared server answers PING/SET/GET through ioredis', async () => {
    const client = new Redis(sharedServices().redisUrl, { maxRetriesPerRequest: 1 });
    try {
      const key = `${uniqueName('harness')}:k`;
      expect(await client.ping()).toBe('PONG');
      expect(await client.set(key, 'v1', 'EX', 60)).toBe('OK');
      expect(await client.get(key)).toBe('v1');
    } finally {
      client.disconnect();
    }
  });

  it('stop / kill / restart keep the same port, and data does not survive (no persistence)', async () => {
    const redis = await startRedis();
    try {
      expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
      const client = new Redis(redis.url, { maxRetriesPerRequest: 1, lazyConnect: true });
      await client.connect();
      await client.set('k', 'v');
      expect(await client.get('k')).toBe('v');
      client.disconnect();

      await redis.stop();
      expect(await pingRedis(redis.port)).toBe(false);
      await redis.restart();
      expect(await pingRedis(redis.port)).toBe(true);

      const again = new Redis(redis.url, { maxRetriesPerRequest: 1 });
      expect(await again.get('k')).toBeNull();
      again.disconnect();

      redis.kill();
      await expect.poll(() => pingRedis(redis.port), { timeout: 5_000 }).toBe(false);
      await redis.restart();
      expect(await pingRedis(redis.port)).toBe(true);
    } finally {
      await redis.stop();
    }
    expect(await isPortOpen(redis.port)).toBe(false);
  });
});

describe('sftp (rclone serve sftp)', () => {
  let env: NodeJS.ProcessEnv;
  let root: string;
  let remoteDir: string;

  beforeAll(async () => {
    const { sftp } = sharedServices();
    env = { ...rcloneBaseEnv(), ...(await sftpRemoteEnv('T', sftp)) };
    // Each test file works in its own directory under the shared root.
    remoteDir = uniqueName('harness');
    root = path.join(sftp.root, remoteDir);
    mkdirSync(root);
  });

  it('lists files with md5 and sha1 hashes', async () => {
    writeFileSync(path.join(root, 'seed.txt'), 'seed\n');
    const entries = parseLs(await rcloneOk(['lsjson', '--hash', `T:${remoteDir}`], env));
    expect(entries).toHaveLength(1);
    expect(entries[0]?.Path).toBe('seed.txt');
    expect(entries[0]?.Hashes).toEqual({ md5: md5('seed\n'), sha1: sha1('seed\n') });
  });

  it('copies a tree up and back down with --links (symlinks travel as .rclonelink files)', async () => {
    const tree = makeTree();
    await rcloneOk(['copy', '--links', tree, `T:${remoteDir}/up`], env);
    expect(readFileSync(path.join(root, 'up', 'link.rclonelink'), 'utf8')).toBe('a.txt');
    expect(readFileSync(path.join(root, 'up', 'sub', 'b.txt'), 'utf8')).toBe('beta\n');

    const listed = parseLs(await rcloneOk(['lsjson', '-R', '--hash', `T:${remoteDir}/up`], env));
    expect(files(listed)).toEqual(['a.txt', 'link.rclonelink', 'sub/b.txt']);
    expect(listed.find((e) => e.Path === 'a.txt')?.Hashes?.sha1).toBe(sha1('alpha\n'));

    const back = tmpDir('sftp-back');
    await rcloneOk(['copy', '--links', `T:${remoteDir}/up`, back], env);
    expectTreeRestored(back);
  });

  it('turns an x.rclonelink file on the server into a symlink x when copied down with --links', async () => {
    mkdirSync(path.join(root, 'links'));
    writeFileSync(path.join(root, 'links', 'x.rclonelink'), '../elsewhere/target');
    const back = tmpDir('sftp-links');
    await rcloneOk(['copy', '--links', `T:${remoteDir}/links`, back], env);
    expect(readlinkSync(path.join(back, 'x'))).toBe('../elsewhere/target');
    expect(existsSync(path.join(back, 'x.rclonelink'))).toBe(false);
  });

  it('serves changes made straight on disk at once (no stale directory cache)', async () => {
    const file = path.join(root, 'changing.txt');
    writeFileSync(file, 'short\n');
    const first = parseLs(await rcloneOk(['lsjson', `T:${remoteDir}`], env));
    expect(first.find((e) => e.Path === 'changing.txt')?.Size).toBe(6);
    writeFileSync(file, 'a longer content\n');
    mkdirSync(path.join(root, 'late-dir'));
    const second = parseLs(await rcloneOk(['lsjson', `T:${remoteDir}`], env));
    expect(second.find((e) => e.Path === 'changing.txt')?.Size).toBe(17);
    expect(second.some((e) => e.Path === 'late-dir' && e.IsDir)).toBe(true);
    expect(await rcloneOk(['cat', `T:${remoteDir}/changing.txt`], env)).toBe('a longer content\n');
  });

  it('rejects a wrong password, so RCLONE_PASS really set the password', async () => {
    const { sftp } = sharedServices();
    const wrong = { ...rcloneBaseEnv(), ...(await sftpRemoteEnv('W', { ...sftp, password: 'not-the-password' })) };
    const result = await runRclone(['lsjson', 'W:', '--retries', '1', '--low-level-retries', '1'], wrong);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/unable to authenticate/);
  });

  it('keeps the password out of the process list', () => {
    const { sftp } = sharedServices();
    const ps = spawnSync('ps', ['-eww', '-o', 'args'], { encoding: 'utf8' });
    expect(ps.status).toBe(0);
    const serverLines = ps.stdout.split('\n').filter((l) => l.includes(`127.0.0.1:${sftp.port}`));
    expect(serverLines.some((l) => l.includes('serve sftp'))).toBe(true);
    expect(ps.stdout).not.toContain(sftp.password);
  });

  it('a private server stops and frees its port', async () => {
    const server = await startSftp({ root: tmpDir('sftp-own') });
    expect(await isPortOpen(server.port)).toBe(true);
    await server.stop();
    expect(await isPortOpen(server.port)).toBe(false);
  });
});

describe('s3 (s3rver)', () => {
  let env: NodeJS.ProcessEnv;
  let bucket: string;
  // The CA bundle AWS_CA_BUNDLE names on this machine, passed to rclone as --ca-cert.
  const caArgs = caCertArgs();

  beforeAll(async () => {
    const { s3 } = sharedServices();
    env = { ...rcloneBaseEnv(), ...s3RemoteEnv('S', s3) };
    bucket = uniqueName('harness');
    await s3CreateBucket(s3.endpoint, bucket);
  });

  it('reproduces the AWS_CA_BUNDLE trap of rclone 1.60 (drop it from the workaround once this fails)', async () => {
    const bundle = process.env.AWS_CA_BUNDLE ?? '/etc/ssl/certs/ca-certificates.crt';
    const result = await runRclone(['lsjson', `S:${bucket}`], { ...env, AWS_CA_BUNDLE: bundle });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('LoadCustomCABundleError');
  });

  it('copies a tree up with --links, lists it with md5, and copies it back', async () => {
    const tree = makeTree();
    await rcloneOk(['copy', '--links', ...caArgs, tree, `S:${bucket}/up`], env);

    const listed = parseLs(await rcloneOk(['lsjson', '-R', '--hash', ...caArgs, `S:${bucket}/up`], env));
    expect(files(listed)).toEqual(['a.txt', 'link.rclonelink', 'sub/b.txt']);
    expect(listed.find((e) => e.Path === 'a.txt')?.Hashes).toEqual({ md5: md5('alpha\n') });
    expect(listed.find((e) => e.Path === 'link.rclonelink')?.Size).toBe('a.txt'.length);

    const back = tmpDir('s3-back');
    await rcloneOk(['copy', '--links', ...caArgs, `S:${bucket}/up`, back], env);
    expectTreeRestored(back);
  });

  it('multipart uploads keep an md5 (rclone stores it as metadata)', async () => {
    const dir = tmpDir('s3-big');
    const data = randomBytes(12 * 1024 * 1024);
    writeFileSync(path.join(dir, 'big.bin'), data);
    const chunking = ['--s3-upload-cutoff', '5M', '--s3-chunk-size', '5M'];
    await rcloneOk(['copy', ...chunking, ...caArgs, dir, `S:${bucket}/big`], env);
    const listed = parseLs(await rcloneOk(['lsjson', '--hash', ...caArgs, `S:${bucket}/big`], env));
    expect(listed[0]?.Hashes?.md5).toBe(md5(data));
    await rcloneOk(['check', '--download', ...caArgs, dir, `S:${bucket}/big`], env);
  });

  it('pages listings with ListObjects v1 and v2', async () => {
    const { s3 } = sharedServices();
    for (let i = 0; i < 5; i++) await s3PutObject(s3.endpoint, bucket, `paged/f${i}`, `${i}`);
    for (const version of ['1', '2']) {
      const args = ['lsf', '--s3-list-version', version, '--s3-list-chunk', '2', ...caArgs, `S:${bucket}/paged`];
      expect((await rcloneOk(args, env)).trim().split('\n')).toEqual(['f0', 'f1', 'f2', 'f3', 'f4']);
    }
  });

  it('a private server seeds buckets and objects, then stops and frees its port', async () => {
    const root = tmpDir('s3-own');
    const server = await startS3({ root });
    try {
      await server.createBucket('seeded');
      await expect(server.createBucket('seeded')).rejects.toThrow(/HTTP 409/);
      await server.putObject('seeded', 'dir/with space.txt', 'seeded\n');
      const ownEnv = { ...rcloneBaseEnv(), ...s3RemoteEnv('O', server) };
      const listed = parseLs(await rcloneOk(['lsjson', '-R', '--hash', ...caArgs, 'O:seeded'], ownEnv));
      expect(files(listed)).toEqual(['dir/with space.txt']);
      expect(listed.find((e) => !e.IsDir)?.Hashes?.md5).toBe(md5('seeded\n'));
      expect(existsSync(path.join(root, 'seeded'))).toBe(true);
    } finally {
      await server.stop();
    }
    expect(await isPortOpen(server.port)).toBe(false);
  });
});

describe('no orphan servers', () => {
  it('a service dies with its owner even when the owner is SIGKILLed', async () => {
    const prefix = deathSignalPrefix();
    // setpriv is in util-linux, which every Debian/Ubuntu system has.
    expect(prefix[0], 'setpriv (apt-get install util-linux) is needed on Linux').toMatch(/setpriv$/);
    // An owner process that spawns `sleep` exactly as spawnService does, prints its pid, and idles.
    const script = `
      const { spawn } = require('node:child_process');
      const argv = ${JSON.stringify([...prefix, requireBinary('sleep'), '300'])};
      const child = spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
      console.log(child.pid);
      setInterval(() => {}, 1000);
    `;
    const owner = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pid = await new Promise<number>((resolve) => owner.stdout.once('data', (d: Buffer) => resolve(Number(d.toString()))));
    expect(isAlive(pid)).toBe(true);
    owner.kill('SIGKILL');
    await expect.poll(() => isAlive(pid), { timeout: 5_000 }).toBe(false);
  });
});

describe('PostgreSQL (shared)', () => {
  it('listens on loopback only, and logs in with its password only', async () => {
    const admin = new URL(sharedServices().postgresUrl);
    expect(admin.hostname).toBe('127.0.0.1');
    const url = await createDatabase(admin.toString());
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      expect((await client.query<{ listen_addresses: string }>('show listen_addresses')).rows).toEqual([{ listen_addresses: '127.0.0.1' }]);
      expect((await client.query<{ current_database: string }>('select current_database()')).rows[0]?.current_database).toBe(new URL(url).pathname.slice(1));
    } finally {
      await client.end();
    }
    const wrong = new URL(url);
    wrong.password = 'not-the-password';
    const refused = new pg.Client({ connectionString: wrong.toString() });
    await expect(refused.connect()).rejects.toThrow(/password authentication failed/);
  });
});
