/**
 * The OpenAPI 3.1 description of the REST API, served at {@link OPENAPI_PATH}.
 *
 * Request bodies and query parameters are generated from the zod schemas that validate them
 * (./requests.ts), and the answers from the wire shapes (src/wire), which type the app's
 * answers and the clients' reading of them, so none is written twice. test/api/openapi.test.ts keeps the rest honest: the paths here must be
 * exactly the routes the app serves, and real answers must match the documented responses.
 */
import { z } from 'zod';
import { TASK_KIND_NAMES, TASK_KINDS, TASK_STATUSES } from '../tasks/registry.js';
import {
  browseSchema,
  cancelledSchema,
  documentedTaskSchemas,
  errorSchema,
  healthSchema,
  listEntrySchema,
  notReadySchema,
  progressSchema,
  readySchema,
  removedSchema,
  removeNotFoundSchema,
  reposSchema,
  submittedSchema,
  taskEventsSchema,
  taskLogSchema,
  treeEntrySchema,
  versionSchema,
} from '../wire/index.js';
import { FIELD_DOCS } from '../wire/fields.js';
import { METRICS_PATH } from './auth.js';
import { BOARD_PATH } from './board.js';
import { WEB_PAGE_PATH } from './web-page.js';
import { repoReportSchema } from '../tasks/kinds/report-schema.js';
import { browseBody, DEFAULT_EVENTS_PAGE, listBody, MAX_EVENTS_PAGE, taskEventsQuery, taskListQuery, treeBody } from './requests.js';

/**
 * Where the API serves the document.
 *
 * @example
 * ```ts
 * const doc = await (await fetch(`http://127.0.0.1:9100${OPENAPI_PATH}`)).json();
 * ```
 */
export const OPENAPI_PATH = '/openapi.json';

/**
 * A JSON Schema (2020-12, OpenAPI 3.1's dialect), as plain JSON.
 *
 * @example
 * ```ts
 * const count: JsonSchema = { type: 'integer', minimum: 0 };
 * ```
 */
export type JsonSchema = { readonly [keyword: string]: unknown };

/**
 * A reference to a component of the document.
 *
 * @example
 * ```ts
 * const error: OpenApiRef = { $ref: '#/components/schemas/Error' };
 * ```
 */
export type OpenApiRef = { readonly $ref: string };

/**
 * One header, query or path parameter.
 *
 * @example
 * ```ts
 * const limit: OpenApiParameter = { name: 'limit', in: 'query', schema: { type: 'string' } };
 * ```
 */
export interface OpenApiParameter {
  readonly name: string;
  readonly in: 'query' | 'path' | 'header';
  readonly required?: boolean;
  readonly description?: string;
  readonly schema: JsonSchema;
}

/**
 * One media type of a body: its schema.
 *
 * @example
 * ```ts
 * const text: OpenApiMediaType = { schema: { type: 'string' } };
 * ```
 */
export interface OpenApiMediaType {
  readonly schema: JsonSchema;
}

/**
 * A response: its description, headers and body by media type.
 *
 * @example
 * ```ts
 * const gone: OpenApiResponse = { description: 'No such task', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
 * ```
 */
export interface OpenApiResponse {
  readonly description: string;
  readonly headers?: Readonly<Record<string, { readonly description: string; readonly schema: JsonSchema }>>;
  readonly content?: Readonly<Record<string, OpenApiMediaType>>;
}

/**
 * A request body by media type.
 *
 * @example
 * ```ts
 * const pull: OpenApiRequestBody = { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/PullRequest' } } } };
 * ```
 */
export interface OpenApiRequestBody {
  readonly required: boolean;
  readonly description?: string;
  readonly content: Readonly<Record<string, OpenApiMediaType>>;
}

/**
 * Security schemes that together admit a request; in a list, any one requirement suffices,
 * and `{}` means "none needed".
 *
 * @example
 * ```ts
 * const tokenOrNothing: SecurityRequirement[] = [{ bearerAuth: [] }, {}];
 * ```
 */
export type SecurityRequirement = Readonly<Record<string, readonly string[]>>;

/**
 * One method of one path.
 *
 * @example
 * ```ts
 * const version: OpenApiOperation = { operationId: 'version', summary: 'The version', tags: ['service'], responses: { '200': { description: 'The version' } } };
 * ```
 */
export interface OpenApiOperation {
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags: readonly string[];
  readonly parameters?: readonly (OpenApiParameter | OpenApiRef)[];
  readonly requestBody?: OpenApiRequestBody;
  /** By status code (`"200"`, `"404"`, …). */
  readonly responses: Readonly<Record<string, OpenApiResponse | OpenApiRef>>;
  readonly security?: readonly SecurityRequirement[];
}

/**
 * The HTTP methods the API routes; an OpenAPI path item is keyed by them in lower case.
 *
 * @example
 * ```ts
 * const method: HttpMethod = 'delete';
 * ```
 */
export type HttpMethod = 'get' | 'post' | 'delete';

/**
 * The operations on one path, by lower-case method.
 *
 * @example
 * ```ts
 * const item: OpenApiPathItem = openApiDocument({ version: '0.1.0' }).paths['/pull']!;
 * item.post?.operationId; // 'pull'
 * ```
 */
export type OpenApiPathItem = Readonly<Partial<Record<HttpMethod, OpenApiOperation>>>;

/**
 * The whole document, as {@link openApiDocument} builds it.
 *
 * @example
 * ```ts
 * const doc: OpenApiDocument = openApiDocument({ version: '0.1.0' });
 * Object.keys(doc.paths); // ['/health', '/ready', …]
 * ```
 */
export interface OpenApiDocument {
  readonly openapi: '3.1.0';
  readonly info: {
    readonly title: string;
    readonly version: string;
    readonly description: string;
    readonly license: { readonly name: string; readonly identifier: string };
  };
  readonly tags: readonly { readonly name: string; readonly description: string }[];
  readonly security: readonly SecurityRequirement[];
  /** Paths in OpenAPI's template form: `/tasks/status/{task_id}`. */
  readonly paths: Readonly<Record<string, OpenApiPathItem>>;
  readonly components: {
    readonly schemas: Readonly<Record<string, JsonSchema>>;
    readonly responses: Readonly<Record<string, OpenApiResponse>>;
    readonly parameters: Readonly<Record<string, OpenApiParameter>>;
    readonly securitySchemes: Readonly<Record<string, JsonSchema>>;
  };
}


/** Descriptions of the request fields; keyed by each schema's own keys, so a new field must be described here to compile. */
type Described<S extends z.ZodObject> = { readonly [K in keyof S['shape']]: string };

/**
 * A request schema with a description on each field. `path` is checked by src/paths rather
 * than by zod (which lets a missing one through to get Baricadr's `Missing "path"`), so the
 * document states here what it must be.
 */
function documented<S extends z.ZodObject>(schema: S, descriptions: Described<S>, title: string): z.ZodType {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
    const description = (descriptions as Readonly<Record<string, string>>)[key] ?? '';
    shape[key] = key === 'path' ? z.string().describe(description) : field.describe(description);
  }
  return schema.extend(shape).describe(title);
}

const PATH = FIELD_DOCS.path;
const MAX_DEPTH = 'Directory levels to list, default 1; 0 lists everything (0..10000, a number or a digit string)';

const REQUESTS = {
  ListRequest: documented(
    listBody,
    {
      path: PATH,
      missing: 'Only files not present locally',
      full: 'Each entry with rclone\'s fields (Size, ModTime, …), not only Path',
      max_depth: MAX_DEPTH,
      from_root: 'Paths relative to the repository root rather than to path',
      dirs: 'Glacis\'s addition: directories too, their Path ending in / (as rclone lsf shows them); Baricadr lists files only',
    },
    'List what the remote holds under path',
  ),
  TreeRequest: documented(treeBody, { path: PATH, max_depth: MAX_DEPTH }, 'List what the remote holds under path, flagging what is missing locally'),
  BrowseRequest: documented(browseBody, { path: 'Absolute path of a directory inside a repository' }, 'One directory level, remote and local merged'),
} as const;

const QUERY_DESCRIPTIONS: Described<typeof taskListQuery> = {
  status: 'Only tasks with this status',
  type: 'Only tasks of this type',
  path: 'Only tasks on this path or below it (by path segment: /a/b does not cover /a/bc)',
  limit: 'At most this many tasks (at most 10,000 in one answer)',
  offset: 'Skip this many tasks first, for paging',
  order: 'asc: oldest first (the default, as Baricadr lists them); desc: newest first',
  id_prefix: 'Only tasks whose id starts with this: how the CLI resolves a short id',
};

const EVENTS_QUERY_DESCRIPTIONS: Described<typeof taskEventsQuery> = {
  kinds: 'Only events of these kinds, comma-separated: message, placed, frozen, kept, unprotected, summary (an unknown kind: 400)',
  after: 'Only events whose seq is above this (the last of the previous page); 0, the default: from the start',
  limit: `At most this many events (default ${DEFAULT_EVENTS_PAGE}, at most ${MAX_EVENTS_PAGE})`,
};

/** The request body of each kind's submission route (`PullRequest`, `FreezeRequest`), by name. */
function submissionRequests(): Record<string, z.ZodType> {
  const named: Record<string, z.ZodType> = {};
  for (const kind of TASK_KINDS) {
    if (kind.submit) named[kind.submit.doc.schemaName] = documented(kind.submit.body, kind.submit.doc.fields, kind.submit.doc.title);
  }
  return named;
}

/** The operation of each kind's submission route (`POST /pull`, `POST /freeze`), by path. */
function submissionPaths(): Record<string, OpenApiPathItem> {
  const paths: Record<string, OpenApiPathItem> = {};
  for (const kind of TASK_KINDS) {
    const submit = kind.submit;
    if (!submit) continue;
    paths[submit.path] = {
      post: {
        operationId: submit.path.slice(1),
        summary: submit.doc.summary,
        description: submit.doc.description,
        tags: ['files'],
        requestBody: { required: true, description: 'JSON. Unknown fields are refused (400).', content: json(ref('schemas', submit.doc.schemaName)) },
        responses: { '200': submitted, ...BODY_ERRORS, ...GUARDED, ...REDIS_DOWN },
      },
    };
  }
  return paths;
}

/** Every schema under `components.schemas`, by name; the generator turns nested ones into `$ref`s. */
function componentSchemas(): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  const { task, taskStatus } = documentedTaskSchemas({
    kinds: TASK_KIND_NAMES,
    statuses: TASK_STATUSES,
    runningPhases: TASK_STATUSES.filter((status) => !['waiting', 'started', 'finished', 'failed', 'cancelled'].includes(status)),
    resultFields: TASK_KINDS.flatMap((kind) =>
      kind.resultField === undefined ? [] : [{ field: kind.resultField, kind: kind.name, ...(kind.resultSchema ? { schema: kind.resultSchema } : {}) }],
    ),
  });
  const named: Record<string, z.ZodType> = {
    ...submissionRequests(),
    ...REQUESTS,
    Task: task,
    TaskWithProgress: taskStatus,
    Progress: progressSchema,
    ListEntry: listEntrySchema,
    TreeEntry: treeEntrySchema,
    Repos: reposSchema,
    Report: repoReportSchema,
    Browse: browseSchema,
    Error: errorSchema,
    Submitted: submittedSchema,
    Version: versionSchema,
    Health: healthSchema,
    Ready: readySchema,
    NotReady: notReadySchema,
    TaskLog: taskLogSchema,
    Removed: removedSchema,
    RemoveNotFound: removeNotFoundSchema,
    Cancelled: cancelledSchema,
    TaskEvents: taskEventsSchema,
  };
  for (const [id, schema] of Object.entries(named)) registry.add(schema, { id });
  // io "input": requests are documented as clients write them (before the flag transforms).
  const { schemas } = z.toJSONSchema(registry, { io: 'input', uri: (id) => `#/components/schemas/${id}`, override: withoutSafeIntegerBounds });
  return Object.fromEntries(Object.entries(schemas).map(([id, schema]) => [id, withoutIdentity(schema)]));
}

/** Query parameters of `GET /tasks`, one per key of the zod schema that validates them. */
function taskListParameters(): OpenApiParameter[] {
  return queryParameters(taskListQuery, QUERY_DESCRIPTIONS);
}

/** Query parameters of a route, one per key of the zod schema that validates them. */
function queryParameters<S extends z.ZodObject>(query: S, descriptions: Described<S>): OpenApiParameter[] {
  const schema = withoutIdentity(z.toJSONSchema(query, { io: 'input', override: withoutSafeIntegerBounds }));
  const properties = schema.properties as Readonly<Record<string, JsonSchema>>;
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: false,
    description: (descriptions as Readonly<Record<string, string>>)[name] ?? '',
    schema: property,
  }));
}

/** zod's integers carry JavaScript's safe-integer bounds, which say nothing to a client: left out. */
function withoutSafeIntegerBounds(context: { readonly jsonSchema: Record<string, unknown> }): void {
  const schema = context.jsonSchema;
  if (schema.maximum === Number.MAX_SAFE_INTEGER) delete schema.maximum;
  if (schema.minimum === Number.MIN_SAFE_INTEGER) delete schema.minimum;
}

/** Each component's `$schema` and `$id` are noise inside an OpenAPI document (its dialect is 2020-12 already). */
function withoutIdentity(schema: JsonSchema): JsonSchema {
  const { $schema: _dialect, $id: _id, ...rest } = schema;
  return rest;
}

// ---------------------------------------------------------------------------------------------
// Building blocks of the paths

const ref = (kind: 'schemas' | 'responses' | 'parameters', name: string): OpenApiRef => ({ $ref: `#/components/${kind}/${name}` });
const json = (schema: JsonSchema): Readonly<Record<string, OpenApiMediaType>> => ({ 'application/json': { schema } });
const jsonAnswer = (description: string, schema: JsonSchema): OpenApiResponse => ({ description, content: json(schema) });
const body = (name: keyof typeof REQUESTS): OpenApiRequestBody => ({
  required: true,
  description: 'JSON. Unknown fields are refused (400).',
  content: json(ref('schemas', name)),
});

/** What every guarded operation may also answer, when the server has tokens set. */
const GUARDED = { '401': ref('responses', 'Unauthorized') } as const;
/** What any JSON body may earn, whatever the route. */
const BODY_ERRORS = {
  '400': ref('responses', 'BadRequest'),
  '413': ref('responses', 'PayloadTooLarge'),
  '415': ref('responses', 'UnsupportedMediaType'),
} as const;
const NOT_FOUND = { '404': ref('responses', 'NotFound') } as const;
const REDIS_DOWN = { '503': ref('responses', 'RedisUnavailable') } as const;

const TASK_ID: OpenApiRef = ref('parameters', 'task_id');

const submitted = jsonAnswer('The id of the task that will do the work: a new one, or an unfinished one of the same kind already covering the path', ref('schemas', 'Submitted'));

const removed = jsonAnswer('Removed (after cancelling it if it had not ended)', ref('schemas', 'Removed'));
/** Baricadr's answer to removing an unknown task carries `info` too; barique prints it whole. */
const REMOVE_NOT_FOUND = { '404': jsonAnswer('No such task', ref('schemas', 'RemoveNotFound')) } as const;

const SERVICE_DESCRIPTION = [
  'Hot/cold tiering: freeze deletes local copies of cold files the remote holds identically; pull brings files back.',
  'Wire-compatible with Baricadr, so barique works unchanged. Bodies are JSON, also on GET (barique sends them; the GET routes ignore them).',
  'Every error is `{"error": "…"}`: 4xx for the client\'s mistakes, 500 (`Internal error; see the server log`) for Glacis\'s, and 404 for a route that does not exist.',
  'Authentication is off unless the server sets API_TOKENS or API_TOKENS_FILE; then every route but /health and the web page at / needs a token,',
  'as a bearer token or as the password of HTTP basic auth (any user name). METRICS_TOKEN is accepted on /metrics only.',
].join(' ');

/**
 * The OpenAPI 3.1 document of the API served by `createApp`.
 *
 * @param options.version the version the API reports (`GET /version`).
 * @example
 * ```ts
 * const document = openApiDocument({ version: '0.1.0' });
 * app.get(OPENAPI_PATH, (_req, res) => { res.json(document); });
 * ```
 */
export function openApiDocument(options: { readonly version: string }): OpenApiDocument {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Glacis',
      version: options.version,
      description: SERVICE_DESCRIPTION,
      license: { name: 'MIT', identifier: 'MIT' },
    },
    tags: [
      { name: 'files', description: 'Pull, freeze and list the files of a repository' },
      { name: 'tasks', description: 'The tasks pull and freeze create' },
      { name: 'service', description: 'Version, route map, this document' },
      { name: 'operations', description: 'Probes, metrics, the queue board' },
    ],
    // `{}`: authentication is optional in the protocol; whether a token is required is the
    // server's setting (API_TOKENS), and a server that requires one answers 401 without.
    security: [{ bearerAuth: [] }, { basicAuth: [] }, {}],
    paths: {
      [WEB_PAGE_PATH]: {
        get: {
          operationId: 'webPage',
          summary: 'The web page: repositories, browsing, pull and freeze, tasks',
          description: 'One HTML file (script and style inlined), built by npm run build. Open: it holds no data, and asks for the token itself when the server has tokens.',
          tags: ['service'],
          security: [],
          responses: {
            '200': { description: 'The page', content: { 'text/html': { schema: { type: 'string' } } } },
            '404': { description: 'The page was not built (run npm run build)', content: json(ref('schemas', 'Error')) },
          },
        },
      },
      '/health': {
        get: {
          operationId: 'health',
          summary: 'Liveness: the process serves requests',
          description: 'Checks nothing else, so a Redis outage does not get the API restarted. Never needs a token.',
          tags: ['operations'],
          security: [],
          responses: { '200': jsonAnswer('Alive', ref('schemas', 'Health')) },
        },
      },
      '/ready': {
        get: {
          operationId: 'ready',
          summary: 'Readiness: Redis and the database answer',
          description: 'Answers within two seconds (each check gives up after 1.5 s).',
          tags: ['operations'],
          responses: {
            '200': jsonAnswer('Ready', ref('schemas', 'Ready')),
            '503': jsonAnswer('Not ready: says which dependency is unreachable', ref('schemas', 'NotReady')),
            ...GUARDED,
          },
        },
      },
      [METRICS_PATH]: {
        get: {
          operationId: 'metrics',
          summary: 'Prometheus metrics',
          description: 'The glacis_* metrics read the shared state, so every API process reports the same values. Also accepts METRICS_TOKEN.',
          tags: ['operations'],
          responses: {
            '200': {
              description: 'Prometheus text exposition format',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
            ...GUARDED,
          },
        },
      },
      [OPENAPI_PATH]: {
        get: {
          operationId: 'openapi',
          summary: 'This document',
          tags: ['service'],
          responses: { '200': jsonAnswer('The OpenAPI 3.1 document', { type: 'object' }), ...GUARDED },
        },
      },
      '/version': {
        get: {
          operationId: 'version',
          summary: 'The version of Glacis',
          tags: ['service'],
          responses: { '200': jsonAnswer('The version', ref('schemas', 'Version')), ...GUARDED },
        },
      },
      '/endpoints': {
        get: {
          operationId: 'endpoints',
          summary: 'Route map, as Baricadr\'s Flask app reports it',
          description: 'Route names to paths with Flask-style placeholders (`/tasks/status/<task_id>`): what barique reads to build its URLs.',
          tags: ['service'],
          responses: {
            '200': jsonAnswer('Route name → path', { type: 'object', additionalProperties: { type: 'string' } }),
            ...GUARDED,
          },
        },
      },
      ...submissionPaths(),
      '/list': {
        post: {
          operationId: 'list',
          summary: 'What the remote holds under a path',
          description: 'Files only (directories too with dirs), streamed as they are listed. A listing that fails midway is cut short, so the body does not parse as complete.',
          tags: ['files'],
          requestBody: body('ListRequest'),
          responses: {
            '200': jsonAnswer('The files', { type: 'array', items: ref('schemas', 'ListEntry') }),
            ...BODY_ERRORS,
            ...NOT_FOUND,
            '502': ref('responses', 'RemoteUnreadable'),
            ...GUARDED,
          },
        },
      },
      '/tree': {
        post: {
          operationId: 'tree',
          summary: 'What the remote holds under a path, with what is missing locally',
          tags: ['files'],
          requestBody: body('TreeRequest'),
          responses: {
            '200': jsonAnswer('The files', { type: 'array', items: ref('schemas', 'TreeEntry') }),
            ...BODY_ERRORS,
            ...NOT_FOUND,
            '502': ref('responses', 'RemoteUnreadable'),
            ...GUARDED,
          },
        },
      },
      '/repos': {
        get: {
          operationId: 'repos',
          summary: 'The repositories, their settings and their filesystems\' usage',
          description: 'What the web page shows. Never the remote\'s address nor a secret: only the kind of backend.',
          tags: ['files'],
          responses: { '200': jsonAnswer('The repositories', ref('schemas', 'Repos')), ...GUARDED },
        },
      },
      '/repos/{repo}/report': {
        get: {
          operationId: 'latestReport',
          summary: 'The latest finished report of a repository',
          description:
            'The repository as its local path, URL-encoded (/repos/%2Fdata%2Flab1/report). The latest finished report of the repository itself (a report of a directory in it does not count); 404 when the path is not a repository or it has none yet.',
          tags: ['files'],
          parameters: [{ name: 'repo', in: 'path', required: true, description: "The repository's local path, URL-encoded", schema: { type: 'string' } }],
          responses: { '200': jsonAnswer('The report', ref('schemas', 'Report')), ...NOT_FOUND, ...GUARDED },
        },
      },
      '/browse': {
        post: {
          operationId: 'browse',
          summary: 'One directory level: the remote listing merged with the local directory',
          description: 'Each entry local, frozen (remote only) or local_only (unprotected), with size, mtime and, when local, atime. 400 for a file or a path in no repository; 404 when neither side has the directory.',
          tags: ['files'],
          requestBody: body('BrowseRequest'),
          responses: {
            '200': jsonAnswer('The directory\'s entries', ref('schemas', 'Browse')),
            ...BODY_ERRORS,
            ...NOT_FOUND,
            '502': ref('responses', 'RemoteUnreadable'),
            ...GUARDED,
          },
        },
      },
      '/tasks': {
        get: {
          operationId: 'listTasks',
          summary: 'Tasks, oldest first (or newest first with order=desc)',
          tags: ['tasks'],
          parameters: taskListParameters(),
          responses: {
            '200': jsonAnswer('The tasks', { type: 'array', items: ref('schemas', 'Task') }),
            '400': ref('responses', 'BadRequest'),
            ...GUARDED,
          },
        },
      },
      '/tasks/status/{task_id}': {
        get: {
          operationId: 'showTask',
          summary: 'One task, with its progress while it runs',
          tags: ['tasks'],
          parameters: [TASK_ID],
          responses: { '200': jsonAnswer('The task', ref('schemas', 'TaskWithProgress')), ...NOT_FOUND, ...GUARDED },
        },
      },
      '/tasks/log/{task_id}': {
        get: {
          operationId: 'taskLog',
          summary: 'A task\'s log',
          tags: ['tasks'],
          parameters: [TASK_ID],
          responses: {
            '200': jsonAnswer('The log so far (empty before the task has written any)', ref('schemas', 'TaskLog')),
            ...NOT_FOUND,
            ...GUARDED,
          },
        },
      },
      '/tasks/events/{task_id}': {
        get: {
          operationId: 'taskEvents',
          summary: 'A task\'s events: what its log\'s lines say, as data, a page at a time',
          description:
            'What a program reads instead of parsing the log: each file placed, frozen, kept or unprotected under its whole name, the summary, the messages. Oldest first; page with after=last while more. A long log keeps only its first and last lines, so events in its middle are gone: counts are in the task record and its summary event.',
          tags: ['tasks'],
          parameters: [TASK_ID, ...queryParameters(taskEventsQuery, EVENTS_QUERY_DESCRIPTIONS)],
          responses: {
            '200': jsonAnswer('The events (none before the task has logged any)', ref('schemas', 'TaskEvents')),
            '400': ref('responses', 'BadRequest'),
            ...NOT_FOUND,
            ...GUARDED,
          },
        },
      },
      '/tasks/remove/{task_id}': {
        get: {
          operationId: 'removeTaskBaricadr',
          summary: 'Cancel a task if it has not ended, then delete it and its log (Baricadr\'s route)',
          tags: ['tasks'],
          parameters: [TASK_ID],
          responses: { '200': removed, ...REMOVE_NOT_FOUND, ...GUARDED, ...REDIS_DOWN },
        },
      },
      '/tasks/cancel/{task_id}': {
        post: {
          operationId: 'cancelTask',
          summary: 'Stop a waiting or running task, keeping its record (status cancelled)',
          description: 'A running task is stopped by its worker; the answer comes once its path is free (or after 8 seconds). Whoever the task mails is told.',
          tags: ['tasks'],
          parameters: [TASK_ID],
          responses: {
            '200': jsonAnswer('Cancelled', ref('schemas', 'Cancelled')),
            ...NOT_FOUND,
            '409': ref('responses', 'Conflict'),
            ...GUARDED,
            ...REDIS_DOWN,
          },
        },
      },
      '/tasks/retry/{task_id}': {
        post: {
          operationId: 'retryTask',
          summary: 'Submit a failed or cancelled task again: same type, path, dry_run, force and email',
          tags: ['tasks'],
          parameters: [TASK_ID],
          responses: { '200': submitted, ...NOT_FOUND, '409': ref('responses', 'Conflict'), ...GUARDED, ...REDIS_DOWN },
        },
      },
      '/tasks/{task_id}': {
        delete: {
          operationId: 'removeTask',
          summary: 'Cancel a task if it has not ended, then delete it and its log',
          description: 'A running task is stopped by its worker; the answer comes once its path is free (or after 8 seconds).',
          tags: ['tasks'],
          parameters: [TASK_ID],
          responses: { '200': removed, ...REMOVE_NOT_FOUND, ...GUARDED, ...REDIS_DOWN },
        },
      },
      '/zombie': {
        get: {
          operationId: 'cleanZombies',
          summary: 'Start the clean-up task: it marks failed the unfinished tasks no live job is behind, freeing their paths',
          description: 'As Baricadr: answers the id of a task of type zombie at once. Once it has finished, its files is the number of tasks marked failed and its log names each.',
          tags: ['tasks'],
          responses: {
            '200': submitted,
            ...GUARDED,
            ...REDIS_DOWN,
          },
        },
      },
      [BOARD_PATH]: {
        get: {
          operationId: 'queueBoard',
          summary: 'Bull Board: a read-only web view of the queues',
          description: `An HTML application; its pages, assets and JSON live under ${BOARD_PATH}/ and are not described here. Read-only: its changes answer 405. Cancel tasks with DELETE /tasks/{task_id}.`,
          tags: ['operations'],
          responses: {
            '200': { description: 'The board\'s page', content: { 'text/html': { schema: { type: 'string' } } } },
            ...GUARDED,
          },
        },
      },
    },
    components: {
      schemas: componentSchemas(),
      parameters: {
        task_id: {
          name: 'task_id',
          in: 'path',
          required: true,
          description: 'A task id, as returned by pull or freeze; an id that names no task gets 404',
          schema: { type: 'string' },
        },
      },
      responses: {
        BadRequest: errorResponse('Bad input: a missing, unknown or invalid field, a path in no repository, malformed JSON, a body that is not valid UTF-8'),
        NotFound: errorResponse('No such task, or the path does not exist on the remote'),
        Conflict: errorResponse('The task is not in a state that allows this: cancelling a task that has ended, retrying one that is not failed or cancelled'),
        Unauthorized: {
          ...errorResponse('A token is required (the server has API_TOKENS set) and none, or a wrong one, was sent'),
          headers: {
            'WWW-Authenticate': {
              description: 'Basic realm="Glacis", charset="UTF-8": lets a browser ask for it. Left out when the request has X-Requested-With (a script that asks for the token itself, as the web page does)',
              schema: { type: 'string' },
            },
          },
        },
        PayloadTooLarge: errorResponse('The body is over 1 MB'),
        UnsupportedMediaType: errorResponse('The body declares a charset Glacis does not read: send UTF-8'),
        RemoteUnreadable: errorResponse('The remote could not be read'),
        RedisUnavailable: errorResponse('Redis is unreachable; try again shortly (answered within two seconds)'),
      },
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'Authorization: Bearer <token>, a token from API_TOKENS or API_TOKENS_FILE (or METRICS_TOKEN on /metrics)',
        },
        basicAuth: {
          type: 'http',
          scheme: 'basic',
          description: 'HTTP basic auth with any user name and the token as password: what barique sends from its login and password',
        },
      },
    },
  };
}

function errorResponse(description: string): OpenApiResponse {
  return { description, content: json(ref('schemas', 'Error')) };
}
