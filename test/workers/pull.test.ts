/**
 * Pull, end to end: HTTP request → queue → worker → rclone → staging → final place,
 * against each kind of remote on real servers.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { FIXTURE_FILES, FIXTURE_LINKS, FIXTURE_MTIME, REMOTE_KINDS, makeRemote, tempDir, type RemoteKind } from '../helpers/remotes.js';

const running: TestGlacis[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => g.stop()));
});

async function setup(kind: RemoteKind, repoExtra: Record<string, unknown> = {}, options: { worker?: boolean } = {}) {
  const remote = await makeRemote(kind);
  const local = tempDir('repo');
  const glacis = await startGlacis({ repos: { [local]: { ...remote.settings, ...repoExtra } }, ...options });
  running.push(glacis);
  const pull = async (rel: string, extra: Record<string, unknown> = {}): Promise<string> => {
    const { status, body } = await glacis.post('/pull', { path: path.join(local, rel), ...extra });
    expect(status, JSON.stringify(body)).toBe(200);
    return body.task as string;
  };
  return { remote, local, glacis, pull };
}

/** Every entry below dir with its size and mtime: what "the remote was not modified" compares. */
function snapshot(dir: string): string[] {
  return tree(dir).map((f) => {
    const stat = lstatSync(path.join(dir, f));
    return `${f} ${stat.size} ${stat.mtimeMs}`;
  });
}

function sha(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Every file under dir, relative, skipping Glacis's own staging directory. */
function tree(dir: string, base = dir): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.name === '.glacis-staging') return [];
    return e.isDirectory() ? tree(full, base) : [path.relative(base, full)];
  }).sort();
}

describe.each(REMOTE_KINDS)('pull from a %s remote', (kind) => {
  it('pulls a directory: files byte-identical, symlinks kept as symlinks, atime now and mtime the remote one; the remote untouched', async () => {
    const { local, glacis, pull, remote } = await setup(kind);
    const remoteBefore = remote.root ? snapshot(remote.root) : undefined;
    const before = Date.now();
    const task = await glacis.waitForTask(await pull(''));
    expect(task, JSON.stringify(task)).toMatchObject({ status: 'finished', type: 'pull', error: null });
    const expectedFiles = [...Object.keys(FIXTURE_FILES), ...Object.keys(FIXTURE_LINKS)].sort();
    expect(tree(local)).toEqual(expectedFiles);
    for (const [name, content] of Object.entries(FIXTURE_FILES)) {
      expect(readFileSync(path.join(local, name)).equals(Buffer.from(content)), name).toBe(true);
      const stat = statSync(path.join(local, name));
      expect(Math.abs(stat.mtimeMs - FIXTURE_MTIME.getTime()), `${name} mtime`).toBeLessThan(2000);
      expect(stat.atimeMs, `${name} atime`).toBeGreaterThanOrEqual(before - 2000);
    }
    for (const [name, target] of Object.entries(FIXTURE_LINKS)) {
      expect(lstatSync(path.join(local, name)).isSymbolicLink(), name).toBe(true);
      expect(readlinkSync(path.join(local, name))).toBe(target);
    }
    expect(task.files).toBe(expectedFiles.length);
    expect(task.bytes).toBeGreaterThan(3 * 1024 * 1024);
    // Issue 15: an empty staging directory was left in every repo a pull had run in.
    expect(existsSync(path.join(local, '.glacis-staging'))).toBe(false);
    const log = await glacis.get(`/tasks/log/${task.task_id}`);
    expect(log.body.logs).toMatch(/pulled subdir\/subfile.txt/);
    if (remote.root) expect(snapshot(remote.root)).toEqual(remoteBefore);
  });

  it('pulls one file, and one symlink, and nothing else', async () => {
    const { local, glacis, pull } = await setup(kind);
    expect((await glacis.waitForTask(await pull('subdir/subsubdir/poutrelle.tsv'))).status).toBe('finished');
    expect((await glacis.waitForTask(await pull('links/relative.txt'))).status).toBe('finished');
    expect(tree(local)).toEqual(['links/relative.txt', 'subdir/subsubdir/poutrelle.tsv']);
    expect(readlinkSync(path.join(local, 'links/relative.txt'))).toBe('../file1.txt');
  });

  it('applies the repo excludes, to a directory and to a single file', async () => {
    const { local, glacis, pull } = await setup(kind, { exclude: '*xml , *tsv' });
    expect((await glacis.waitForTask(await pull('subdir'))).status).toBe('finished');
    expect(tree(local)).toEqual(['subdir/subfile.txt', 'subdir/subsubdir2/subsubfile.txt']);
    const single = await glacis.waitForTask(await pull('file2.xml'));
    expect(single).toMatchObject({ status: 'finished', files: 0 });
    expect(existsSync(path.join(local, 'file2.xml'))).toBe(false);
  });

  it('never replaces a local file: modified, symlink in place of a file, file in place of a symlink; restores deleted ones', async () => {
    const { local, glacis, pull } = await setup(kind);
    mkdirSync(path.join(local, 'subdir'), { recursive: true });
    mkdirSync(path.join(local, 'links'), { recursive: true });
    writeFileSync(path.join(local, 'file1.txt'), 'changed locally');
    writeFileSync(path.join(local, 'subdir/local-only.txt'), 'added locally');
    symlinkSync('elsewhere', path.join(local, 'subdir/subfile.txt'));
    writeFileSync(path.join(local, 'links/relative.txt'), 'a regular file where the remote has a symlink');
    symlinkSync('/somewhere/else', path.join(local, 'links/absolute.txt'));
    symlinkSync('./nowhere', path.join(local, 'links/dangling'));
    expect((await glacis.waitForTask(await pull(''))).status).toBe('finished');
    expect(readFileSync(path.join(local, 'file1.txt'), 'utf8')).toBe('changed locally');
    expect(readFileSync(path.join(local, 'subdir/local-only.txt'), 'utf8')).toBe('added locally');
    expect(readlinkSync(path.join(local, 'subdir/subfile.txt'))).toBe('elsewhere');
    expect(lstatSync(path.join(local, 'links/relative.txt')).isFile()).toBe(true);
    expect(readlinkSync(path.join(local, 'links/absolute.txt'))).toBe('/somewhere/else');
    expect(readlinkSync(path.join(local, 'links/dangling'))).toBe('./nowhere');
    // Pulled what was missing.
    expect(readFileSync(path.join(local, 'file2.xml'), 'utf8')).toBe(FIXTURE_FILES['file2.xml']);

    rmSync(path.join(local, 'file2.xml'));
    const again = await glacis.waitForTask(await pull(''));
    expect(again).toMatchObject({ status: 'finished', files: 1 });
    expect(readFileSync(path.join(local, 'file2.xml'), 'utf8')).toBe(FIXTURE_FILES['file2.xml']);
    expect(readFileSync(path.join(local, 'file1.txt'), 'utf8')).toBe('changed locally');
  });

  it('pulling twice copies nothing the second time', async () => {
    const { local, glacis, pull } = await setup(kind);
    await glacis.waitForTask(await pull('subdir'));
    const hashes = tree(local).map((f) => sha(path.join(local, f)));
    const second = await glacis.waitForTask(await pull('subdir'));
    expect(second).toMatchObject({ status: 'finished', files: 0, bytes: 0 });
    expect(tree(local).map((f) => sha(path.join(local, f)))).toEqual(hashes);
  });

  it('a dry run lists what it would pull and copies nothing', async () => {
    const { local, glacis, pull } = await setup(kind);
    const task = await glacis.waitForTask(await pull('subdir', { dry_run: true }));
    expect(task).toMatchObject({ status: 'finished', dry_run: true, files: 4 });
    expect(tree(local)).toEqual([]);
    const log = await glacis.get(`/tasks/log/${task.task_id}`);
    expect(log.body.logs).toMatch(/would pull subdir\/subsubdir\/poutrelle.tsv/);
  });

  it('fails with a clear error when the path does not exist on the remote', async () => {
    const { local, glacis, pull } = await setup(kind);
    const task = await glacis.waitForTask(await pull('no/such/thing'));
    expect(task.status).toBe('failed');
    expect(task.error).toBe(`${path.join(local, 'no/such/thing')} does not exist on the remote`);
  });
});

describe('pull locking (local remote; the decision is the same for every backend)', () => {
  it('the same path twice, or a subdirectory of a pending pull, gets the same task', async () => {
    const { glacis, pull, local } = await setup('local', {}, { worker: false });
    const parent = await pull('subdir');
    expect(await pull('subdir')).toBe(parent);
    expect(await pull('subdir/subsubdir')).toBe(parent);
    expect(await pull('subdir/subsubdir/poutrelle.tsv')).toBe(parent);
    const ids = await Promise.all(Array.from({ length: 50 }, () => pull('big')));
    expect(new Set(ids).size).toBe(1);
    await glacis.startWorker();
    expect((await glacis.waitForTask(parent)).status).toBe('finished');
    expect((await glacis.waitForTask(ids[0]!)).status).toBe('finished');
    expect(tree(local)).toContain('big/large.bin');
  });

  it('a parent of a pending pull is a new task that waits for it; both finish; nested paths all done', async () => {
    const { glacis, pull, local } = await setup('local', {}, { worker: false });
    const child = await pull('subdir/subsubdir2');
    const parent = await pull('subdir');
    const root = await pull('');
    expect(new Set([child, parent, root]).size).toBe(3);
    expect((await glacis.get(`/tasks/status/${parent}`)).body.status).toBe('waiting');
    await glacis.startWorker();
    const tasks = await Promise.all([child, parent, root].map((id) => glacis.waitForTask(id)));
    expect(tasks.map((t) => t.status)).toEqual(['finished', 'finished', 'finished']);
    // Order: the parent started only after the child finished, the root after both.
    expect(Date.parse(tasks[1].started)).toBeGreaterThanOrEqual(Date.parse(tasks[0].finished));
    expect(Date.parse(tasks[2].started)).toBeGreaterThanOrEqual(Date.parse(tasks[1].finished));
    expect(tree(local)).toHaveLength(Object.keys(FIXTURE_FILES).length + Object.keys(FIXTURE_LINKS).length);
  });
});

describe('chown', () => {
  it('gives pulled files and the directories it creates the configured owner', async () => {
    const { glacis, pull, local } = await setup('local', { chown_uid: 4321, chown_gid: 5432 });
    expect((await glacis.waitForTask(await pull('subdir/subsubdir'))).status).toBe('finished');
    for (const p of ['subdir', 'subdir/subsubdir', 'subdir/subsubdir/poutrelle.tsv']) {
      const stat = lstatSync(path.join(local, p));
      expect([stat.uid, stat.gid], p).toEqual([4321, 5432]);
    }
  });
});
