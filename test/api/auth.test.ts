/**
 * Token authentication against a real running Glacis: every route needs a token once
 * `API_TOKENS` (or `API_TOKENS_FILE`) is set, as a bearer token or as the password of HTTP
 * basic auth (what barique sends); `/metrics` also takes `METRICS_TOKEN`; `/health` stays
 * open. Plus the settings that load the tokens, and the promise that no token is ever logged.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireToken } from '../../src/api/auth.js';
import { ConfigError } from '../../src/config/errors.js';
import { loadSettings } from '../../src/config/settings.js';
import { PACKAGE_VERSION } from '../../src/runtime/index.js';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { makeRemote, tempDir } from '../helpers/remotes.js';

interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: any;
}

/** Raw HTTP, so that a GET can carry a JSON body as python-requests sends it, and any header can be set. */
function request(base: string, method: string, route: string, options: { headers?: Record<string, string>; json?: unknown } = {}): Promise<Reply> {
  const payload = options.json === undefined ? undefined : Buffer.from(JSON.stringify(options.json));
  return new Promise((resolve, reject) => {
    const req = http.request(
      base + route,
      {
        method,
        headers: {
          ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
          ...options.headers,
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
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/**
 * The header python-requests builds for `auth=(login, password)` (requests.auth._basic_auth_str):
 * both halves latin-1 encoded, joined by a colon, base64.
 */
const requestsBasicAuth = (login: string, password: string): Record<string, string> => ({
  authorization: `Basic ${Buffer.from(`${login}:${password}`, 'latin1').toString('base64')}`,
});

/** barique's `_api_call`: requests.get/post(url, json=body, auth=auth), python-requests' default headers. */
function barique(base: string, method: 'GET' | 'POST', route: string, body: unknown, auth?: { login: string; password: string }): Promise<Reply> {
  return request(base, method, route, {
    json: body,
    headers: {
      'user-agent': 'python-requests/2.31.0',
      accept: '*/*',
      'accept-encoding': 'gzip, deflate',
      connection: 'keep-alive',
      ...(auth ? requestsBasicAuth(auth.login, auth.password) : {}),
    },
  });
}

const newToken = (): string => randomBytes(24).toString('base64url');

/** Every route, the board's and the operator routes included, and one that exists nowhere: auth runs before routing. */
const ROUTES: ReadonlyArray<{ readonly method: string; readonly route: string; readonly json?: unknown }> = [
  { method: 'POST', route: '/pull', json: { path: '/nowhere' } },
  { method: 'POST', route: '/freeze', json: { path: '/nowhere' } },
  { method: 'POST', route: '/list', json: { path: '/nowhere' } },
  { method: 'POST', route: '/tree', json: { path: '/nowhere' } },
  { method: 'GET', route: '/tasks' },
  { method: 'GET', route: '/version' },
  { method: 'GET', route: '/endpoints' },
  { method: 'GET', route: '/tasks/status/x' },
  { method: 'GET', route: '/tasks/log/x' },
  { method: 'GET', route: '/tasks/remove/x' },
  { method: 'DELETE', route: '/tasks/x' },
  { method: 'GET', route: '/zombie' },
  { method: 'GET', route: '/metrics' },
  { method: 'GET', route: '/admin/queues' },
  { method: 'GET', route: '/admin/queues/api/queues' },
  { method: 'GET', route: '/ready' },
  { method: 'GET', route: '/repos' },
  { method: 'POST', route: '/browse', json: { path: '/x' } },
  { method: 'GET', route: '/no-such-route' },
];

function expect401(reply: Reply, message: RegExp): void {
  expect(reply.status).toBe(401);
  expect(reply.headers['content-type']).toMatch(/^application\/json/);
  expect(Object.keys(reply.body)).toEqual(['error']);
  expect(reply.body.error).toMatch(message);
  // What makes a browser prompt for basic auth on the board.
  expect(reply.headers['www-authenticate']).toMatch(/^Basic realm="Glacis"/);
}

const apiToken = newToken();
const secondApiToken = newToken();
const metricsToken = newToken();
/** Well-formed, and never configured. */
const wrongToken = newToken();

let glacis: TestGlacis;
let local: string;

beforeAll(async () => {
  const remote = await makeRemote('local');
  local = tempDir('repo');
  glacis = await startGlacis({
    repos: { [local]: remote.settings },
    env: { API_TOKENS: ` ${apiToken} , ${secondApiToken}`, METRICS_TOKEN: metricsToken },
  });
});
afterAll(async () => {
  await glacis?.stop();
});

describe('with API_TOKENS set', () => {
  it.each(ROUTES)('$method $route without a token: 401 JSON with a basic challenge', async ({ method, route, json }) => {
    expect401(await request(glacis.url, method, route, { json }), /^Authentication required/);
  });

  it.each(ROUTES)('$method $route with a wrong bearer token: 401, the token not echoed', async ({ method, route, json }) => {
    const reply = await request(glacis.url, method, route, { json, headers: bearer(wrongToken) });
    expect401(reply, /^Invalid token$/);
    expect(JSON.stringify(reply)).not.toContain(wrongToken);
  });

  it('rejects an API token presented as the user name, a wrong basic password, another scheme, garbage', async () => {
    const attempts: Record<string, string>[] = [
      requestsBasicAuth(apiToken, ''),
      requestsBasicAuth(apiToken, wrongToken),
      { authorization: `Basic ${Buffer.from(apiToken).toString('base64')}` },
      { authorization: `Token ${apiToken}` },
      { authorization: apiToken },
      { authorization: 'Bearer' },
      { authorization: `Bearer ${apiToken}x` },
      { authorization: `Bearer ${apiToken.slice(0, -1)}` },
    ];
    for (const headers of attempts) expect401(await request(glacis.url, 'GET', '/version', { headers }), /^Invalid token$/);
  });

  it('with the right bearer token, the routes answer as usual', async () => {
    const headers = bearer(apiToken);
    expect(await request(glacis.url, 'GET', '/version', { headers })).toMatchObject({ status: 200, body: { version: PACKAGE_VERSION } });
    expect((await request(glacis.url, 'GET', '/endpoints', { headers })).body).toMatchObject({ pull: '/pull', zombie: '/zombie' });
    expect(await request(glacis.url, 'GET', '/zombie', { headers })).toMatchObject({ status: 200, body: { task: expect.stringMatching(/^[0-9a-f-]{36}$/) } });
    expect((await request(glacis.url, 'GET', '/ready', { headers })).status).toBe(200);
    const board = await request(glacis.url, 'GET', '/admin/queues', { headers: requestsBasicAuth('browser', apiToken) });
    expect(board.status).toBe(200);
    expect(board.headers['content-type']).toMatch(/^text\/html/);
    const listed = await request(glacis.url, 'POST', '/list', { headers, json: { path: local } });
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual(expect.arrayContaining([{ Path: 'file1.txt' }]));
    // Past authentication, the usual errors: bad input, unknown task, unknown route.
    expect(await request(glacis.url, 'POST', '/pull', { headers, json: {} })).toMatchObject({ status: 400, body: { error: 'Missing "path"' } });
    expect((await request(glacis.url, 'GET', '/tasks/status/x', { headers })).status).toBe(404);
    expect(await request(glacis.url, 'GET', '/no-such-route', { headers })).toMatchObject({ status: 404, body: { error: 'No route for GET /no-such-route' } });
    // The scheme name is case-insensitive (RFC 7235); every configured token works.
    expect((await request(glacis.url, 'GET', '/tasks', { headers: { authorization: `bearer ${secondApiToken}` } })).status).toBe(200);
  });

  it('accepts HTTP basic auth with any user and the token as password', async () => {
    for (const login of ['barique', 'any one', '']) {
      const reply = await request(glacis.url, 'GET', '/tasks', { headers: requestsBasicAuth(login, apiToken) });
      expect(reply.status).toBe(200);
      expect(Array.isArray(reply.body)).toBe(true);
    }
  });

  it('takes METRICS_TOKEN on /metrics only; the API tokens work there too', async () => {
    for (const token of [metricsToken, apiToken]) {
      const reply = await request(glacis.url, 'GET', '/metrics', { headers: bearer(token) });
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toMatch(/^text\/plain/);
    }
    expect((await request(glacis.url, 'GET', '/metrics', { headers: requestsBasicAuth('prometheus', metricsToken) })).status).toBe(200);
    for (const { method, route, json } of ROUTES.filter((r) => r.route !== '/metrics')) {
      expect401(await request(glacis.url, method, route, { json, headers: bearer(metricsToken) }), /^Invalid token$/);
    }
  });

  it('leaves /health open for load balancers', async () => {
    const reply = await request(glacis.url, 'GET', '/health');
    expect(reply.status).toBe(200);
    expect(reply.headers['www-authenticate']).toBeUndefined();
  });

  it('leaves the web page at / open (it asks for the token itself), and nothing below it', async () => {
    const page = await request(glacis.url, 'GET', '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect401(await request(glacis.url, 'GET', '/index.html'), /^Authentication required/);
  });

  it('sends no basic challenge to a script that says so (X-Requested-With): the browser would prompt over the page', async () => {
    for (const headers of [{ 'x-requested-with': 'glacis-web' }, { 'x-requested-with': 'glacis-web', ...bearer(wrongToken) }]) {
      const reply = await request(glacis.url, 'GET', '/repos', { headers });
      expect(reply.status).toBe(401);
      expect(reply.body).toHaveProperty('error');
      expect(reply.headers['www-authenticate']).toBeUndefined();
    }
    expect((await request(glacis.url, 'GET', '/repos', { headers: { 'x-requested-with': 'glacis-web', ...bearer(apiToken) } })).status).toBe(200);
  });

  it('serves a barique session (python-requests, auth=(login, password), JSON bodies on GET)', async () => {
    const auth = { login: 'ada', password: apiToken };
    // Without login and password barique sends no auth at all, and cannot even read the endpoints.
    expect401(await barique(glacis.url, 'GET', '/endpoints', undefined), /^Authentication required/);

    const endpoints = (await barique(glacis.url, 'GET', '/endpoints', undefined, auth)).body as Record<string, string>;
    expect(endpoints.task_show).toBe('/tasks/status/<task_id>');
    const pulled = await barique(glacis.url, 'POST', endpoints.pull!, { path: path.join(local, 'file1.txt'), dry_run: false }, auth);
    expect(pulled.status).toBe(200);
    const taskId = pulled.body.task as string;
    let shown: Reply;
    for (const deadline = Date.now() + 30_000; ; ) {
      shown = await barique(glacis.url, 'GET', endpoints.task_show!.replace('<task_id>', taskId), { task_id: taskId }, auth);
      expect(shown.status).toBe(200);
      if (['finished', 'failed', 'cancelled'].includes(shown.body.status)) break;
      if (Date.now() > deadline) throw new Error(`pull still ${shown.body.status}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(shown.body).toMatchObject({ task_id: taskId, status: 'finished' });
    const log = await barique(glacis.url, 'GET', endpoints.task_log!.replace('<task_id>', taskId), { task_id: taskId }, auth);
    expect(log.status).toBe(200);
    expect(log.body.logs).toMatch(/file1\.txt/);
    expect((await barique(glacis.url, 'GET', endpoints.task_list!, {}, auth)).body.map((t: { task_id: string }) => t.task_id)).toContain(taskId);
    // barique reads r.json()["error"] from whatever comes back: a wrong password gives it one.
    expect((await barique(glacis.url, 'GET', endpoints.task_list!, {}, { login: 'ada', password: wrongToken })).body).toEqual({ error: 'Invalid token' });
  });

  it('never logs a token, and redacts one from anything logged', async () => {
    // Requests that presented each token, right or wrong, have been made above.
    const logged = glacis.logLines.join('\n');
    for (const token of [apiToken, secondApiToken, metricsToken, wrongToken]) expect(logged).not.toContain(token);
    // Errors reach the log through the runtime's redactor: it knows the tokens.
    for (const token of [apiToken, secondApiToken, metricsToken]) expect(glacis.runtime.redact(`failed with ${token}`)).toBe('failed with ***');
  });
});

describe('requireToken in any express app', () => {
  it('hides the Authorization header from everything mounted after it (request loggers, the board)', async () => {
    const token = newToken();
    const app = express();
    app.use(requireToken({ apiTokens: [token] }));
    app.get('/echo', (req, res) => {
      res.json({ headers: req.headers, rawHeaders: req.rawHeaders });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const { port } = server.address() as { port: number };
      const reply = await request(`http://127.0.0.1:${port}`, 'GET', '/echo', { headers: { ...bearer(token), 'x-other': 'kept' } });
      expect(reply.status).toBe(200);
      expect(reply.body.headers['x-other']).toBe('kept');
      expect(reply.body.headers).not.toHaveProperty('authorization');
      expect(JSON.stringify(reply.body)).not.toContain(token);
    } finally {
      server.close();
    }
  });
});

describe('with API_TOKENS_FILE', () => {
  let fromFile: TestGlacis;
  const filed = [newToken(), newToken()];
  const commented = newToken();

  beforeAll(async () => {
    const dir = tempDir('tokens');
    const file = path.join(dir, 'tokens');
    writeFileSync(file, `# Glacis API tokens\n${filed[0]}\n\n   # ${commented}\n  ${filed[1]}  \r\n`);
    chmodSync(file, 0o600);
    fromFile = await startGlacis({ repos: {}, worker: false, env: { API_TOKENS_FILE: file } });
  });
  afterAll(async () => {
    await fromFile?.stop();
  });

  it('accepts each token of the file, not a commented-out one, and nothing without a token', async () => {
    for (const token of filed) expect((await request(fromFile.url, 'GET', '/version', { headers: bearer(token) })).status).toBe(200);
    expect401(await request(fromFile.url, 'GET', '/version', { headers: bearer(commented) }), /^Invalid token$/);
    expect401(await request(fromFile.url, 'GET', '/tasks'), /^Authentication required/);
    expect(fromFile.logLines.join('\n')).not.toMatch(new RegExp([...filed, commented].join('|')));
  });
});

describe('with only METRICS_TOKEN set', () => {
  let metricsOnly: TestGlacis;
  const token = newToken();

  beforeAll(async () => {
    metricsOnly = await startGlacis({ repos: {}, worker: false, env: { METRICS_TOKEN: token } });
  });
  afterAll(async () => {
    await metricsOnly?.stop();
  });

  it('guards /metrics and leaves the API to the reverse proxy', async () => {
    expect(await request(metricsOnly.url, 'GET', '/version')).toMatchObject({ status: 200, body: { version: PACKAGE_VERSION } });
    expect401(await request(metricsOnly.url, 'GET', '/metrics'), /^Authentication required/);
    expect401(await request(metricsOnly.url, 'GET', '/Metrics/'), /^Authentication required/);
    expect((await request(metricsOnly.url, 'GET', '/metrics', { headers: bearer(token) })).status).toBe(200);
  });
});

describe('token settings', () => {
  const valid = newToken();

  function loadError(env: NodeJS.ProcessEnv, cwd?: string): ConfigError {
    try {
      loadSettings({ env: { PATH: '', ...env }, warn: () => undefined, ...(cwd ? { cwd } : {}) });
    } catch (error) {
      if (error instanceof ConfigError) return error;
      throw error;
    }
    throw new Error('expected a ConfigError');
  }

  it('is off by default', () => {
    const settings = loadSettings({ env: { PATH: '' }, cwd: tempDir('cwd'), warn: () => undefined });
    expect(settings.apiTokens).toBeUndefined();
    expect(settings.metricsToken).toBeUndefined();
  });

  it('joins API_TOKENS (trimmed) and the lines of API_TOKENS_FILE (relative to the working directory)', () => {
    const cwd = tempDir('cwd');
    const fileToken = newToken();
    writeFileSync(path.join(cwd, 'tokens'), `${fileToken}\n`, { mode: 0o600 });
    const settings = loadSettings({ env: { PATH: '', API_TOKENS: ` ${valid} `, API_TOKENS_FILE: 'tokens', METRICS_TOKEN: ` ${fileToken}` }, cwd, warn: () => undefined });
    expect(settings.apiTokens).toEqual([valid, fileToken]);
    expect(settings.metricsToken).toBe(fileToken);
  });

  it('reads the keys from local.cfg too', () => {
    const cwd = tempDir('cwd');
    writeFileSync(path.join(cwd, 'local.cfg'), `API_TOKENS = '${valid}'\nMETRICS_TOKEN = 'short'\n`, { mode: 0o600 });
    const error = loadError({}, cwd);
    expect(error.message).toBe(
      'local.cfg: key "METRICS_TOKEN" must be a token of 16 or more visible ASCII characters, without spaces or commas (got a token shorter than 16 characters)',
    );
  });

  const short = 'abc123-short';
  const spaced = 'a token with spaces in it';
  it.each([
    [{ API_TOKENS: `${valid},` }, 'an empty token at position 2'],
    [{ API_TOKENS: `${valid},,${valid}` }, 'an empty token at position 2'],
    [{ API_TOKENS: `${short},${valid}` }, 'a token shorter than 16 characters at position 1'],
    [{ API_TOKENS: spaced }, 'a token with a space, comma or non-ASCII character at position 1'],
    [{ API_TOKENS: `${valid}é${valid}` }, 'a token with a space, comma or non-ASCII character at position 1'],
  ])('API_TOKENS %j: one line naming the key and the bad token\'s place, never the token', (env, got) => {
    const error = loadError(env);
    expect(error.message).toBe(
      `environment: key "API_TOKENS" must be a comma-separated list of tokens of 16 or more visible ASCII characters, without spaces or commas (got ${got})`,
    );
    expect(error.key).toBe('API_TOKENS');
    for (const secret of [valid, short, spaced]) expect(error.message).not.toContain(secret);
  });

  it('API_TOKENS_FILE: an unreadable file, a file without tokens, a bad line', () => {
    const dir = tempDir('tokens');
    const missing = path.join(dir, 'missing');
    expect(loadError({ API_TOKENS_FILE: missing }).message).toBe(
      `environment: key "API_TOKENS_FILE" must be a readable file with one token per line (got "${missing}": ENOENT)`,
    );
    expect(loadError({ API_TOKENS_FILE: dir }).message).toMatch(/key "API_TOKENS_FILE" must be a readable file with one token per line \(got ".*": EISDIR\)$/);
    const empty = path.join(dir, 'empty');
    writeFileSync(empty, '# nothing yet\n\n');
    expect(loadError({ API_TOKENS_FILE: empty }).message).toBe(
      `environment: key "API_TOKENS_FILE" must be a file with one token per line (got no token in "${empty}")`,
    );
    const bad = path.join(dir, 'bad');
    writeFileSync(bad, `# ok\n${valid}\n\n${short}\n`);
    const error = loadError({ API_TOKENS_FILE: bad });
    expect(error.message).toBe(
      `environment: key "API_TOKENS_FILE" must be a file of tokens of 16 or more visible ASCII characters, without spaces or commas, one per line (got a token shorter than 16 characters on line 4 of "${bad}")`,
    );
    expect(error.message).not.toContain(short);
    expect(error.message).not.toContain(valid);
  });

  it('METRICS_TOKEN must follow the same rules', () => {
    const error = loadError({ METRICS_TOKEN: spaced });
    expect(error.message).toBe(
      'environment: key "METRICS_TOKEN" must be a token of 16 or more visible ASCII characters, without spaces or commas (got a token with a space, comma or non-ASCII character)',
    );
  });
});
