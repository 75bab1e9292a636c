/**
 * What a task records as it runs: a closed vocabulary of events, each with exactly one
 * rendering as a line of text. The store keeps an event's kind and fields (for the mails and
 * reports that read them back: ./task-logs.ts `TaskLogs.events`, and for
 * `GET /tasks/events/<id>`, which the web page reads) and its rendering (for
 * `GET /tasks/log/<id>`), so the log reads as it always did for Baricadr's clients and people;
 * nothing of Glacis's parses the lines back (a file name can read like any line).
 *
 * Low layer: imports only the freeze and push rules' pure words and types, and the plural helper.
 */
import type { UnprotectedKeepReason } from '../freeze/decision.js';
import { freezeSummaryLine, KEPT_REASONS, type KeptCounts } from '../freeze/summary.js';
import { describeHold, HOLD_REASONS, type HoldReason } from '../push/decision.js';
import { plural } from '../text/plural.js';

/** How much a message matters; not shown in the text (the text is Baricadr's). */
export type EventLevel = 'info' | 'warn' | 'error';
export const EVENT_LEVELS: readonly EventLevel[] = ['info', 'warn', 'error'];

/**
 * Why a cold file stays only local: the remote lacks it (`missing-remote`), holds it
 * differently (`differs`, `newer-locally`), cannot be compared (`unverifiable`: no common
 * hash) or holds two entries under its name (`ambiguous`).
 */
export type UnprotectedReason = UnprotectedKeepReason | 'ambiguous';
export const UNPROTECTED_REASONS: readonly UnprotectedReason[] = ['missing-remote', 'differs', 'newer-locally', 'unverifiable', 'ambiguous'];

/**
 * Why a file the task was about to act on was left as it was, one at a time (the counted
 * reasons, recently read or excluded, are in the summary only: a line each would flood the log).
 * Freeze: `changed-remote` (the remote copy changed or vanished since it was listed),
 * `changed-locally` (read or changed while the freeze ran). Pull: `appeared-locally` (a
 * local file took the name during the pull), `outside-repository` (its directory leads out).
 */
export type KeptFileReason = 'changed-remote' | 'changed-locally' | 'appeared-locally' | 'outside-repository';
export const KEPT_FILE_REASONS: readonly KeptFileReason[] = ['changed-remote', 'changed-locally', 'appeared-locally', 'outside-repository'];

/** Free text: a task started, failed, a note, a line of rclone's. */
export interface MessageEvent {
  readonly kind: 'message';
  readonly text: string;
  readonly level?: EventLevel;
}

/** A pulled file linked into place (or, in a dry run, one that would be pulled). */
export interface PlacedEvent {
  readonly kind: 'placed';
  /** Relative to the repository. */
  readonly path: string;
  readonly bytes: number;
  readonly dryRun?: boolean;
}

/** A local file deleted by a freeze, safe on the remote (or, in a dry run, one that would be). */
export interface FrozenEvent {
  readonly kind: 'frozen';
  readonly path: string;
  readonly bytes: number;
  readonly dryRun?: boolean;
}

/**
 * A local file a push put on the remote (or, in a dry run, one that would be): `replaced`
 * when the remote held another copy, kept as a version first.
 */
export interface PushedEvent {
  readonly kind: 'pushed';
  readonly path: string;
  /** The local size when push judged it. */
  readonly bytes: number;
  readonly replaced: boolean;
  readonly dryRun?: boolean;
}

/** A local file push did not copy because it became empty or shrank too much against its remote copy (push_shrink_limit). */
export interface HeldEvent {
  readonly kind: 'held';
  readonly path: string;
  readonly reason: HoldReason;
  readonly bytes: number;
  readonly remoteBytes: number;
}

export interface KeptEvent {
  readonly kind: 'kept';
  readonly path: string;
  readonly reason: KeptFileReason;
}

/** A cold file a freeze kept because the remote does not hold it identically: data only here. */
export interface UnprotectedEvent {
  readonly kind: 'unprotected';
  readonly path: string;
  readonly reason: UnprotectedReason;
}

export interface PullSummary {
  readonly kind: 'summary';
  readonly of: 'pull';
  readonly dryRun: boolean;
  readonly files: number;
  readonly bytes: number;
  /** Files the transfer brought that stayed out of place (a local file appeared, …). */
  readonly kept: number;
}

export interface FreezeSummary {
  readonly kind: 'summary';
  readonly of: 'freeze';
  readonly dryRun: boolean;
  readonly files: number;
  readonly bytes: number;
  /** Files kept, by reason. */
  readonly kept: Readonly<KeptCounts>;
  readonly unprotected: number;
  readonly freezeAgeDays: number;
  readonly force: boolean;
}

export type SummaryEvent = PullSummary | FreezeSummary;

export type TaskEvent = MessageEvent | PlacedEvent | FrozenEvent | PushedEvent | HeldEvent | KeptEvent | UnprotectedEvent | SummaryEvent;
export type TaskEventKind = TaskEvent['kind'];
export const TASK_EVENT_KINDS: readonly TaskEventKind[] = ['message', 'placed', 'frozen', 'pushed', 'held', 'kept', 'unprotected', 'summary'];

/** The words of an unprotected file's reason, as its log line and the mails say them. */
export function describeUnprotected(reason: UnprotectedReason): string {
  switch (reason) {
    case 'missing-remote':
      return 'missing on the remote';
    case 'differs':
      return 'the remote copy differs';
    case 'newer-locally':
      return 'changed locally since the last backup';
    case 'unverifiable':
      return 'no hash to compare with the remote';
    case 'ambiguous':
      return 'the remote holds two entries for it';
  }
}

/**
 * The event's line in the task log: the same text the workers wrote before events existed.
 *
 * @example
 * ```ts
 * renderEvent({ kind: 'frozen', path: 'raw/a.txt', bytes: 12 }); // 'froze raw/a.txt (12 bytes)'
 * renderEvent({ kind: 'unprotected', path: 'raw/b', reason: 'missing-remote' }); // 'cold but not frozen (missing on the remote): raw/b'
 * ```
 */
export function renderEvent(event: TaskEvent): string {
  switch (event.kind) {
    case 'message':
      return event.text;
    case 'placed':
      return event.dryRun ? `would pull ${event.path} (${event.bytes} bytes)` : `pulled ${event.path}`;
    case 'frozen':
      return `${event.dryRun ? 'would freeze' : 'froze'} ${event.path} (${event.bytes} bytes)`;
    case 'pushed':
      // A dry run's line is the one push wrote before events; a real push had only rclone's lines.
      return event.dryRun ? `would push ${event.path}` : `pushed ${event.path}${event.replaced ? ' (the remote copy kept as a version)' : ''}`;
    case 'held':
      return `held ${event.path}: ${describeHold(event.reason, event.bytes, event.remoteBytes)}`;
    case 'kept':
      return renderKept(event.path, event.reason);
    case 'unprotected':
      return `cold but not frozen (${describeUnprotected(event.reason)}): ${event.path}`;
    case 'summary':
      return event.of === 'pull'
        ? event.dryRun
          ? `dry run: would pull ${plural(event.files, 'file')}, ${plural(event.bytes, 'byte')}`
          : `pulled ${plural(event.files, 'file')}, ${plural(event.bytes, 'byte')}${event.kept ? `; ${event.kept} kept as they were locally` : ''}`
        : freezeSummaryLine(event);
  }
}

/** The words of a kept file's reason, as its log line says them (and the web page, from `GET /tasks/events`). */
export function describeKept(reason: KeptFileReason): string {
  switch (reason) {
    case 'changed-remote':
      return 'the remote copy changed or vanished since it was listed';
    case 'changed-locally':
      return 'it was read or changed while the freeze ran';
    case 'appeared-locally':
      return 'it appeared during the pull';
    case 'outside-repository':
      return 'its directory leads outside the repository';
  }
}

function renderKept(path: string, reason: KeptFileReason): string {
  switch (reason) {
    case 'changed-remote':
    case 'changed-locally':
      return `kept ${path}: ${describeKept(reason)}`;
    case 'appeared-locally':
      return `kept the local ${path}: ${describeKept(reason)}`;
    case 'outside-repository':
      return `skipped ${path}: ${describeKept(reason)}`;
  }
}

/**
 * The fields stored beside the event's kind (the `data` column), or undefined for a message,
 * whose text is its rendering.
 */
export function eventData(event: TaskEvent): string | undefined {
  if (event.kind === 'message') return undefined;
  const { kind: _kind, ...fields } = event;
  return JSON.stringify(fields);
}

/**
 * The event a stored row holds, and its level. A row that does not read back as a known
 * event (a line written before events existed, kind `line`; or a row some later version
 * wrote) is its text, as a message: nothing stored is ever dropped or misread as a file.
 */
export function eventFromRow(row: { readonly kind: string; readonly level: string; readonly message: string; readonly data: string | null }): {
  readonly level: EventLevel;
  readonly event: TaskEvent;
} {
  const level = (EVENT_LEVELS as readonly string[]).includes(row.level) ? (row.level as EventLevel) : 'info';
  const message: MessageEvent = level === 'info' ? { kind: 'message', text: row.message } : { kind: 'message', text: row.message, level };
  const asMessage = { level, event: message };
  if (row.kind === 'message' || row.data === null) return asMessage;
  let fields: unknown;
  try {
    fields = JSON.parse(row.data);
  } catch {
    return asMessage;
  }
  const event = checkEvent(row.kind, fields);
  return event ? { level, event } : asMessage;
}

/** The event of that kind with those fields, or undefined when they are not one. */
function checkEvent(kind: string, fields: unknown): TaskEvent | undefined {
  if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) return undefined;
  const f = fields as Record<string, unknown>;
  const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
  const dryRun = typeof f.dryRun === 'boolean' ? { dryRun: f.dryRun } : {};
  switch (kind) {
    case 'placed':
    case 'frozen':
      // A size may be -1: some remotes list a file without one.
      return typeof f.path === 'string' && Number.isSafeInteger(f.bytes) ? { kind, path: f.path, bytes: f.bytes as number, ...dryRun } : undefined;
    case 'pushed':
      return typeof f.path === 'string' && isCount(f.bytes) && typeof f.replaced === 'boolean' ? { kind, path: f.path, bytes: f.bytes, replaced: f.replaced, ...dryRun } : undefined;
    case 'held':
      return typeof f.path === 'string' && (HOLD_REASONS as readonly unknown[]).includes(f.reason) && isCount(f.bytes) && isCount(f.remoteBytes)
        ? { kind, path: f.path, reason: f.reason as HoldReason, bytes: f.bytes, remoteBytes: f.remoteBytes }
        : undefined;
    case 'kept':
      return typeof f.path === 'string' && (KEPT_FILE_REASONS as readonly unknown[]).includes(f.reason)
        ? { kind, path: f.path, reason: f.reason as KeptFileReason }
        : undefined;
    case 'unprotected':
      return typeof f.path === 'string' && (UNPROTECTED_REASONS as readonly unknown[]).includes(f.reason)
        ? { kind, path: f.path, reason: f.reason as UnprotectedReason }
        : undefined;
    case 'summary': {
      if (typeof f.dryRun !== 'boolean' || !isCount(f.files) || !isCount(f.bytes)) return undefined;
      const base = { kind, dryRun: f.dryRun, files: f.files, bytes: f.bytes } as const;
      if (f.of === 'pull') return isCount(f.kept) ? { ...base, of: 'pull', kept: f.kept } : undefined;
      if (f.of !== 'freeze' || !isCount(f.unprotected) || !isCount(f.freezeAgeDays) || typeof f.force !== 'boolean') return undefined;
      const kept = keptCounts(f.kept);
      return kept && { ...base, of: 'freeze', kept, unprotected: f.unprotected, freezeAgeDays: f.freezeAgeDays, force: f.force };
    }
    default:
      return undefined;
  }
}

function keptCounts(value: unknown): KeptCounts | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const counts = {} as KeptCounts;
  for (const reason of KEPT_REASONS) {
    const count = v[reason] ?? 0;
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) return undefined;
    counts[reason] = count;
  }
  return counts;
}
