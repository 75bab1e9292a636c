/**
 * The page's only way to the server: the public REST API, same origin, with the token (when
 * the user gave one) as a bearer header. The token lives in sessionStorage: asked once, kept
 * for the tab, never put in a URL.
 */
import { ENDED_STATUSES } from '../../src/store/vocabulary.js';
import type { BrowseJson, ReposJson, TaskEventJson, TaskEventsJson, TaskJson, TaskStatusJson } from '../../src/wire/index.js';

export type { BrowseJson, ReposJson, TaskEventJson, TaskJson, TaskStatusJson };
export type RepoJson = ReposJson['repos'][number];
export type BrowseEntryJson = BrowseJson['entries'][number];
export type ProgressJson = NonNullable<TaskStatusJson['progress']>;

const TOKEN_KEY = 'glacis.token';

/** An answer that is not a success: its `{"error"}` message and status (0: the server was not reached). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

let authListener: (() => void) | undefined;

/** Called when the server asks for a token (401): the page then shows its sign-in form. */
export function onAuthRequired(listener: () => void): void {
  authListener = listener;
}

export function hasToken(): boolean {
  return readToken() !== null;
}

export function setToken(token: string | null): void {
  try {
    if (token === null) sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    // storage refused (private mode): the token lasts until the page is left
  }
  memoryToken = token;
}

let memoryToken: string | null = null;

function readToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? memoryToken;
  } catch {
    return memoryToken;
  }
}

/**
 * @example
 * ```ts
 * const { repos } = await api<ReposJson>('GET', '/repos');
 * ```
 */
export async function api<T>(method: 'GET' | 'POST', route: string, body?: unknown): Promise<T> {
  // X-Requested-With: the server then leaves out its basic-auth challenge, which would make
  // the browser open its own login dialog over the page.
  const headers: Record<string, string> = { Accept: 'application/json', 'X-Requested-With': 'glacis-web' };
  const token = readToken();
  if (token !== null) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(route, {
      method,
      headers,
      cache: 'no-store',
      credentials: 'omit',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiError('The Glacis server cannot be reached', 0);
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const message = isErrorBody(parsed) ? parsed.error : `The server answered ${response.status}`;
    if (response.status === 401) authListener?.();
    throw new ApiError(message, response.status);
  }
  return parsed as T;
}

function isErrorBody(value: unknown): value is { error: string } {
  return typeof value === 'object' && value !== null && typeof (value as { error?: unknown }).error === 'string';
}

/** A message for any failure, for the page to show. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export const ENDED: readonly string[] = ENDED_STATUSES;

export function hasEnded(task: { status: string }): boolean {
  return ENDED.includes(task.status);
}

/**
 * Every event of those kinds a task has logged, read page by page from `GET /tasks/events`: what
 * the page shows of a task's files, each under its whole name. The log's lines are for people;
 * parsed, a file named `a: b.txt` read as `a` (test/web/freeze-kept.test.ts). Bounded: a task's
 * log keeps at most its first and last 10,000 lines.
 *
 * @example
 * ```ts
 * const kept = await taskEvents(id, ['kept', 'unprotected']);
 * ```
 */
export async function taskEvents(id: string, kinds: readonly TaskEventJson['kind'][]): Promise<TaskEventJson[]> {
  const events: TaskEventJson[] = [];
  let after = 0;
  for (;;) {
    const page = await api<TaskEventsJson>('GET', `/tasks/events/${encodeURIComponent(id)}?kinds=${kinds.join(',')}&after=${after}&limit=5000`);
    events.push(...page.events);
    if (!page.more || page.last <= after) return events;
    after = page.last;
  }
}
