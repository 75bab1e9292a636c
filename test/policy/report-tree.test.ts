/**
 * The report accumulator fed the way the report task will feed it: a real local tree
 * walked with lstat, a real SFTP remote listed by rclone, both matched by the freeze's
 * StreamingMatcher. A file lost on the remote and a file changed locally show as
 * unprotected, by name; excluded files are only counted.
 */
import { lstatSync, readdirSync, readlinkSync, rmSync, statfsSync, utimesSync, lutimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SftpRemote } from '../../src/config/types.js';
import type { LocalFile } from '../../src/freeze/decision.js';
import { StreamingMatcher, WAITING } from '../../src/freeze/matcher.js';
import { compileExcludes } from '../../src/paths/exclude.js';
import { Rclone } from '../../src/rclone/index.js';
import { DAY_MS } from '../../src/policy/age.js';
import { filesystemFigures } from '../../src/policy/filesystem.js';
import { ReportAccumulator } from '../../src/policy/report.js';
import { requireBinary } from '../harness/process.js';
import { FIXTURE_FILES, FIXTURE_LINKS, FIXTURE_MTIME, makeRemote, tempDir, writeFixture } from '../helpers/remotes.js';

function* walk(root: string, dir = ''): Generator<string> {
  for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const relative = dir === '' ? entry.name : `${dir}/${entry.name}`;
    if (entry.isDirectory()) yield* walk(root, relative);
    else yield relative;
  }
}

function describeLocal(full: string): LocalFile {
  const stat = lstatSync(full);
  const kind = stat.isSymbolicLink() ? 'symlink' : 'file';
  return { kind, size: stat.size, mtimeMs: stat.mtimeMs, atimeMs: stat.atimeMs, ...(kind === 'symlink' ? { linkTarget: readlinkSync(full) } : {}) };
}

describe('a report of a real tree against a real SFTP remote', () => {
  it('counts by age, frees only what the remote holds identically, and names what it lost', async () => {
    const remote = await makeRemote('sftp');
    const [host, remotePath] = String(remote.settings.url).split(':') as [string, string];
    const spec: SftpRemote = { backend: 'sftp', host, path: remotePath, port: Number(remote.settings.port), user: String(remote.settings.user), password: String(remote.settings.password) };
    const local = tempDir('report-local');
    writeFixture(local, 'symlink');
    const now = Date.now();
    const old = new Date(now - 400 * DAY_MS);
    for (const name of Object.keys(FIXTURE_FILES)) utimesSync(path.join(local, name), old, FIXTURE_MTIME);
    for (const name of Object.keys(FIXTURE_LINKS)) lutimesSync(path.join(local, name), old, FIXTURE_MTIME);
    utimesSync(path.join(local, 'subdir/subsubdir/poutrelle.tsv'), new Date(now - DAY_MS), FIXTURE_MTIME); // read yesterday
    writeFileSync(path.join(local, 'file1.txt'), 'file one, edited since the backup\n');
    utimesSync(path.join(local, 'file1.txt'), old, new Date(now - 400 * DAY_MS));
    rmSync(path.join(remote.root!, 'subdir/subfile.txt')); // lost on the remote

    const report = new ReportAccumulator({ freezeAgeDays: 180, verify: 'size', nowMs: now });
    const isExcluded = compileExcludes(['*xml']);
    const matcher = new StreamingMatcher<LocalFile>(false);
    const feed = (key: string, file: LocalFile, match: ReturnType<typeof matcher.local>): void => {
      if (match === WAITING) throw new Error('the listing has ended: nothing waits');
      report.add({ path: key, local: file, remote: match, excluded: isExcluded(key) });
    };
    for await (const entry of new Rclone({ executable: requireBinary('rclone') }).list(spec, '', { recursive: true, filesOnly: true })) {
      const late = matcher.remote(entry);
      if (late) feed(late.key, late.local, late.remote);
    }
    for (const late of matcher.listingComplete()) feed(late.key, late.local, late.remote);
    for (const key of walk(local)) {
      const file = describeLocal(path.join(local, key));
      feed(key, file, matcher.local(key, file));
    }
    const result = report.result(filesystemFigures(statfsSync(local)));

    const count = Object.keys(FIXTURE_FILES).length + Object.keys(FIXTURE_LINKS).length;
    expect(result.local.files).toBe(count);
    expect(result.byAge.map((row) => row.files)).toEqual([1, 0, 0, 0, 0, count - 1]);
    expect(result.excluded.files).toBe(2); // file2.xml, poutrelle.xml
    expect(result.unprotected).toMatchObject({
      files: 2,
      byReason: { 'missing-remote': { files: 1 }, differs: { files: 1 } },
    });
    expect([...result.unprotected.paths].sort()).toEqual(['file1.txt', 'subdir/subfile.txt']);
    // Safe and cold: big/large.bin, subsubfile.txt and the three symlinks (held as .rclonelink).
    const linkBytes = Object.values(FIXTURE_LINKS).reduce((sum, target) => sum + target.length, 0);
    const safeCold = FIXTURE_FILES['big/large.bin']!.length + FIXTURE_FILES['subdir/subsubdir2/subsubfile.txt']!.length + linkBytes;
    expect(result.freeable.atFreezeAge).toEqual({ days: 180, files: 5, bytes: safeCold });
    expect(result.freeable.atBounds[0]).toEqual({ days: 7, files: 5, bytes: safeCold });
    expect(result.byAge[0]!.safe.files).toBe(1); // the file read yesterday is safe, just not cold
    expect(result.filesystem!.size).toBeGreaterThan(0);
  });
});
