/**
 * Freeze, end to end on each kind of remote: only cold files that the remote holds
 * identically are deleted; everything else stays; the remote is never touched.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync, symlinkSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { mountTmpfs, unmountAll } from '../helpers/mounts.js';
import { FIXTURE_FILES, FIXTURE_LINKS, REMOTE_KINDS, makeRemote, tempDir, writeFixture, type RemoteKind } from '../helpers/remotes.js';

const running: TestGlacis[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => g.stop()));
});
afterAll(unmountAll);

const ALL = [...Object.keys(FIXTURE_FILES), ...Object.keys(FIXTURE_LINKS)].sort();

/** A local repo holding the same tree as the remote, every file last read in 2020 (cold). */
async function setup(kind: RemoteKind, repoExtra: Record<string, unknown> = {}, options: { local?: string; worker?: boolean } = {}) {
  const remote = await makeRemote(kind);
  const local = options.local ?? tempDir('freeze-repo');
  writeFixture(local, 'symlink');
  const glacis = await startGlacis({ repos: { [local]: { ...remote.settings, freezable: true, ...repoExtra } }, ...(options.worker === false ? { worker: false } : {}) });
  running.push(glacis);
  const freeze = async (rel: string, extra: Record<string, unknown> = {}) => {
    const { status, body } = await glacis.post('/freeze', { path: path.join(local, rel), ...extra });
    expect(status, JSON.stringify(body)).toBe(200);
    return glacis.waitForTask(body.task);
  };
  return { remote, local, glacis, freeze };
}

function tree(dir: string, base = dir): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? tree(path.join(dir, e.name), base) : [path.relative(base, path.join(dir, e.name))]))
    .sort();
}

/** Marks a local file as read now (warm) without reading it. */
function warm(file: string): void {
  const { mtime } = statSync(file);
  utimesSync(file, new Date(), mtime);
}

describe.each(REMOTE_KINDS)('freeze against a %s remote', (kind) => {
  it('freezes a cold directory: files and symlinks deleted, directories kept, the remote untouched', async () => {
    const { local, freeze, remote } = await setup(kind);
    const remoteBefore = remote.root ? tree(remote.root) : [];
    const task = await freeze('subdir');
    expect(task, JSON.stringify(task)).toMatchObject({ status: 'finished', files: 4 });
    expect(task.bytes).toBe(['subdir/subfile.txt', 'subdir/subsubdir/poutrelle.tsv', 'subdir/subsubdir2/subsubfile.txt', 'subdir/subsubdir2/poutrelle.xml'].reduce((n, f) => n + Buffer.byteLength(FIXTURE_FILES[f]!), 0));
    expect(tree(local)).toEqual(ALL.filter((f) => !f.startsWith('subdir/')));
    expect(lstatSync(path.join(local, 'subdir/subsubdir')).isDirectory()).toBe(true);
    if (remote.root) expect(tree(remote.root)).toEqual(remoteBefore);
  });

  it('freezes one file, and a symlink (dangling included) the remote holds', async () => {
    const { local, freeze } = await setup(kind);
    expect(await freeze('file1.txt')).toMatchObject({ status: 'finished', files: 1 });
    expect(await freeze('links')).toMatchObject({ status: 'finished', files: 3 });
    expect(tree(local)).toEqual(ALL.filter((f) => f !== 'file1.txt' && !f.startsWith('links/')));
  });

  it('keeps excluded, recently read, locally modified, resized and local-only files; force overrides only the age', async () => {
    const { local, freeze, glacis } = await setup(kind, { exclude: '*xml , *tsv', freeze_age: 30 });
    warm(path.join(local, 'subdir/subfile.txt'));
    writeFileSync(path.join(local, 'file1.txt'), 'FILE ONE\n'); // same size, newer mtime
    utimesSync(path.join(local, 'file1.txt'), new Date('2020-01-01'), new Date());
    writeFileSync(path.join(local, 'big/large.bin'), 'shorter now');
    utimesSync(path.join(local, 'big/large.bin'), new Date('2020-01-01'), new Date('2020-01-01'));
    writeFileSync(path.join(local, 'local-only.txt'), 'never backed up');
    utimesSync(path.join(local, 'local-only.txt'), new Date('2020-01-01'), new Date('2020-01-01'));
    symlinkSync('./also-nowhere', path.join(local, 'links/local-dangling'));

    const task = await freeze('');
    expect(task.status, JSON.stringify(task)).toBe('finished');
    const kept = tree(local);
    for (const f of ['file2.xml', 'subdir/subsubdir/poutrelle.tsv', 'subdir/subsubdir2/poutrelle.xml', 'subdir/subfile.txt', 'file1.txt', 'big/large.bin', 'local-only.txt', 'links/local-dangling']) {
      expect(kept, f).toContain(f);
    }
    expect(kept).not.toContain('subdir/subsubdir2/subsubfile.txt');
    const log = (await glacis.get(`/tasks/log/${task.task_id}`)).body.logs as string;
    expect(log).toMatch(/cold but not frozen \(missing on the remote\): local-only.txt/);
    expect(log).toMatch(/cold but not frozen \(changed locally since the last backup\): file1.txt/);
    expect(log).toMatch(/cold but not frozen \(the remote copy differs\): big\/large.bin/);

    const forced = await freeze('subdir/subfile.txt', { force: true });
    expect(forced).toMatchObject({ status: 'finished', files: 1 });
    expect(readFileSync(path.join(local, 'file1.txt'), 'utf8')).toBe('FILE ONE\n');
  });

  it('a dry run reports what it would freeze and deletes nothing', async () => {
    const { local, freeze, glacis } = await setup(kind);
    const task = await freeze('subdir', { dry_run: true });
    expect(task).toMatchObject({ status: 'finished', files: 4, dry_run: true });
    expect(tree(local)).toEqual(ALL);
    expect((await glacis.get(`/tasks/log/${task.task_id}`)).body.logs).toMatch(/would freeze subdir\/subfile.txt/);
  });
});

describe('freeze refusals', () => {
  it('refuses, at submission, a repository that is not freezable, deleting nothing', async () => {
    const { local, glacis } = await setup('local', { freezable: false });
    const refused = await glacis.post('/freeze', { path: local });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatch(/freezable: false/);
    expect(tree(local)).toEqual(ALL);
  });

  it('fails, deleting nothing, when the remote path is missing', async () => {
    const { local, freeze, remote } = await setup('local');
    rmSync(path.join(remote.root!, 'subdir'), { recursive: true });
    const task = await freeze('subdir');
    expect(task.status).toBe('failed');
    expect(tree(local)).toEqual(ALL);
  });

  it('fails, deleting nothing, when the remote refuses the credentials', async () => {
    const { local, freeze } = await setup('sftp', { password: 'not-the-password' });
    const task = await freeze('subdir', { force: true });
    expect(task.status).toBe('failed');
    expect(task.error).not.toMatch(/not-the-password/);
    expect(tree(local)).toEqual(ALL);
  }, 60_000);

  it('on a noatime filesystem, refuses freeze (pull still works) unless disable_atime_test is set', async () => {
    const { local, freeze, glacis } = await setup('local', {}, { local: mountTmpfs('noatime') });
    const task = await freeze('subdir');
    expect(task.status).toBe('failed');
    expect(task.error).toMatch(/access time.*noatime/);
    expect(tree(local)).toEqual(ALL);
    rmSync(path.join(local, 'file1.txt'));
    const pull = await glacis.post('/pull', { path: path.join(local, 'file1.txt') });
    expect((await glacis.waitForTask(pull.body.task)).status).toBe('finished');

    const allowed = await setup('local', { disable_atime_test: true }, { local: mountTmpfs('noatime') });
    expect(await allowed.freeze('subdir')).toMatchObject({ status: 'finished', files: 4 });
  });
});

describe('freeze and pull never act on the same files at once', () => {
  it('a freeze of a directory waits for a pull of a subdirectory to end', async () => {
    const { local, glacis } = await setup('local', {}, { worker: false });
    rmSync(path.join(local, 'subdir/subsubdir2'), { recursive: true });
    const pull = (await glacis.post('/pull', { path: path.join(local, 'subdir/subsubdir2') })).body.task;
    const freeze = (await glacis.post('/freeze', { path: path.join(local, 'subdir'), force: true })).body.task;
    expect(freeze).not.toBe(pull);
    await glacis.startWorker();
    const [pulled, frozen] = [await glacis.waitForTask(pull), await glacis.waitForTask(freeze)];
    expect(pulled.status).toBe('finished');
    expect(frozen.status).toBe('finished');
    expect(Date.parse(frozen.started)).toBeGreaterThanOrEqual(Date.parse(pulled.finished));
    // The freeze saw the pulled files (fresh atime, but forced): all of subdir is frozen.
    expect(tree(local).filter((f) => f.startsWith('subdir/'))).toEqual([]);
  });
});

describe.each(['local', 's3'] as const)('verify: hash against a %s remote', (kind) => {
  it('keeps a file whose content differs though size and mtime match; freezes the identical ones', async () => {
    const { local, freeze, glacis } = await setup(kind, { verify: 'hash' });
    const file = path.join(local, 'subdir/subfile.txt');
    writeFileSync(file, 'SUB FILE\n'); // same length as the remote's 'sub file\n'
    utimesSync(file, new Date('2020-01-01'), new Date('2020-01-02T03:04:05Z'));
    const task = await freeze('subdir');
    expect(task, JSON.stringify(task)).toMatchObject({ status: 'finished', files: 3, unprotected: 1 });
    expect(tree(local).filter((f) => f.startsWith('subdir/'))).toEqual(['subdir/subfile.txt']);
    expect(readFileSync(file, 'utf8')).toBe('SUB FILE\n');
    expect((await glacis.get(`/tasks/log/${task.task_id}`)).body.logs).toMatch(/cold but not frozen \(the remote copy differs\): subdir\/subfile.txt/);
  });
});
