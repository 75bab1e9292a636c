/**
 * The latest report of each repository (issue 16 §2): `GET /repos/<repo>/report` and the
 * `/metrics` gauges read it. "Of the repository" means a finished report of the repository
 * itself, not of a directory in it (a subtree's figures would pass for the whole repo's).
 */
import path from 'node:path';
import type { Repo } from '../config/types.js';
import type { Task, TaskStore } from '../store/types.js';
import { repoReportSchema } from '../tasks/kinds/report-schema.js';
import type { RepoReport } from '../tasks/kinds/report.js';
import { NotFoundError } from './errors.js';

/** Reports of subtrees skipped per query while looking for the repository's own. */
const PAGE = 200;

export class ReportService {
  constructor(
    private readonly repos: readonly Repo[],
    private readonly store: Pick<TaskStore, 'list'>,
  ) {}

  /**
   * @throws NotFoundError naming the repository when `repoPath` is not one, or it has no finished report yet.
   * @example
   * ```ts
   * const report = await reports.latest('/data/lab1');
   * ```
   */
  async latest(repoPath: string): Promise<RepoReport> {
    const wanted = path.posix.resolve('/', repoPath);
    const repo = this.repos.find((r) => r.localPath === wanted);
    if (!repo) throw new NotFoundError(`${repoPath} is not a repository: give a repository's local path, as GET /repos lists them`);
    const report = await this.latestOf(repo);
    if (!report) throw new NotFoundError(`repository ${repo.localPath} has no finished report yet: make one with POST /report {"path": "${repo.localPath}"}`);
    return report;
  }

  /** The latest report of each repository that has one. */
  async latestOfEachRepo(): Promise<RepoReport[]> {
    const found = await Promise.all(this.repos.map((repo) => this.latestOf(repo)));
    return found.filter((report) => report !== undefined);
  }

  private async latestOf(repo: Repo): Promise<RepoReport | undefined> {
    for (let offset = 0; ; offset += PAGE) {
      const tasks = await this.store.list({ type: 'report', status: 'finished', pathPrefix: repo.localPath, order: 'desc', limit: PAGE, offset });
      const own = tasks.find((task: Task) => task.path === repo.localPath && task.result !== null);
      // Stored by this Glacis from the same schema; parsed all the same (a record an older one wrote).
      if (own) return repoReportSchema.parse(own.result);
      if (tasks.length < PAGE) return undefined;
    }
  }
}
