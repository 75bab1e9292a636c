/**
 * A logged task event as the API answers it (src/wire `taskEventSchema`): the store's fields in
 * the wire's snake_case, with the event's log line (`text`) and, for a kept, unprotected or held file,
 * its reason in words (`why`), said once in src/store/task-events.ts.
 */
import { describeHold } from '../push/decision.js';
import { describeKept, describeUnprotected, renderEvent } from '../store/task-events.js';
import type { LoggedEvent } from '../store/task-logs.js';
import type { TaskEventJson } from '../wire/index.js';

/**
 * @example
 * ```ts
 * eventJson({ seq: 3, time: '2026-12-01T09:19:39.512Z', level: 'info', event: { kind: 'kept', path: 'a: b.txt', reason: 'changed-locally' } });
 * // { seq: 3, …, kind: 'kept', path: 'a: b.txt', reason: 'changed-locally', why: 'it was read or changed while the freeze ran' }
 * ```
 */
export function eventJson(logged: LoggedEvent): TaskEventJson {
  const { event } = logged;
  const base = { seq: logged.seq, time: logged.time, level: logged.level, text: renderEvent(event) };
  switch (event.kind) {
    case 'message':
      return { ...base, kind: 'message' };
    case 'placed':
    case 'frozen':
      return { ...base, kind: event.kind, path: event.path, bytes: event.bytes, dry_run: event.dryRun ?? false };
    case 'pushed':
      return { ...base, kind: 'pushed', path: event.path, bytes: event.bytes, replaced: event.replaced, dry_run: event.dryRun ?? false };
    case 'held':
      return { ...base, kind: 'held', path: event.path, reason: event.reason, bytes: event.bytes, remote_bytes: event.remoteBytes, why: describeHold(event.reason, event.bytes, event.remoteBytes) };
    case 'kept':
      return { ...base, kind: 'kept', path: event.path, reason: event.reason, why: describeKept(event.reason) };
    case 'unprotected':
      return { ...base, kind: 'unprotected', path: event.path, reason: event.reason, why: describeUnprotected(event.reason) };
    case 'summary':
      return event.of === 'pull'
        ? { ...base, kind: 'summary', of: 'pull', dry_run: event.dryRun, files: event.files, bytes: event.bytes, kept: event.kept }
        : {
            ...base,
            kind: 'summary',
            of: 'freeze',
            dry_run: event.dryRun,
            files: event.files,
            bytes: event.bytes,
            kept: { ...event.kept },
            unprotected: event.unprotected,
            freeze_age_days: event.freezeAgeDays,
            force: event.force,
          };
  }
}
