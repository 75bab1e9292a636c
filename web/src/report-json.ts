/**
 * The part of a report (`GET /repos/<repo>/report`) the page reads. Declared here because
 * the page imports from src/ only the API's wire shapes, and the report's shape is built by
 * the report kind (src/tasks/kinds/report.ts, `RepoReport`); test/web/report.test.ts holds
 * the two together at compile time (every `RepoReport` is a `ReportJson`), so a change to
 * the report that the page would misread fails the typecheck.
 */

export interface ReportFigures {
  readonly files: number;
  readonly bytes: number;
}

/** Local files last read in one age range; `safe`: the part the remote holds identically. */
export interface ReportAgeRow extends ReportFigures {
  readonly bucket: string;
  readonly minDays: number;
  /** Excluded; null for the last range. */
  readonly maxDays: number | null;
  readonly safe: ReportFigures;
}

export interface ReportJson {
  readonly repo: string;
  readonly path: string;
  /** When the report judged ages (Unix time, ms). */
  readonly nowMs: number;
  readonly freezeAgeDays: number;
  readonly local: ReportFigures;
  /** Youngest first. */
  readonly byAge: readonly ReportAgeRow[];
  readonly freeable: { readonly atFreezeAge: ReportFigures };
  /** Cold files the remote lacks or holds differently; `paths`: the first ones met. */
  readonly unprotected: ReportFigures & { readonly paths: readonly string[] };
  /** Frozen files; `lost`: those the remote no longer holds (no copy left), the first ones named. */
  readonly frozen: ReportFigures & {
    readonly lost: ReportFigures & { readonly listed: readonly { readonly path: string; readonly state: string }[] };
  };
}
