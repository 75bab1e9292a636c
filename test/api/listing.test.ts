/**
 * `/list` and `/tree` against each kind of remote on real servers: depth, full entries,
 * paths from the repo root, missing-only, single files, symlinks as rclone names them.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { FIXTURE_FILES, FIXTURE_MTIME, REMOTE_KINDS, makeRemote, tempDir, type RemoteKind } from '../helpers/remotes.js';

/** Every file of the fixture, symlinks by their local names (the remote holds `x.rclonelink`), as Baricadr shows them. */
const ALL = [
  'big/large.bin',
  'file1.txt',
  'file2.xml',
  'links/absolute.txt',
  'links/dangling',
  'links/relative.txt',
  'subdir/subfile.txt',
  'subdir/subsubdir/poutrelle.tsv',
  'subdir/subsubdir2/poutrelle.xml',
  'subdir/subsubdir2/subsubfile.txt',
];
/** What exists locally in every repo below (see beforeAll). */
const PRESENT_LOCALLY = ['file1.txt', 'links/relative.txt', 'subdir/subsubdir/poutrelle.tsv'];

const paths = (entries: Array<{ Path: string }>): string[] => entries.map((e) => e.Path).sort();

// The three remotes are listed side by side: each call waits mostly on rclone starting up.
describe.concurrent.each(REMOTE_KINDS)('listing a %s remote', (kind: RemoteKind) => {
  let glacis: TestGlacis;
  let local: string;
  const at = (rel: string): string => (rel === '' ? local : path.join(local, rel));
  const list = async (body: Record<string, unknown>) => {
    const reply = await glacis.post('/list', body);
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    return reply.body as Array<Record<string, unknown> & { Path: string }>;
  };
  const tree = async (body: Record<string, unknown>) => {
    const reply = await glacis.post('/tree', body);
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    return reply.body as Array<{ Path: string; missing: boolean }>;
  };

  beforeAll(async () => {
    const remote = await makeRemote(kind);
    local = tempDir('repo');
    // Present locally: a file with other content (presence is what counts), a symlink, a deep file.
    writeFileSync(path.join(local, 'file1.txt'), 'changed locally');
    mkdirSync(path.join(local, 'links'));
    symlinkSync('../file1.txt', path.join(local, 'links/relative.txt'));
    mkdirSync(path.join(local, 'subdir/subsubdir'), { recursive: true });
    writeFileSync(path.join(local, 'subdir/subsubdir/poutrelle.tsv'), FIXTURE_FILES['subdir/subsubdir/poutrelle.tsv']!);
    // A directory that exists only locally.
    mkdirSync(path.join(local, 'local-only'));
    glacis = await startGlacis({ repos: { [local]: remote.settings }, worker: false });
  });
  afterAll(async () => {
    await glacis?.stop();
  });

  it('lists the top-level files only by default (max_depth 1); max_depth 2; max_depth 0 is everything', async () => {
    const [top, two, all] = await Promise.all([
      list({ path: local }),
      // Baricadr's clients may send numbers and flags as strings.
      list({ path: local, max_depth: '2', missing: 'False' }),
      list({ path: local, max_depth: 0 }),
    ]);
    expect(top.sort((a, b) => a.Path.localeCompare(b.Path))).toStrictEqual([{ Path: 'file1.txt' }, { Path: 'file2.xml' }]);
    expect(paths(two)).toEqual([
      'big/large.bin',
      'file1.txt',
      'file2.xml',
      'links/absolute.txt',
      'links/dangling',
      'links/relative.txt',
      'subdir/subfile.txt',
    ]);
    expect(paths(all)).toEqual(ALL);
  });

  it('dirs: directories too, as d1/ (rclone lsf\'s form); with missing, only those absent locally; full marks them IsDir', async () => {
    const [top, two, missing, full, sub] = await Promise.all([
      list({ path: local, dirs: true }),
      list({ path: local, dirs: 'true', max_depth: 2 }),
      list({ path: local, dirs: true, missing: true }),
      list({ path: local, dirs: true, full: true }),
      list({ path: at('subdir'), dirs: true, from_root: true }),
    ]);
    expect(paths(top)).toEqual(['big/', 'file1.txt', 'file2.xml', 'links/', 'subdir/']);
    expect(paths(two)).toEqual([
      'big/', 'big/large.bin', 'file1.txt', 'file2.xml', 'links/', 'links/absolute.txt', 'links/dangling',
      'links/relative.txt', 'subdir/', 'subdir/subfile.txt', 'subdir/subsubdir/', 'subdir/subsubdir2/',
    ]);
    // links/ and subdir/ exist locally; big/ does not.
    expect(paths(missing)).toEqual(['big/', 'file2.xml']);
    expect(full.filter((e) => e.IsDir).map((e) => e.Path).sort()).toEqual(['big/', 'links/', 'subdir/']);
    expect(paths(sub)).toEqual(['subdir/subfile.txt', 'subdir/subsubdir/', 'subdir/subsubdir2/']);
  });

  it('full: every entry has Path, Name, Size, ModTime, IsDir, MimeType', async () => {
    const entries = await list({ path: local, max_depth: 0, full: true });
    expect(paths(entries)).toEqual(ALL);
    for (const entry of entries) {
      expect(Object.keys(entry).sort(), entry.Path).toEqual(['IsDir', 'MimeType', 'ModTime', 'Name', 'Path', 'Size']);
      expect(entry.IsDir).toBe(false);
      expect(entry.MimeType).toEqual(expect.any(String));
      // Name stays rclone's (a symlink's keeps .rclonelink), as in Baricadr; Path is the local name.
      expect((entry.Name as string).replace(/\.rclonelink$/, '')).toBe(path.posix.basename(entry.Path));
      expect(Math.abs(Date.parse(entry.ModTime as string) - FIXTURE_MTIME.getTime()), `${entry.Path} ModTime ${String(entry.ModTime)}`).toBeLessThan(2000);
    }
    const byPath = Object.fromEntries(entries.map((e) => [e.Path, e]));
    expect(byPath['big/large.bin']!.Size).toBe(3 * 1024 * 1024);
    expect(byPath['subdir/subfile.txt']!.Size).toBe(Buffer.byteLength(FIXTURE_FILES['subdir/subfile.txt']!));
    // The symlink's .rclonelink holds its target.
    expect(byPath['links/relative.txt']!.Size).toBe('../file1.txt'.length);
  });

  it('from_root: paths relative to the repository root instead of the asked directory', async () => {
    const sub = ['subdir/subfile.txt', 'subdir/subsubdir/poutrelle.tsv', 'subdir/subsubdir2/poutrelle.xml', 'subdir/subsubdir2/subsubfile.txt'];
    const [fromRoot, relative, fromRootDepth1, unnormalised] = await Promise.all([
      list({ path: at('subdir'), max_depth: 0, from_root: true }),
      list({ path: at('subdir'), max_depth: 0 }),
      list({ path: at('subdir'), from_root: 'true' }),
      // An unnormalised spelling of subdir/subsubdir2.
      list({ path: `${local}/./subdir/subsubdir/../subsubdir2/`, from_root: true, full: true }),
    ]);
    expect(paths(fromRoot)).toEqual(sub);
    expect(paths(relative)).toEqual(sub.map((p) => p.slice('subdir/'.length)));
    expect(paths(fromRootDepth1)).toEqual(['subdir/subfile.txt']);
    expect(paths(unnormalised)).toEqual(['subdir/subsubdir2/poutrelle.xml', 'subdir/subsubdir2/subsubfile.txt']);
    expect(unnormalised.find((e) => e.Name === 'subsubfile.txt')).toMatchObject({ Path: 'subdir/subsubdir2/subsubfile.txt', IsDir: false, Size: 13 });
  });

  it('missing: only the files not present locally', async () => {
    const [all, top, links] = await Promise.all([
      list({ path: local, max_depth: 0, missing: true }),
      list({ path: local, missing: true }),
      list({ path: at('links'), missing: true, from_root: true }),
    ]);
    expect(paths(all)).toEqual(ALL.filter((p) => !PRESENT_LOCALLY.includes(p)));
    expect(paths(top)).toEqual(['file2.xml']);
    expect(paths(links)).toEqual(['links/absolute.txt', 'links/dangling']);
  });

  it('a single file lists that file, relative to its directory (or the root); a symlink under its local name', async () => {
    const results = await Promise.all([
      list({ path: at('subdir/subsubdir2/subsubfile.txt') }),
      list({ path: at('subdir/subsubdir2/subsubfile.txt'), from_root: true }),
      list({ path: at('file2.xml'), full: true }),
      list({ path: at('file1.txt'), missing: true }),
      list({ path: at('links/dangling') }),
      list({ path: at('links/absolute.txt'), from_root: true }),
      list({ path: at('links/relative.txt'), missing: true }),
    ]);
    expect(results).toEqual([
      [{ Path: 'subsubfile.txt' }],
      [{ Path: 'subdir/subsubdir2/subsubfile.txt' }],
      [{ Path: 'file2.xml', Name: 'file2.xml', Size: Buffer.byteLength(FIXTURE_FILES['file2.xml']!), IsDir: false, ModTime: expect.any(String), MimeType: expect.any(String) }],
      [],
      [{ Path: 'dangling' }],
      [{ Path: 'links/absolute.txt' }],
      [],
    ]);
  });

  // 400 as Baricadr: barique treats only 400 and 502 as errors (test/compat/barique.test.ts).
  it('a path the remote does not have → 400 JSON, for /list and /tree', async () => {
    const cases = [
      ['/list', 'no/such/thing'],
      ['/tree', 'subdir/nothing.txt'],
      ['/list', 'local-only'],
    ] as const;
    const replies = await Promise.all(cases.map(([route, rel]) => glacis.post(route, { path: at(rel) })));
    expect(replies).toEqual(cases.map(([, rel]) => ({ status: 400, body: { error: `${at(rel)} does not exist on the remote` } })));
  });

  it('/tree: every file as {Path, missing}, flagged by what exists locally', async () => {
    const [all, top, sub, link] = await Promise.all([
      tree({ path: local, max_depth: 0 }),
      tree({ path: local }),
      tree({ path: at('subdir'), max_depth: 2 }),
      tree({ path: at('links/dangling') }),
    ]);
    expect(all.every((e) => Object.keys(e).sort().join() === 'Path,missing')).toBe(true);
    expect(all).toHaveLength(ALL.length);
    expect(Object.fromEntries(all.map((e) => [e.Path, e.missing]))).toEqual(Object.fromEntries(ALL.map((p) => [p, !PRESENT_LOCALLY.includes(p)])));
    // Default depth 1, paths relative to the asked directory.
    expect(top.sort((a, b) => a.Path.localeCompare(b.Path))).toEqual([
      { Path: 'file1.txt', missing: false },
      { Path: 'file2.xml', missing: true },
    ]);
    expect(sub.sort((a, b) => a.Path.localeCompare(b.Path))).toEqual([
      { Path: 'subfile.txt', missing: true },
      { Path: 'subsubdir/poutrelle.tsv', missing: false },
      { Path: 'subsubdir2/poutrelle.xml', missing: true },
      { Path: 'subsubdir2/subsubfile.txt', missing: true },
    ]);
    expect(link).toEqual([{ Path: 'dangling', missing: true }]);
  });
});
