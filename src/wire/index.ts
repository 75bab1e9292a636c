/**
 * The API's wire shapes, written once: what the server answers, as zod schemas. The app types
 * its answers by them (src/api/app.ts, web-json.ts), the OpenAPI document is generated from
 * them (src/api/openapi.ts, which names the registry's kinds and statuses and each kind's
 * result field: {@link documentedTaskSchemas}), the command's client reads answers with them
 * (src/cli/client/http.ts) and the web page takes its types from them (web/src/api.ts, types
 * only: no zod in the page).
 *
 * No express and no node-only import here, even through types (test/architecture.test.ts):
 * the page's bundle and any client may import it. So the kinds are strings here: the registry
 * (src/tasks/registry.ts) imports the workers.
 */
import { z } from 'zod';
import type { RemoteSpec } from '../config/types.js';
import type { TaskOrigin } from '../store/vocabulary.js';

const TASK_ORIGINS = Object.keys({ user: true, schedule: true, watermark: true } satisfies Record<TaskOrigin, true>) as [TaskOrigin, ...TaskOrigin[]];
const timestamp = z
  .string()
  .regex(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/)
  .meta({ description: 'RFC 1123 in GMT, to the second, as Baricadr writes dates: Tue, 01 Dec 2026 09:19:39 GMT', examples: ['Tue, 01 Dec 2026 09:19:39 GMT'] });
/** Glacis's own routes (not Baricadr's) write times as ISO 8601 in UTC. */
const isoTimestamp = z.string().meta({ format: 'date-time', description: 'ISO 8601, UTC' });
const count = z.int().min(0);

export const progressSchema = z
  .strictObject({
    percent: z.number().min(0).max(100).describe('Percent done (pull: of the bytes, or of the files when they are all empty)'),
    bytes: count.describe('Bytes transferred (pull) or freed (freeze) so far'),
    totalBytes: count.describe('Bytes to transfer; 0 for freeze, which cannot know in advance'),
    files: count.describe('Files placed (pull) or frozen (freeze) so far'),
    totalFiles: count.describe('Files to transfer; 0 for freeze'),
    currentFile: z.string().optional().describe('The file being transferred'),
    speed: z.number().min(0).optional().describe('Transfer rate in bytes per second, as rclone reports it'),
  })
  .describe('What the worker last reported of a running task (every second while it runs)');

/**
 * A task as the API shows it: Baricadr's fields, then Glacis's. `taskJson` in src/api/app.ts is
 * typed by it, so a field added there and not here fails to compile.
 *
 * @example
 * ```ts
 * const wire: TaskJson = { task_id: id, type: 'pull', path: '/data/lab1/raw', status: 'waiting', … };
 * ```
 */
export const taskSchema = z
  .strictObject({
    task_id: z.string().meta({ format: 'uuid', description: 'The task id, as returned when it was submitted' }),
    type: z.string().describe('The kind: pull, freeze, …, or zombie: the clean-up GET /zombie starts'),
    path: z.string().describe('The absolute path the task works on (normalised)'),
    status: z.string().describe('waiting (queued, or held back by an overlapping task) → started → the kind\'s running status → finished | failed | cancelled'),
    created: timestamp,
    started: timestamp.nullable(),
    finished: timestamp.nullable(),
    error: z.string().nullable().describe('Why the task failed or was cancelled'),
    dry_run: z.boolean().describe('Nothing is copied nor deleted; files and bytes say what would be'),
    force: z.boolean().describe('Freeze ignored freeze_age (never the other rules)'),
    origin: z.enum(TASK_ORIGINS).describe('user: through the API; schedule: an auto-freeze; watermark: a freeze of the least recently read files, the disk being above high_watermark'),
    email: z.string().nullable().describe('Who is mailed when the task ends'),
    files: count.nullable().describe('Files pulled or frozen (or that would be, for a dry run); null until the task ends'),
    bytes: count.nullable().describe('Bytes pulled or freed (or that would be, for a dry run); null until the task ends'),
    unprotected: count
      .nullable()
      .describe('Freeze: cold files kept because the remote lacks them or holds them differently (data that exists only locally)'),
  })
  .describe('A pull or freeze task');

/**
 * The wire shape of a task.
 *
 * @example
 * ```ts
 * function show(task: TaskJson): string { return `${task.task_id} ${task.status}`; }
 * ```
 */
export type TaskJson = z.output<typeof taskSchema>;

export const taskStatusSchema = taskSchema
  .extend({
    progress: progressSchema.optional().describe('Present while the task runs, once its worker has reported'),
    waiting_for: z
      .array(z.string().meta({ format: 'uuid' }))
      .optional()
      .describe('Present while the task waits: the unfinished overlapping tasks it lets end first; empty: it waits for a free worker'),
  })
  .describe('A task, with its live progress while it runs');

/**
 * The wire shape of `GET /tasks/status/:task_id`: a task, with its progress while it runs.
 *
 * @example
 * ```ts
 * const eta = (t: TaskStatusJson) => t.progress?.speed ? (t.progress.totalBytes - t.progress.bytes) / t.progress.speed : undefined;
 * ```
 */
export type TaskStatusJson = z.output<typeof taskStatusSchema>;

export const listEntrySchema = z
  .strictObject({
    Path: z.string().describe('Relative to the asked path (to the repository root with from_root); a symlink by its local name, without rclone\'s .rclonelink'),
    Name: z.string().optional().describe('As rclone names it on the remote (a symlink keeps .rclonelink here, as in Baricadr)'),
    Size: z.int().optional().describe('Bytes'),
    ModTime: z.string().optional().describe('Modification time on the remote, RFC 3339'),
    IsDir: z.boolean().optional(),
    MimeType: z.string().optional().describe('As rclone reports it (text/plain; charset=utf-8)'),
    Hashes: z.record(z.string(), z.string()).optional().describe('Hashes the remote knows, by name (md5, sha1, …)'),
  })
  .describe('A file on the remote; with full, also rclone lsjson\'s other fields');

export const treeEntrySchema = z
  .strictObject({
    Path: z.string().describe('Relative to the asked path'),
    missing: z.boolean().describe('Not present locally: a pull would bring it back'),
  })
  .describe('A file on the remote, and whether it is missing locally');

const BACKENDS = Object.keys({ sftp: true, s3: true, local: true, rclone: true } satisfies Record<RemoteSpec['backend'], true>) as [
  RemoteSpec['backend'],
  ...RemoteSpec['backend'][],
];

const filesystemSchema = z
  .strictObject({
    size: count.describe('Bytes of the filesystem'),
    used: count.describe('Bytes used'),
    free: count.describe('Bytes available to unprivileged users (what a pull may fill)'),
  })
  .describe('The filesystem holding the repository\'s local tree, as df counts it');

const repoSchema = z
  .strictObject({
    path: z.string().describe('The repository\'s local path'),
    backend: z.enum(BACKENDS).describe('The kind of remote (its address and credentials are never shown)'),
    freezable: z.boolean(),
    freeze_age: z.int().describe('Days since last access after which a file may be frozen'),
    exclude: z.array(z.string()).describe('Patterns never pulled nor frozen'),
    auto_freeze: z.boolean(),
    auto_freeze_interval: z.int().describe('Days between auto-freezes (when auto_freeze_cron is null)'),
    auto_freeze_cron: z.string().nullable().describe('Cron expression of the auto-freezes, replacing the interval'),
    report_cron: z.string().nullable().describe('Cron expression of the scheduled reports; null: none'),
    high_watermark: z.number().min(0).max(100).nullable().describe('Percent of the filesystem above which a watermark freeze starts; null: no watermarks'),
    low_watermark: z.number().min(0).max(100).nullable().describe('Percent of the filesystem a watermark freeze brings usage down to; null: no watermarks'),
    filesystem: filesystemSchema.nullable().describe('Null when the local tree cannot be read'),
    frozen: z
      .strictObject({ files: count, bytes: count })
      .describe('Files frozen (deleted locally by a freeze, held by the remote alone) and not pulled back since, as the catalogue counts them'),
  })
  .describe('A repository: its settings, never its remote\'s address or secrets');

/**
 * The answer of `GET /repos`.
 *
 * @example
 * ```ts
 * const answer: ReposJson = { repos: [{ path: '/data/lab1', backend: 'sftp', freezable: true, … }] };
 * ```
 */
export const reposSchema = z.strictObject({ repos: z.array(repoSchema) }).describe('Every repository, in the repos file\'s order');

/** The wire shape of `GET /repos`. */
export type ReposJson = z.output<typeof reposSchema>;

const browseEntrySchema = z
  .strictObject({
    name: z.string().describe('Its local name (a symlink stored as name.rclonelink is shown as name)'),
    is_dir: z.boolean(),
    state: z.enum(['local', 'frozen', 'local_only']).describe('local: here and on the remote; frozen: on the remote only (a pull brings it back); local_only: not on the remote (unprotected)'),
    size: count.nullable().describe('Bytes (the local file\'s when local); null for a directory'),
    mtime: isoTimestamp.nullable().describe('Modification time (the local file\'s when local); null for a directory on the remote only'),
    atime: isoTimestamp.nullable().describe('Last access, when local'),
  })
  .describe('One entry of a browsed directory');

/**
 * The answer of `POST /browse`.
 *
 * @example
 * ```ts
 * const answer: BrowseJson = { path: '/data/lab1/runs', repo: '/data/lab1', entries: [{ name: 'r1', is_dir: true, state: 'frozen', … }] };
 * ```
 */
export const browseSchema = z
  .strictObject({
    path: z.string().describe('The directory, normalised'),
    repo: z.string().describe('The repository holding it'),
    entries: z.array(browseEntrySchema).describe('Directories first, then files, each by name; at most the first 5,000'),
    total: count.describe('How many entries the directory holds: more than entries holds when the answer was cut at 5,000 (POST /list streams them all)'),
  })
  .describe('One directory level: the remote\'s listing merged with the local directory');

/** The wire shape of `POST /browse`. */
export type BrowseJson = z.output<typeof browseSchema>;

export const errorSchema = z.strictObject({ error: z.string() }).describe('Every error answer');

/**
 * What the document says of a task once the kinds are known: `type` and `status` as the
 * registry's lists, and each kind's result under its `resultField`.
 */
export interface TaskVocabulary {
  readonly kinds: readonly string[];
  readonly statuses: readonly string[];
  /** The statuses between `started` and the end: each kind's running status (`pulling | freezing`). */
  readonly runningPhases: readonly string[];
  /** `schema`: the result's shape when the kind declares one (else any JSON). */
  readonly resultFields: readonly { readonly field: string; readonly kind: string; readonly schema?: z.ZodType }[];
}

/**
 * {@link taskSchema} and {@link taskStatusSchema} with the kinds' names, statuses and result
 * fields: what /openapi.json documents.
 *
 * @example
 * ```ts
 * const { task, taskStatus } = documentedTaskSchemas({ kinds: ['pull'], statuses: ['waiting', 'finished'], runningPhases: [], resultFields: [] });
 * ```
 */
export function documentedTaskSchemas(vocabulary: TaskVocabulary): { task: z.ZodType; taskStatus: z.ZodType } {
  const named = {
    type: z.enum(vocabulary.kinds as [string, ...string[]]).describe(taskSchema.shape.type.description ?? ''),
    status: z
      .enum(vocabulary.statuses as [string, ...string[]])
      .describe(`waiting (queued, or held back by an overlapping task) → started → ${vocabulary.runningPhases.join(' | ')} → finished | failed | cancelled`),
  };
  const results = Object.fromEntries(
    // A kind without a result schema: an object, not z.json(), whose recursive schema came out as an
    // unresolvable `__shared#/$defs` reference once a real kind (freeze) had a resultField (test/api/openapi.test.ts).
    vocabulary.resultFields.map(({ field, kind, schema }) => [field, (schema ?? z.looseObject({})).optional().describe(`A ${kind} task's result, once it has one`)]),
  );
  return {
    task: taskSchema.extend(named).describe(taskSchema.description ?? ''),
    taskStatus: taskStatusSchema.extend({ ...named, ...results }).describe(taskStatusSchema.description ?? ''),
  };
}

/**
 * What `POST /pull` and `POST /freeze` answer: Baricadr's `{"task": id}`; `joined` (Glacis's)
 * only when the request joined an unfinished task, so a new task's answer is Baricadr's exactly.
 */
export const submittedSchema = z
  .strictObject({
    task: z.string().meta({ format: 'uuid' }),
    joined: z.literal(true).optional().describe('Present (Glacis\'s addition) when the task is an unfinished one the request joined'),
  })
  .describe('The id of the task that will do the work: a new one, or an unfinished one of the same kind already covering the path');

/** The wire shape of a submission's answer. */
export type SubmittedJson = z.output<typeof submittedSchema>;

/** What `GET /version` answers. */
export const versionSchema = z.strictObject({ version: z.string() }).describe('The version of Glacis');
export type VersionJson = z.output<typeof versionSchema>;

/** What `GET /health` answers. */
export const healthSchema = z.strictObject({ status: z.literal('ok') }).describe('Alive');
export type HealthJson = z.output<typeof healthSchema>;

/** What `GET /ready` answers when Redis and the database answer. */
export const readySchema = z.strictObject({ ready: z.literal(true), redis: z.literal(true), database: z.literal(true) }).describe('Ready');
export type ReadyJson = z.output<typeof readySchema>;

/** What `GET /ready` answers (503) when one of them does not. */
export const notReadySchema = z
  .strictObject({ error: z.string(), redis: z.boolean(), database: z.boolean() })
  .describe('Not ready: says which dependency is unreachable');
export type NotReadyJson = z.output<typeof notReadySchema>;

/** What `GET /tasks/log/<id>` answers: the log's text, as Baricadr's route did. */
export const taskLogSchema = z.strictObject({ logs: z.string().describe('One line an event, each after its ISO 8601 time') }).describe('The log so far (empty before the task has written any)');
export type TaskLogJson = z.output<typeof taskLogSchema>;

/** What removing a task answers (Baricadr's shape: `info` and `error` on both outcomes; barique prints it whole). */
export const removedSchema = z
  .strictObject({ info: z.string().describe('Task <id> removed.'), error: z.literal('').describe('Always empty, as in Baricadr') })
  .describe('Removed (after cancelling it if it had not ended)');
export type RemovedJson = z.output<typeof removedSchema>;

/** What removing an unknown task answers (Baricadr's shape). */
export const removeNotFoundSchema = z.strictObject({ error: z.string(), info: z.literal('') }).describe('No such task');
export type RemoveNotFoundJson = z.output<typeof removeNotFoundSchema>;

/** What `POST /tasks/cancel/<id>` answers. */
export const cancelledSchema = z.strictObject({ task: z.string().meta({ format: 'uuid' }), status: z.literal('cancelled') }).describe('Cancelled');
export type CancelledJson = z.output<typeof cancelledSchema>;

/** The wire shape of a running task's progress. */
export type ProgressJson = z.output<typeof progressSchema>;

/**
 * One event of a task's log (the store's vocabulary, src/store/task-events.ts, in the wire's
 * snake_case): what a program or the web page reads instead of parsing log lines, where a file
 * named `a: b.txt` read as the file `a` (test/api/task-events.test.ts). The kinds are literals
 * here (the wire imports nothing from the store but its words); src/api/task-events-json.ts maps
 * every stored kind onto one of them, so a new kind fails to compile until it is added here.
 */
const eventBase = {
  seq: z.int().min(1).describe('Its number in the task\'s log, increasing (not contiguous): pass the last one seen as after to read on'),
  time: isoTimestamp,
  level: z.enum(['info', 'warn', 'error']),
  text: z.string().describe('Its line in the task\'s log (GET /tasks/log), without the time'),
};
const eventPath = z.string().describe('The file, relative to the repository: the whole name, whatever characters it holds');
const eventBytes = z.int().describe('Its size in bytes (-1: the remote listed it without one)');
const eventReason = (reasons: string) => z.string().describe(`Why, as a word: ${reasons}`);
const eventWhy = z.string().describe('Why, in words, as the log line says it');
const dryRun = z.boolean().describe('A dry run: would be, not was');

export const taskEventSchema = z
  .union([
    z.strictObject({ ...eventBase, kind: z.literal('message') }).describe('Free text: a task started or failed, a note, a line of rclone\'s'),
    z.strictObject({ ...eventBase, kind: z.literal('placed'), path: eventPath, bytes: eventBytes, dry_run: dryRun }).describe('A pulled file linked into place'),
    z.strictObject({ ...eventBase, kind: z.literal('frozen'), path: eventPath, bytes: eventBytes, dry_run: dryRun }).describe('A local file a freeze deleted, safe on the remote'),
    z
      .strictObject({ ...eventBase, kind: z.literal('pushed'), path: eventPath, bytes: eventBytes, replaced: z.boolean().describe('The remote held another copy, kept as a version first'), dry_run: dryRun })
      .describe('A local file a push put on the remote'),
    z
      .strictObject({ ...eventBase, kind: z.literal('held'), path: eventPath, reason: eventReason('emptied, shrank'), bytes: eventBytes, remote_bytes: count.describe('The size of the remote copy it would have replaced'), why: eventWhy })
      .describe('A local file a push did not copy: it became empty or shrank by more than push_shrink_limit against its remote copy'),
    z
      .strictObject({ ...eventBase, kind: z.literal('kept'), path: eventPath, reason: eventReason('changed-remote, changed-locally, appeared-locally, outside-repository'), why: eventWhy })
      .describe('A file the task was about to act on and left as it was'),
    z
      .strictObject({ ...eventBase, kind: z.literal('unprotected'), path: eventPath, reason: eventReason('missing-remote, differs, newer-locally, unverifiable, ambiguous'), why: eventWhy })
      .describe('A cold file a freeze kept because the remote does not hold it identically: data only here'),
    z
      .strictObject({ ...eventBase, kind: z.literal('summary'), of: z.literal('pull'), dry_run: dryRun, files: count, bytes: count, kept: count.describe('Files brought that stayed out of place') })
      .describe('What a pull did, at its end'),
    z
      .strictObject({
        ...eventBase,
        kind: z.literal('summary'),
        of: z.literal('freeze'),
        dry_run: dryRun,
        files: count,
        bytes: count,
        kept: z.record(z.string(), count).describe('Files kept, by reason (recent, excluded, missing-remote, …)'),
        unprotected: count,
        freeze_age_days: count,
        force: z.boolean(),
      })
      .describe('What a freeze did, at its end'),
  ])
  .describe('One event of a task\'s log');

/** The wire shape of one task event. */
export type TaskEventJson = z.output<typeof taskEventSchema>;

/**
 * The answer of `GET /tasks/events/:task_id`: one page of the task's events, in order.
 *
 * @example
 * ```ts
 * let after = 0;
 * for (;;) {
 *   const page: TaskEventsJson = await (await fetch(`/tasks/events/${id}?kinds=kept&after=${after}`)).json();
 *   for (const event of page.events) show(event);
 *   if (!page.more) break;
 *   after = page.last;
 * }
 * ```
 */
export const taskEventsSchema = z
  .strictObject({
    events: z.array(taskEventSchema),
    last: count.describe('The seq of the last event answered (after, when none was): pass it as after to read on'),
    more: z.boolean().describe('More events of these kinds were already logged after last; false: none yet (a running task may log more)'),
  })
  .describe('A page of a task\'s events, oldest first');

/** The wire shape of `GET /tasks/events/:task_id`. */
export type TaskEventsJson = z.output<typeof taskEventsSchema>;

// ---------------------------------------------------------------------------------------------
// Reading answers: the same shapes, tolerant of what a newer server may add

/**
 * A task as a client reads it: the server's shape, but unknown fields (a kind's result),
 * origins and any kind or status are let through, and only Baricadr's first four fields
 * are required, so a client keeps working against a newer server or an older one.
 *
 * @example
 * ```ts
 * const task = taskReader.parse(await (await fetch(`${url}/tasks/status/${id}`)).json());
 * ```
 */
export const taskReader = taskStatusSchema
  .extend({
    origin: z.string(),
    progress: progressSchema.loose().optional(),
  })
  .partial()
  .required({ task_id: true, type: true, path: true, status: true })
  .loose();

/** A task as a client reads it (see {@link taskReader}). */
export type TaskReadJson = z.output<typeof taskReader>;

/** A submission's answer as a client reads it. */
export const submittedReader = submittedSchema.extend({ joined: z.boolean().optional() }).loose();
/** `GET /version` as a client reads it. */
export const versionReader = versionSchema.loose();
/** `GET /tasks/log/<id>` as a client reads it. */
export const taskLogReader = taskLogSchema.loose();
/** A removal's answer as a client reads it. */
export const removedReader = removedSchema.extend({ error: z.string() }).loose();
/** A cancellation's answer as a client reads it. */
export const cancelledReader = cancelledSchema.extend({ status: z.string() }).loose();
/** One `POST /list` entry as a client reads it. */
export const listEntryReader = listEntrySchema.loose();
/** One `POST /tree` entry as a client reads it. */
export const treeEntryReader = treeEntrySchema.loose();
