/**
 * A repository's latest report (issue 16 §2, `GET /repos/<repo>/report`) on its card: the
 * data-loss alert first when the remote lost frozen files, then local bytes by last-access
 * age as a chart whose figures are a table (its text alternative), unprotected bytes in the
 * warning colour. With no report yet, a button runs one (`POST /report`) and the card
 * follows the task to its end, then shows what it found.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, hasEnded, messageOf, type TaskStatusJson } from './api.js';
import { ErrorNote } from './components.js';
import { bytes, count, when } from './format.js';
import { useLoad } from './hooks.js';
import type { ReportAgeRow as AgeRow, ReportJson } from './report-json.js';
import { taskHref } from './route.js';

/** Lost and unprotected files named on the card; the task's answer and the CLI list more. */
const NAMED = 5;

/** The latest report, or null when the repo has none yet (404). */
async function latestReport(repo: string): Promise<ReportJson | null> {
  try {
    return await api<ReportJson>('GET', `/repos/${encodeURIComponent(repo)}/report`);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

/**
 * Whether a bucket holds cold files (read longer ago than the repo's freeze_age): there,
 * what the remote lacks is unprotected, the warning colour; in younger buckets it is only
 * not frozen yet.
 */
function isCold(row: AgeRow, freezeAgeDays: number): boolean {
  return row.maxDays === null || row.maxDays > freezeAgeDays;
}

/** `<7d` → `< 7 days`, in the table (short: it holds at 360 px). */
function ageText(row: AgeRow): string {
  if (row.maxDays === null) return `> ${row.minDays} days`;
  if (row.minDays === 0) return `< ${row.maxDays} days`;
  return `${row.minDays}–${row.maxDays} days`;
}

function LossAlert({ lost }: { lost: ReportJson['frozen']['lost'] }) {
  if (lost.files === 0) return null;
  const named = lost.listed.slice(0, NAMED);
  return (
    <div class="loss" role="alert">
      <p>
        <strong>Data loss:</strong> the remote no longer holds {count(lost.files, 'frozen file', 'frozen files')} ({bytes(lost.bytes)}). Their
        local copies were frozen: no copy is left.
      </p>
      <ul class="files">
        {named.map((file) => (
          <li key={file.path}>
            {file.path} ({file.state})
          </li>
        ))}
      </ul>
      {lost.files > named.length && <p>and {count(lost.files - named.length, 'more', 'more')}.</p>}
    </div>
  );
}

/** One bar: the part the remote holds, then the rest (warning colour when cold), scaled to the largest bucket. */
function AgeBar({ row, max, cold }: { row: AgeRow; max: number; cold: boolean }) {
  const scale = max > 0 ? 100 / max : 0;
  const safe = row.safe.bytes * scale;
  const rest = Math.max(0, row.bytes - row.safe.bytes) * scale;
  return (
    <svg class="age-bar" viewBox="0 0 100 6" preserveAspectRatio="none" aria-hidden="true" focusable="false">
      <rect class="bar-free" x="0" y="0" width="100" height="6" />
      <rect class="seg-safe" x="0" y="0" width={safe.toFixed(2)} height="6" />
      <rect class={cold ? 'seg-unprotected' : 'seg-recent'} x={safe.toFixed(2)} y="0" width={rest.toFixed(2)} height="6" />
    </svg>
  );
}

function ReportView({ report }: { report: ReportJson }) {
  const max = Math.max(0, ...report.byAge.map((row) => row.bytes));
  const { unprotected, frozen } = report;
  return (
    <>
      <LossAlert lost={frozen.lost} />
      <p class="muted report-when">
        Latest report: {when(new Date(report.nowMs).toISOString())}
        {report.path !== report.repo ? <span class="path"> of {report.path}</span> : null}
      </p>
      <div class="scroll" role="region" aria-label={`Local bytes by last access in ${report.repo}`} tabIndex={0}>
        <table class="age-chart">
          <caption>
            Local data by last access: {count(report.local.files, 'file', 'files')}, {bytes(report.local.bytes)}
          </caption>
          <thead>
            <tr>
              <th scope="col">Last read</th>
              <th scope="col" class="num">
                Files
              </th>
              <th scope="col" class="num">
                Size
              </th>
              <th scope="col" class="bar-head">
                On the remote
              </th>
            </tr>
          </thead>
          <tbody>
            {report.byAge.map((row) => {
              const cold = isCold(row, report.freezeAgeDays);
              const missing = row.bytes - row.safe.bytes;
              return (
                <tr key={row.bucket}>
                  <th scope="row">{ageText(row)}</th>
                  <td class="num">{row.files.toLocaleString('en')}</td>
                  <td class="num">{bytes(row.bytes)}</td>
                  <td class="bar-cell">
                    <AgeBar row={row} max={max} cold={cold} />
                    <span class="visually-hidden">
                      {bytes(row.safe.bytes)} held by the remote
                      {missing > 0 ? `, ${bytes(missing)} not${cold ? ' (cold: unprotected unless excluded)' : ''}` : ''}
                    </span>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <p class="legend" aria-hidden="true">
        <span class="swatch seg-safe-swatch" /> held by the remote <span class="swatch seg-unprotected-swatch" /> cold, only here{' '}
        <span class="swatch seg-recent-swatch" /> read within {report.freezeAgeDays} days, only here
      </p>
      {unprotected.files > 0 ? (
        <div class="warning unprotected">
          <p>
            <strong>Unprotected:</strong> {count(unprotected.files, 'cold file', 'cold files')}, {bytes(unprotected.bytes)}: the remote lacks them or holds
            them differently, their only copy is here.
          </p>
          <ul class="files" aria-label="First unprotected files">
            {unprotected.paths.slice(0, NAMED).map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        </div>
      ) : (
        <p>No unprotected file: the remote holds every cold file.</p>
      )}
      <dl class="facts">
        <dt>A freeze would free</dt>
        <dd>
          {bytes(report.freeable.atFreezeAge.bytes)} in {count(report.freeable.atFreezeAge.files, 'file', 'files')} (freeze age {report.freezeAgeDays} days)
        </dd>
        <dt>Frozen</dt>
        <dd>
          {count(frozen.files, 'file', 'files')}, {bytes(frozen.bytes)}
          {frozen.files === 0 ? '' : frozen.lost.files === 0 ? ': the remote holds them all' : `: ${count(frozen.lost.files, 'file', 'files')} lost`}
        </dd>
      </dl>
    </>
  );
}

/** The report part of a repo's card: the latest report, or none yet, and the button to run one. */
export function LatestReport({ repo }: { repo: string }) {
  const report = useLoad(() => latestReport(repo), repo);
  const [taskId, setTaskId] = useState<string | undefined>();
  const [runError, setRunError] = useState<string | undefined>();
  const task = useLoad(
    () => (taskId === undefined ? Promise.resolve(undefined) : api<TaskStatusJson>('GET', `/tasks/status/${encodeURIComponent(taskId)}`)),
    taskId ?? '',
    1000,
    (t) => t !== undefined && !hasEnded(t),
  );
  const status = task.data?.status;
  useEffect(() => {
    // Finished: the new report is the latest; read it (the card then shows it).
    if (status === 'finished') {
      setTaskId(undefined);
      report.reload();
    }
  }, [status]);

  const run = async (): Promise<void> => {
    setRunError(undefined);
    try {
      setTaskId((await api<{ task: string }>('POST', '/report', { path: repo })).task);
    } catch (error) {
      setRunError(messageOf(error));
    }
  };

  const running = taskId !== undefined && (task.data === undefined || !hasEnded(task.data));
  const failed = task.data !== undefined && taskId !== undefined && hasEnded(task.data) && task.data.status !== 'finished' ? task.data : undefined;
  return (
    <section class="report" aria-label={`Report of ${repo}`}>
      <h3>Report</h3>
      <ErrorNote message={report.error} />
      {report.data === undefined && !report.error && <p class="loading">Loading the latest report…</p>}
      {report.data === null && <p>No report yet.</p>}
      {report.data && <ReportView report={report.data} />}
      <p class="actions">
        <button type="button" class="secondary" disabled={running} onClick={() => void run()}>
          {report.data ? 'Run a new report' : 'Run a report'}
          <span class="visually-hidden"> of {repo}</span>
        </button>
      </p>
      <p role="status" class="report-status">
        {running && taskId !== undefined && (
          <>
            Report running… <a href={taskHref(taskId)}>follow its task</a>
          </>
        )}
      </p>
      {failed && (
        <p class="error" role="alert">
          The report {failed.status}
          {failed.error ? `: ${failed.error}` : ''}. <a href={taskHref(failed.task_id)}>See its task</a>
        </p>
      )}
      <ErrorNote message={runError ?? task.error} />
    </section>
  );
}
