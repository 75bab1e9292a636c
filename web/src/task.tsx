import { useEffect, useRef, useState } from 'preact/hooks';
import { api, hasEnded, messageOf, taskEvents, type ProgressJson, type TaskStatusJson } from './api.js';
import { ErrorNote, Loading, StatusBadge } from './components.js';
import { FREEZE_REPORT_KINDS, FreezeReport } from './freeze.js';
import { bytes, count, duration, when } from './format.js';
import { useLoad } from './hooks.js';
import { go, href, taskHref } from './route.js';

const LOG_LINES = 40;
/** A task's title by its type; `zombie` is the clean-up `GET /zombie` starts. */
const TASK_TITLES: Readonly<Record<string, string>> = { pull: 'Pull', freeze: 'Freeze', zombie: 'Zombie clean-up', report: 'Report' };

function Progress({ progress, type }: { progress: ProgressJson; type: string }) {
  const knowsTotal = progress.totalBytes > 0 || progress.totalFiles > 0;
  const speed = progress.speed ?? 0;
  const eta = speed > 0 && progress.totalBytes > progress.bytes ? (progress.totalBytes - progress.bytes) / speed : undefined;
  return (
    <div class="progress" aria-live="polite">
      {knowsTotal && (
        <label class="progress-label">
          <span>{Math.floor(progress.percent)}%</span>
          <progress max={100} value={progress.percent} aria-label="Progress" />
        </label>
      )}
      <dl class="facts">
        <dt>{type === 'freeze' ? 'Freed' : 'Transferred'}</dt>
        <dd data-testid="progress-bytes">
          {bytes(progress.bytes)}
          {progress.totalBytes > 0 ? ` of ${bytes(progress.totalBytes)}` : ''}
        </dd>
        <dt>Files</dt>
        <dd>
          {progress.files.toLocaleString('en')}
          {progress.totalFiles > 0 ? ` of ${progress.totalFiles.toLocaleString('en')}` : ''}
        </dd>
        {speed > 0 && (
          <>
            <dt>Rate</dt>
            <dd>{bytes(Math.round(speed))}/s</dd>
          </>
        )}
        {eta !== undefined && (
          <>
            <dt>Time left</dt>
            <dd>about {duration(eta)}</dd>
          </>
        )}
        {progress.currentFile && (
          <>
            <dt>Current file</dt>
            <dd class="path">{progress.currentFile}</dd>
          </>
        )}
      </dl>
    </div>
  );
}

export function TaskPage({ id }: { id: string }) {
  const route = `/tasks/status/${encodeURIComponent(id)}`;
  const task = useLoad(() => api<TaskStatusJson>('GET', route), id, 1000, (t) => !hasEnded(t));
  const ended = task.data ? hasEnded(task.data) : false;
  // The log: every 2 s while the task runs, once more when it has ended.
  const log = useLoad(() => api<{ logs: string }>('GET', `/tasks/log/${encodeURIComponent(id)}`), `${id}:${ended}`, 2000, () => !ended);
  // A finished freeze's report: its files from its events, once (a finished task logs no more).
  const report = task.data?.type === 'freeze' && task.data.status === 'finished';
  const events = useLoad(() => (report ? taskEvents(id, FREEZE_REPORT_KINDS) : Promise.resolve(undefined)), `${id}:${report}`);
  const [lines, setLines] = useState(LOG_LINES);
  const [actionError, setActionError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const headingRef = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    setLines(LOG_LINES);
    setActionError(undefined);
  }, [id]);

  const act = async (kind: 'cancel' | 'retry'): Promise<void> => {
    setBusy(true);
    setActionError(undefined);
    try {
      const answer = await api<{ task: string }>('POST', `/tasks/${kind}/${encodeURIComponent(id)}`);
      if (kind === 'retry') go(taskHref(answer.task));
      else task.reload();
    } catch (error) {
      setActionError(messageOf(error));
    } finally {
      setBusy(false);
    }
  };

  const t = task.data;
  const allLines = (log.data?.logs ?? '').split('\n').filter((line) => line !== '');
  const shownLines = allLines.slice(Math.max(0, allLines.length - lines));
  const link = `${window.location.origin}${window.location.pathname}${taskHref(id)}`;

  return (
    <section aria-labelledby="task-title">
      <p>
        <a href={href('tasks')}>← All tasks</a>
      </p>
      <h1 id="task-title" tabIndex={-1} ref={headingRef}>
        {t ? `${TASK_TITLES[t.type] ?? t.type}${t.dry_run ? ' (dry run)' : ''}` : 'Task'}
      </h1>
      <ErrorNote message={task.error} />
      {!t && !task.error && <Loading what="the task" />}
      {t && (
        <>
          <p class="path">{t.path}</p>
          <p class="status-line">
            <StatusBadge status={t.status} />
            {t.error && <span class="error-text"> {t.error}</span>}
          </p>
          {t.progress && !ended && <Progress progress={t.progress} type={t.type} />}
          <dl class="facts">
            <dt>Task</dt>
            <dd class="mono">{t.task_id}</dd>
            <dt>Created</dt>
            <dd>{when(t.created)}</dd>
            <dt>Started</dt>
            <dd>{when(t.started)}</dd>
            <dt>Ended</dt>
            <dd>{when(t.finished)}</dd>
            <dt>Origin</dt>
            <dd>{t.origin === 'schedule' ? 'auto-freeze schedule' : t.origin === 'watermark' ? 'disk above its high watermark' : 'a user'}</dd>
            {t.files !== null && (
              <>
                <dt>{t.type === 'pull' ? 'Pulled' : t.type === 'zombie' ? 'Marked failed' : t.dry_run ? 'Would free' : 'Freed'}</dt>
                <dd>
                  {count(t.files, 'file', 'files')}, {bytes(t.bytes)}
                </dd>
              </>
            )}
          </dl>
          <div class="toolbar" role="group" aria-label="Task actions">
            {!ended && (
              <button type="button" class="danger" disabled={busy} onClick={() => void act('cancel')}>
                Cancel task
              </button>
            )}
            {(t.status === 'failed' || t.status === 'cancelled') && (
              <button type="button" disabled={busy} onClick={() => void act('retry')}>
                Retry
              </button>
            )}
            <a class="button secondary" href={href('tasks', { path: t.path })}>
              Tasks on this path
            </a>
          </div>
          <ErrorNote message={actionError} />
          <p class="share">
            Link to this task: <a href={taskHref(id)}>{link}</a>
          </p>
          {t.type === 'freeze' && t.status === 'finished' && (
            <>
              <ErrorNote message={events.error} />
              <FreezeReport task={t} events={events.data} />
            </>
          )}
        </>
      )}
      <h2>Log</h2>
      <ErrorNote message={log.error} />
      {allLines.length === 0 ? (
        <p class="muted">{log.data ? 'Nothing logged yet.' : 'Loading the log…'}</p>
      ) : (
        <>
          {allLines.length > shownLines.length && (
            <button type="button" class="secondary" onClick={() => setLines(lines + 200)}>
              Show earlier lines ({allLines.length - shownLines.length} more)
            </button>
          )}
          <pre class="log" tabIndex={0} aria-label="Task log">
            {shownLines.join('\n')}
          </pre>
        </>
      )}
    </section>
  );
}
