/**
 * The REST API as the client sees it: one method per route, answers checked before use,
 * and every failure turned into a one-line {@link CliError} that says what to do.
 */
import { z } from 'zod';
import { listBody, treeBody } from '../../api/requests.js';
import { freezeBody } from '../../tasks/kinds/freeze.js';
import { pullBody } from '../../tasks/kinds/pull.js';
import { repoReportSchema } from '../../tasks/kinds/report-schema.js';
import type { RepoReport } from '../../tasks/kinds/report.js';
import type { Target } from './config.js';
import { cancelledReader, listEntryReader, removedReader, submittedReader, taskLogReader, taskReader, treeEntryReader, versionReader, type TaskReadJson } from '../../wire/index.js';
import { CliError, EXIT } from './exit.js';

const FULL_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Answers slower than this mean the server is not really there (listings are exempt: they stream). */
const REQUEST_TIMEOUT_MS = 30_000;

// The answers' shapes are the server's own (src/wire), read tolerantly: a newer server may add
// fields and task kinds.
const taskSchema = taskReader;
const submittedSchema = submittedReader;
const listEntrySchema = listEntryReader;
const treeEntrySchema = treeEntryReader;

/** A task as `GET /tasks/status/:id` shows it (Baricadr's fields, then Glacis's). */
export type TaskJson = TaskReadJson;
/** Live progress of a running task. */
export type ProgressJson = NonNullable<TaskReadJson['progress']>;
/** One `/list` entry: `Path`, plus rclone's fields with `full`. */
export type ListEntryJson = z.infer<typeof listEntrySchema>;
/** One `/tree` entry. */
export type TreeEntryJson = z.infer<typeof treeEntrySchema>;

/** `POST /pull`, as the server reads it (src/tasks/kinds/pull.ts). */
export type PullBody = z.input<typeof pullBody>;
/** `POST /freeze`, as the server reads it (src/tasks/kinds/freeze.ts). */
export type FreezeBody = z.input<typeof freezeBody>;
/** `POST /list`, as the server reads it (src/api/requests.ts). */
export type ListBody = z.input<typeof listBody>;
/** `POST /tree`, as the server reads it. */
export type TreeBody = z.input<typeof treeBody>;
/** `GET /tasks` filters (numbers here: the server reads them from the query string, src/api/requests.ts `taskListQuery`). */
export interface TaskQuery {
  readonly status?: string;
  readonly type?: string;
  readonly path?: string;
  readonly limit?: number;
  readonly offset?: number;
  readonly order?: 'asc' | 'desc';
  readonly id_prefix?: string;
}
/** What `POST /pull` and `/freeze` answer: the task, and whether it was an unfinished one the request joined. */
export type SubmittedJson = z.infer<typeof submittedSchema>;

/**
 * The server answered 401: no token, or not one it accepts (exit 3).
 *
 * @example
 * ```ts
 * if (error instanceof AuthError && error.tokenSent) console.error('wrong token');
 * ```
 */
export class AuthError extends CliError {
  constructor(
    message: string,
    /** Whether a token was sent (and refused), rather than none. */
    readonly tokenSent: boolean,
  ) {
    super(message, EXIT.unreachable);
  }
}

/**
 * @example
 * ```ts
 * const client = new GlacisClient({ url: 'http://127.0.0.1:9100', token: process.env.GLACIS_TOKEN });
 * const taskId = await client.pull({ path: '/data/lab1/raw' });
 * const task = await client.task(taskId);
 * ```
 */
export class GlacisClient {
  constructor(readonly target: Target) {}

  async version(): Promise<string> {
    return parseWith(versionReader, await this.json('GET', '/version'), '/version').version;
  }

  async pull(body: PullBody): Promise<SubmittedJson> {
    return parseWith(submittedSchema, await this.json('POST', '/pull', body), '/pull');
  }

  async freeze(body: FreezeBody): Promise<SubmittedJson> {
    return parseWith(submittedSchema, await this.json('POST', '/freeze', body), '/freeze');
  }

  /** `POST /report`: a report task of a repository or a directory in it. */
  async report(body: { readonly path: string }): Promise<SubmittedJson> {
    return parseWith(submittedSchema, await this.json('POST', '/report', body), '/report');
  }

  /** The report a finished report task computed. */
  async taskReport(taskId: string): Promise<RepoReport> {
    const answer = parseWith(z.looseObject({ report: repoReportSchema }), await this.json('GET', `/tasks/status/${encodeURIComponent(taskId)}`), '/tasks/status');
    return answer.report;
  }

  /** `GET /repos/<repo>/report`: the latest finished report of the whole repository. */
  async latestReport(repo: string): Promise<RepoReport> {
    return parseWith(repoReportSchema, await this.json('GET', `/repos/${encodeURIComponent(repo)}/report`), '/repos/…/report');
  }

  /** `POST /push` (same fields as `/freeze`). */
  async push(body: FreezeBody): Promise<SubmittedJson> {
    return parseWith(submittedSchema, await this.json('POST', '/push', body), '/push');
  }

  /** The entries one at a time, as the server streams them (a listing may be huge). */
  async *list(body: ListBody): AsyncGenerator<ListEntryJson> {
    for await (const item of this.streamArray('/list', body)) yield parseWith(listEntrySchema, item, '/list');
  }

  /** The raw JSON text of `/list`, chunk by chunk, for `--json` (nothing parsed or held). */
  async *listText(body: ListBody): AsyncGenerator<string> {
    const response = await this.send('POST', '/list', body, null);
    yield* this.readText(response);
  }

  async tree(body: TreeBody): Promise<TreeEntryJson[]> {
    const entries: TreeEntryJson[] = [];
    for await (const item of this.streamArray('/tree', body)) entries.push(parseWith(treeEntrySchema, item, '/tree'));
    return entries;
  }

  async tasks(query: TaskQuery = {}): Promise<TaskJson[]> {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) search.set(key, String(value));
    const suffix = search.size > 0 ? `?${search.toString()}` : '';
    return parseWith(z.array(taskSchema), await this.json('GET', `/tasks${suffix}`), '/tasks');
  }

  async task(taskId: string): Promise<TaskJson> {
    return parseWith(taskSchema, await this.json('GET', `/tasks/status/${encodeURIComponent(taskId)}`), '/tasks/status');
  }

  async log(taskId: string): Promise<string> {
    return parseWith(taskLogReader, await this.json('GET', `/tasks/log/${encodeURIComponent(taskId)}`), '/tasks/log').logs;
  }

  /** Cancels the task if it runs, then deletes it; returns the server's message. */
  async remove(taskId: string): Promise<string> {
    return parseWith(removedReader, await this.json('GET', `/tasks/remove/${encodeURIComponent(taskId)}`), '/tasks/remove').info;
  }

  /** Stops a waiting or running task, keeping its record (cancelled). */
  async cancel(taskId: string): Promise<void> {
    parseWith(cancelledReader, await this.json('POST', `/tasks/cancel/${encodeURIComponent(taskId)}`), '/tasks/cancel');
  }

  /** Submits a failed or cancelled task again; returns the id of the task that does it. */
  async retry(taskId: string): Promise<string> {
    return parseWith(submittedReader, await this.json('POST', `/tasks/retry/${encodeURIComponent(taskId)}`), '/tasks/retry').task;
  }

  /**
   * The full id of the task a person designates by the start of its id (as `git` takes
   * short hashes). A full id is taken as it is, unchecked: the route it is used on says
   * whether it exists.
   *
   * @throws CliError (exit 1) when no task, or more than one, has an id starting so.
   */
  async resolveTaskId(given: string): Promise<string> {
    const id = given.trim().toLowerCase();
    if (FULL_ID.test(id)) return id;
    if (!/^[0-9a-f-]{1,36}$/.test(id)) throw new CliError(`"${given}" is not a task id: expected the id, or its first characters (hex digits)`, EXIT.usage);
    const found = await this.tasks({ id_prefix: id, limit: 3 });
    if (found.length === 1) return found[0]!.task_id;
    if (found.length === 0) throw new CliError(`no task id starts with "${id}": see "glacis task list"`, EXIT.failure);
    throw new CliError(`"${id}" is ambiguous: it starts the ids of ${found.length > 2 ? 'several tasks' : 'two tasks'} (${found.slice(0, 2).map((t) => t.task_id).join(', ')}${found.length > 2 ? ', …' : ''}); give more characters`, EXIT.failure);
  }

  /** Starts the clean-up task that marks failed the tasks no live job is behind; returns its id. */
  async zombies(): Promise<string> {
    return parseWith(submittedReader, await this.json('GET', '/zombie'), '/zombie').task;
  }

  private async json(method: 'GET' | 'POST', route: string, body?: unknown): Promise<unknown> {
    const response = await this.send(method, route, body, REQUEST_TIMEOUT_MS);
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw this.unreachable(error);
    }
    return this.parseJson(response, text);
  }

  private async *streamArray(route: string, body: unknown): AsyncGenerator<unknown> {
    const response = await this.send('POST', route, body, null);
    yield* jsonArrayItems(this.readText(response), `${this.target.url}${route}`);
  }

  private async *readText(response: Response): AsyncGenerator<string> {
    if (!response.body) return;
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body) yield decoder.decode(chunk as Uint8Array, { stream: true });
    } catch {
      // The server cuts the body when the remote fails mid-listing, so it cannot pass as complete.
      throw new CliError(`the server stopped the listing midway (the remote failed?): see the server's log`, EXIT.failure);
    }
    const rest = decoder.decode();
    if (rest) yield rest;
  }

  /** Sends the request; answers with an error status become CliErrors here. */
  private async send(method: 'GET' | 'POST', route: string, body: unknown, timeoutMs: number | null): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.target.token) headers.authorization = `Bearer ${this.target.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(this.target.url + route, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(timeoutMs === null ? {} : { signal: AbortSignal.timeout(timeoutMs) }),
      });
    } catch (error) {
      throw this.unreachable(error);
    }
    if (response.ok) return response;
    const text = await response.text().catch(() => '');
    const message = errorMessageOf(text);
    if (response.status === 401) {
      const where = this.target.name ? `server "${this.target.name}" (${this.target.url})` : this.target.url;
      const init = this.target.name ? `glacis init --name ${this.target.name}` : 'glacis init';
      throw new AuthError(
        this.target.token
          ? `${where} refused the token: run "${init}" to save the right one, or set GLACIS_TOKEN`
          : `${where} requires a token: run "${init}" to save one, or set GLACIS_TOKEN`,
        this.target.token !== undefined,
      );
    }
    if (message === undefined) throw this.notGlacis(response);
    if (response.status === 404 && message.startsWith('No route for')) {
      throw new CliError(`${this.target.url} has no ${route} route: is the URL the server's root, and is it a Glacis of this version?`, EXIT.unreachable);
    }
    if (response.status === 503) throw new CliError(`${this.target.url} cannot serve right now: ${message}`, EXIT.unreachable);
    if (response.status >= 500) throw new CliError(`the server failed: ${message} (see its log)`, EXIT.failure);
    throw new CliError(message, EXIT.failure);
  }

  private parseJson(response: Response, text: string): unknown {
    try {
      return JSON.parse(text);
    } catch {
      throw this.notGlacis(response);
    }
  }

  private notGlacis(response: Response): CliError {
    const type = response.headers.get('content-type')?.split(';')[0] ?? 'no content type';
    return new CliError(`${this.target.url} did not answer like a Glacis server (HTTP ${response.status}, ${type}): is the URL right?`, EXIT.unreachable);
  }

  private unreachable(error: unknown): CliError {
    const code = errorCode(error);
    const url = this.target.url;
    const host = new URL(this.target.url).hostname;
    const why =
      code === 'ECONNREFUSED'
        ? 'is "glacis serve" running?'
        : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
          ? `no such host "${host}": check the URL (glacis init)`
          : code === 'TimeoutError' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT'
            ? 'no answer in time: is the URL right, and is the server up?'
            : code.startsWith('ERR_TLS') || code.includes('SSL') || code.includes('CERT')
              ? `TLS failed (${code}): check the URL and the server's certificate`
              : `${code}: is the URL right, and is "glacis serve" running?`;
    return new CliError(`cannot reach ${url}: ${why}`, EXIT.unreachable);
  }
}

function errorMessageOf(text: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { error?: unknown }).error === 'string') return (parsed as { error: string }).error;
  } catch {
    // not JSON: not a Glacis answer
  }
  return undefined;
}

/** The most specific code of a fetch failure: undici wraps the socket error as `cause`. */
function errorCode(error: unknown): string {
  for (let current: unknown = error; current instanceof Error; current = (current as { cause?: unknown }).cause) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    if (current.name === 'TimeoutError') return 'TimeoutError';
    if ((current as { cause?: unknown }).cause === undefined) return current.message;
  }
  return String(error);
}

function parseWith<T extends z.ZodType>(schema: T, value: unknown, route: string): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw new CliError(`unexpected answer from ${route}: is the server a Glacis of the same version as this client?`, EXIT.failure);
  return result.data;
}

/**
 * The elements of a streamed JSON array, parsed one at a time as their text completes, so a
 * listing of millions of files is never held whole.
 *
 * @param where names the source in the error thrown when the array is cut short.
 * @example
 * ```ts
 * for await (const entry of jsonArrayItems(textChunks, 'http://127.0.0.1:9100/list')) console.log(entry);
 * ```
 */
export async function* jsonArrayItems(chunks: AsyncIterable<string>, where: string): AsyncGenerator<unknown> {
  let depth = 0;
  let inString = false;
  let escaped = false;
  let ended = false;
  let pending = '';
  for await (const text of chunks) {
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (c === '\\') escaped = true;
        else if (c === '"') inString = false;
        continue;
      }
      if (c === '"') inString = true;
      else if (c === '[' || c === '{') {
        depth++;
        if (depth === 1) start = i + 1;
      } else if (c === ']' || c === '}') {
        depth--;
        if (depth === 0) {
          const last = pending + text.slice(start, i);
          if (last.trim() !== '') yield JSON.parse(last);
          pending = '';
          ended = true;
        }
      } else if (c === ',' && depth === 1) {
        yield JSON.parse(pending + text.slice(start, i));
        pending = '';
        start = i + 1;
      }
    }
    if (depth > 0) pending += text.slice(start);
  }
  if (!ended || depth !== 0) throw new CliError(`the answer from ${where} was cut short: try again, or see the server's log`, EXIT.failure);
}
