/**
 * What a freeze (dry run or not) did or would do, from its task record (files, bytes,
 * unprotected) and its events (`GET /tasks/events`: each file frozen, kept or unprotected,
 * under its whole name, with why). The log's lines are never parsed: `kept a: b.txt: …` read
 * as the file `a` (test/web/freeze-kept.test.ts).
 */
import { useState } from 'preact/hooks';
import type { TaskEventJson, TaskJson } from './api.js';
import { bytes, count } from './format.js';

/** The event kinds a freeze's report is made of. */
export const FREEZE_REPORT_KINDS = ['frozen', 'kept', 'unprotected'] as const;

export interface FreezeLog {
  readonly freed: { file: string; size: number }[];
  readonly kept: { file: string; reason: string }[];
}

export function freezeLog(events: readonly TaskEventJson[]): FreezeLog {
  const freed: { file: string; size: number }[] = [];
  const kept: { file: string; reason: string }[] = [];
  for (const event of events) {
    if (event.kind === 'frozen') freed.push({ file: event.path, size: event.bytes });
    else if (event.kind === 'kept' || event.kind === 'unprotected') kept.push({ file: event.path, reason: event.why });
  }
  return { freed, kept };
}

const SHOWN = 20;

/** One file of a list: its whole name in its own element, then what is said of it. */
interface FileItem {
  readonly key: string;
  readonly file: string;
  readonly note: string;
}

function FileList({ label, items }: { label: string; items: FileItem[] }) {
  const [all, setAll] = useState(false);
  if (items.length === 0) return null;
  const shown = all ? items : items.slice(0, SHOWN);
  return (
    <>
      <h4 class="list-title">{label}</h4>
      <ul class="files" aria-label={label}>
        {shown.map((item) => (
          <li key={item.key}>
            <span class="file">{item.file}</span>
            {item.note}
          </li>
        ))}
      </ul>
      {items.length > shown.length && (
        <button type="button" class="link" onClick={() => setAll(true)}>
          Show all {items.length}
        </button>
      )}
    </>
  );
}

/** The report of one freeze task (a dry run: what would be freed and kept). */
export function FreezeReport({ task, events }: { task: TaskJson; events: readonly TaskEventJson[] | undefined }) {
  const parsed = freezeLog(events ?? []);
  const byReason = new Map<string, number>();
  for (const { reason } of parsed.kept) byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
  const dry = task.dry_run;
  return (
    <div class="freeze-report">
      <h3 class="path">{task.path}</h3>
      <p class="summary">
        {dry ? 'Would free ' : 'Freed '}
        <strong>{bytes(task.bytes ?? 0)}</strong> in <strong>{count(task.files ?? 0, 'file', 'files')}</strong>.
      </p>
      {(task.unprotected ?? 0) > 0 ? (
        <p class="warning">
          {count(task.unprotected ?? 0, 'cold file is', 'cold files are')} kept because the remote does not hold {task.unprotected === 1 ? 'it' : 'them'}{' '}
          identically: {task.unprotected === 1 ? 'it exists' : 'they exist'} only here (unprotected).
        </p>
      ) : null}
      {byReason.size > 0 && (
        <ul class="reasons" aria-label="Kept, by reason">
          {[...byReason].map(([reason, n]) => (
            <li key={reason}>
              {count(n, 'file', 'files')} kept: {reason}
            </li>
          ))}
        </ul>
      )}
      <p class="muted">Files read or changed in the repository's freeze age, and excluded files, are always kept (not listed).</p>
      <FileList label={dry ? 'Files that would be freed' : 'Files freed'} items={parsed.freed.map((f) => ({ key: f.file, file: f.file, note: ` (${bytes(f.size)})` }))} />
      <FileList label="Files kept" items={parsed.kept.map((f) => ({ key: f.file, file: f.file, note: `: ${f.reason}` }))} />
    </div>
  );
}
