/**
 * The REST API, wire-compatible with Baricadr's (so `barique` works unchanged).
 * Routes are thin: parse the request, call a service, shape the answer.
 */
import { once } from 'node:events';
import path from 'node:path';
import express, { type Express, type Response } from 'express';
import type { Registry } from 'prom-client';
import type { DependencyStatus } from '../metrics/index.js';
import type { BrowseService } from '../services/browse-service.js';
import type { ListingService } from '../services/listing-service.js';
import type { ReportService } from '../services/report-service.js';
import type { Submitted, TaskService } from '../services/task-service.js';
import { NotFoundError } from '../services/errors.js';
import type { Task } from '../store/types.js';
import type { CancelledJson, RemovedJson, RemoveNotFoundJson, SubmittedJson, TaskEventsJson, TaskJson, TaskLogJson, TaskStatusJson, VersionJson } from '../wire/index.js';
import { BOARD_PATH, queueBoard, type BoardQueue } from './board.js';
import { requireToken, type AuthOptions } from './auth.js';
import { errorHandler, notFoundHandler } from './errors.js';
import { health, metrics, ready } from './health.js';
import { OPENAPI_PATH, openApiDocument } from './openapi.js';
import { browseJson, reposJson } from './web-json.js';
import { WEB_PAGE_PATH, webPage } from './web-page.js';
import { browseBody, DEFAULT_EVENTS_PAGE, listBody, parseRequest, requireUtf8Body, TASK_EVENTS_EXPECTED, taskEventsQuery, taskListQuery, treeBody } from './requests.js';
import { eventJson } from './task-events-json.js';
import { findTaskKind, TASK_KINDS } from '../tasks/registry.js';
import type { JsonValue } from '../store/types.js';

export interface ApiDeps {
  readonly tasks: TaskService;
  readonly listing: ListingService;
  /** `GET /repos` and `POST /browse`, what the web page reads. */
  readonly browse: BrowseService;
  /** `GET /repos/<repo>/report`: the latest report of a repository. */
  readonly reports: ReportService;
  readonly version: string;
  /** Starts the clean-up of tasks recorded as unfinished with no live job behind them; returns its task id. */
  readonly startZombieTask: () => Promise<string>;
  /** Called with unexpected (5xx) errors. */
  readonly onServerError: (error: unknown) => void;
  /** Queues Bull Board shows, read-only, at `/admin/queues`; their owner closes them. */
  readonly boardQueues: readonly BoardQueue[];
  /** Tokens required on every route; absent or empty: authentication is left to a reverse proxy. */
  readonly auth?: AuthOptions;
  /** Answers `GET /ready`: whether Redis and the database answer. */
  readonly probeDependencies: () => Promise<DependencyStatus>;
  /** Served at `GET /metrics`. */
  readonly metrics: Registry;
}

/** Route names as Baricadr's Flask app reports them from `GET /endpoints`. */
export const ENDPOINTS: Readonly<Record<string, string>> = {
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
};

/**
 * @example
 * ```ts
 * const app = createApp({ tasks, listing, version: '0.1.0', startZombieTask, onServerError: console.error, boardQueues: [taskQueue.queue] });
 * app.listen(9100, '127.0.0.1');
 * ```
 */
export function createApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // First of all: no route, board or body parser is reached without a token.
  app.use(requireToken(deps.auth ?? {}));
  // barique sends JSON bodies on GET too; parse whatever says it is JSON.
  app.use(express.json({ limit: '1mb', strict: true, type: ['application/json', 'application/*+json'], verify: requireUtf8Body }));

  app.get(WEB_PAGE_PATH, webPage());
  app.get('/health', health);
  app.get('/ready', ready(deps.probeDependencies));
  app.get('/metrics', metrics(deps.metrics));

  app.get('/version', (_req, res) => {
    res.json({ version: deps.version } satisfies VersionJson);
  });
  app.get('/endpoints', (_req, res) => {
    res.json(ENDPOINTS);
  });
  const openApi = openApiDocument({ version: deps.version });
  app.get(OPENAPI_PATH, (_req, res) => {
    res.json(openApi);
  });

  // One submission route per kind that declares one (`POST /pull`, `POST /freeze`, …): a
  // new kind's route needs no edit here (test/tasks/registry.test.ts).
  for (const kind of TASK_KINDS) {
    const submit = kind.submit;
    if (!submit) continue;
    app.post(submit.path, async (req, res) => {
      const body = parseRequest(submit.body, req.body) as Record<string, unknown>;
      res.json(submitted(await deps.tasks.submitting({ ...submit.toRequest(body), type: kind.name })));
    });
  }

  app.post('/list', async (req, res) => {
    const body = parseRequest(listBody, req.body);
    const entries = await deps.listing.list({
      path: body.path,
      missing: body.missing ?? false,
      full: body.full ?? false,
      maxDepth: body.max_depth ?? 1,
      fromRoot: body.from_root ?? false,
      dirs: body.dirs ?? false,
    });
    await streamJsonArray(res, entries);
  });
  app.post('/tree', async (req, res) => {
    const body = parseRequest(treeBody, req.body);
    await streamJsonArray(res, await deps.listing.tree({ path: body.path, maxDepth: body.max_depth ?? 1 }));
  });

  app.get('/repos', async (_req, res) => {
    res.json(reposJson(await deps.browse.summaries()));
  });
  // The repository as its local path, URL-encoded (`/repos/%2Fdata%2Flab1/report`).
  app.get('/repos/:repo/report', async (req, res) => {
    res.json(await deps.reports.latest(req.params.repo));
  });
  app.post('/browse', async (req, res) => {
    const body = parseRequest(browseBody, req.body);
    res.json(browseJson(await deps.browse.browse(body.path)));
  });

  app.get('/tasks', async (req, res) => {
    const query = parseRequest(taskListQuery, req.query);
    const tasks = await deps.tasks.list({
      ...(query.status ? { status: query.status as Task['status'] } : {}),
      ...(query.type ? { type: query.type as Task['type'] } : {}),
      // Normalised as submitted paths are (`/a/b/` and `/a/./b` are `/a/b`), or the task on
      // the directory itself would be left out.
      ...(query.path ? { pathPrefix: path.posix.resolve(query.path) } : {}),
      ...(query.limit !== undefined ? { limit: query.limit } : {}),
      ...(query.offset !== undefined ? { offset: query.offset } : {}),
      ...(query.order ? { order: query.order } : {}),
      ...(query.id_prefix ? { idPrefix: query.id_prefix } : {}),
    });
    res.json(tasks.map(taskJson));
  });
  app.get('/tasks/status/:task_id', async (req, res) => {
    const task = await deps.tasks.get(req.params.task_id);
    // Glacis's addition for `glacis … --wait`: live progress, while the task runs.
    const progress = await deps.tasks.progress(task);
    // And, while it waits, what for.
    const waitingFor = await deps.tasks.waitingFor(task);
    const answer: TaskStatusJson = { ...taskJson(task), ...resultJson(task), ...(progress ? { progress } : {}), ...(waitingFor ? { waiting_for: waitingFor } : {}) };
    res.json(answer);
  });
  app.get('/tasks/log/:task_id', async (req, res) => {
    res.json({ logs: await deps.tasks.log(req.params.task_id) } satisfies TaskLogJson);
  });
  // What the log's lines say, as data: the web page reads it, never the lines (a file named `a: b.txt`).
  app.get('/tasks/events/:task_id', async (req, res) => {
    const query = parseRequest(taskEventsQuery, req.query, TASK_EVENTS_EXPECTED);
    const after = query.after ?? 0;
    const page = await deps.tasks.events(req.params.task_id, { ...(query.kinds ? { kinds: query.kinds } : {}), after, limit: query.limit ?? DEFAULT_EVENTS_PAGE });
    res.json({ events: page.events.map(eventJson), last: page.events.at(-1)?.seq ?? after, more: page.more } satisfies TaskEventsJson);
  });
  const remove = async (taskId: string, res: Response): Promise<void> => {
    try {
      await deps.tasks.remove(taskId);
    } catch (error) {
      // Baricadr's answer has `info` on both outcomes; barique prints the whole object.
      if (error instanceof NotFoundError) {
        res.status(404).json({ error: error.message, info: '' } satisfies RemoveNotFoundJson);
        return;
      }
      throw error;
    }
    res.json({ info: `Task ${taskId} removed.`, error: '' } satisfies RemovedJson);
  };
  app.get('/tasks/remove/:task_id', (req, res) => remove(req.params.task_id, res));
  app.post('/tasks/cancel/:task_id', async (req, res) => {
    const task = await deps.tasks.cancel(req.params.task_id);
    res.json({ task: task.id, status: 'cancelled' } satisfies CancelledJson);
  });
  app.post('/tasks/retry/:task_id', async (req, res) => {
    res.json({ task: await deps.tasks.retry(req.params.task_id) } satisfies SubmittedJson);
  });
  app.delete('/tasks/:task_id', (req, res) => remove(req.params.task_id, res));

  app.get('/zombie', async (_req, res) => {
    res.json({ task: await deps.startZombieTask() } satisfies SubmittedJson);
  });

  app.use(BOARD_PATH, queueBoard(deps.boardQueues));

  app.use(notFoundHandler);
  app.use(errorHandler(deps.onServerError));
  return app;
}

/** Baricadr's `{"task": id}`; `joined` (Glacis's) only when the request joined an unfinished task, so a new task's answer is Baricadr's exactly. */
function submitted(outcome: Submitted): SubmittedJson {
  return outcome.joined ? { task: outcome.task, joined: true } : { task: outcome.task };
}

/** The wire shape of a task: Baricadr's fields, then Glacis's. */
export function taskJson(task: Task): TaskJson {
  return {
    task_id: task.id,
    type: task.type,
    path: task.path,
    status: task.status,
    created: httpDate(task.created),
    started: task.started === null ? null : httpDate(task.started),
    finished: task.finished === null ? null : httpDate(task.finished),
    error: task.error,
    dry_run: task.dryRun,
    force: task.force,
    origin: task.origin,
    email: task.email,
    files: task.files,
    bytes: task.bytes,
    unprotected: task.unprotected,
  };
}

/** The kind's result under its `resultField` (nothing when it has none, or none yet). */
export function resultJson(task: Task): Readonly<Record<string, JsonValue>> {
  const field = findTaskKind(task.type)?.resultField;
  return field !== undefined && task.result !== null ? { [field]: task.result } : {};
}

/**
 * A stored ISO 8601 time as Baricadr (Flask) writes datetimes on the wire: RFC 1123 in GMT,
 * to the second. Only the wire changes: the store, the worker and the mails keep ISO.
 *
 * @example
 * ```ts
 * httpDate('2026-12-01T09:19:39.512Z'); // 'Tue, 01 Dec 2026 09:19:39 GMT'
 * ```
 */
export function httpDate(iso: string): string {
  return new Date(iso).toUTCString();
}

/**
 * Writes an async iterable as a JSON array, one element at a time, respecting
 * back-pressure. The first element is awaited before the status line is sent, so
 * a failure to start (remote unreachable) still becomes a proper error response.
 */
async function streamJsonArray(res: Response, items: AsyncIterable<unknown>): Promise<void> {
  const iterator = items[Symbol.asyncIterator]();
  let next = await iterator.next();
  res.status(200).type('application/json');
  let closed = false;
  res.on('close', () => {
    closed = true;
  });
  try {
    res.write('[');
    let first = true;
    while (!next.done && !closed) {
      const chunk = (first ? '' : ',') + JSON.stringify(next.value);
      first = false;
      if (!res.write(chunk)) await Promise.race([once(res, 'drain'), once(res, 'close')]);
      next = await iterator.next();
    }
    res.end(']');
  } finally {
    // Stops the rclone listing when the client went away.
    if (!next.done) await iterator.return?.();
  }
}
