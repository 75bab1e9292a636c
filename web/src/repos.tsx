import { api, type RepoJson, type ReposJson } from './api.js';
import { ErrorNote, Filesystem, Loading, type Watermarks } from './components.js';
import { useLoad } from './hooks.js';
import { LatestReport } from './report.js';
import { href } from './route.js';

function schedule(repo: RepoJson): string {
  if (!repo.auto_freeze) return 'off';
  if (repo.auto_freeze_cron) return `cron "${repo.auto_freeze_cron}"`;
  return `every ${repo.auto_freeze_interval} days`;
}

function watermarks(repo: RepoJson): Watermarks | undefined {
  return repo.high_watermark !== null && repo.low_watermark !== null ? { high: repo.high_watermark, low: repo.low_watermark } : undefined;
}

export function ReposPage() {
  const repos = useLoad(() => api<ReposJson>('GET', '/repos'), 'repos');
  return (
    <section aria-labelledby="repos-title">
      <h1 id="repos-title">Repositories</h1>
      <ErrorNote message={repos.error} />
      {!repos.data && !repos.error && <Loading what="the repositories" />}
      {repos.data && repos.data.repos.length === 0 && <p>No repository is configured.</p>}
      <div class="cards">
        {repos.data?.repos.map((repo) => (
          <article class="card repo" key={repo.path} aria-labelledby={`repo-${repo.path}`}>
            <h2 id={`repo-${repo.path}`} class="path">
              {repo.path}
            </h2>
            <Filesystem filesystem={repo.filesystem} frozen={repo.frozen} marks={watermarks(repo)} />
            <dl class="facts">
              <dt>Remote</dt>
              <dd>{repo.backend}</dd>
              <dt>Freeze</dt>
              <dd>{repo.freezable ? `files not read for ${repo.freeze_age} days` : 'not allowed (pull only)'}</dd>
              <dt>Auto-freeze</dt>
              <dd>{repo.freezable ? schedule(repo) : 'off'}</dd>
              {watermarks(repo) && (
                <>
                  <dt>Watermarks</dt>
                  <dd>
                    above {repo.high_watermark} % of the disk, freeze the least recently read files down to {repo.low_watermark} %
                  </dd>
                </>
              )}
              <dt>Reports</dt>
              <dd>{repo.report_cron ? `cron "${repo.report_cron}"` : 'on request'}</dd>
              <dt>Excluded</dt>
              <dd>{repo.exclude.length > 0 ? repo.exclude.join(', ') : 'nothing'}</dd>
            </dl>
            <p class="actions">
              <a class="button" href={href('browse', { path: repo.path })}>
                Browse<span class="visually-hidden"> {repo.path}</span>
              </a>
              <a class="button secondary" href={href('tasks', { path: repo.path })}>
                Tasks<span class="visually-hidden"> on {repo.path}</span>
              </a>
            </p>
            <LatestReport repo={repo.path} />
          </article>
        ))}
      </div>
    </section>
  );
}
