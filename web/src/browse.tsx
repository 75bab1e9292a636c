import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, hasEnded, messageOf, taskEvents, type BrowseJson, type ReposJson, type TaskEventJson, type TaskJson } from './api.js';
import { ErrorNote, Loading, Scroll, StateBadge } from './components.js';
import { FREEZE_REPORT_KINDS, FreezeReport } from './freeze.js';
import { bytes, count, when } from './format.js';
import { useLoad } from './hooks.js';
import { go, href, taskHref } from './route.js';

/** Breadcrumbs from the repository's root down to `dir`. */
function Crumbs({ repo, dir }: { repo: string; dir: string }) {
  const rest = dir === repo ? [] : dir.slice(repo === '/' ? 1 : repo.length + 1).split('/');
  const crumbs = [{ name: repo, path: repo }];
  let current = repo;
  for (const part of rest) {
    current = current === '/' ? `/${part}` : `${current}/${part}`;
    crumbs.push({ name: part, path: current });
  }
  return (
    <nav aria-label="Breadcrumb" class="crumbs">
      <ol>
        {crumbs.map((crumb, i) => (
          <li key={crumb.path}>
            {i === crumbs.length - 1 ? (
              <span aria-current="page">{crumb.name}</span>
            ) : (
              <a href={href('browse', { path: crumb.path })}>{crumb.name}</a>
            )}
          </li>
        ))}
      </ol>
    </nav>
  );
}

function join(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => window.setTimeout(resolve, ms));

async function untilEnded(id: string): Promise<TaskJson> {
  for (;;) {
    const task = await api<TaskJson>('GET', `/tasks/status/${encodeURIComponent(id)}`);
    if (hasEnded(task)) return task;
    await sleep(700);
  }
}

type FreezeStep =
  | { step: 'running'; paths: string[] }
  | { step: 'review'; paths: string[]; reports: { task: TaskJson; events: TaskEventJson[] }[] }
  | { step: 'failed'; message: string };

export function BrowsePage({ path }: { path: string | null }) {
  const repos = useLoad(() => api<ReposJson>('GET', '/repos'), 'repos');
  if (!path) {
    return (
      <section aria-labelledby="browse-title">
        <h1 id="browse-title">Browse</h1>
        <ErrorNote message={repos.error} />
        {!repos.data && !repos.error && <Loading what="the repositories" />}
        <p>Choose a repository:</p>
        <ul class="plain">
          {repos.data?.repos.map((repo) => (
            <li key={repo.path}>
              <a href={href('browse', { path: repo.path })} class="path">
                {repo.path}
              </a>
            </li>
          ))}
        </ul>
      </section>
    );
  }
  return <Directory path={path} repos={repos.data} />;
}

function Directory({ path, repos }: { path: string; repos: ReposJson | undefined }) {
  const listing = useLoad(() => api<BrowseJson>('POST', '/browse', { path }), path);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [notice, setNotice] = useState<string | undefined>();
  const [actionError, setActionError] = useState<string | undefined>();
  const [freeze, setFreeze] = useState<FreezeStep | undefined>();
  const [busy, setBusy] = useState(false);
  const reviewRef = useRef<HTMLHeadingElement>(null);

  useEffect(() => {
    setSelected(new Set());
    setFreeze(undefined);
    setNotice(undefined);
    setActionError(undefined);
  }, [path]);
  useEffect(() => {
    if (freeze) reviewRef.current?.focus();
  }, [freeze?.step]);

  const data = listing.data;
  const repo = repos?.repos.find((r) => r.path === data?.repo);
  const entries = data?.entries ?? [];
  const targets = selected.size > 0 ? [...selected].map((name) => join(path, name)) : [path];
  const what = selected.size > 0 ? count(selected.size, 'selected entry', 'selected entries') : 'this directory';

  const toggle = (name: string): void => {
    const next = new Set(selected);
    if (next.has(name)) next.delete(name);
    else next.add(name);
    setSelected(next);
  };
  const allSelected = entries.length > 0 && entries.every((e) => selected.has(e.name));

  /** Submits one task per target; goes to the task when there is one, else lists them. */
  const submit = async (kind: 'pull' | 'freeze', paths: string[]): Promise<void> => {
    setBusy(true);
    setActionError(undefined);
    try {
      const ids: string[] = [];
      for (const target of paths) ids.push((await api<{ task: string }>('POST', `/${kind}`, { path: target })).task);
      if (ids.length === 1) go(taskHref(ids[0]!));
      else go(href('tasks', { path, type: kind }));
    } catch (error) {
      setActionError(messageOf(error));
    } finally {
      setBusy(false);
    }
  };

  const dryRun = async (): Promise<void> => {
    const paths = targets;
    setActionError(undefined);
    setFreeze({ step: 'running', paths });
    try {
      const reports: { task: TaskJson; events: TaskEventJson[] }[] = [];
      for (const target of paths) {
        const { task: id } = await api<{ task: string }>('POST', '/freeze', { path: target, dry_run: true });
        const task = await untilEnded(id);
        if (task.status !== 'finished') throw new ApiError(`The dry run on ${target} ${task.status}: ${task.error ?? 'see its log'}`, 0);
        reports.push({ task, events: await taskEvents(id, FREEZE_REPORT_KINDS) });
      }
      setFreeze({ step: 'review', paths, reports });
    } catch (error) {
      setFreeze({ step: 'failed', message: messageOf(error) });
    }
  };

  return (
    <section aria-labelledby="browse-title">
      <h1 id="browse-title">Browse</h1>
      {data ? <Crumbs repo={data.repo} dir={data.path} /> : <p class="path">{path}</p>}
      <ErrorNote message={listing.error} />
      {!data && !listing.error && <Loading what="the directory" />}
      {data && (
        <>
          <div class="toolbar" role="group" aria-label="Actions">
            <button type="button" disabled={busy} onClick={() => void submit('pull', targets)}>
              Pull {what}
            </button>
            <button
              type="button"
              class="secondary"
              disabled={busy || freeze?.step === 'running' || repo?.freezable === false}
              onClick={() => void dryRun()}
              aria-describedby={repo?.freezable === false ? 'not-freezable' : undefined}
            >
              Freeze {what}…
            </button>
            {repo?.freezable === false && (
              <span id="not-freezable" class="muted">
                This repository does not allow freezing.
              </span>
            )}
          </div>
          <ErrorNote message={actionError} />
          {notice && <p role="status">{notice}</p>}
          {freeze && (
            <div class="panel" role="region" aria-labelledby="freeze-title">
              <h2 id="freeze-title" tabIndex={-1} ref={reviewRef}>
                Freeze: dry run
              </h2>
              {freeze.step === 'running' && (
                <p role="status" class="loading">
                  Running a dry run on {count(freeze.paths.length, 'path', 'paths')}: nothing is deleted yet…
                </p>
              )}
              {freeze.step === 'failed' && <ErrorNote message={freeze.message} />}
              {freeze.step === 'review' && (
                <>
                  {freeze.reports.map((report) => (
                    <FreezeReport key={report.task.task_id} task={report.task} events={report.events} />
                  ))}
                  <p>
                    Freezing deletes these local copies; each is checked against the remote again right before. A pull brings them back.
                  </p>
                  <div class="toolbar">
                    <button type="button" class="danger" disabled={busy} onClick={() => void submit('freeze', freeze.paths)}>
                      Confirm freeze
                    </button>
                    <button type="button" class="secondary" onClick={() => setFreeze(undefined)}>
                      Cancel
                    </button>
                  </div>
                </>
              )}
              {freeze.step === 'failed' && (
                <button type="button" class="secondary" onClick={() => setFreeze(undefined)}>
                  Close
                </button>
              )}
            </div>
          )}
          <Scroll label={`Entries of ${data.path}`}>
            <table class="entries">
              <caption class="visually-hidden">Entries of {data.path}</caption>
              <thead>
                <tr>
                  <th scope="col" class="check">
                    <input
                      type="checkbox"
                      aria-label="Select all entries"
                      checked={allSelected}
                      disabled={entries.length === 0}
                      onChange={() => setSelected(allSelected ? new Set() : new Set(entries.map((e) => e.name)))}
                    />
                  </th>
                  <th scope="col">Name</th>
                  <th scope="col">State</th>
                  <th scope="col" class="num">
                    Size
                  </th>
                  <th scope="col">Modified</th>
                  <th scope="col">Last access</th>
                </tr>
              </thead>
              <tbody>
                {entries.length === 0 && (
                  <tr>
                    <td colSpan={6} class="muted">
                      This directory is empty.
                    </td>
                  </tr>
                )}
                {entries.map((entry) => (
                  <tr key={entry.name} class={selected.has(entry.name) ? 'selected' : undefined}>
                    <td class="check">
                      <input type="checkbox" aria-label={`Select ${entry.name}`} checked={selected.has(entry.name)} onChange={() => toggle(entry.name)} />
                    </td>
                    <td class="name">
                      {entry.is_dir ? (
                        <a href={href('browse', { path: join(data.path, entry.name) })}>
                          <span aria-hidden="true" class="icon">
                            ▸{' '}
                          </span>
                          {entry.name}/
                        </a>
                      ) : (
                        entry.name
                      )}
                    </td>
                    <td>
                      <StateBadge state={entry.state} />
                    </td>
                    <td class="num">{entry.is_dir ? '' : bytes(entry.size)}</td>
                    <td>{when(entry.mtime)}</td>
                    <td>{when(entry.atime)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </Scroll>
          {data.total > entries.length && (
            <p class="warning" role="status">
              Showing the first {entries.length.toLocaleString('en')} of {data.total.toLocaleString('en')} entries (directories first). Pull or freeze
              the whole directory with the buttons above; the glacis command lists them all.
            </p>
          )}
          <p class="legend muted">
            <StateBadge state="local" /> here and on the remote · <StateBadge state="frozen" /> a pull brings it back ·{' '}
            <StateBadge state="local_only" /> exists only here: not backed up
          </p>
        </>
      )}
    </section>
  );
}
