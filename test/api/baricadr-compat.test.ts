/**
 * Issue 13, "what breaks clients": each item as a test of its own, on the reference tree
 * (SFTP with a password, symlinks stored as `.rclonelink`). test/compat/ holds the same
 * against every recorded answer of Baricadr and the real barique client.
 */
import { existsSync, lstatSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { referenceSetup, type ReferenceSetup } from '../compat/reference.js';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { send } from '../helpers/raw-http.js';

const HTTP_DATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const EVERYTHING = [
  'file.txt',
  'file2.txt',
  'sub/x.txt',
  'subX/y.txt',
  'subdir/subfile.txt',
  'subdir/subsubdir/absolute_symlink.tsv',
  'subdir/subsubdir/poutrelle.tsv',
  'subdir/subsubdir/poutrelle.xml',
  'subdir/subsubdir/relative_symlink.tsv',
  'subdir/subsubdir/subsubfile.txt',
  'subdir/subsubdir2/poutrelle.xml',
  'subdir/subsubdir2/subsubfile.txt',
  'subdir/subsubdir2/subsubsubdir/subsubsubdir2/a file',
];

describe('Baricadr compatibility, item by item (issue 13)', () => {
  let glacis: TestGlacis;
  let ref: ReferenceSetup;
  let repo: string;
  const paths = (body: Array<{ Path: string }>): string[] => body.map((e) => e.Path).sort();

  beforeAll(async () => {
    ref = referenceSetup();
    repo = `${ref.root}/test_repo`;
    glacis = await startGlacis({ repos: ref.repos });
  });
  afterAll(async () => {
    await glacis?.stop();
  });

  it('1. null is "not given" for every optional field; max_depth null is everything, as Baricadr answers (barique file tree)', async () => {
    const [depthNull, flagsNull, treeNull] = await Promise.all([
      glacis.post('/list', { path: repo, max_depth: null }),
      glacis.post('/list', { path: repo, missing: null, full: null, from_root: null }),
      glacis.post('/tree', { path: repo, max_depth: null }),
    ]);
    expect(depthNull.status, JSON.stringify(depthNull.body)).toBe(200);
    expect(paths(depthNull.body)).toEqual(EVERYTHING);
    expect(flagsNull.body).toEqual([{ Path: 'file.txt' }, { Path: 'file2.txt' }].sort());
    expect(paths(treeNull.body)).toEqual(EVERYTHING);
    const pull = await glacis.post('/pull', { path: `${repo}/sub`, dry_run: null, email: null });
    expect(pull.status, JSON.stringify(pull.body)).toBe(200);
    expect(await glacis.waitForTask(pull.body.task)).toMatchObject({ status: 'finished', dry_run: false, email: null });
    const freeze = await glacis.post('/freeze', { path: `${repo}/sub`, dry_run: true, force: null, email: null });
    expect(freeze.status, JSON.stringify(freeze.body)).toBe(200);
    expect(await glacis.waitForTask(freeze.body.task)).toMatchObject({ status: 'finished', force: false });
  });

  it('2. symlinks are shown by their local name in /list and /tree; missing is about the symlink itself', async () => {
    const dir = `${repo}/subdir/subsubdir`;
    mkdirSync(dir, { recursive: true });
    // Present locally: a dangling symlink (lstat finds it; its target does not exist).
    symlinkSync('/nonexistent/target.tsv', `${dir}/absolute_symlink.tsv`);
    const [list, fromRoot, tree, one] = await Promise.all([
      glacis.post('/list', { path: dir }),
      glacis.post('/list', { path: dir, from_root: true, missing: true }),
      glacis.post('/tree', { path: dir }),
      glacis.post('/list', { path: `${dir}/relative_symlink.tsv` }),
    ]);
    expect(paths(list.body)).toEqual(['absolute_symlink.tsv', 'poutrelle.tsv', 'poutrelle.xml', 'relative_symlink.tsv', 'subsubfile.txt']);
    expect(paths(fromRoot.body)).toEqual(['subdir/subsubdir/poutrelle.tsv', 'subdir/subsubdir/poutrelle.xml', 'subdir/subsubdir/relative_symlink.tsv', 'subdir/subsubdir/subsubfile.txt']);
    expect(tree.body).toContainEqual({ Path: 'absolute_symlink.tsv', missing: false });
    expect(tree.body).toContainEqual({ Path: 'relative_symlink.tsv', missing: true });
    expect(one.body).toEqual([{ Path: 'relative_symlink.tsv' }]);
  });

  it('3. /list with full has MimeType, as rclone reports it', async () => {
    const [dir, file] = await Promise.all([
      glacis.post('/list', { path: `${repo}/subdir/subsubdir`, full: true }),
      glacis.post('/list', { path: `${repo}/file.txt`, full: true }),
    ]);
    const byPath = Object.fromEntries((dir.body as Array<{ Path: string }>).map((e) => [e.Path, e]));
    expect(byPath['poutrelle.tsv']).toMatchObject({ MimeType: 'text/tab-separated-values; charset=utf-8', Name: 'poutrelle.tsv', Size: 8, IsDir: false });
    expect(byPath['poutrelle.xml']).toMatchObject({ MimeType: 'text/xml; charset=utf-8' });
    // Name stays rclone's, as Baricadr shows it.
    expect(byPath['relative_symlink.tsv']).toMatchObject({ Name: 'relative_symlink.tsv.rclonelink', MimeType: 'application/octet-stream', Size: 13 });
    expect(file.body).toEqual([{ Path: 'file.txt', Name: 'file.txt', Size: 9, IsDir: false, ModTime: '2026-12-01T09:14:05Z', MimeType: 'text/plain; charset=utf-8' }]);
  });

  it('4. task dates are RFC 1123 in GMT on /tasks and /tasks/status, as Flask writes them', async () => {
    const { task } = (await glacis.post('/pull', { path: `${repo}/file2.txt`, dry_run: true })).body;
    const shown = await glacis.waitForTask(task);
    for (const key of ['created', 'started', 'finished']) expect(shown[key], key).toMatch(HTTP_DATE);
    const listed = ((await glacis.get('/tasks')).body as Array<Record<string, unknown>>).find((t) => t.task_id === task)!;
    for (const key of ['created', 'started', 'finished']) expect(listed[key], key).toMatch(HTTP_DATE);
    // Within a few minutes of now: the same instant, in another form.
    expect(Math.abs(Date.parse(listed.created as string) - Date.now())).toBeLessThan(300_000);
  });

  it('5. GET /zombie answers {"task": id}: a clean-up task whose result and log say what it marked failed', async () => {
    const reply = await glacis.get('/zombie');
    expect(reply.status).toBe(200);
    expect(Object.keys(reply.body)).toEqual(['task']);
    expect(reply.body.task).toMatch(UUID);
    const task = await glacis.waitForTask(reply.body.task);
    expect(task).toMatchObject({ type: 'zombie', status: 'finished', error: null, files: 0 });
    expect((await glacis.get(`/tasks/log/${reply.body.task}`)).body.logs).toMatch(/no zombie tasks/);
    expect(((await glacis.get('/tasks?type=zombie')).body as unknown[]).length).toBeGreaterThanOrEqual(1);
  });

  it('6. /list and /tree of a path the remote lacks answer 400 (barique exits 1 on it), not 404', async () => {
    for (const route of ['/list', '/tree']) {
      expect(await glacis.post(route, { path: `${repo}/no/such/thing` })).toStrictEqual({ status: 400, body: { error: `${repo}/no/such/thing does not exist on the remote` } });
    }
  });

  it('7. a freeze with nothing local is nothing to do: finished, files 0, the log says why; a path nowhere fails', async () => {
    expect(existsSync(`${repo}/subX`)).toBe(false);
    const nothing = await glacis.waitForTask((await glacis.post('/freeze', { path: `${repo}/subX` })).body.task);
    expect(nothing).toMatchObject({ status: 'finished', error: null, files: 0, bytes: 0 });
    expect((await glacis.get(`/tasks/log/${nothing.task_id}`)).body.logs).toContain(`nothing to freeze: ${repo}/subX does not exist locally`);
    const nowhere = await glacis.waitForTask((await glacis.post('/freeze', { path: `${repo}/no/such/thing` })).body.task);
    expect(nowhere).toMatchObject({ status: 'failed', error: `${repo}/no/such/thing exists neither locally nor on the remote` });
  });

  it('8. removing an unknown task answers Baricadr\'s keys: error and info', async () => {
    const reply = await send(glacis.url, { method: 'GET', route: '/tasks/remove/00000000-0000-0000-0000-000000000000' });
    expect(reply.status).toBe(404);
    expect(reply.body).toStrictEqual({ error: 'Task 00000000-0000-0000-0000-000000000000 not found. Maybe it is too old.', info: '' });
  });

  it('9. "1"/"yes" are true, "0"/"no" false (any case); other strings are still refused', async () => {
    const forms: Array<[unknown, boolean]> = [['1', true], ['YES', true], ['yes', true], ['0', false], ['No', false], [1, true], [0, false]];
    for (const [form, dry] of forms) {
      const reply = await glacis.post('/pull', { path: `${repo}/subX/y.txt`, dry_run: form });
      expect(reply.status, `${JSON.stringify(form)}: ${JSON.stringify(reply.body)}`).toBe(200);
      expect(await glacis.waitForTask(reply.body.task)).toMatchObject({ dry_run: dry, status: 'finished' });
    }
    const forced = await glacis.post('/freeze', { path: `${repo}/subX`, force: 'Yes', dry_run: '1' });
    expect(await glacis.waitForTask(forced.body.task)).toMatchObject({ force: true, dry_run: true });
    expect(await glacis.post('/pull', { path: `${repo}/subX`, dry_run: 'maybe' })).toStrictEqual({ status: 400, body: { error: 'Invalid "dry_run": expected true or false' } });
  });

  it('a freeze in a repo with freezable: false, and a path in no repo, are refused at submission naming the repo', async () => {
    const nofreeze = `${ref.root}/test_repo_nofreeze`;
    writeFileSync(`${nofreeze}/file.txt`, 'top file\n');
    expect(await glacis.post('/freeze', { path: `${nofreeze}/file.txt` })).toStrictEqual({
      status: 400,
      body: { error: `Freezing is disabled in repository ${nofreeze} (freezable: false); pull works there, freeze does not` },
    });
    expect(lstatSync(`${nofreeze}/file.txt`).isFile()).toBe(true);
    const outside = await glacis.post('/pull', { path: '/etc/hostname' });
    expect(outside.status).toBe(400);
    expect(outside.body.error).toContain('/etc/hostname');
  });
});
