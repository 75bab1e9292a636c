/**
 * Report: for a repository or a directory in it, what is cold, what a freeze would free,
 * what only exists locally, and whether the remote still holds every frozen file (issue
 * 16 §1-2). Reads only: never writes locally or on the remote (the work is
 * src/workers/report.ts). The result's wire shape is ./report-schema.ts.
 */
import { z } from 'zod';
import { path } from '../../wire/fields.js';
import type { VerifyMode } from '../../config/types.js';
import type { FrozenCopyState } from '../../policy/frozen.js';
import type { Figures, PolicyReport } from '../../policy/report.js';
import type { TaskKindDefinition } from '../kind.js';
import { repoReportSchema } from './report-schema.js';

/** `POST /report`'s body. */
export const reportBody = z.strictObject({ path });

/** Lost frozen files named in the result and in the alert; the rest are counted. */
export const LISTED_LOSSES = 100;

export type LossState = Exclude<FrozenCopyState, 'held'>;

/** One frozen file the remote no longer holds as it was frozen. */
export interface LostFile {
  readonly path: string;
  readonly state: LossState;
  readonly size: number;
  readonly frozenAt: string;
}

/** The catalogue part of a report: what was frozen under the path, and what of it the remote lost. */
export interface FrozenFigures extends Figures {
  /** Frozen files the remote still holds as they were frozen. */
  readonly held: Figures;
  /** Frozen files whose only copy is gone: by state, then the first {@link LISTED_LOSSES} named. */
  readonly lost: Figures & {
    readonly byState: Readonly<Record<LossState, Figures>>;
    readonly listed: readonly LostFile[];
    readonly unlisted: number;
  };
  /** Catalogued files present locally again (put back by hand): not counted as lost. */
  readonly localAgain: number;
}

/** The report as stored with the task and answered by the API (documented in docs/api.md). */
export interface RepoReport extends PolicyReport {
  /** The repository (its local path) and the reported path in it. */
  readonly repo: string;
  readonly path: string;
  /** How "the remote holds it identically" was judged: always `size` (size and mtime), see the module comment. */
  readonly verifiedBy: VerifyMode;
  readonly frozen: FrozenFigures;
}

export const reportKind: TaskKindDefinition = {
  name: 'report',
  runningStatus: 'reporting',
  words: { verb: 'report', ing: 'reporting', ed: 'reported', bytesMeaning: 'counted' },
  writesRemote: false,
  resultField: 'report',
  resultSchema: repoReportSchema,
  // Loaded when a worker first runs one: the registry stays light for the CLI and the API.
  run: async (context) => (await import('../../workers/report.js')).runReport(context),
  submit: {
    path: '/report',
    body: reportBody,
    toRequest: (body: z.output<typeof reportBody>) => ({ path: body.path }),
    doc: {
      schemaName: 'ReportRequest',
      title: 'Report on a repository or a directory in it',
      summary: 'Report: bytes by last access, what a freeze would free, unprotected and lost frozen files',
      description:
        'Walks the local tree and lists the remote as a freeze would, changing nothing. The finished task has files and bytes (local), unprotected, and report (see docs/api.md, "Reports"). Frozen files the remote no longer holds are mailed to MAIL_ADMIN by name. A file path is refused when the task runs.',
      fields: { path: 'Absolute path of a repository or a directory inside one' },
    },
  },
};

