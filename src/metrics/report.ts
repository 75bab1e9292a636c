/**
 * Gauges from the latest report of each repository (issue 16 §2): bytes and files by
 * last-access age, what a freeze at `freeze_age` would free, unprotected data, and frozen
 * files with those the remote lost. Read from the task records at each scrape, like every
 * other Glacis metric: a repo without a finished report has no series.
 */
import { Gauge, type Registry } from 'prom-client';
import type { RepoReport } from '../tasks/kinds/report.js';

/** The latest finished report of each repo (a report of the repo itself, not of a subtree). */
export type LatestReports = () => Promise<readonly RepoReport[]>;

/**
 * @example
 * ```ts
 * registerReportGauges(registry, () => reports.latestOfEachRepo());
 * ```
 */
export function registerReportGauges(registry: Registry, latest: LatestReports, timeout: <T>(operation: Promise<T>) => Promise<T>): void {
  const registers = [registry];
  // All gauges of one scrape share one read.
  let running: Promise<readonly RepoReport[] | undefined> | undefined;
  const reports = (): Promise<readonly RepoReport[] | undefined> => {
    running ??= timeout(latest())
      .catch(() => undefined)
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const gauge = (name: string, help: string, labelNames: readonly string[], values: (report: RepoReport) => ReadonlyArray<readonly [Record<string, string>, number]>): void => {
    new Gauge({
      name,
      help,
      labelNames: ['repo', ...labelNames],
      registers,
      async collect() {
        this.reset();
        for (const report of (await reports()) ?? []) for (const [labels, value] of values(report)) this.set({ repo: report.repo, ...labels }, value);
      },
    });
  };
  gauge('glacis_report_local_bytes', 'Local bytes by last-access age bucket, from the latest report of each repo.', ['age'], (r) => r.byAge.map((row) => [{ age: row.bucket }, row.bytes]));
  gauge('glacis_report_local_files', 'Local files by last-access age bucket, from the latest report of each repo.', ['age'], (r) => r.byAge.map((row) => [{ age: row.bucket }, row.files]));
  gauge('glacis_report_freeable_bytes', "Bytes a freeze at the repo's freeze_age would free (files the remote holds identically), from the latest report.", [], (r) => [[{}, r.freeable.atFreezeAge.bytes]]);
  gauge('glacis_report_unprotected_bytes', 'Cold bytes whose only copy is local (the remote lacks them or holds them differently), from the latest report.', [], (r) => [[{}, r.unprotected.bytes]]);
  gauge('glacis_report_unprotected_files', 'Cold files whose only copy is local, from the latest report.', [], (r) => [[{}, r.unprotected.files]]);
  gauge('glacis_report_frozen_files', 'Frozen files (in the catalogue), from the latest report.', [], (r) => [[{}, r.frozen.files]]);
  gauge('glacis_report_frozen_lost_files', 'Frozen files the remote no longer holds as frozen (missing, shrunk or changed): data lost. Alert on > 0.', [], (r) => [[{}, r.frozen.lost.files]]);
  gauge('glacis_report_timestamp_seconds', 'When the latest report of the repo was computed (Unix time).', [], (r) => [[{}, r.nowMs / 1000]]);
}
