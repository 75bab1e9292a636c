/**
 * `GET /repos` and `POST /browse`, what the web page reads, against a real Glacis with an
 * SFTP remote (symlinks stored there as `.rclonelink`, as `rclone sync --links` makes them).
 */
import { mkdirSync, statfsSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSE_MAX_ENTRIES, BrowseService } from '../../src/services/browse-service.js';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { makeRemote, tempDir, FIXTURE_MTIME, type TestRemote } from '../helpers/remotes.js';

let glacis: TestGlacis;
let remote: TestRemote;
let local: string;
let other: string;

beforeAll(async () => {
  remote = await makeRemote('sftp');
  local = tempDir('browse-repo');
  other = tempDir('browse-other');
  const plain = await makeRemote('local');
  glacis = await startGlacis({
    repos: {
      [local]: { ...remote.settings, freezable: true, freeze_age: 30, exclude: '*.tmp , *.bak' },
      [other]: { ...plain.settings, auto_freeze: true, auto_freeze_cron: '0 3 * * *', report_cron: '30 2 * * 1', freezable: true, high_watermark: 90, low_watermark: 75 },
    },
    worker: false,
  });
});
afterAll(async () => {
  await glacis?.stop();
});

describe('GET /repos', () => {
  it('lists each repository with its settings and its filesystem, and no secret', async () => {
    const { status, body } = await glacis.get('/repos');
    expect(status).toBe(200);
    expect(body.repos).toHaveLength(2);
    const [first, second] = body.repos;
    expect(first).toMatchObject({
      path: local,
      backend: 'sftp',
      freezable: true,
      freeze_age: 30,
      exclude: ['*.tmp', '*.bak'],
      auto_freeze: false,
      auto_freeze_cron: null,
      report_cron: null,
      high_watermark: null,
      low_watermark: null,
      frozen: { files: 0, bytes: 0 },
    });
    expect(second).toMatchObject({
      path: other,
      backend: 'local',
      freezable: true,
      auto_freeze: true,
      auto_freeze_cron: '0 3 * * *',
      report_cron: '30 2 * * 1',
      high_watermark: 90,
      low_watermark: 75,
    });
    // The filesystem as statfs counts it (free space moves between two calls: only its bounds are fixed).
    const fs = statfsSync(local);
    expect(first.filesystem.size).toBe(fs.blocks * fs.bsize);
    expect(first.filesystem.used).toBeGreaterThan(0);
    expect(first.filesystem.free).toBeGreaterThan(0);
    expect(first.filesystem.used + first.filesystem.free).toBeLessThanOrEqual(first.filesystem.size);
    const text = JSON.stringify(body);
    for (const secret of remote.secrets) expect(text).not.toContain(secret);
    expect(text).not.toContain(String(remote.settings.url));
  });

  it('puts the frozen files of each repository beside its disk, as the catalogue counts them', async () => {
    const frozenAt = new Date().toISOString();
    const file = (p: string, size: number) => ({ path: p, kind: 'file' as const, size, mtimeMs: FIXTURE_MTIME.getTime(), hash: null, frozenAt, taskId: 'web-test' });
    await glacis.runtime.store.catalogue.record(local, [file('a/one.dat', 1000), file('a/two.dat', 24), file('b.dat', 7)]);
    // Another repo's rows (and one whose path merely starts the same) are not counted here.
    await glacis.runtime.store.catalogue.record(`${local}-x`, [file('c.dat', 5)]);
    try {
      const { body } = await glacis.get('/repos');
      expect(body.repos.map((repo: { frozen: unknown }) => repo.frozen)).toEqual([{ files: 3, bytes: 1031 }, { files: 0, bytes: 0 }]);
      // A pull that brings one back removes it from the catalogue: no longer counted.
      await glacis.runtime.store.catalogue.remove(local, ['a/two.dat']);
      expect((await glacis.get('/repos')).body.repos[0].frozen).toEqual({ files: 2, bytes: 1007 });
    } finally {
      await glacis.runtime.store.catalogue.remove(local, ['a/one.dat', 'b.dat']);
      await glacis.runtime.store.catalogue.remove(`${local}-x`, ['c.dat']);
    }
  });
});

describe('POST /browse', () => {
  it('shows a level held only by the remote as frozen, directories first, symlinks by their local names', async () => {
    const { status, body } = await glacis.post('/browse', { path: local });
    expect(status).toBe(200);
    expect(body.path).toBe(local);
    expect(body.repo).toBe(local);
    expect(body.entries.map((e: { name: string }) => e.name)).toEqual(['big', 'links', 'subdir', 'file1.txt', 'file2.xml']);
    expect(body.entries[0]).toEqual({ name: 'big', is_dir: true, state: 'frozen', size: null, mtime: null, atime: null });
    expect(body.entries[3]).toEqual({ name: 'file1.txt', is_dir: false, state: 'frozen', size: 9, mtime: FIXTURE_MTIME.toISOString(), atime: null });
    const links = await glacis.post('/browse', { path: path.join(local, 'links') });
    expect(links.status).toBe(200);
    expect(links.body.entries.map((e: { name: string }) => e.name)).toEqual(['absolute.txt', 'dangling', 'relative.txt']);
    expect(links.body.entries.every((e: { state: string }) => e.state === 'frozen')).toBe(true);
  });

  it('merges the local directory: local when on both sides, local_only when the remote lacks it, with local times', async () => {
    const dir = path.join(local, 'subdir');
    mkdirSync(path.join(dir, 'subsubdir'), { recursive: true });
    mkdirSync(path.join(dir, 'new-results'), { recursive: true });
    writeFileSync(path.join(dir, 'subfile.txt'), 'sub file, edited\n');
    writeFileSync(path.join(dir, 'notes.md'), 'only here\n');
    const accessed = new Date('2025-06-07T08:09:10Z');
    utimesSync(path.join(dir, 'notes.md'), accessed, FIXTURE_MTIME);
    const { status, body } = await glacis.post('/browse', { path: `${dir}/` });
    expect(status).toBe(200);
    expect(body.path).toBe(dir);
    const byName = Object.fromEntries(body.entries.map((e: { name: string }) => [e.name, e]));
    expect(body.entries.map((e: { name: string }) => e.name)).toEqual(['new-results', 'subsubdir', 'subsubdir2', 'notes.md', 'subfile.txt']);
    expect(byName['subsubdir']).toMatchObject({ is_dir: true, state: 'local', size: null });
    expect(byName['subsubdir'].atime).toBe(statSync(path.join(dir, 'subsubdir')).atime.toISOString());
    expect(byName['subsubdir2']).toMatchObject({ is_dir: true, state: 'frozen', atime: null });
    expect(byName['new-results']).toMatchObject({ is_dir: true, state: 'local_only' });
    expect(byName['notes.md']).toEqual({
      name: 'notes.md',
      is_dir: false,
      state: 'local_only',
      size: 10,
      mtime: FIXTURE_MTIME.toISOString(),
      atime: accessed.toISOString(),
    });
    // Local: the local file's size, not the remote's.
    expect(byName['subfile.txt']).toMatchObject({ state: 'local', size: 17 });
  });

  it('never shows the staging directory pulls leave at the repository root', async () => {
    // Found when the web page showed `.glacis-staging` as unprotected local data after a pull.
    mkdirSync(path.join(local, '.glacis-staging'), { recursive: true });
    const { status, body } = await glacis.post('/browse', { path: local });
    expect(status).toBe(200);
    expect(body.entries.map((e: { name: string }) => e.name)).not.toContain('.glacis-staging');
    expect(body.entries.map((e: { name: string }) => e.name)).toContain('subdir');
  });

  it('holds at most its limit of entries, directories first, and says how many there are', async () => {
    const capped = new BrowseService(glacis.runtime.repos, glacis.runtime.rclone, glacis.runtime.store.catalogue, 8, 3);
    const result = await capped.browse(local);
    expect(result.entries.map((e) => e.name)).toEqual(['big', 'links', 'subdir']);
    expect(result.total).toBeGreaterThanOrEqual(5);
    expect(BROWSE_MAX_ENTRIES).toBe(5000);
    const { body } = await glacis.post('/browse', { path: local });
    expect(body.total).toBe(body.entries.length);
  });

  it('browses a directory that exists only locally', async () => {
    const dir = path.join(local, 'scratch');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'a.txt'), 'a');
    const { status, body } = await glacis.post('/browse', { path: dir });
    expect(status).toBe(200);
    expect(body.entries).toMatchObject([{ name: 'a.txt', state: 'local_only', size: 1 }]);
  });

  it('answers bad requests with a JSON 4xx saying why', async () => {
    const cases: [unknown, number, RegExp][] = [
      [{}, 400, /Missing "path"/],
      [{ path: 'relative' }, 400, /absolute/],
      [{ path: '/not/in/any/repo' }, 400, /repo/i],
      [{ path: path.join(local, 'file1.txt') }, 400, /not a directory/],
      [{ path: path.join(local, 'nowhere') }, 404, /neither locally nor on the remote/],
      [{ path: local, depth: 1 }, 400, /Unknown field/],
      ['[1]', 400, /JSON object/],
    ];
    for (const [body, status, message] of cases) {
      const answer = await glacis.post('/browse', body);
      expect(answer.status, JSON.stringify(body)).toBe(status);
      expect(answer.body.error, JSON.stringify(body)).toMatch(message);
    }
    // A local file is not a directory either, even when the remote lacks it.
    writeFileSync(path.join(local, 'only-here.txt'), 'x');
    expect((await glacis.post('/browse', { path: path.join(local, 'only-here.txt') })).status).toBe(400);
  });
});
