/**
 * The rclone driver against the run-wide SFTP server (`rclone serve sftp`) and s3rver
 * from test/global-setup.ts: listing, stat, copy, and secrets kept off command lines.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3Remote, SftpRemote } from '../../src/config/types.js';
import { Rclone, RcloneError, RemoteNotFoundError, reveal, type RemoteEntry } from '../../src/rclone/index.js';
import { requireBinary } from '../harness/process.js';
import { caCertArgs, rcloneBaseEnv, rcloneOk, runRclone, s3RemoteEnv } from '../harness/rclone-env.js';
import { sharedServices } from '../harness/services.js';

const RCLONE = requireBinary('rclone');
const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
const PASS_VAR = 'RCLONE_CONFIG_GLACISREMOTE_PASS';
const BIG = 8 * 1024 * 1024;

const dirs: string[] = [];
function tempDir(label: string): string {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), `glacis-rclone-${label}-`)));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The tree as a remote filled by `rclone copy --links` holds it: symlinks as .rclonelink files. */
function writeTree(root: string): void {
  const files: Record<string, string | Buffer> = {
    'a.txt': 'hello\n',
    'sub/b.txt': 'world!\n',
    'sub/deep/c.txt': 'deep\n',
    'link.rclonelink': 'a.txt',
    'sub/l2.rclonelink': '../a.txt',
    'big/big.bin': randomBytes(BIG),
  };
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), content);
  }
}

async function collect(it: AsyncIterable<RemoteEntry>): Promise<RemoteEntry[]> {
  const out: RemoteEntry[] = [];
  for await (const e of it) out.push(e);
  return out;
}

const pathsOf = (entries: RemoteEntry[]): string[] => entries.map((e) => e.path).sort();

function listFileWith(...names: string[]): string {
  const file = path.join(tempDir('list'), 'files.txt');
  writeFileSync(file, names.map((n) => `${n}\n`).join(''));
  return file;
}

interface ChildSnapshot {
  readonly pid: string;
  readonly argv: string;
  readonly environ: Map<string, string>;
}

/** rclone children of this process, read from /proc: command line and environment. */
function rcloneChildren(): ChildSnapshot[] {
  const out: ChildSnapshot[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (!argv.includes('rclone')) continue;
      const environ = new Map<string, string>();
      for (const kv of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
        const eq = kv.indexOf('=');
        if (eq > 0) environ.set(kv.slice(0, eq), kv.slice(eq + 1));
      }
      out.push({ pid, argv, environ });
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** Samples rclone children every 20 ms until `work` settles. */
async function watchChildren(work: Promise<unknown>): Promise<ChildSnapshot[]> {
  const seen: ChildSnapshot[] = [];
  let done = false;
  const finished = work.finally(() => {
    done = true;
  });
  while (!done) {
    seen.push(...rcloneChildren());
    await new Promise((r) => setTimeout(r, 20));
  }
  await finished;
  return seen;
}

describe('Rclone against the SFTP server', () => {
  const rclone = new Rclone({ executable: RCLONE });
  let remote: SftpRemote;

  beforeAll(() => {
    const { sftp } = sharedServices();
    const name = `rclone-${randomUUID()}`;
    writeTree(path.join(sftp.root, name));
    remote = { backend: 'sftp', host: sftp.host, port: sftp.port, user: sftp.user, password: sftp.password, path: name };
  });

  it('lists recursively, symlinks being .rclonelink files', async () => {
    const entries = await collect(rclone.list(remote, '', { recursive: true, filesOnly: true }));
    expect(pathsOf(entries)).toEqual(['a.txt', 'big/big.bin', 'link.rclonelink', 'sub/b.txt', 'sub/deep/c.txt', 'sub/l2.rclonelink']);
    expect(entries.find((e) => e.path === 'a.txt')).toMatchObject({ size: 6, isDir: false });
  });

  it('lists one level of a subdirectory, and the same through an absolute path', async () => {
    expect(pathsOf(await collect(rclone.list(remote, 'sub')))).toEqual(['b.txt', 'deep', 'l2.rclonelink']);
    const absolute: SftpRemote = { ...remote, path: `/${remote.path}` };
    expect(pathsOf(await collect(rclone.list(absolute, 'sub')))).toEqual(['b.txt', 'deep', 'l2.rclonelink']);
  });

  it('stats files, directories and missing paths', async () => {
    expect(await rclone.stat(remote, 'sub/b.txt')).toMatchObject({ path: 'sub/b.txt', name: 'b.txt', size: 7, isDir: false });
    expect(await rclone.stat(remote, 'sub')).toMatchObject({ path: 'sub', isDir: true });
    expect(await rclone.stat(remote, 'link.rclonelink')).toMatchObject({ size: 5, isDir: false });
    expect(await rclone.stat(remote, 'nope.txt')).toBeNull();
    expect(await rclone.stat(remote, 'no/such/dir')).toBeNull();
  });

  it('throws RemoteNotFoundError for a missing directory', async () => {
    await expect(collect(rclone.list(remote, 'no/such/dir', { recursive: true }))).rejects.toBeInstanceOf(RemoteNotFoundError);
  });

  it('copies listed files, turning .rclonelink files into symlinks', async () => {
    const dest = tempDir('dest');
    const result = await rclone.copyFiles(remote, {
      sourceDir: '', filesFrom: listFileWith('a.txt', 'link.rclonelink', 'sub/l2.rclonelink', 'sub/deep/c.txt'), destDir: dest,
    });
    expect(result).toMatchObject({ files: 4, errors: 0 });
    expect(readFileSync(path.join(dest, 'sub/deep/c.txt'), 'utf8')).toBe('deep\n');
    expect(readlinkSync(path.join(dest, 'link'))).toBe('a.txt');
    expect(readlinkSync(path.join(dest, 'sub/l2'))).toBe('../a.txt');
    expect(existsSync(path.join(dest, 'link.rclonelink'))).toBe(false);
  });

  it('keeps the password and its obscured form off every command line', async () => {
    const dest = tempDir('dest');
    const copy = rclone.copyFiles(remote, { sourceDir: 'big', filesFrom: listFileWith('big.bin'), destDir: dest, bwLimit: '3M' });
    const seen = await watchChildren(copy);
    expect(seen.length).toBeGreaterThan(10);
    expect(lstatSync(path.join(dest, 'big.bin')).size).toBe(BIG);
    for (const child of seen) {
      const obscured = child.environ.get(PASS_VAR);
      expect(obscured).toBeDefined();
      expect(reveal(obscured!)).toBe(remote.password);
      expect(child.argv).toContain('glacisremote:');
      expect(child.argv).not.toContain(remote.password);
      expect(child.argv).not.toContain(obscured);
      expect([...child.environ.values()].join('\n')).not.toContain(remote.password);
    }
  }, 30_000);

  it('fails with a redacted error on a wrong password', async () => {
    const wrong: SftpRemote = { ...remote, password: `wrong-${randomUUID()}` };
    const err = await collect(rclone.list(wrong, '')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RcloneError);
    expect(err).not.toBeInstanceOf(RemoteNotFoundError);
    const { message, stderrTail } = err as RcloneError;
    expect(stderrTail).toMatch(/unable to authenticate/);
    expect(`${message}\n${stderrTail}`).not.toContain(wrong.password);
  }, 30_000);
});

describe('Rclone against the S3 server', () => {
  const rclone = new Rclone({ executable: RCLONE });
  // s3rver checks the key id but not signatures: a distinctive secret makes leaks greppable.
  const secret = `s3-secret-${randomUUID()}`;
  let bucket: string;
  let remote: S3Remote;

  beforeAll(async () => {
    const { s3 } = sharedServices();
    bucket = `g-${randomUUID().slice(0, 18)}`;
    const staging = tempDir('s3-seed');
    writeTree(staging);
    const env = { ...rcloneBaseEnv(), ...s3RemoteEnv('SEED', { ...s3, secretAccessKey: secret }) };
    await rcloneOk(['mkdir', ...caCertArgs(), `SEED:${bucket}`], env);
    await rcloneOk(['copy', ...caCertArgs(), staging, `SEED:${bucket}/prefix`], env);
    remote = {
      backend: 's3', provider: 'Other', endpoint: s3.endpoint, path: `${bucket}/prefix`,
      accessKeyId: s3.accessKeyId, secretAccessKey: secret,
    };
  }, 60_000);

  it('lists recursively, symlinks being .rclonelink objects', async () => {
    const entries = await collect(rclone.list(remote, '', { recursive: true, filesOnly: true }));
    expect(pathsOf(entries)).toEqual(['a.txt', 'big/big.bin', 'link.rclonelink', 'sub/b.txt', 'sub/deep/c.txt', 'sub/l2.rclonelink']);
    expect(pathsOf(await collect(rclone.list(remote, 'sub')))).toEqual(['b.txt', 'deep', 'l2.rclonelink']);
  });

  it('stats objects and prefixes, and reports missing ones as null', async () => {
    expect(await rclone.stat(remote, 'sub/b.txt')).toMatchObject({ path: 'sub/b.txt', name: 'b.txt', size: 7, isDir: false });
    expect(await rclone.stat(remote, 'sub')).toMatchObject({ path: 'sub', isDir: true });
    expect(await rclone.stat(remote, '')).toMatchObject({ path: '', isDir: true });
    expect(await rclone.stat({ ...remote, path: bucket }, '')).toMatchObject({ isDir: true });
    // rclone itself answers "an empty directory" for these.
    expect(await rclone.stat(remote, 'nope.txt')).toBeNull();
    expect(await rclone.stat(remote, 'no/such/prefix')).toBeNull();
    expect(await rclone.stat(remote, 'nope.rclonelink')).toBeNull();
    expect(await rclone.stat({ ...remote, path: `missing-${bucket}` }, 'x')).toBeNull();
  });

  it('throws RemoteNotFoundError for a missing prefix or bucket, though rclone lists them as empty', async () => {
    await expect(collect(rclone.list(remote, 'no/such/prefix', { recursive: true }))).rejects.toBeInstanceOf(RemoteNotFoundError);
    await expect(collect(rclone.list({ ...remote, path: `missing-${bucket}` }, ''))).rejects.toBeInstanceOf(RemoteNotFoundError);
    // Filters that hide everything still give an empty listing, not an error.
    expect(await collect(rclone.list(remote, 'sub/deep', { exclude: ['*.txt'] }))).toEqual([]);
  });

  it('copies listed objects, turning .rclonelink objects into symlinks', async () => {
    const dest = tempDir('dest');
    const result = await rclone.copyFiles(remote, {
      sourceDir: 'sub', filesFrom: listFileWith('b.txt', 'l2.rclonelink'), destDir: dest,
    });
    expect(result).toMatchObject({ files: 2, bytes: 7 + 8, errors: 0 });
    expect(readFileSync(path.join(dest, 'b.txt'), 'utf8')).toBe('world!\n');
    expect(readlinkSync(path.join(dest, 'l2'))).toBe('../a.txt');
  });

  it('works with AWS_CA_BUNDLE in the environment, which breaks a bare rclone 1.60', async () => {
    const withBundle = { ...process.env, AWS_CA_BUNDLE: CA_BUNDLE };
    const { s3 } = sharedServices();
    const bare = await runRclone(['lsjson', `S3:${bucket}/prefix`], { ...rcloneBaseEnv(), AWS_CA_BUNDLE: CA_BUNDLE, ...s3RemoteEnv('S3', s3) });
    expect(bare.code).not.toBe(0);
    expect(bare.stderr).toMatch(/LoadCustomCABundleError/);

    const ours = new Rclone({ executable: RCLONE, baseEnv: withBundle });
    expect(pathsOf(await collect(ours.list(remote, 'sub/deep')))).toEqual(['c.txt']);
    expect(await ours.stat(remote, 'a.txt')).toMatchObject({ size: 6 });
  });

  it('keeps the secret key off every command line', async () => {
    const dest = tempDir('dest');
    const copy = rclone.copyFiles(remote, { sourceDir: 'big', filesFrom: listFileWith('big.bin'), destDir: dest, bwLimit: '3M' });
    const seen = await watchChildren(copy);
    expect(seen.length).toBeGreaterThan(10);
    expect(lstatSync(path.join(dest, 'big.bin')).size).toBe(BIG);
    for (const child of seen) {
      expect(child.environ.get('RCLONE_CONFIG_GLACISREMOTE_SECRET_ACCESS_KEY')).toBe(secret);
      expect(child.environ.has('AWS_CA_BUNDLE')).toBe(false);
      expect(child.argv).not.toContain(secret);
    }
  }, 30_000);
});
