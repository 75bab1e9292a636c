/**
 * Every error leaves the API as JSON `{"error": "…"}` with the right status: never an
 * HTML page, never a stack trace. And a request refused is a request with no effect.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RedisServer } from '../harness/redis.js';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { makeRemote, tempDir } from '../helpers/remotes.js';
import { send, type Reply as SentReply } from '../helpers/raw-http.js';

interface Reply extends Omit<SentReply, 'body'> {
  // The tests read fields of the JSON error directly.
  body: any;
}

/** A raw HTTP request: any method, headers and body bytes (fetch refuses bodies on GET). */
function request(
  base: string,
  method: string,
  route: string,
  options: { body?: string | Buffer; headers?: Record<string, string>; chunked?: boolean } = {},
): Promise<Reply> {
  return send(base, { method, route, ...options });
}

const json = (value: unknown): string => JSON.stringify(value);

/** The one error shape: JSON, exactly `{"error": message}`, no stack, no HTML. */
function expectError(reply: Reply, status: number, message: string | RegExp): void {
  expect({ status: reply.status, body: reply.body }, reply.text).toMatchObject({ status });
  expect(reply.contentType).toMatch(/^application\/json; charset=utf-8$/);
  // Removing an unknown task carries Baricadr's `info: ""` too (barique prints the object).
  expect(Object.keys(reply.body)).toEqual(reply.body.info === '' ? ['error', 'info'] : ['error']);
  if (typeof message === 'string') expect(reply.body.error).toBe(message);
  else expect(reply.body.error).toMatch(message);
  expect(reply.text).not.toMatch(/<html|<!DOCTYPE|\n\s+at |node_modules|\.ts:\d+/i);
}

let glacis: TestGlacis;
let local: string;
let outside: string;
const SUBMIT_ROUTES = ['/pull', '/freeze'] as const;
const PATH_ROUTES = ['/pull', '/freeze', '/list', '/tree'] as const;

beforeAll(async () => {
  const remote = await makeRemote('local');
  local = tempDir('repo');
  outside = tempDir('outside');
  writeFileSync(path.join(outside, 'secret.txt'), 'not in any repository\n');
  mkdirSync(path.join(local, 'subdir'));
  // A symlink inside the repo pointing outside every repository.
  symlinkSync(outside, path.join(local, 'subdir/escape'));
  symlinkSync(path.join(outside, 'secret.txt'), path.join(local, 'file1.txt'));
  // Nothing here needs a worker: every request below must be refused before any task exists.
  glacis = await startGlacis({ repos: { [local]: remote.settings }, worker: false });
});
afterAll(async () => {
  await glacis?.stop();
});

describe.each(PATH_ROUTES)('POST %s refuses bad paths with 400', (route) => {
  const post = (body: unknown) => request(glacis.url, 'POST', route, { body: json(body) });

  it('a missing path: Baricadr\'s exact message', async () => {
    expectError(await post({}), 400, 'Missing "path"');
    expectError(await post({ path: null }), 400, 'Missing "path"');
    expectError(await request(glacis.url, 'POST', route), 400, 'Missing "path"');
  });

  it('a path that is not a non-empty string', async () => {
    expectError(await post({ path: 42 }), 400, '"path" must be a string');
    expectError(await post({ path: [local] }), 400, '"path" must be a string');
    expectError(await post({ path: '' }), 400, '"path" must not be empty');
  });

  it('a relative path', async () => {
    expectError(await post({ path: 'subdir/file.txt' }), 400, '"path" must be absolute (got "subdir/file.txt")');
    expectError(await post({ path: './subdir' }), 400, '"path" must be absolute (got "./subdir")');
  });

  it('a path in no repository, directly or through ".."', async () => {
    expectError(await post({ path: '/etc/passwd' }), 400, '/etc/passwd is not in any configured repository');
    // The repo's own parent, reached lexically.
    expectError(await post({ path: `${local}/subdir/../../escaped` }), 400, `${path.dirname(local)}/escaped is not in any configured repository`);
    expectError(await post({ path: `${local}/../${path.basename(outside)}/secret.txt` }), 400, `${outside}/secret.txt is not in any configured repository`);
    // A sibling that merely shares the repo's name as a prefix is not inside it.
    expectError(await post({ path: `${local}-other/x` }), 400, `${local}-other/x is not in any configured repository`);
  });

  it('a path that leads outside its repository through a symlink', async () => {
    const message = (p: string): string => `${p} resolves outside its repository (through a symlink)`;
    expectError(await post({ path: `${local}/subdir/escape/secret.txt` }), 400, message(`${local}/subdir/escape/secret.txt`));
    expectError(await post({ path: `${local}/subdir/escape` }), 400, message(`${local}/subdir/escape`));
    // Missing components below the link do not hide it.
    expectError(await post({ path: `${local}/subdir/escape/not/yet/there` }), 400, message(`${local}/subdir/escape/not/yet/there`));
    expectError(await post({ path: `${local}/file1.txt` }), 400, message(`${local}/file1.txt`));
  });

  it('a NUL byte', async () => {
    expectError(await post({ path: `${local}/subdir\u0000/x` }), 400, '"path" must not contain NUL bytes');
  });

  it('a path longer than PATH_MAX', async () => {
    expectError(await post({ path: `${local}/${'a'.repeat(5000)}` }), 400, '"path" is longer than 4096 bytes');
  });

  it('an unknown field', async () => {
    expectError(await post({ path: `${local}/subdir`, recursive: true }), 400, 'Unknown field: "recursive"');
    expectError(await post({ path: `${local}/subdir`, a: 1, b: 2 }), 400, 'Unknown fields: "a", "b"');
  });

  it('a body that is JSON but not an object', async () => {
    expectError(await request(glacis.url, 'POST', route, { body: '[]' }), 400, 'The request body must be a JSON object');
  });
});

describe.each(SUBMIT_ROUTES)('POST %s refuses bad emails and flags with 400', (route) => {
  const post = (body: unknown) => request(glacis.url, 'POST', route, { body: json(body) });

  it('an invalid email, and a mail-header injection', async () => {
    expectError(await post({ path: `${local}/subdir`, email: 'not-an-email' }), 400, '"email" is not a valid address: "not-an-email"');
    expectError(await post({ path: `${local}/subdir`, email: 'a@b.org\r\nBcc: x@y.org' }), 400, '"email" is not a valid address: "a@b.org\\r\\nBcc: x@y.org"');
    expectError(await post({ path: `${local}/subdir`, email: 'a@b.org, x@y.org' }), 400, /^"email" is not a valid address/);
    expectError(await post({ path: `${local}/subdir`, email: 'Ada <a@b.org>' }), 400, /^"email" is not a valid address/);
    expectError(await post({ path: `${local}/subdir`, email: 5 }), 400, 'Invalid "email": expected an email address');
  });

  it('dry_run that is not a boolean', async () => {
    expectError(await post({ path: `${local}/subdir`, dry_run: 'maybe' }), 400, 'Invalid "dry_run": expected true or false');
    expectError(await post({ path: `${local}/subdir`, dry_run: 2 }), 400, 'Invalid "dry_run": expected true or false');
    // "1", "yes", "0", "no" and null (not given) are Baricadr's forms, accepted
    // (test/api/baricadr-compat.test.ts); other strings stay refused.
    expectError(await post({ path: `${local}/subdir`, dry_run: 'y' }), 400, 'Invalid "dry_run": expected true or false');
  });
});

describe('wrong types on the other routes', () => {
  it('/freeze force, /list flags and max_depth, /tree max_depth', async () => {
    const p = `${local}/subdir`;
    expectError(await request(glacis.url, 'POST', '/freeze', { body: json({ path: p, force: 'oui' }) }), 400, 'Invalid "force": expected true or false');
    expectError(await request(glacis.url, 'POST', '/pull', { body: json({ path: p, force: true }) }), 400, 'Unknown field: "force"');
    for (const field of ['missing', 'full', 'from_root']) {
      expectError(await request(glacis.url, 'POST', '/list', { body: json({ path: p, [field]: 'maybe' }) }), 400, `Invalid "${field}": expected true or false`);
    }
    const depthMessage = 'Invalid "max_depth": expected a whole number from 0 (everything) to 10000';
    for (const route of ['/list', '/tree']) {
      // '10001': a digit string above the bound passed before src/text/values.ts (five digits were enough).
      for (const bad of [-1, 1.5, '-1', 'abc', 10_001, '10001', '99999', true]) {
        expectError(await request(glacis.url, 'POST', route, { body: json({ path: p, max_depth: bad }) }), 400, depthMessage);
      }
    }
  });
});

describe('bodies the JSON parser refuses', () => {
  it('malformed JSON → 400, on POST and on a GET that carries a body', async () => {
    expectError(await request(glacis.url, 'POST', '/pull', { body: `{"path": "${local}"` }), 400, 'Malformed JSON in the request body');
    expectError(await request(glacis.url, 'POST', '/list', { body: "{'path': 'x'}" }), 400, 'Malformed JSON in the request body');
    // strict: a bare JSON scalar is not a request body
    expectError(await request(glacis.url, 'POST', '/pull', { body: '"/x"' }), 400, 'Malformed JSON in the request body');
    expectError(await request(glacis.url, 'GET', '/tasks', { body: '{' }), 400, 'Malformed JSON in the request body');
  });

  it('a body over 1 MB → 413', async () => {
    const big = json({ path: `${local}/subdir`, email: 'x'.repeat(1024 * 1024) });
    expectError(await request(glacis.url, 'POST', '/pull', { body: big }), 413, 'The request body is too large (limit 1 MB)');
    // Also when its length is not announced (chunked), the limit holds while reading.
    expectError(
      await request(glacis.url, 'POST', '/pull', { body: big, chunked: true }),
      413,
      'The request body is too large (limit 1 MB)',
    );
  });

  it('a charset other than UTF-8 → 415', async () => {
    expectError(
      await request(glacis.url, 'POST', '/pull', { body: json({ path: local }), headers: { 'content-type': 'application/json; charset=latin1' } }),
      415,
      'Unsupported request encoding; send UTF-8 JSON',
    );
  });
});

describe('unknown tasks and routes → 404', () => {
  const missingUuid = '0b7e3f4a-1c2d-4e5f-8a9b-0c1d2e3f4a5b';
  const garbage = encodeURIComponent('../../etc/passwd');

  it.each([
    ['GET', '/tasks/status/'],
    ['GET', '/tasks/log/'],
    ['GET', '/tasks/remove/'],
    ['DELETE', '/tasks/'],
  ])('%s %s<id>: a UUID that does not exist, and a garbage id', async (method, prefix) => {
    expectError(await request(glacis.url, method, prefix + missingUuid), 404, `Task ${missingUuid} not found. Maybe it is too old.`);
    expectError(await request(glacis.url, method, prefix + garbage), 404, 'Task ../../etc/passwd not found. Maybe it is too old.');
    expectError(await request(glacis.url, method, prefix + 'NOT-A-UUID'), 404, 'Task NOT-A-UUID not found. Maybe it is too old.');
    // barique's way: JSON body on the GET
    expectError(await request(glacis.url, method, prefix + missingUuid, { body: json({ task_id: missingUuid }) }), 404, `Task ${missingUuid} not found. Maybe it is too old.`);
  });

  it('an undecodable id → 400', async () => {
    expectError(await request(glacis.url, 'GET', '/tasks/status/%E0%A4%A'), 400, /^Failed to decode param/);
  });

  it('unknown routes and wrong methods', async () => {
    expectError(await request(glacis.url, 'GET', '/nope'), 404, 'No route for GET /nope');
    expectError(await request(glacis.url, 'GET', '/pull'), 404, 'No route for GET /pull');
    expectError(await request(glacis.url, 'PUT', '/tasks'), 404, 'No route for PUT /tasks');
    expectError(await request(glacis.url, 'POST', '/tasks/status/x', { body: '{}' }), 404, 'No route for POST /tasks/status/x');
    expectError(await request(glacis.url, 'GET', '/tasks/status'), 404, 'No route for GET /tasks/status');
  });
});

describe('a refused request has no effect', () => {
  it('no task was recorded by any of the requests above', async () => {
    const tasks = await request(glacis.url, 'GET', '/tasks');
    expect(tasks.status).toBe(200);
    expect(tasks.body).toEqual([]);
  });
});

describe('Redis unreachable', () => {
  let redis: RedisServer | undefined;
  let instance: TestGlacis | undefined;
  afterEach(async () => {
    await instance?.stop();
    await redis?.stop();
  });

  it('a submit answers 503 within 2 s, reads of the database still work, and it recovers without a restart', async () => {
    redis = await startRedis();
    const repo = tempDir('repo');
    // Freezable: a freeze in a repo that is not is refused (400) before Redis is asked.
    instance = await startGlacis({ repos: { [repo]: { ...(await makeRemote('local')).settings, freezable: true } }, redisUrl: redis.url, worker: false });
    const before = await instance.post('/pull', { path: `${repo}/subdir` });
    expect(before.status).toBe(200);

    await redis.stop();
    const started = performance.now();
    const refused = await request(instance.url, 'POST', '/pull', { body: json({ path: `${repo}/file1.txt` }) });
    const elapsed = performance.now() - started;
    expectError(refused, 503, 'Redis is unreachable; try again shortly');
    // A functional requirement (clients must not hang), with a generous bound.
    expect(elapsed).toBeLessThan(2000);
    expectError(await request(instance.url, 'POST', '/freeze', { body: json({ path: `${repo}/file1.txt` }) }), 503, 'Redis is unreachable; try again shortly');
    // Validation does not need Redis: a bad request is still a 400.
    expectError(await request(instance.url, 'POST', '/pull', { body: json({ path: 'relative' }) }), 400, '"path" must be absolute (got "relative")');

    // What needs only the database still answers.
    const tasks = await instance.get('/tasks');
    expect(tasks.status).toBe(200);
    expect(tasks.body.map((t: { task_id: string }) => t.task_id)).toEqual([before.body.task]);
    expect((await instance.get(`/tasks/status/${before.body.task}`)).body.status).toBe('waiting');
    expect((await instance.get(`/tasks/log/${before.body.task}`)).body).toEqual({ logs: '' });

    await redis.restart();
    let recovered: { status: number; body: any } | undefined;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
      recovered = await instance.post('/pull', { path: `${repo}/file1.txt` });
      if (recovered.status === 200) break;
      expect(recovered.status).toBe(503);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(recovered?.status).toBe(200);
    const id = recovered!.body.task as string;
    expect((await instance.get(`/tasks/status/${id}`)).body).toMatchObject({ status: 'waiting', path: `${repo}/file1.txt` });
    // Queued for real: a worker started now runs it.
    await instance.startWorker();
    expect((await instance.waitForTask(id)).status).toBe('finished');
  });
});
