/**
 * The API as barique (Baricadr's Python client) drives it: route names from
 * `GET /endpoints`, `<task_id>` filled into the URL, JSON bodies on GET requests too,
 * and exactly the bodies barique builds. Plus `/version` and `/zombie`.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_VERSION } from '../../src/runtime/index.js';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { FIXTURE_FILES, makeRemote, tempDir } from '../helpers/remotes.js';

interface Reply {
  status: number;
  contentType: string;
  body: any;
}

/**
 * One HTTP request the way python-requests makes it: `requests.get(url, json=body)`
 * sends the JSON body on a GET too (fetch refuses to), with a Content-Type and Length.
 */
function request(base: string, method: string, route: string, json?: unknown): Promise<Reply> {
  const payload = json === undefined ? undefined : Buffer.from(JSON.stringify(json));
  return new Promise((resolve, reject) => {
    const req = http.request(
      base + route,
      {
        method,
        headers: {
          'user-agent': 'python-requests/2.31.0',
          accept: '*/*',
          ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          try {
            body = JSON.parse(text);
          } catch {
            // left as text: the assertion shows it
          }
          resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** barique's `_format_url`: each `<name>` of the Flask route replaced by `body[name]`. */
function formatUrl(endpoints: Record<string, string>, name: string, body: Record<string, string> = {}): string {
  let route = endpoints[name];
  if (route === undefined) throw new Error(`no endpoint ${name}`);
  for (const [, group] of route.matchAll(/<(.*?)>/g)) route = route.replace(`<${group}>`, body[group!]!);
  return route;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let glacis: TestGlacis;
let local: string;

beforeAll(async () => {
  const remote = await makeRemote('local');
  local = tempDir('repo');
  // Mail composed and logged, not sent: a request with an `email` needs mail on.
  glacis = await startGlacis({ repos: { [local]: remote.settings }, env: { MAIL_SUPPRESS_SEND: 'True' } });
});
afterAll(async () => {
  await glacis?.stop();
});

describe('GET /version and GET /endpoints', () => {
  it('reports the package version', async () => {
    const version = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version as string;
    expect(PACKAGE_VERSION).toBe(version);
    const reply = await request(glacis.url, 'GET', '/version');
    expect(reply.status).toBe(200);
    expect(reply.contentType).toMatch(/^application\/json/);
    expect(reply.body).toEqual({ version });
  });

  it('reports GLACIS_VERSION when it is set', async () => {
    const other = await startGlacis({ repos: { [tempDir('repo')]: (await makeRemote('local')).settings }, worker: false, env: { GLACIS_VERSION: '9.8.7' } });
    try {
      expect((await request(other.url, 'GET', '/version')).body).toEqual({ version: '9.8.7' });
    } finally {
      await other.stop();
    }
  });

  it('maps exactly Baricadr\'s route names to Flask-style routes', async () => {
    const reply = await request(glacis.url, 'GET', '/endpoints');
    expect(reply.status).toBe(200);
    expect(reply.contentType).toMatch(/^application\/json/);
    expect(reply.body).toStrictEqual({
      version: '/version',
      endpoints: '/endpoints',
      pull: '/pull',
      freeze: '/freeze',
      list: '/list',
      tree: '/tree',
      task_list: '/tasks',
      task_show: '/tasks/status/<task_id>',
      task_log: '/tasks/log/<task_id>',
      task_remove: '/tasks/remove/<task_id>',
      zombie: '/zombie',
    });
  });

  it('answers the same to a GET that carries a JSON body, as barique sends', async () => {
    expect((await request(glacis.url, 'GET', '/version', {})).body).toEqual({ version: PACKAGE_VERSION });
    expect(Object.keys((await request(glacis.url, 'GET', '/endpoints', {})).body)).toHaveLength(11);
  });
});

describe('a barique session, request by request', () => {
  it('pull, show, log, list, tree, freeze, task list, zombie, remove: with barique\'s exact bodies', async () => {
    const endpoints = (await request(glacis.url, 'GET', '/endpoints')).body as Record<string, string>;
    const subdir = path.join(local, 'subdir');

    // FileClient.pull: {"path", "dry_run"}; the answer's "task" is the id.
    const pulled = await request(glacis.url, 'POST', formatUrl(endpoints, 'pull'), { path: subdir, dry_run: false });
    expect(pulled.status).toBe(200);
    expect(Object.keys(pulled.body)).toEqual(['task']);
    const pullId = pulled.body.task as string;
    expect(pullId).toMatch(UUID);

    // TaskClient.show: GET /tasks/status/<task_id> with {"task_id"} as JSON body.
    const showUrl = formatUrl(endpoints, 'task_show', { task_id: pullId });
    expect(showUrl).toBe(`/tasks/status/${pullId}`);
    let shown: Reply;
    for (const deadline = Date.now() + 30_000; ; ) {
      shown = await request(glacis.url, 'GET', showUrl, { task_id: pullId });
      expect(shown.status).toBe(200);
      if (['finished', 'failed', 'cancelled'].includes(shown.body.status)) break;
      if (Date.now() > deadline) throw new Error(`pull still ${shown.body.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(shown.body).toMatchObject({ task_id: pullId, type: 'pull', path: subdir, status: 'finished', error: null, dry_run: false, files: 4 });
    expect(readFileSync(path.join(local, 'subdir/subfile.txt'), 'utf8')).toBe(FIXTURE_FILES['subdir/subfile.txt']);

    // TaskClient.log
    const log = await request(glacis.url, 'GET', formatUrl(endpoints, 'task_log', { task_id: pullId }), { task_id: pullId });
    expect(log.status).toBe(200);
    expect(Object.keys(log.body)).toEqual(['logs']);
    expect(log.body.logs).toMatch(/pulled subdir\/subsubdir\/poutrelle\.tsv/);

    // FileClient.list: {"path", "missing", "max_depth", "from_root", "full"} (its defaults)
    const listed = await request(glacis.url, 'POST', formatUrl(endpoints, 'list'), { path: local, missing: false, max_depth: 1, from_root: false, full: false });
    expect(listed.status).toBe(200);
    expect(listed.contentType).toMatch(/^application\/json/);
    expect(sortByPath(listed.body)).toEqual([{ Path: 'file1.txt' }, { Path: 'file2.xml' }]);
    const listedMissing = await request(glacis.url, 'POST', formatUrl(endpoints, 'list'), { path: subdir, missing: true, max_depth: 0, from_root: true, full: false });
    expect(listedMissing.body).toEqual([]);

    // FileClient.tree: {"path", "max_depth"} (its default max_depth is 0)
    const tree = await request(glacis.url, 'POST', formatUrl(endpoints, 'tree'), { path: local, max_depth: 0 });
    expect(tree.status).toBe(200);
    const missingByPath = Object.fromEntries((tree.body as Array<{ Path: string; missing: boolean }>).map((e) => [e.Path, e.missing]));
    expect(missingByPath).toEqual({
      'file1.txt': true,
      'file2.xml': true,
      'subdir/subfile.txt': false,
      'subdir/subsubdir/poutrelle.tsv': false,
      'subdir/subsubdir2/subsubfile.txt': false,
      'subdir/subsubdir2/poutrelle.xml': false,
      'big/large.bin': true,
      'links/relative.txt': true,
      'links/absolute.txt': true,
      'links/dangling': true,
    });

    // FileClient.freeze: {"path", "force", "dry_run"}; this repo is not freezable: refused at
    // submission (400, which barique prints and exits 1 on), naming the repo.
    const frozen = await request(glacis.url, 'POST', formatUrl(endpoints, 'freeze'), { path: subdir, force: false, dry_run: false });
    expect(frozen.status).toBe(400);
    expect(frozen.body.error).toContain(`repository ${local} (freezable: false)`);
    expect(readFileSync(path.join(local, 'subdir/subfile.txt'), 'utf8')).toBe(FIXTURE_FILES['subdir/subfile.txt']);

    // TaskClient.list: GET /tasks with an empty JSON body.
    const tasks = await request(glacis.url, 'GET', formatUrl(endpoints, 'task_list'), {});
    expect(tasks.status).toBe(200);
    const ids = (tasks.body as Array<{ task_id: string }>).map((t) => t.task_id);
    expect(ids).toContain(pullId);

    // TaskClient.zombies: GET /zombie with an empty JSON body.
    expect(await cleanZombies(glacis, formatUrl(endpoints, 'zombie'), {})).toEqual([]);

    // TaskClient.remove
    const removed = await request(glacis.url, 'GET', formatUrl(endpoints, 'task_remove', { task_id: pullId }), { task_id: pullId });
    expect(removed.status).toBe(200);
    expect(removed.body).toStrictEqual({ info: `Task ${pullId} removed.`, error: '' });
    expect((await request(glacis.url, 'GET', showUrl, { task_id: pullId })).status).toBe(404);
  });

  it('pull with an email (barique adds it only when given) records it; Baricadr\'s flag forms are accepted', async () => {
    const reply = await request(glacis.url, 'POST', '/pull', { path: path.join(local, 'file2.xml'), dry_run: 'True', email: 'ada@example.org' });
    expect(reply.status).toBe(200);
    const task = await glacis.waitForTask(reply.body.task);
    expect(task).toMatchObject({ status: 'finished', dry_run: true, email: 'ada@example.org', files: 1 });
    // The flags pass (the refusal is about the repo, which is not freezable, not about them).
    const freeze = await request(glacis.url, 'POST', '/freeze', { path: path.join(local, 'file2.xml'), force: 1, dry_run: 'false' });
    expect(freeze.status).toBe(400);
    expect(freeze.body.error).toMatch(/^Freezing is disabled in repository /);
  });

  it('a 400 carries {"error"} as barique reads it: r.json()["error"]', async () => {
    const reply = await request(glacis.url, 'POST', '/pull', { dry_run: false });
    expect(reply.status).toBe(400);
    expect(reply.body).toStrictEqual({ error: 'Missing "path"' });
  });
});

describe('GET /zombie', () => {
  it('finds nothing on a healthy instance, with tasks waiting, running through and finished', async () => {
    const repo = tempDir('repo');
    const idle = await startGlacis({ repos: { [repo]: { ...(await makeRemote('local')).settings, freezable: true } }, worker: false });
    try {
      const waiting = (await idle.post('/pull', { path: path.join(repo, 'subdir') })).body.task as string;
      const blocked = (await idle.post('/freeze', { path: path.join(repo, 'subdir/subfile.txt') })).body.task as string;
      expect(await cleanZombies(idle)).toEqual([]);
      await idle.startWorker();
      await idle.waitForTask(waiting);
      await idle.waitForTask(blocked);
      expect(await cleanZombies(idle)).toEqual([]);
      expect((await idle.get(`/tasks/status/${waiting}`)).body.status).toBe('finished');
    } finally {
      await idle.stop();
    }
  });

  it('marks failed a task whose job was lost (Redis data gone) and frees its path', async () => {
    const repo = tempDir('repo');
    const idle = await startGlacis({ repos: { [repo]: (await makeRemote('local')).settings }, worker: false });
    try {
      const lost = (await idle.post('/pull', { path: path.join(repo, 'subdir') })).body.task as string;
      const fresh = (await idle.post('/pull', { path: path.join(repo, 'file1.txt') })).body.task as string;
      // Redis lost the job; the task is older than the grace period for queueing.
      await idle.runtime.queue.queue.remove(lost);
      const db = new Database(idle.env.DATABASE_URL!);
      try {
        db.prepare('UPDATE tasks SET created = ? WHERE id = ?').run('2020-01-01T00:00:00.000Z', lost);
      } finally {
        db.close();
      }
      // A young task is left alone even without its job: it may be being queued right now.
      await idle.runtime.queue.queue.remove(fresh);
      expect(await cleanZombies(idle, '/zombie', {})).toEqual([lost]);
      const task = (await idle.get(`/tasks/status/${lost}`)).body;
      expect(task).toMatchObject({ status: 'failed', error: 'terminated prematurely: no live job behind the task (job missing)' });
      expect(task.finished).not.toBeNull();
      expect((await idle.get(`/tasks/status/${fresh}`)).body.status).toBe('waiting');
      // Its path is free again: a new pull is a new task.
      const again = (await idle.post('/pull', { path: path.join(repo, 'subdir') })).body.task as string;
      expect(again).toMatch(UUID);
      expect(again).not.toBe(lost);
      expect(await cleanZombies(idle)).toEqual([]);
    } finally {
      await idle.stop();
    }
  });
});

/**
 * `GET /zombie` as Baricadr answers it, `{"task": id}`: the clean-up task, recorded as type
 * `zombie`; returns the ids its log says it marked failed (its `files` counts them).
 */
async function cleanZombies(glacis: TestGlacis, route = '/zombie', body?: unknown): Promise<string[]> {
  const reply = await request(glacis.url, 'GET', route, body);
  expect(reply.status).toBe(200);
  expect(Object.keys(reply.body)).toEqual(['task']);
  const task = await glacis.waitForTask(reply.body.task);
  expect(task).toMatchObject({ type: 'zombie', status: 'finished', error: null });
  const logs = (await glacis.get(`/tasks/log/${task.task_id}`)).body.logs as string;
  const ids = [...logs.matchAll(/marked failed: (\S+)/g)].map((m) => m[1]!);
  expect(task.files).toBe(ids.length);
  return ids;
}

function sortByPath<T extends { Path: string }>(entries: T[]): T[] {
  return [...entries].sort((a, b) => a.Path.localeCompare(b.Path));
}
