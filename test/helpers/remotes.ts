/**
 * Remotes for end-to-end tests: the same fixture tree served by each kind of backend
 * Glacis supports (a local directory, the SFTP server, the S3 server), and the repos
 * YAML settings that point at it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { lutimesSync, mkdirSync, mkdtempSync, writeFileSync, symlinkSync, realpathSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { rcloneBaseEnv, caCertArgs, rcloneOk, s3RemoteEnv } from '../harness/rclone-env.js';
import { sharedServices } from '../harness/services.js';

export type RemoteKind = 'local' | 'sftp' | 's3';
export const REMOTE_KINDS: readonly RemoteKind[] = ['local', 'sftp', 's3'];

/** Files of the fixture tree and their contents (symlinks listed apart). */
export const FIXTURE_FILES: Readonly<Record<string, string | Buffer>> = {
  'file1.txt': 'file one\n',
  'file2.xml': '<xml>two</xml>\n',
  'subdir/subfile.txt': 'sub file\n',
  'subdir/subsubdir/poutrelle.tsv': 'a\tb\n',
  'subdir/subsubdir2/subsubfile.txt': 'sub sub file\n',
  'subdir/subsubdir2/poutrelle.xml': '<p/>\n',
  'big/large.bin': randomBytes(3 * 1024 * 1024),
};
/** Symlinks of the fixture tree: name → target. */
export const FIXTURE_LINKS: Readonly<Record<string, string>> = {
  'links/relative.txt': '../file1.txt',
  'links/absolute.txt': '/etc/hostname',
  'links/dangling': './nowhere',
};

export interface TestRemote {
  readonly kind: RemoteKind;
  /** Settings for the repos YAML (backend and its keys). */
  readonly settings: Record<string, unknown>;
  /** Secrets in `settings`, for tests that check they leak nowhere. */
  readonly secrets: readonly string[];
  /** The directory behind the remote, for local and SFTP remotes (tests add files there). */
  readonly root?: string;
}

/**
 * Writes the fixture into `dir`. A backup made with `rclone sync --links` stores a
 * symlink as `name.rclonelink` holding its target: `links: 'rclonelink'` reproduces that.
 */
export function writeFixture(dir: string, links: 'symlink' | 'rclonelink', extra: Record<string, string | Buffer> = {}): void {
  for (const [name, content] of Object.entries({ ...FIXTURE_FILES, ...extra })) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
    utimesSync(path.join(dir, name), FIXTURE_MTIME, FIXTURE_MTIME);
  }
  for (const [name, target] of Object.entries(FIXTURE_LINKS)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    if (links === 'symlink') {
      symlinkSync(target, path.join(dir, name));
      lutimesSync(path.join(dir, name), FIXTURE_MTIME, FIXTURE_MTIME);
    } else {
      writeFileSync(path.join(dir, `${name}.rclonelink`), target);
      utimesSync(path.join(dir, `${name}.rclonelink`), FIXTURE_MTIME, FIXTURE_MTIME);
    }
  }
}

/** The fixture's files are old: a pulled file keeps this mtime but gets a fresh atime. */
export const FIXTURE_MTIME = new Date('2020-01-02T03:04:05Z');

export function tempDir(label: string): string {
  return realpathSync(mkdtempSync(path.join(tmpdir(), `glacis-${label}-`)));
}

/**
 * A fresh remote of the given kind holding the fixture (plus `extra` files).
 *
 * @example
 * ```ts
 * const remote = await makeRemote('sftp');
 * const repos = { [localDir]: { ...remote.settings, exclude: '*xml' } };
 * ```
 */
export async function makeRemote(kind: RemoteKind, extra: Record<string, string | Buffer> = {}): Promise<TestRemote> {
  const services = sharedServices();
  if (kind === 'local') {
    const dir = tempDir('remote');
    writeFixture(dir, 'symlink', extra);
    return { kind, settings: { backend: 'local', path: dir }, secrets: [], root: dir };
  }
  if (kind === 'sftp') {
    const name = `remote-${randomUUID()}`;
    writeFixture(path.join(services.sftp.root, name), 'rclonelink', extra);
    return {
      kind,
      settings: { backend: 'sftp', url: `${services.sftp.host}:${name}`, port: services.sftp.port, user: services.sftp.user, password: services.sftp.password },
      secrets: [services.sftp.password],
      root: path.join(services.sftp.root, name),
    };
  }
  const bucket = `b-${randomUUID().slice(0, 18)}`;
  const staging = tempDir('s3-seed');
  writeFixture(staging, 'rclonelink', extra);
  const env = { ...rcloneBaseEnv(), ...s3RemoteEnv('SEED', services.s3) };
  await rcloneOk(['copy', ...caCertArgs(), staging, `SEED:${bucket}/prefix`], env);
  return {
    kind,
    settings: {
      backend: 's3',
      provider: 'Other',
      endpoint: services.s3.endpoint,
      path: `${bucket}/prefix`,
      access_key_id: services.s3.accessKeyId,
      secret_access_key: services.s3.secretAccessKey,
    },
    secrets: [services.s3.secretAccessKey],
  };
}
