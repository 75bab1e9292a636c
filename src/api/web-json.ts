/**
 * The wire shapes of `GET /repos` and `POST /browse` (what the web page reads), from the
 * services' results; typed by the schemas the OpenAPI document publishes.
 */
import type { BrowseResult, RepoSummary } from '../services/browse-service.js';
import type { BrowseJson, ReposJson } from '../wire/index.js';

/**
 * @example
 * ```ts
 * res.json(reposJson(await browse.summaries())); // {"repos": [{"path": "/data/lab1", "backend": "sftp", …}]}
 * ```
 */
export function reposJson(summaries: readonly RepoSummary[]): ReposJson {
  return {
    repos: summaries.map(({ repo, backend, filesystem, frozen }) => ({
      path: repo.localPath,
      backend,
      freezable: repo.freezable,
      freeze_age: repo.freezeAge,
      exclude: [...repo.exclude],
      auto_freeze: repo.autoFreeze,
      auto_freeze_interval: repo.autoFreezeInterval,
      auto_freeze_cron: repo.autoFreezeCron ?? null,
      report_cron: repo.reportCron ?? null,
      high_watermark: repo.watermarks?.high ?? null,
      low_watermark: repo.watermarks?.low ?? null,
      filesystem: filesystem ? { ...filesystem } : null,
      frozen: { files: frozen.files, bytes: frozen.bytes },
    })),
  };
}

/**
 * @example
 * ```ts
 * res.json(browseJson(await browse.browse('/data/lab1/runs')));
 * ```
 */
export function browseJson(result: BrowseResult): BrowseJson {
  return {
    path: result.path,
    repo: result.repo,
    entries: result.entries.map((entry) => ({
      name: entry.name,
      is_dir: entry.isDir,
      state: entry.state,
      size: entry.size,
      mtime: entry.mtime,
      atime: entry.atime,
    })),
    total: result.total,
  };
}
