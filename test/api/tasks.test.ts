/**
 * Tasks through the API: listing and filtering, status and log, freeze (refused until
 * it is built), removing a waiting task and cancelling a running pull.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { FIXTURE_FILES, makeRemote, tempDir, type TestRemote } from '../helpers/remotes.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** RFC 1123 in GMT, as Baricadr (Flask) writes task dates. */
const HTTP_DATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

const running: TestGlacis[] = [];
const cleanups: Array<() => void> = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => g.stop()));
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function setup(options: { worker?: boolean; repo?: Record<string, unknown>; remote?: TestRemote } = {}) {
  const remote = options.remote ?? (await makeRemote('local'));
  const local = tempDir('repo');
  // Mail composed and logged, not sent: a request with an `email` needs mail on.
  const glacis = await startGlacis({ repos: { [local]: { ...remote.settings, ...options.repo } }, env: { MAIL_SUPPRESS_SEND: 'True' }, ...(options.worker === undefined ? {} : { worker: options.worker }) });
  running.push(glacis);
  const submit = async (route: '/pull' | '/freeze', rel: string, extra: Record<string, unknown> = {}): Promise<string> => {
    const { status, body } = await glacis.post(route, { path: rel === '' ? local : path.join(local, rel), ...extra });
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.task).toMatch(UUID);
    return body.task as string;
  };
  return { remote, local, glacis, submit };
}

const ids = (tasks: Array<{ task_id: string }>): string[] => tasks.map((t) => t.task_id);

describe('GET /tasks', () => {
  it('lists the tasks created, with Baricadr\'s fields, oldest first', async () => {
    const { local, glacis, submit } = await setup({ worker: false, repo: { freezable: true } });
    const a = await submit('/pull', 'subdir');
    const b = await submit('/freeze', 'subdir/subsubdir', { force: true });
    const c = await submit('/pull', 'subdir2');
    const d = await submit('/pull', 'file1.txt', { dry_run: true, email: 'ada@example.org' });
    const { status, body } = await glacis.get('/tasks');
    expect(status).toBe(200);
    expect(ids(body)).toEqual([a, b, c, d]);
    for (const task of body) {
      expect(Object.keys(task).slice(0, 7)).toEqual(['task_id', 'type', 'path', 'status', 'created', 'started', 'finished']);
      // Baricadr's form (Flask's): RFC 1123 in GMT.
      expect(task.created).toMatch(HTTP_DATE);
    }
    expect(body[1]).toStrictEqual({
      task_id: b,
      type: 'freeze',
      path: path.join(local, 'subdir/subsubdir'),
      status: 'waiting',
      created: body[1].created,
      started: null,
      finished: null,
      error: null,
      dry_run: false,
      force: true,
      origin: 'user',
      email: null,
      files: null,
      bytes: null,
      unprotected: null,
    });
    expect(body[3]).toMatchObject({ task_id: d, type: 'pull', path: path.join(local, 'file1.txt'), dry_run: true, email: 'ada@example.org' });
  });

  it('filters by status, type and path prefix (by segment), and pages with limit and offset', async () => {
    const { local, glacis, submit } = await setup({ worker: false, repo: { freezable: true } });
    const a = await submit('/pull', 'subdir');
    const b = await submit('/freeze', 'subdir/subsubdir');
    const c = await submit('/pull', 'subdir2');
    const d = await submit('/pull', 'file1.txt', { dry_run: true });
    const q = async (query: string): Promise<string[]> => {
      const { status, body } = await glacis.get(`/tasks?${query}`);
      expect(status, `${query}: ${JSON.stringify(body)}`).toBe(200);
      return ids(body);
    };
    expect(await q('type=freeze')).toEqual([b]);
    expect(await q('type=pull')).toEqual([a, c, d]);
    expect(await q('status=waiting')).toEqual([a, b, c, d]);
    expect(await q('status=finished')).toEqual([]);
    expect(await q(`path=${encodeURIComponent(path.join(local, 'subdir'))}`)).toEqual([a, b]);
    // Spelled as users spell it: a trailing slash, a dot segment.
    expect(await q(`path=${encodeURIComponent(`${local}/subdir/`)}`)).toEqual([a, b]);
    expect(await q(`path=${encodeURIComponent(`${local}/./subdir/subsubdir/..`)}`)).toEqual([a, b]);
    expect(await q('path=/')).toEqual([a, b, c, d]);
    expect(await q(`path=${encodeURIComponent(path.join(local, 'subdir/subsubdir'))}`)).toEqual([b]);
    expect(await q(`path=${encodeURIComponent(local)}`)).toEqual([a, b, c, d]);
    expect(await q(`path=${encodeURIComponent(local)}&type=pull&status=waiting`)).toEqual([a, c, d]);
    expect(await q('limit=2')).toEqual([a, b]);
    expect(await q('limit=2&offset=2')).toEqual([c, d]);
    expect(await q('offset=3')).toEqual([d]);
    expect(await q('limit=0')).toEqual([]);
    expect(await q('offset=10')).toEqual([]);

    // Once run: finished and failed are told apart.
    await glacis.startWorker();
    for (const id of [a, b, c, d]) await glacis.waitForTask(id);
    // b froze nothing (what a pulled is recent): nothing to do is a success.
    expect(await q('status=finished')).toEqual([a, b, d]);
    expect(await q('status=failed')).toEqual([c]);
    expect(await q('status=failed&type=pull')).toEqual([c]);
  });

  it('with 100,000 records: filters, path prefix and pages stay exact; an unfiltered list is capped at one page', async () => {
    const { local, glacis } = await setup({ worker: false });
    const db = new Database(glacis.env.DATABASE_URL!);
    const statuses = ['finished', 'failed', 'cancelled', 'waiting'];
    const insert = db.prepare(
      "INSERT INTO tasks (id, type, path, status, origin, dry_run, force, created) VALUES (?, ?, ?, ?, 'user', 0, 0, ?)",
    );
    const expected: string[] = [];
    db.transaction(() => {
      for (let i = 0; i < 100_000; i++) {
        const id = randomUUID();
        const type = i % 3 === 0 ? 'freeze' : 'pull';
        const taskPath = `${local}/d${i % 50}/f${i}`;
        const status = statuses[i % 4]!;
        insert.run(id, type, taskPath, status, new Date(1_700_000_000_000 + i).toISOString());
        if (type === 'freeze' && status === 'waiting' && taskPath.startsWith(`${local}/d7/`)) expected.push(id);
      }
    })();
    db.close();
    const q = async (query: string): Promise<string[]> => {
      const { status, body } = await glacis.get(`/tasks?${query}`);
      expect(status).toBe(200);
      return ids(body);
    };
    const dir = encodeURIComponent(`${local}/d7`);
    expect(expected.length).toBeGreaterThan(100);
    expect(await q(`status=waiting&type=freeze&path=${dir}`)).toEqual(expected);
    expect(await q(`status=waiting&type=freeze&path=${dir}&limit=10&offset=20`)).toEqual(expected.slice(20, 30));
    // d7 is not d70..d79: prefixes are by path segment.
    expect((await q(`path=${dir}&limit=10000`)).length).toBe(2000);
    expect(await q('limit=1&offset=99999')).toHaveLength(1);
    const all = (await glacis.get('/tasks')).body as unknown[];
    expect(Array.isArray(all)).toBe(true);
    expect(all).toHaveLength(10_000);
  });

  it('order=desc lists newest first (paging counts from the newest); id_prefix finds tasks by the start of their id', async () => {
    const { glacis, submit } = await setup({ worker: false });
    const made = [await submit('/pull', 'subdir'), await submit('/pull', 'subdir2'), await submit('/pull', 'file1.txt'), await submit('/pull', 'file2.xml')];
    const q = async (query: string): Promise<string[]> => {
      const { status, body } = await glacis.get(`/tasks?${query}`);
      expect(status, `${query}: ${JSON.stringify(body)}`).toBe(200);
      return ids(body);
    };
    expect(await q('order=desc')).toEqual([...made].reverse());
    expect(await q('order=asc')).toEqual(made);
    expect(await q('order=desc&limit=2')).toEqual([made[3], made[2]]);
    expect(await q('order=desc&limit=2&offset=2')).toEqual([made[1], made[0]]);
    for (const id of made) {
      expect(await q(`id_prefix=${id.slice(0, 8)}`)).toEqual(made.filter((other) => other.startsWith(id.slice(0, 8))));
      expect(await q(`id_prefix=${id}`)).toEqual([id]);
    }
    expect(await q('id_prefix=0123456789abcdef')).toEqual([]);
    // One character: every task whose id starts with it, as many as there are.
    expect((await q(`id_prefix=${made[0]!.slice(0, 1)}`)).length).toBe(made.filter((id) => id[0] === made[0]![0]).length);
  });

  it('refuses a bad filter with 400', async () => {
    const { glacis } = await setup({ worker: false });
    const cases: Array<[string, string]> = [
      ['status=bogus', 'Invalid "status": expected one of waiting, started, pulling, freezing, reporting, finished, failed, cancelled'],
      ['type=thaw', 'Invalid "type": expected one of pull, freeze, zombie, report'],
      ['path=relative/dir', 'Invalid "path": expected an absolute path'],
      ['limit=-1', 'Invalid "limit": expected a whole number'],
      ['limit=ten', 'Invalid "limit": expected a whole number'],
      ['offset=1.5', 'Invalid "offset": expected a whole number'],
      ['status=waiting&status=failed', 'Invalid "status": expected one of waiting, started, pulling, freezing, reporting, finished, failed, cancelled'],
      ['sort=created', 'Unknown field: "sort"'],
      ['order=newest', 'Invalid "order": expected asc (oldest first) or desc (newest first)'],
      ['id_prefix=ABC%25', 'Invalid "id_prefix": expected the start of a task id (hex digits and dashes)'],
      ['id_prefix=', 'Invalid "id_prefix": expected the start of a task id (hex digits and dashes)'],
    ];
    for (const [query, error] of cases) {
      const reply = await glacis.get(`/tasks?${query}`);
      expect(reply, query).toStrictEqual({ status: 400, body: { error } });
    }
  });
});

describe('GET /tasks/status/:id and /tasks/log/:id', () => {
  it('a finished pull: status with error null, its log; a failed pull: the error, in status and log', async () => {
    const { local, glacis, submit } = await setup();
    const ok = await submit('/pull', 'subdir/subsubdir2');
    const bad = await submit('/pull', 'no/such/dir');
    const done = await glacis.waitForTask(ok);
    expect(done).toMatchObject({ task_id: ok, status: 'finished', error: null, files: 2, bytes: 18 });
    expect(done.started).toMatch(HTTP_DATE);
    expect(done.finished).toMatch(HTTP_DATE);
    const failed = await glacis.waitForTask(bad);
    expect(failed).toMatchObject({ task_id: bad, status: 'failed', error: `${path.join(local, 'no/such/dir')} does not exist on the remote` });

    const log = await glacis.get(`/tasks/log/${ok}`);
    expect(log.status).toBe(200);
    expect(Object.keys(log.body)).toEqual(['logs']);
    expect(typeof log.body.logs).toBe('string');
    expect(log.body.logs).toMatch(/pulled subdir\/subsubdir2\/subsubfile\.txt/);
    expect(log.body.logs).toMatch(/finished: 2 files, 18 bytes/);
    const badLog = await glacis.get(`/tasks/log/${bad}`);
    expect(badLog.body.logs).toContain(`failed: ${path.join(local, 'no/such/dir')} does not exist on the remote`);
  });

  it('a waiting task: status waiting, an empty log', async () => {
    const { glacis, submit } = await setup({ worker: false });
    const id = await submit('/pull', 'subdir');
    expect((await glacis.get(`/tasks/status/${id}`)).body).toMatchObject({ task_id: id, status: 'waiting', started: null, finished: null, error: null });
    expect(await glacis.get(`/tasks/log/${id}`)).toStrictEqual({ status: 200, body: { logs: '' } });
  });
});

describe('what a request joined, what a task waits for', () => {
  it('a pull covered by an unfinished pull answers that task with joined: true; a new task\'s answer is Baricadr\'s {task} alone', async () => {
    const { local, glacis } = await setup({ worker: false });
    const first = await glacis.post('/pull', { path: path.join(local, 'subdir') });
    expect(Object.keys(first.body)).toEqual(['task']);
    expect(await glacis.post('/pull', { path: path.join(local, 'subdir/subfile.txt') })).toStrictEqual({ status: 200, body: { task: first.body.task, joined: true } });
    // Another kind (a dry run) is a task of its own, which waits for the first.
    const dry = await glacis.post('/pull', { path: path.join(local, 'subdir/subfile.txt'), dry_run: true });
    expect(Object.keys(dry.body)).toEqual(['task']);
    expect(dry.body.task).not.toBe(first.body.task);

    // What each waits for: the first, a free worker (nothing); the dry run, the first.
    expect((await glacis.get(`/tasks/status/${first.body.task}`)).body).toMatchObject({ status: 'waiting', waiting_for: [] });
    expect((await glacis.get(`/tasks/status/${dry.body.task}`)).body).toMatchObject({ status: 'waiting', waiting_for: [first.body.task] });
    await glacis.startWorker();
    const ended = await glacis.waitForTask(dry.body.task);
    expect(ended).not.toHaveProperty('waiting_for');
    expect((await glacis.get(`/tasks/status/${first.body.task}`)).body).not.toHaveProperty('waiting_for');
  });
});

describe('a task that has just ended', () => {
  it('is never joined: a request in the moment between its record ending and its lock being freed makes a task of its own', async () => {
    // The worker records a task finished, then frees its path: a pull asked for in between
    // joined the finished task and did nothing (test/workers/pull.test.ts "never replaces a
    // local file" pulled again right after a pull, and now and then got the first task back).
    const { local, glacis } = await setup({ worker: false });
    const first = (await glacis.post('/pull', { path: path.join(local, 'subdir') })).body.task as string;
    const { store, locks } = glacis.runtime;
    await store.transition(first, ['waiting'], { status: 'finished', finished: new Date().toISOString(), files: 0, bytes: 0 });
    // The lock is freed a moment later, as the worker does after recording the end.
    const freed = new Promise<void>((resolve) => setTimeout(() => void locks.release(first).then(() => resolve()), 300));
    const again = await glacis.post('/pull', { path: path.join(local, 'subdir') });
    await freed;
    expect(again.status).toBe(200);
    expect(again.body.task).not.toBe(first);
    expect(again.body).not.toHaveProperty('joined');
  });
});

describe('freeze through the API', () => {
  it('on a repository that is not freezable: refused at submission naming the repo, deletes nothing, records nothing', async () => {
    const { local, glacis, submit } = await setup();
    await glacis.waitForTask(await submit('/pull', 'subdir'));
    const refused = await glacis.post('/freeze', { path: path.join(local, 'subdir'), force: true });
    expect(refused).toStrictEqual({ status: 400, body: { error: `Freezing is disabled in repository ${local} (freezable: false); pull works there, freeze does not` } });
    expect((await glacis.get('/tasks?type=freeze')).body).toEqual([]);
    expect(readFileSync(path.join(local, 'subdir/subfile.txt'), 'utf8')).toBe(FIXTURE_FILES['subdir/subfile.txt']);
    expect(readFileSync(path.join(local, 'subdir/subsubdir2/poutrelle.xml'), 'utf8')).toBe(FIXTURE_FILES['subdir/subsubdir2/poutrelle.xml']);
  });

  it('on a freezable repository: deletes nothing the remote does not hold identically', async () => {
    const { local, glacis, submit } = await setup({ repo: { freezable: true } });
    // subdir holds a file changed locally since the backup and a file the remote never had.
    await glacis.waitForTask(await submit('/pull', 'subdir/subfile.txt'));
    writeFileSync(path.join(local, 'subdir/subfile.txt'), 'changed locally, longer than the remote copy');
    writeFileSync(path.join(local, 'subdir/local-only.txt'), 'only here');
    const before = listTree(local);
    expect(before).toEqual(['subdir/local-only.txt', 'subdir/subfile.txt']);
    for (const extra of [{ force: true }, { force: true, dry_run: true }, { force: false }]) {
      const task = await glacis.waitForTask(await submit('/freeze', 'subdir', extra));
      expect(task.type).toBe('freeze');
      expect(task, JSON.stringify(extra)).toMatchObject({ status: 'finished', error: null, files: 0, bytes: 0 });
    }
    expect(listTree(local)).toEqual(before);
    expect(readFileSync(path.join(local, 'subdir/subfile.txt'), 'utf8')).toBe('changed locally, longer than the remote copy');
    expect(readFileSync(path.join(local, 'subdir/local-only.txt'), 'utf8')).toBe('only here');
  });
});

describe('removing a waiting task', () => {
  it.each([
    ['GET /tasks/remove/:id', (g: TestGlacis, id: string) => fetch(`${g.url}/tasks/remove/${id}`)],
    ['DELETE /tasks/:id', (g: TestGlacis, id: string) => fetch(`${g.url}/tasks/${id}`, { method: 'DELETE' })],
  ])('%s: answers {info, error: ""}, forgets the task, its job and its log, and frees its path', async (_name, remove) => {
    const { local, glacis, submit } = await setup({ worker: false, repo: { freezable: true } });
    const id = await submit('/pull', 'subdir');
    // Same path again: the same task (the path is claimed by it).
    expect(await submit('/pull', 'subdir')).toBe(id);
    // A freeze below it waits for it.
    const blocked = await submit('/freeze', 'subdir/subfile.txt');
    expect(await glacis.runtime.locks.blockers(blocked)).toBe(1);

    const response = await remove(glacis, id);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toStrictEqual({ info: `Task ${id} removed.`, error: '' });

    expect((await glacis.get(`/tasks/status/${id}`)).status).toBe(404);
    expect((await glacis.get(`/tasks/log/${id}`)).status).toBe(404);
    expect(ids((await glacis.get('/tasks')).body)).toEqual([blocked]);
    expect(await glacis.runtime.queue.getJob(id)).toBeUndefined();
    // Its lock is gone: the freeze no longer waits, and a new pull is a new task.
    expect(await glacis.runtime.locks.blockers(blocked)).toBe(0);
    const again = await submit('/pull', 'subdir');
    expect(again).not.toBe(id);
    // Removing twice: the second time it is unknown.
    expect((await remove(glacis, id)).status).toBe(404);

    // The removed task never runs; the new one does.
    await glacis.startWorker();
    expect(await glacis.waitForTask(again)).toMatchObject({ status: 'finished', files: 4 });
    expect(readFileSync(path.join(local, 'subdir/subfile.txt'), 'utf8')).toBe(FIXTURE_FILES['subdir/subfile.txt']);
    expect((await glacis.get(`/tasks/status/${id}`)).status).toBe(404);
  });

  it('removing an ended task forgets it', async () => {
    const { glacis, submit } = await setup();
    const id = await submit('/pull', 'file1.txt');
    await glacis.waitForTask(id);
    expect((await glacis.get(`/tasks/remove/${id}`)).body).toStrictEqual({ info: `Task ${id} removed.`, error: '' });
    expect((await glacis.get(`/tasks/status/${id}`)).status).toBe(404);
    expect((await glacis.get('/tasks')).body).toEqual([]);
  });
});

describe('POST /tasks/cancel/:id and POST /tasks/retry/:id', () => {
  it('cancelling a waiting task keeps its record as cancelled, frees its path, and it never runs; retry submits it again', async () => {
    const { local, glacis, submit } = await setup({ worker: false, repo: { freezable: true } });
    const id = await submit('/pull', 'subdir', { dry_run: false, email: 'ada@example.org' });
    const blocked = await submit('/freeze', 'subdir/subfile.txt');
    expect(await glacis.runtime.locks.blockers(blocked)).toBe(1);

    expect(await glacis.post(`/tasks/cancel/${id}`, undefined)).toStrictEqual({ status: 200, body: { task: id, status: 'cancelled' } });
    const record = (await glacis.get(`/tasks/status/${id}`)).body;
    expect(record).toMatchObject({ task_id: id, status: 'cancelled', error: 'cancelled by request', email: 'ada@example.org' });
    expect(record.finished).toMatch(HTTP_DATE);
    expect(ids((await glacis.get('/tasks?status=cancelled')).body)).toEqual([id]);
    expect(await glacis.runtime.queue.getJob(id)).toBeUndefined();
    // Its path is free: the freeze below no longer waits, and a new pull is a new task.
    expect(await glacis.runtime.locks.blockers(blocked)).toBe(0);

    // Ended: it cannot be cancelled again, but, cancelled, it can be retried.
    const again = await glacis.post(`/tasks/cancel/${id}`, undefined);
    expect(again.status).toBe(409);
    expect(again.body).toStrictEqual({ error: `Task ${id} has already ended (cancelled): there is nothing to cancel` });
    const retried = await glacis.post(`/tasks/retry/${id}`, undefined);
    expect(retried.status).toBe(200);
    expect(retried.body.task).toMatch(UUID);
    expect(retried.body.task).not.toBe(id);
    expect((await glacis.get(`/tasks/status/${retried.body.task}`)).body).toMatchObject({
      type: 'pull', path: path.join(local, 'subdir'), status: 'waiting', dry_run: false, force: false, email: 'ada@example.org', origin: 'user',
    });
    // A waiting task cannot be retried: it has not failed.
    const notEnded = await glacis.post(`/tasks/retry/${retried.body.task}`, undefined);
    expect(notEnded).toStrictEqual({ status: 409, body: { error: `Task ${retried.body.task} is waiting: only a failed or cancelled task can be retried` } });

    await glacis.startWorker();
    expect(await glacis.waitForTask(retried.body.task)).toMatchObject({ status: 'finished', files: 4 });
    expect(['finished', 'failed']).toContain((await glacis.waitForTask(blocked)).status);
    // The cancelled one stayed cancelled and never ran: it has no log.
    expect((await glacis.get(`/tasks/status/${id}`)).body).toMatchObject({ status: 'cancelled', started: null });
    expect((await glacis.get(`/tasks/log/${id}`)).body).toStrictEqual({ logs: '' });
    const finished = await glacis.post(`/tasks/cancel/${retried.body.task}`, undefined);
    expect(finished.status).toBe(409);
    expect((await glacis.post(`/tasks/retry/${retried.body.task}`, undefined)).status).toBe(409);
  });

  it('answers 404 for an unknown task', async () => {
    const { glacis } = await setup({ worker: false });
    for (const route of ['/tasks/cancel/', '/tasks/retry/']) {
      for (const id of [randomUUID(), 'not-a-task-id']) {
        const reply = await glacis.post(route + id, undefined);
        expect(reply.status, route + id).toBe(404);
        expect(reply.body).toStrictEqual({ error: `Task ${id} not found. Maybe it is too old.` });
      }
    }
  });

  it('retrying a failed pull runs it again with the same settings: it succeeds once the remote has the path', async () => {
    const { remote, local, glacis, submit } = await setup();
    const id = await submit('/pull', 'later', { dry_run: true });
    expect(await glacis.waitForTask(id)).toMatchObject({ status: 'failed' });
    const remoteDir = remote.settings.path as string;
    mkdirSync(path.join(remoteDir, 'later'));
    writeFileSync(path.join(remoteDir, 'later/file.txt'), 'here now');
    cleanups.push(() => rmSync(path.join(remoteDir, 'later'), { recursive: true, force: true }));

    const retried = await glacis.post(`/tasks/retry/${id}`, undefined);
    expect(retried.status).toBe(200);
    const done = await glacis.waitForTask(retried.body.task);
    // A dry run still: it reports the file and copies nothing.
    expect(done).toMatchObject({ type: 'pull', path: path.join(local, 'later'), status: 'finished', dry_run: true, files: 1 });
    expect(existsSync(path.join(local, 'later/file.txt'))).toBe(false);
    // The failed task keeps its record.
    expect((await glacis.get(`/tasks/status/${id}`)).body).toMatchObject({ status: 'failed' });
  });
});

describe('cancelling a running pull', () => {
  // Large enough that the copy is still running when the test sees it; sparse, so it costs
  // no disk on the remote side.
  const SIZE = 512 * 1024 * 1024;

  it.each([
    ['removing it (GET /tasks/remove/:id)', 'remove'],
    ['cancelling it (POST /tasks/cancel/:id)', 'cancel'],
  ] as const)('%s stops rclone, leaves no partial file and no staging, and frees the path', async (_name, how) => {
    const remote = await makeRemote('local');
    const remoteDir = remote.settings.path as string;
    mkdirSync(path.join(remoteDir, 'huge'));
    const source = path.join(remoteDir, 'huge/big.bin');
    writeFileSync(source, 'glacis');
    truncateSync(source, SIZE);
    const { local, glacis, submit } = await setup({ remote });
    cleanups.push(() => {
      rmSync(path.join(remoteDir, 'huge'), { recursive: true, force: true });
      rmSync(path.join(local, 'huge'), { recursive: true, force: true });
    });
    const final = path.join(local, 'huge/big.bin');
    const staging = path.join(local, '.glacis-staging');

    const id = await submit('/pull', 'huge');
    const rcloneOf = (taskId: string): string[] =>
      execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
        .split('\n')
        .filter((line) => line.includes('rclone') && line.includes(path.join(staging, taskId)));
    // Running for real: status pulling and an rclone copying into this task's staging.
    for (const deadline = Date.now() + 20_000; ; ) {
      const { body } = await glacis.get(`/tasks/status/${id}`);
      expect(['waiting', 'started', 'pulling'], JSON.stringify(body)).toContain(body.status);
      if (body.status === 'pulling' && rcloneOf(id).length > 0) break;
      if (Date.now() > deadline) throw new Error(`pull ${id} never seen running (${body.status})`);
      await new Promise((r) => setTimeout(r, 10));
    }

    if (how === 'remove') {
      const removed = await glacis.get(`/tasks/remove/${id}`);
      expect(removed).toStrictEqual({ status: 200, body: { info: `Task ${id} removed.`, error: '' } });
      expect((await glacis.get(`/tasks/status/${id}`)).status).toBe(404);
    } else {
      expect(await glacis.post(`/tasks/cancel/${id}`, undefined)).toStrictEqual({ status: 200, body: { task: id, status: 'cancelled' } });
      // The record stays, cancelled; its log says so once the worker has stopped.
      expect((await glacis.get(`/tasks/status/${id}`)).body).toMatchObject({ status: 'cancelled', error: 'cancelled by request' });
    }
    // At once, the path is free: a new pull is a new task, never the removed one.
    const again = await submit('/pull', 'huge');
    expect(again).not.toBe(id);

    // Within ~10 s: rclone gone, staging empty.
    for (const deadline = Date.now() + 10_000; ; ) {
      const leftovers = existsSync(staging) ? readdirSync(staging) : [];
      if (rcloneOf(id).length === 0 && leftovers.length === 0) break;
      if (Date.now() > deadline) throw new Error(`after 10 s: rclone ${JSON.stringify(rcloneOf(id))}, staging ${JSON.stringify(leftovers)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    // Nothing partial under the final name: absent, or complete.
    if (existsSync(final)) {
      expect(statSync(final).size).toBe(SIZE);
      expect(await sha256(final)).toBe(await sha256(source));
    }

    // The new pull brings the file whole.
    expect(await glacis.waitForTask(again, 60_000)).toMatchObject({ status: 'finished', error: null });
    expect(statSync(final).size).toBe(SIZE);
    expect(await sha256(final)).toBe(await sha256(source));
    expect(existsSync(staging) ? readdirSync(staging) : []).toEqual([]);
    if (how === 'cancel') {
      expect((await glacis.get(`/tasks/status/${id}`)).body).toMatchObject({ status: 'cancelled' });
      expect((await glacis.get(`/tasks/log/${id}`)).body.logs).toMatch(/Z cancelled\n$/);
    }
  });
});

function sha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file, { highWaterMark: 4 * 1024 * 1024 })
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });
}

/** Every file under dir, relative, skipping Glacis's staging directory. */
function listTree(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => {
      if (e.name === '.glacis-staging') return [];
      const full = path.join(dir, e.name);
      return e.isDirectory() ? listTree(full, base) : [path.relative(base, full)];
    })
    .sort();
}
