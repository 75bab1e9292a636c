/**
 * The OpenAPI document against the app that serves it.
 *
 * - Its paths are exactly the routes express routes, read from the running app's router:
 *   a route added without documenting it (or documented and gone) fails here.
 * - It is well formed: every operation answers something, every `$ref` resolves, every
 *   path parameter is declared, every request field is described.
 * - A real Glacis, authentication on, serves it at /openapi.json (behind the token like the
 *   rest) and answers every documented operation as documented: each status it gives is
 *   listed for that operation, and each body matches the listed schema.
 * - The README's REST API table lists the same operations.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import path from 'node:path';
import express, { type Express } from 'express';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  OPENAPI_PATH,
  openApiDocument,
  type HttpMethod,
  type OpenApiDocument,
  type OpenApiOperation,
  type OpenApiParameter,
  type OpenApiResponse,
} from '../../src/api/openapi.js';
import { PACKAGE_VERSION } from '../../src/runtime/index.js';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { makeRemote, tempDir } from '../helpers/remotes.js';

const document = openApiDocument({ version: PACKAGE_VERSION });
const METHODS: readonly HttpMethod[] = ['get', 'post', 'delete'];

/** Every operation of the document as `METHOD /path/{param}`, with the operation. */
function documentedOperations(doc: OpenApiDocument): Map<string, OpenApiOperation> {
  const operations = new Map<string, OpenApiOperation>();
  for (const [route, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (operation) operations.set(`${method.toUpperCase()} ${route}`, operation);
    }
  }
  return operations;
}

/** Express 5's router layers, as far as this test reads them (router 2.x; its types lag behind). */
interface RouterLayer {
  readonly rawPath?: unknown;
  readonly route?: { readonly path: unknown; readonly methods: Readonly<Record<string, boolean>> };
}

/**
 * What the app serves, as `METHOD /path/{param}`: each route's methods, and each app mounted
 * under a path of its own (the queue board) as a GET of its entry page. Middleware mounted
 * at `/` (authentication, body parsing, the 404 and error handlers) serves no route.
 */
function servedRoutes(app: Express): string[] {
  const routes: string[] = [];
  for (const layer of app.router.stack as unknown as RouterLayer[]) {
    if (layer.route) {
      const route = layer.route.path;
      if (typeof route !== 'string') throw new Error(`route ${String(route)} is not a plain path: document it by hand and extend this test`);
      const template = route.replace(/:(\w+)/g, '{$1}');
      // app.all() lists every method, which the document's three cannot match.
      for (const [method, on] of Object.entries(layer.route.methods)) if (on) routes.push(`${method.toUpperCase()} ${template}`);
    } else if (layer.rawPath !== '/') {
      routes.push(`GET ${String(layer.rawPath)}`);
    }
  }
  return routes;
}

/** The value a local `#/…` reference points at, or undefined. */
function resolvePointer(doc: unknown, pointer: string): unknown {
  if (!pointer.startsWith('#/')) return undefined;
  let node: unknown = doc;
  for (const raw of pointer.slice(2).split('/')) {
    const segment = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, segment)) return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node;
}

/** Every `$ref` string anywhere in `node`. */
function refsIn(node: unknown, found: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) refsIn(item, found);
  else if (typeof node === 'object' && node !== null) {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') found.push(value);
      else refsIn(value, found);
    }
  }
  return found;
}

/** `node` with every reference replaced by what it points at (the document has no cycles). */
function inlineRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(inlineRefs);
  if (typeof node !== 'object' || node === null) return node;
  const record = node as Record<string, unknown>;
  if (typeof record.$ref === 'string') {
    const target = resolvePointer(document, record.$ref);
    if (target === undefined) throw new Error(`unresolved ${record.$ref}`);
    return inlineRefs(target);
  }
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, inlineRefs(value)]));
}

function deref<T>(value: unknown): T {
  return inlineRefs(value) as T;
}

const TOKEN = randomBytes(24).toString('hex');
let glacis: TestGlacis;
let local: string;
/** A repo with freezable: false, where a freeze is refused at submission. */
let noFreeze: string;

beforeAll(async () => {
  const remote = await makeRemote('local');
  local = tempDir('repo');
  noFreeze = tempDir('repo');
  // The worker starts once a waiting task has been cancelled (pullFreezeAndTasks).
  glacis = await startGlacis({ repos: { [local]: { ...remote.settings, freezable: true, pushable: true }, [noFreeze]: remote.settings }, env: { API_TOKENS: TOKEN }, worker: false });
});
afterAll(async () => {
  await glacis?.stop();
});

describe('the document and the routes', () => {
  it('documents exactly the routes the app serves', () => {
    const app = glacis.server.listeners('request')[0] as RequestListener & Express;
    const served = servedRoutes(app);
    expect(served.length).toBeGreaterThan(10);
    expect(new Set(served).size).toBe(served.length);
    expect([...served].sort()).toEqual([...documentedOperations(document).keys()].sort());
  });

  it('reads every kind of route from the router: methods, parameters, mounted apps', () => {
    const app = express();
    app.use(express.json());
    app.get('/a', () => undefined);
    app.post('/a', () => undefined);
    app.delete('/b/:id/c/:name', () => undefined);
    app.use('/mounted', express());
    app.use((_req, res) => res.end());
    expect(servedRoutes(app)).toEqual(['GET /a', 'POST /a', 'DELETE /b/{id}/c/{name}', 'GET /mounted']);
  });
});

describe('the API reference (docs/api.md)', () => {
  it('lists in its routes table exactly the documented operations', () => {
    const reference = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
    const start = reference.indexOf('# REST API\n');
    expect(start).toBeGreaterThanOrEqual(0);
    const end = reference.indexOf('\n## ', start + 1);
    const apiSection = reference.slice(start, end < 0 ? undefined : end);
    const firstCells = apiSection.split('\n').filter((line) => line.startsWith('| `')).map((line) => line.split(' | ')[0]!);
    const listed = firstCells.flatMap((cell) => [...cell.matchAll(/`([A-Z]+ \/[^`]*)`/g)].map((match) => match[1]!.replace(/:(\w+)/g, '{$1}')));
    expect([...listed].sort()).toEqual([...documentedOperations(document).keys()].sort());
  });
});

describe('the document is well formed', () => {
  const operations = documentedOperations(document);

  it('is OpenAPI 3.1 with the version the API reports', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.info.version).toBe(PACKAGE_VERSION);
    expect(Object.keys(document.paths).every((route) => route.startsWith('/'))).toBe(true);
  });

  it('resolves every $ref, and uses every component it defines', () => {
    const refs = refsIn(document);
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of refs) expect(resolvePointer(document, ref), ref).toBeDefined();
    const { schemas, responses, parameters, securitySchemes } = document.components;
    const defined = [
      ...Object.keys(schemas).map((name) => `#/components/schemas/${name}`),
      ...Object.keys(responses).map((name) => `#/components/responses/${name}`),
      ...Object.keys(parameters).map((name) => `#/components/parameters/${name}`),
    ];
    expect(defined.filter((pointer) => !refs.includes(pointer))).toEqual([]);
    const schemes = [...document.security, ...[...operations.values()].flatMap((op) => op.security ?? [])].flatMap(Object.keys);
    expect(new Set(schemes)).toEqual(new Set(Object.keys(securitySchemes)));
  });

  it('gives every operation a unique id, known tags, a success answer and described answers', () => {
    const ids = [...operations.values()].map((op) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    const tags = document.tags.map((tag) => tag.name);
    for (const [name, op] of operations) {
      expect(op.summary, name).not.toBe('');
      expect(op.tags.every((tag) => tags.includes(tag)), name).toBe(true);
      expect(Object.keys(op.responses).some((status) => /^2\d\d$/.test(status)), name).toBe(true);
      for (const [status, response] of Object.entries(op.responses)) {
        expect(status, name).toMatch(/^[1-5]\d\d$/);
        expect(deref<OpenApiResponse>(response).description, `${name} ${status}`).not.toBe('');
      }
    }
  });

  it('answers 401 on every operation but the open ones, which need no token', () => {
    for (const [name, op] of operations) {
      const open = op.security !== undefined && op.security.length === 0;
      expect(Object.hasOwn(op.responses, '401'), name).toBe(!open);
    }
    expect([...operations].filter(([, op]) => op.security?.length === 0).map(([name]) => name)).toEqual(['GET /', 'GET /health']);
  });

  it('declares each path parameter of each route, and no other', () => {
    for (const [name, op] of operations) {
      const inTemplate = [...name.matchAll(/\{(\w+)\}/g)].map((match) => match[1]);
      const declared = (op.parameters ?? []).map((p) => deref<OpenApiParameter>(p)).filter((p) => p.in === 'path');
      expect(declared.map((p) => p.name), name).toEqual(inTemplate);
      expect(declared.every((p) => p.required === true), name).toBe(true);
    }
  });

  it('describes every request field and query parameter', () => {
    for (const [name, op] of operations) {
      for (const parameter of (op.parameters ?? []).map((p) => deref<OpenApiParameter>(p))) {
        expect(parameter.description, `${name} ?${parameter.name}`).toBeTruthy();
      }
      const schema = op.requestBody ? deref<{ properties: Record<string, { description?: string }> }>(op.requestBody.content['application/json']?.schema) : undefined;
      for (const [field, property] of Object.entries(schema?.properties ?? {})) {
        expect(property.description, `${name} ${field}`).toBeTruthy();
      }
    }
    // Generated from the zod schemas that validate the requests: the same fields.
    expect(Object.keys(deref<{ properties: object }>(document.components.schemas.ListRequest!).properties)).toEqual([
      'path', 'missing', 'full', 'max_depth', 'from_root', 'dirs',
    ]);
    expect(operations.get('GET /tasks')!.parameters!.map((p) => deref<OpenApiParameter>(p).name)).toEqual([
      'status', 'type', 'path', 'limit', 'offset', 'order', 'id_prefix',
    ]);
  });
});

interface Answer {
  readonly status: number;
  /** The Content-Type without its parameters. */
  readonly mediaType: string;
  readonly headers: Headers;
  readonly body: unknown;
}

interface CallOptions {
  readonly json?: unknown;
  /** A body sent as it is, with `contentType`. */
  readonly raw?: string;
  readonly contentType?: string;
  /** Default: the API token. */
  readonly token?: string | null;
}

async function call(method: string, route: string, options: CallOptions = {}): Promise<Answer> {
  const token = options.token === undefined ? TOKEN : options.token;
  const payload = options.raw ?? (options.json === undefined ? undefined : JSON.stringify(options.json));
  const response = await fetch(glacis.url + route, {
    method,
    headers: {
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...(payload === undefined ? {} : { 'content-type': options.contentType ?? 'application/json' }),
    },
    ...(payload === undefined ? {} : { body: payload }),
  });
  const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
  const text = await response.text();
  return { status: response.status, mediaType, headers: response.headers, body: mediaType === 'application/json' ? JSON.parse(text) : text };
}

describe('a real Glacis answers as documented', () => {
  const operations = documentedOperations(document);
  /** Operation → statuses it answered here. */
  const exercised = new Map<string, Set<number>>();

  /**
   * Calls `operation` (`METHOD /template`) on `route` and checks the answer against the
   * document: status listed, media type listed, body valid against the schema, headers sent.
   */
  async function check(operation: string, route: string, options: CallOptions = {}): Promise<Answer> {
    const op = operations.get(operation);
    expect(op, `${operation} is documented`).toBeDefined();
    const answer = await call(operation.split(' ')[0]!, route, options);
    const where = `${operation} (${route}) answered ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`;
    const listed = op!.responses[String(answer.status)];
    expect(listed, `${where}: status not documented`).toBeDefined();
    const response = deref<OpenApiResponse>(listed);
    const media = response.content?.[answer.mediaType];
    expect(media, `${where}: media type ${answer.mediaType} not documented`).toBeDefined();
    if (answer.mediaType === 'application/json') {
      const result = z.fromJSONSchema(inlineRefs(media!.schema) as Parameters<typeof z.fromJSONSchema>[0]).safeParse(answer.body);
      expect(result.success, `${where}: ${result.error?.message}`).toBe(true);
    } else {
      expect(typeof answer.body, where).toBe('string');
    }
    for (const header of Object.keys(response.headers ?? {})) expect(answer.headers.get(header), `${where}: header ${header}`).toBeTruthy();
    exercised.set(operation, (exercised.get(operation) ?? new Set()).add(answer.status));
    return answer;
  }

  async function waitForEnd(taskId: string): Promise<void> {
    const deadline = Date.now() + 45_000;
    for (;;) {
      const { body } = await call('GET', `/tasks/status/${taskId}`);
      if (['finished', 'failed', 'cancelled'].includes((body as { status: string }).status)) return;
      if (Date.now() > deadline) throw new Error(`task ${taskId} has not ended: ${JSON.stringify(body)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The document itself, behind the token like every route but /health. */
  async function servesTheDocument(): Promise<void> {
    const denied = await check(`GET ${OPENAPI_PATH}`, OPENAPI_PATH, { token: null });
    expect(denied.status).toBe(401);
    expect((await check(`GET ${OPENAPI_PATH}`, OPENAPI_PATH, { token: 'not-the-token-at-all' })).status).toBe(401);
    const served = await check(`GET ${OPENAPI_PATH}`, OPENAPI_PATH);
    expect(served.status).toBe(200);
    expect(served.body).toEqual(JSON.parse(JSON.stringify(document)));
    expect((await check('GET /health', '/health', { token: null })).status).toBe(200);
    // The web page (built by the test setup) is open too: it asks for the token itself.
    expect((await check('GET /', '/', { token: null })).status).toBe(200);
  }

  async function probesServiceRoutesAndBoard(): Promise<void> {
    for (const operation of ['GET /ready', 'GET /metrics', 'GET /version', 'GET /endpoints', 'GET /admin/queues', 'GET /zombie']) {
      const route = operation.slice('GET '.length);
      expect((await check(operation, route)).status, operation).toBe(200);
      expect((await check(operation, route, { token: null })).status, operation).toBe(401);
    }
  }

  async function pullFreezeAndTasks(): Promise<void> {
    // No worker yet: this task is surely still waiting when it is cancelled.
    const waiting = await check('POST /pull', '/pull', { json: { path: path.join(local, 'subdir2'), dry_run: true } });
    const waitingId = (waiting.body as { task: string }).task;
    expect(await check('POST /tasks/cancel/{task_id}', `/tasks/cancel/${waitingId}`)).toMatchObject({ status: 200, body: { task: waitingId, status: 'cancelled' } });
    expect((await check('POST /tasks/cancel/{task_id}', `/tasks/cancel/${waitingId}`)).status).toBe(409);
    expect((await check('POST /tasks/cancel/{task_id}', `/tasks/cancel/${randomUUID()}`)).status).toBe(404);
    const retried = await check('POST /tasks/retry/{task_id}', `/tasks/retry/${waitingId}`);
    expect(retried.status).toBe(200);
    const retry = (retried.body as { task: string }).task;
    expect((await check('POST /tasks/retry/{task_id}', `/tasks/retry/${retry}`)).status).toBe(409);
    expect((await check('POST /tasks/retry/{task_id}', `/tasks/retry/${randomUUID()}`)).status).toBe(404);
    expect((await check('GET /tasks/remove/{task_id}', `/tasks/remove/${waitingId}`)).status).toBe(200);
    await glacis.startWorker();
    await waitForEnd(retry);
    expect((await check('GET /tasks/remove/{task_id}', `/tasks/remove/${retry}`)).status).toBe(200);

    const pull = await check('POST /pull', '/pull', { json: { path: local, email: null, dry_run: 'False' } });
    expect(pull.status).toBe(200);
    const pulled = (pull.body as { task: string }).task;
    // In a repo that is not freezable: refused at submission, naming it.
    expect((await check('POST /freeze', '/freeze', { json: { path: path.join(noFreeze, 'subdir'), dry_run: true } })).status).toBe(400);
    const freeze = await check('POST /freeze', '/freeze', { json: { path: path.join(local, 'subdir'), dry_run: true, force: 1 } });
    expect(freeze.status).toBe(200);
    const frozen = (freeze.body as { task: string }).task;
    // Refused at submission where the repo is not pushable, naming it (issue 18).
    expect((await check('POST /push', '/push', { json: { path: path.join(noFreeze, 'subdir'), dry_run: true } })).status).toBe(400);
    const push = await check('POST /push', '/push', { json: { path: path.join(local, 'subdir'), dry_run: true } });
    expect(push.status).toBe(200);
    await waitForEnd((push.body as { task: string }).task);
    const zombie = (await check('GET /zombie', '/zombie')).body as { task: string };
    await waitForEnd(pulled);
    await waitForEnd(frozen);
    await waitForEnd(zombie.task);

    const shown = await check('GET /tasks/status/{task_id}', `/tasks/status/${pulled}`);
    expect(shown.body).toMatchObject({ status: 'finished', files: expect.any(Number) });
    expect((await check('GET /tasks/status/{task_id}', `/tasks/status/${frozen}`)).body).toMatchObject({ type: 'freeze', status: 'finished', dry_run: true });
    expect((await check('GET /tasks/status/{task_id}', `/tasks/status/${zombie.task}`)).body).toMatchObject({ type: 'zombie', status: 'finished', files: 0 });
    expect((await check('GET /tasks/status/{task_id}', `/tasks/status/${randomUUID()}`)).status).toBe(404);
    expect((await check('GET /tasks/log/{task_id}', `/tasks/log/${pulled}`)).status).toBe(200);
    expect((await check('GET /tasks/log/{task_id}', '/tasks/log/no-such-task')).status).toBe(404);
    const events = await check('GET /tasks/events/{task_id}', `/tasks/events/${frozen}?kinds=frozen,summary&limit=2`);
    expect(events.body).toMatchObject({ events: [{ kind: 'frozen', dry_run: true }, expect.anything()], more: true });
    expect((await check('GET /tasks/events/{task_id}', `/tasks/events/${frozen}?kinds=frozen,lines`)).status).toBe(400);
    expect((await check('GET /tasks/events/{task_id}', `/tasks/events/${randomUUID()}`)).status).toBe(404);
    const listed = await check('GET /tasks', `/tasks?type=pull&path=${encodeURIComponent(local)}&limit=10&offset=0`);
    expect(listed.body).toHaveLength(1);
    expect((await check('GET /tasks', '/tasks?status=sleeping')).status).toBe(400);

    expect((await check('GET /tasks/remove/{task_id}', `/tasks/remove/${frozen}`)).status).toBe(200);
    expect((await check('DELETE /tasks/{task_id}', `/tasks/${pulled}`)).status).toBe(200);
    expect((await check('DELETE /tasks/{task_id}', `/tasks/${pulled}`)).status).toBe(404);
    expect((await check('GET /tasks/remove/{task_id}', `/tasks/remove/${frozen}`)).status).toBe(404);
  }

  async function listings(): Promise<void> {
    const full = await check('POST /list', '/list', { json: { path: local, full: true, max_depth: 0, missing: 'false' } });
    expect(full.status).toBe(200);
    expect((full.body as unknown[]).length).toBeGreaterThan(3);
    expect((full.body as object[])[0]).toHaveProperty('Size');
    expect((await check('POST /list', '/list', { json: { path: local, from_root: true } })).status).toBe(200);
    expect((await check('POST /list', '/list', { json: { path: path.join(local, 'not-on-the-remote') } })).status).toBe(400);
    const tree = await check('POST /tree', '/tree', { json: { path: local, max_depth: '2' } });
    expect(tree.status).toBe(200);
    expect((tree.body as unknown[]).length).toBeGreaterThan(3);
    expect((await check('POST /tree', '/tree', { json: { path: local, depth: 2 } })).status).toBe(400);
    expect((await check('GET /repos', '/repos')).status).toBe(200);
    expect((await check('POST /browse', '/browse', { json: { path: local } })).status).toBe(200);
    expect((await check('POST /browse', '/browse', { json: { path: path.join(local, 'not-anywhere') } })).status).toBe(404);
    expect((await check('POST /browse', '/browse', { json: { path: '/not/in/any/repo' } })).status).toBe(400);
  }

  async function reports(): Promise<void> {
    const repoReport = (repo: string): string => `/repos/${encodeURIComponent(repo)}/report`;
    expect((await check('GET /repos/{repo}/report', repoReport(local))).status).toBe(404); // none yet
    const submitted = await check('POST /report', '/report', { json: { path: local } });
    expect(submitted.status).toBe(200);
    const id = (submitted.body as { task: string }).task;
    await waitForEnd(id);
    const shown = await check('GET /tasks/status/{task_id}', `/tasks/status/${id}`);
    expect(shown.body).toMatchObject({ type: 'report', status: 'finished', report: { repo: local, path: local } });
    const latest = await check('GET /repos/{repo}/report', repoReport(local));
    expect(latest).toMatchObject({ status: 200, body: (shown.body as { report: unknown }).report });
    expect((await check('GET /repos/{repo}/report', repoReport('/not/a/repo'))).status).toBe(404);
    expect((await check('POST /report', '/report', { json: { path: local, force: true } })).status).toBe(400);
  }

  async function badInput(): Promise<void> {
    expect((await check('POST /pull', '/pull', { json: {} })).status).toBe(400);
    expect((await check('POST /pull', '/pull', { json: { path: '/not/in/any/repo' } })).status).toBe(400);
    expect((await check('POST /freeze', '/freeze', { raw: '{"path": ' })).status).toBe(400);
    expect((await check('POST /freeze', '/freeze', { json: { path: 'x'.repeat(1_100_000) } })).status).toBe(413);
    expect((await check('POST /list', '/list', { raw: '{}', contentType: 'application/json; charset=latin1' })).status).toBe(415);
    expect((await check('POST /list', '/list', { json: { path: local }, token: null })).status).toBe(401);
  }

  // One test: the steps share the instance's tasks, and the last check needs them all.
  it('answers every documented operation as documented, errors and 401 included', async () => {
    await servesTheDocument();
    await probesServiceRoutesAndBoard();
    await pullFreezeAndTasks();
    await listings();
    await reports();
    await badInput();
    const succeeded = [...exercised].filter(([, statuses]) => [...statuses].some((status) => status >= 200 && status < 300)).map(([name]) => name);
    expect(succeeded.sort()).toEqual([...operations.keys()].sort());
  });
});
