/**
 * The direct walk of a `local` remote (src/rclone/local-walk.ts) against rclone's own
 * listing of the same directories: what freeze and report read of the remote must not
 * depend on who read it. Real trees, the real rclone (1.60), no fakes.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, lutimesSync, mkdirSync, openSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LocalRemote } from '../../src/config/types.js';
import { isAbortError, localNameOf, Rclone, RemoteNotFoundError, type ListedFiles, type RemoteEntry } from '../../src/rclone/index.js';
import { pathHash } from '../../src/text/path-hash.js';
import { requireBinary } from '../harness/process.js';
import { mountTmpfs, unmountAll } from '../helpers/mounts.js';
import { tempDir } from '../helpers/remotes.js';

const rclone = new Rclone({ executable: requireBinary('rclone') });
afterAll(() => unmountAll());

/** One file as the freeze decision reads it, whoever listed it. */
interface Seen {
  readonly hash: string;
  readonly size: number;
  readonly mtimeMs: number;
  readonly isLink: boolean;
}

/** rclone's listing, as the matcher keys it. */
async function byRclone(remote: LocalRemote, rel: string): Promise<{ seen: Seen[]; names: Map<string, string> }> {
  const seen: Seen[] = [];
  const names = new Map<string, string>();
  for await (const entry of rclone.list(remote, rel, { recursive: true, filesOnly: true })) {
    const key = localNameOf(entry.path);
    const hash = pathHash(key).join(':');
    names.set(hash, entry.path);
    seen.push({ hash, size: entry.size, mtimeMs: Date.parse(entry.modTime), isLink: key !== entry.path });
  }
  return { seen: sorted(seen), names };
}

/** listFiles' answer, batches and delegated entries alike; `batched` counts the files the walk itself read. */
async function byListFiles(remote: LocalRemote, rel: string, signal?: AbortSignal): Promise<{ seen: Seen[]; batched: number; delegated: RemoteEntry[] }> {
  const seen: Seen[] = [];
  const delegated: RemoteEntry[] = [];
  let batched = 0;
  for await (const item of rclone.listFiles(remote, rel, signal ? { signal } : {})) {
    if ('count' in item) {
      const files: ListedFiles = item;
      batched += files.count;
      for (let i = 0; i < files.count; i++) {
        seen.push({ hash: `${files.hashHi[i]}:${files.hashLo[i]}`, size: files.sizes[i]!, mtimeMs: files.mtimesMs[i]!, isLink: files.links[i] === 1 });
      }
    } else {
      delegated.push(item);
      const key = localNameOf(item.path);
      seen.push({ hash: pathHash(key).join(':'), size: item.size, mtimeMs: Date.parse(item.modTime), isLink: key !== item.path });
    }
  }
  return { seen: sorted(seen), batched, delegated };
}

function sorted(seen: Seen[]): Seen[] {
  return seen.sort((a, b) => (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0));
}

/** Expects both listings equal, naming the files (from rclone's names) where they differ. */
function expectSame(rcloneSide: { seen: Seen[]; names: Map<string, string> }, walked: Seen[]): void {
  const named = (list: Seen[]): (Seen & { path: string | undefined })[] => list.map((s) => ({ ...s, path: rcloneSide.names.get(s.hash) }));
  expect(named(walked)).toEqual(named(rcloneSide.seen));
}

/** A file with an mtime given in nanoseconds since the epoch (utimes takes seconds as a float: ns are set by `touch`). */
function fileAt(file: string, content: string, isoWithNs: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  execFileSync('touch', ['-m', '-d', isoWithNs, file]);
}

function tree(): string {
  const root = tempDir('local-walk');
  fileAt(path.join(root, 'top.dat'), 'top', '2020-01-01T00:00:00.123456789Z');
  fileAt(path.join(root, 'a/b/c/deep.dat'), 'deep down', '2021-06-15T12:34:56.999999999Z');
  fileAt(path.join(root, 'a/ms-exact.dat'), '', '2022-02-02T02:02:02.5Z');
  fileAt(path.join(root, 'a/whole-second.dat'), 'x', '2019-03-03T03:03:03Z');
  fileAt(path.join(root, 'a/almost-next-ms.dat'), 'y', '2023-07-07T07:07:07.123999999Z');
  fileAt(path.join(root, 'old/before-1970.dat'), 'z', '1969-12-31T23:59:59.500000001Z');
  fileAt(path.join(root, 'old/1900.dat'), 'zz', '1900-01-01T00:00:00.000000001Z');
  fileAt(path.join(root, 'names/with space & é 漢字 🧊 %*:?<>|"\\.dat'), 'unicode', '2020-05-05T05:05:05.05Z');
  fileAt(path.join(root, 'names/.hidden'), 'h', '2020-05-05T05:05:05Z');
  fileAt(path.join(root, 'names/trailing dot.'), 'd', '2020-05-05T05:05:05Z');
  fileAt(path.join(root, 'names/ leading space'), 's', '2020-05-05T05:05:05Z');
  // A regular file named as rclone names a symlink: both sides key it as `real`.
  fileAt(path.join(root, 'links/real.rclonelink'), 'not a link', '2020-01-01T00:00:00Z');
  symlinkSync('../top.dat', path.join(root, 'links/to-file'));
  symlinkSync('../a', path.join(root, 'links/to-dir'));
  symlinkSync('nowhere/at/all', path.join(root, 'links/dangling'));
  lutimesSync(path.join(root, 'links/to-file'), new Date('2018-08-08T08:08:08.888Z'), new Date('2018-08-08T08:08:08.888Z'));
  mkdirSync(path.join(root, 'empty/nested/deeper'), { recursive: true });
  execFileSync('mkfifo', [path.join(root, 'special-fifo')]);
  // A socket file (bound, then left behind by the process that bound it).
  execFileSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', path.join(root, 'special.sock')]);
  const big = openSync(path.join(root, 'sparse.bin'), 'w');
  closeSync(big);
  execFileSync('truncate', ['-s', '5G', path.join(root, 'sparse.bin')]);
  return root;
}

describe('listFiles of a local remote, read by Glacis, equals rclone lsjson', () => {
  it('sizes, mtimes to the millisecond Date.parse reads, symlinks as .rclonelink, special files left out, empty directories nothing', async () => {
    const root = tree();
    const remote: LocalRemote = { backend: 'local', path: root };
    const walked = await byListFiles(remote, '');
    const listed = await byRclone(remote, '');
    expectSame(listed, walked.seen);
    // Read by the walk itself, not handed to rclone: 16 files and links.
    expect(walked.delegated).toEqual([]);
    expect(walked.batched).toBe(listed.seen.length);
    expect(listed.seen.length).toBe(16);
    // And of a subdirectory, relative to it.
    expectSame(await byRclone(remote, 'a'), (await byListFiles(remote, 'a')).seen);
  });

  it('a directory holding a name rclone shows otherwise (control characters, ‛, ／, ␀, invalid UTF-8) is listed by rclone, with all below it', async () => {
    const root = tree();
    const odd = path.join(root, 'odd');
    fileAt(path.join(odd, 'new\nline'), 'nl', '2020-01-01T00:00:00.1Z');
    fileAt(path.join(odd, 'tab\tx'), 'tab', '2020-01-01T00:00:00.2Z');
    fileAt(path.join(odd, 'q‛x'), 'quote', '2020-01-01T00:00:00.3Z');
    fileAt(path.join(odd, 'a／b'), 'slash', '2020-01-01T00:00:00.4Z');
    fileAt(path.join(odd, 'n␀x'), 'null symbol', '2020-01-01T00:00:00.5Z');
    fileAt(path.join(odd, 'below/plain.dat'), 'plain', '2020-01-01T00:00:00.6Z');
    fileAt(path.join(root, 'clean/sibling.dat'), 'clean', '2020-01-01T00:00:00.7Z');
    // A name that is not UTF-8 at all (Node cannot even name it as a string).
    const bad = Buffer.concat([Buffer.from(`${root}/bad-utf8/x`), Buffer.from([0xff, 0xfe]), Buffer.from('.dat')]);
    mkdirSync(path.join(root, 'bad-utf8'));
    writeFileSync(bad, 'bytes');
    const remote: LocalRemote = { backend: 'local', path: root };
    const walked = await byListFiles(remote, '');
    const listed = await byRclone(remote, '');
    expectSame(listed, walked.seen);
    expect(walked.delegated.map((e) => e.path).sort()).toEqual([
      'bad-utf8/x\ufffd\ufffd.dat', 'odd/a／b', 'odd/below/plain.dat', 'odd/new␊line', 'odd/n␀x', 'odd/q‛‛x', 'odd/tab␉x',
    ]);
    expect(walked.batched).toBe(17);
  });

  it('a time rclone prints past year 9999 (Date.parse cannot read it) is left to rclone too', async () => {
    const fs = mountTmpfs('rw');
    fileAt(path.join(fs, 'future/far.dat'), 'far', '2020-01-01T00:00:00Z');
    utimesSync(path.join(fs, 'future/far.dat'), 253402300800, 253402300800 + 86_400 * 365 * 10);
    fileAt(path.join(fs, 'now.dat'), 'now', '2020-01-01T00:00:00Z');
    const remote: LocalRemote = { backend: 'local', path: fs };
    const walked = await byListFiles(remote, '');
    expectSame(await byRclone(remote, ''), walked.seen);
    expect(walked.delegated.map((e) => e.path)).toEqual(['future/far.dat']);
    expect(walked.batched).toBe(1);
  });

  it('a missing directory is RemoteNotFoundError (rclone says it), and hashes are always rclone\'s', async () => {
    const root = tree();
    const remote: LocalRemote = { backend: 'local', path: root };
    await expect(byListFiles(remote, 'no/such/dir')).rejects.toBeInstanceOf(RemoteNotFoundError);
    const hashed: (RemoteEntry | ListedFiles)[] = [];
    for await (const item of rclone.listFiles(remote, 'a', { hash: true, hashTypes: ['md5'] })) hashed.push(item);
    expect(hashed.every((item) => !('count' in item) && item.hashes?.md5 !== undefined)).toBe(true);
    expect(hashed).toHaveLength(4);
  });

  it('a directory it cannot read fails the listing, as it fails rclone\'s', async () => {
    const root = tempDir('local-walk-long');
    fileAt(path.join(root, 'short.dat'), 'x', '2020-01-01T00:00:00Z');
    // Deeper than PATH_MAX (4096): neither rclone nor Node can open the last directories.
    const name = 'x'.repeat(250);
    execFileSync('bash', ['-c', `cd "$1" && for i in $(seq 1 20); do mkdir "$2" && cd "$2"; done && echo deep > f`, '-', root, name]);
    const remote: LocalRemote = { backend: 'local', path: root };
    await expect(byRclone(remote, '')).rejects.toThrow();
    await expect(byListFiles(remote, '')).rejects.toThrow(/ENAMETOOLONG/);
  });

  it('stops when aborted, with an AbortError', async () => {
    const root = tempDir('local-walk-abort');
    for (let d = 0; d < 20; d++) {
      mkdirSync(path.join(root, `d${d}`));
      for (let f = 0; f < 200; f++) closeSync(openSync(path.join(root, `d${d}`, `f${f}`), 'w'));
    }
    const remote: LocalRemote = { backend: 'local', path: root };
    const controller = new AbortController();
    let seen = 0;
    const reading = (async () => {
      for await (const item of rclone.listFiles(remote, '', { signal: controller.signal })) {
        seen += 'count' in item ? item.count : 1;
        controller.abort();
      }
    })();
    const error = await reading.catch((e: unknown) => e);
    expect(isAbortError(error)).toBe(true);
    expect(seen).toBeGreaterThan(0);
    expect(seen).toBeLessThan(4000);
  });
});
