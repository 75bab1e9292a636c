/**
 * What a freeze (dry run or not) did or would do, read from its task record (files, bytes,
 * unprotected) and from its log's lines (`would freeze <file> (<n> bytes)`,
 * `cold but not frozen (<why>): <file>`, `kept <file>: <why>`), as src/store/task-events.ts renders them.
 */
import { useState } from 'preact/hooks';
import type { TaskJson } from './api.js';
import { bytes, count } from './format.js';

export interface FreezeLog {
  readonly freed: { file: string; size: number }[];
  readonly kept: { file: string; reason: string }[];
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z /;

export function parseFreezeLog(text: string): FreezeLog {
  const freed: { file: string; size: number }[] = [];
  const kept: { file: string; reason: string }[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(TIMESTAMP, '');
    let match = /^(?:would freeze|froze) (.+) \((\d+) bytes\)$/.exec(line);
    if (match) {
      freed.push({ file: match[1]!, size: Number(match[2]) });
      continue;
    }
    match = /^cold but not frozen \((.+?)\): (.+)$/.exec(line);
    if (match) {
      kept.push({ file: match[2]!, reason: match[1]! });
      continue;
    }
    match = /^kept (.+?): (.+)$/.exec(line);
    if (match) kept.push({ file: match[1]!, reason: match[2]! });
  }
  return { freed, kept };
}

const SHOWN = 20;

function FileList({ label, items }: { label: string; items: { key: string; text: string }[] }) {
  const [all, setAll] = useState(false);
  if (items.length === 0) return null;
  const shown = all ? items : items.slice(0, SHOWN);
  return (
    <>
      <h4 class="list-title">{label}</h4>
      <ul class="files" aria-label={label}>
        {shown.map((item) => (
          <li key={item.key}>{item.text}</li>
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
export function FreezeReport({ task, log }: { task: TaskJson; log: string | undefined }) {
  const parsed = parseFreezeLog(log ?? '');
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
      <FileList label={dry ? 'Files that would be freed' : 'Files freed'} items={parsed.freed.map((f) => ({ key: f.file, text: `${f.file} (${bytes(f.size)})` }))} />
      <FileList label="Files kept" items={parsed.kept.map((f) => ({ key: f.file, text: `${f.file}: ${f.reason}` }))} />
    </div>
  );
}
