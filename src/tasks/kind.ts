/**
 * What a kind of task is: one {@link TaskKindDefinition} per kind, each in its own file
 * under src/tasks/kinds/, listed once in ./registry.ts. The runner, the API, the OpenAPI
 * document, the metrics, the CLI, the board and the mails read the registry; adding a kind
 * is its file plus one registry line.
 *
 * This file is the contract between a kind and everything else: it imports only low
 * layers (config, store, queue, rclone types).
 */
import type { z } from 'zod';
import type { Repo } from '../config/types.js';
import type { AtimeSupport } from '../freeze/atime.js';
import type { TaskJobData, TaskProgress } from '../queue/task-queue.js';
import type { Rclone } from '../rclone/index.js';
import type { FrozenCatalogue } from '../store/catalogue.js';
import type { TaskLogWriter } from '../store/task-logs.js';
import type { JsonValue } from '../store/types.js';

/** A JSON value, as a kind's result is stored and answered (the store's one definition). */
export type { JsonValue };

/** What a kind's run gets: the facts and the outside systems it may use, nothing else. */
export interface TaskRunContext {
  readonly task: TaskJobData;
  /** The configured repository holding `task.path`. */
  readonly repo: Repo;
  readonly rclone: Rclone;
  /** The task's own log (secrets removed by the caller's redaction before anything is written). */
  readonly log: TaskLogWriter;
  /** Aborted on cancel, shutdown or a lost job lock: stop, leave nothing partial under a final name. */
  readonly signal: AbortSignal;
  /** Live progress, for `GET /tasks/status` and the CLI's `--wait`. */
  readonly progress: (progress: TaskProgress) => void;
  /** Moves the record from `started` to the kind's {@link TaskKindDefinition.runningStatus}, once the real work begins. */
  readonly enterRunning: () => Promise<void>;
  /** Whether atime moves in the repo (tested at worker start; undefined when not tested). */
  readonly atime: AtimeSupport | undefined;
  /** The catalogue of frozen files (issue 16 §1): freeze records what it deleted, pull removes what it placed, report checks it. */
  readonly catalogue: FrozenCatalogue;
  /**
   * Mails `MAIL_ADMIN` at once, outside the task's end-of-task mails (the report's loss
   * alert); resolves once queued, never rejects. A no-op when mail is off.
   */
  readonly alert: (alert: AdminAlert) => Promise<void>;
}

/** A message for the administrators, composed by the kind (plain text, secrets already absent). */
export interface AdminAlert {
  readonly subject: string;
  readonly text: string;
}

/** What a run returns: the record's counters, and the kind's own result (stored as JSON). */
export interface TaskRunResult {
  /** Files the task acted on (or would, in a dry run). */
  readonly files: number;
  /** Bytes it acted on (or would). */
  readonly bytes: number;
  /** Cold files the remote does not hold identically (freeze kinds). */
  readonly unprotected?: number;
  /** The kind's result, answered under {@link TaskKindDefinition.resultField}. */
  readonly result?: JsonValue;
}

/** How people are told about a kind: mails, the CLI, the page. */
export interface TaskKindWords {
  /** `pull`: the verb. */
  readonly verb: string;
  /** `pulling`. */
  readonly ing: string;
  /** `pulled`. */
  readonly ed: string;
  /** What `bytes` means on a finished record: `transferred`, `freed`. */
  readonly bytesMeaning: string;
}

/** What a submission route hands the task service, once its body is parsed. */
export interface TaskSubmitFields {
  /** Checked by src/paths (the service answers a missing one with Baricadr's `Missing "path"`). */
  readonly path: unknown;
  readonly email?: unknown;
  readonly dryRun?: boolean;
  readonly force?: boolean;
}

/**
 * A kind's own submission route, `POST <path>`: the API mounts it and the OpenAPI document
 * describes it from here, so a new kind needs no edit of src/api (test/tasks/registry.test.ts).
 * The body's schemas come from src/api/fields.ts (no express here).
 */
export interface TaskSubmission {
  /** `/pull`, `/freeze`: also the route's name in `GET /routes` (without the slash). */
  readonly path: `/${string}`;
  /** A zod strict object: what the route accepts, refused with a 400 naming the field otherwise. */
  readonly body: z.ZodObject;
  /** The parsed body as the task service's request. Method syntax: each kind narrows `body` to its schema's output. */
  toRequest(body: Record<string, unknown>): TaskSubmitFields;
  /** For the OpenAPI document. */
  readonly doc: {
    /** The request body's name under `components.schemas` (`PullRequest`). */
    readonly schemaName: string;
    readonly title: string;
    readonly summary: string;
    readonly description: string;
    /** One description per body field. */
    readonly fields: Readonly<Record<string, string>>;
  };
}

export interface TaskKindDefinition {
  /** The `type` on the wire and in the store: Baricadr's `pull` and `freeze` stay. */
  readonly name: string;
  /** The status a running task of this kind shows once its work begins (Baricadr's `pulling`, `freezing`). */
  readonly runningStatus: string;
  readonly words: TaskKindWords;
  /** Only `push` may write the remote; every other kind is held to a read-only remote by tests. */
  readonly writesRemote: boolean;
  /** Why this kind may not run in `repo` (for instance freeze where `freezable: false`), or undefined when it may. */
  readonly refusedIn?: (repo: Repo) => string | undefined;
  /** Where {@link TaskRunResult.result} is answered in `GET /tasks/status` (for instance `report`). */
  readonly resultField?: string;
  /** The result's wire shape, for the OpenAPI document (absent: any JSON). */
  readonly resultSchema?: z.ZodType;
  /**
   * The work itself, run by a worker from the queue. Absent for kinds the API runs itself
   * (`zombie`, the clean-up `GET /zombie` records).
   */
  readonly run?: (context: TaskRunContext) => Promise<TaskRunResult>;
  /** `POST` route submitting a task of this kind (absent: none, as zombie's, started by `GET /zombie`). */
  readonly submit?: TaskSubmission;
  /** True when its end mails nobody, whoever asked (zombie, the clean-up). */
  readonly mailsNobody?: boolean;
  /**
   * A `/metrics` gauge of the bytes its finished tasks acted on (dry runs left out), for
   * instance `glacis_pulled_bytes`; absent: none.
   */
  readonly metricsBytes?: { readonly name: string; readonly help: string };
}
