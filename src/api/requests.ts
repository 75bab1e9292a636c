/**
 * Request body and query schemas: the edge where untrusted input becomes typed.
 * Field names and value forms are Baricadr's, so barique's requests pass unchanged.
 */
import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { BadRequestError } from '../services/errors.js';
import { TASK_EVENT_KINDS, type TaskEventKind } from '../store/task-events.js';
import { TASK_KIND_NAMES as TASK_KINDS, TASK_STATUSES } from '../tasks/registry.js';
import { flag, path } from '../wire/fields.js';
import { WHOLE_NUMBER_PATTERN, wholeNumberIn } from '../text/values.js';

/**
 * A whole number written as digits (query strings, and bodies that quote numbers), up to
 * `max`. Before src/text/values.ts, a depth of "20000" passed as five digits
 * (test/api/errors.test.ts).
 */
function wholeNumber(max: number) {
  return z
    .string()
    .regex(WHOLE_NUMBER_PATTERN)
    .transform((v, context) => wholeNumberIn(v, { min: 0, max }) ?? (context.addIssue({ code: 'custom', message: `above ${max}` }), z.NEVER));
}

/**
 * Levels to list; 0 = everything. `null` is everything too, as on Baricadr (which then runs
 * rclone without a depth limit): barique's `file tree PATH` sends `"max_depth": null` and
 * shows the whole tree (test/api/baricadr-compat.test.ts). Absent is 1.
 */
const depth = z
  .union([z.number().int().min(0).max(10_000), wholeNumber(10_000), z.null()])
  .transform((v) => (v === null ? 0 : v));

export const listBody = z.strictObject({
  path,
  missing: flag.optional(),
  full: flag.optional(),
  max_depth: depth.optional(),
  from_root: flag.optional(),
  dirs: flag.optional(),
});
export const treeBody = z.strictObject({ path, max_depth: depth.optional() });
export const browseBody = z.strictObject({ path });

export const taskListQuery = z.strictObject({
  status: z.enum(TASK_STATUSES as [string, ...string[]]).optional(),
  type: z.enum(TASK_KINDS as [string, ...string[]]).optional(),
  path: z.string().startsWith('/').max(4096).optional(),
  limit: wholeNumber(99_999).optional(),
  offset: wholeNumber(999_999_999).optional(),
  order: z.enum(['asc', 'desc']).optional(),
  id_prefix: z.string().regex(/^[0-9a-f-]{1,36}$/).optional(),
});

/** Most events `GET /tasks/events/<id>` answers at once, and how many without `limit`. */
export const MAX_EVENTS_PAGE = 5_000;
export const DEFAULT_EVENTS_PAGE = 1_000;

/** `kinds=kept,unprotected`: a comma-separated list of event kinds, each known. */
const eventKinds = z
  .string()
  .regex(new RegExp(`^(?:${TASK_EVENT_KINDS.join('|')})(?:,(?:${TASK_EVENT_KINDS.join('|')}))*$`))
  .transform((v) => [...new Set(v.split(','))] as TaskEventKind[]);

/** What the events route says of its own `limit` (GET /tasks says its own). */
export const TASK_EVENTS_EXPECTED: Readonly<Record<string, string>> = { limit: `expected a whole number from 1 to ${MAX_EVENTS_PAGE}` };

export const taskEventsQuery = z.strictObject({
  kinds: eventKinds.optional(),
  after: wholeNumber(Number.MAX_SAFE_INTEGER).optional(),
  limit: wholeNumber(MAX_EVENTS_PAGE)
    .refine((n) => n >= 1)
    .optional(),
});

/** A request body that claims UTF-8 but is not (HTTP 400). */
export class InvalidUtf8Error extends Error {
  override readonly name = 'InvalidUtf8Error';
  /** Read by body-parser, which keeps the status of an error thrown by `verify`. */
  readonly status = 400;
  constructor() {
    super('The request body is not valid UTF-8');
  }
}

/**
 * `verify` hook of `express.json`: refuses a UTF-8 body with invalid bytes. Without it the
 * decoder turns them into U+FFFD, and a path such as `/repo/\xff` (or an overlong `../`)
 * would be accepted as a different path from the one sent.
 *
 * @example
 * ```ts
 * app.use(express.json({ verify: requireUtf8Body }));
 * ```
 */
export function requireUtf8Body(_req: IncomingMessage, _res: ServerResponse, body: Buffer, encoding: string): void {
  // Other charsets body-parser accepts (utf-16) are decoded strictly enough by iconv; what they
  // can still smuggle (lone surrogates) the path rules refuse.
  if (/^utf-?8$/i.test(encoding) && !isUtf8(body)) throw new InvalidUtf8Error();
}

/**
 * Parses `input` with `schema`, turning the first problem into one readable sentence.
 *
 * @example
 * ```ts
 * const body = parseRequest(pullBody, req.body); // throws BadRequestError('"dry_run" must be …')
 * ```
 */
export function parseRequest<T extends z.ZodType>(schema: T, input: unknown, expected: Readonly<Record<string, string>> = {}): z.output<T> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const key = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    throw new BadRequestError(`Unknown field${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`);
  }
  if (issue.code === 'invalid_type' && key === '') throw new BadRequestError('The request body must be a JSON object');
  throw new BadRequestError(`Invalid "${key}": ${expected[key] ?? describe(key)}`);
}

function describe(key: string): string {
  switch (key) {
    case 'dry_run':
    case 'force':
    case 'missing':
    case 'full':
    case 'from_root':
    case 'dirs':
      return 'expected true or false';
    case 'max_depth':
      return 'expected a whole number from 0 (everything) to 10000';
    case 'email':
      return 'expected an email address';
    case 'status':
      return `expected one of ${TASK_STATUSES.join(', ')}`;
    case 'type':
      return `expected one of ${TASK_KINDS.join(', ')}`;
    case 'path':
      return 'expected an absolute path';
    case 'order':
      return 'expected asc (oldest first) or desc (newest first)';
    case 'id_prefix':
      return 'expected the start of a task id (hex digits and dashes)';
    case 'kinds':
      return `expected event kinds, comma-separated, among ${TASK_EVENT_KINDS.join(', ')}`;
    case 'after':
      return 'expected the seq of an event (a whole number; 0: from the start)';

    default:
      return 'expected a whole number';
  }
}
