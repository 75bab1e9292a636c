/**
 * The wire shape of a report (the task's `report`, `GET /repos/<repo>/report`), as one zod
 * schema: the OpenAPI document is generated from it and the CLI checks answers with it.
 * The compile-time check at the end holds it equal to {@link RepoReport}, the type the
 * report kind builds, so the two cannot drift apart.
 */
import { z } from 'zod';
import type { RepoReport } from './report.js';

const count = z.int().min(0);
const figures = z.strictObject({ files: count, bytes: count });

const ageRow = z
  .strictObject({
    bucket: z.string().describe('`<7d`, `7-30d`, `30-90d`, `90-180d`, `180-365d`, `>365d`'),
    minDays: count.describe('Lower bound, days, included'),
    maxDays: count.nullable().describe('Upper bound, days, excluded; null for the last bucket'),
    files: count,
    bytes: count,
    safe: figures.describe('The part the remote holds identically (excluded files left out)'),
  })
  .describe('Local files last read in this age range');

const freeableAt = z.strictObject({ days: count.describe('Files last read at least this many days ago'), files: count, bytes: count });

const lostFile = z.strictObject({
  path: z.string().describe('Repo-relative'),
  state: z.enum(['missing', 'shrunk', 'changed']),
  size: count.describe('Bytes when frozen'),
  frozenAt: z.string().describe('ISO 8601'),
});

/**
 * @example
 * ```ts
 * const report = repoReportSchema.parse(answer.report);
 * ```
 */
export const repoReportSchema = z
  .strictObject({
    repo: z.string().describe('The repository (its local path)'),
    path: z.string().describe('The reported path: the repository or a directory in it'),
    nowMs: count.describe('When the report judged ages (Unix time, ms)'),
    freezeAgeDays: count.describe("The repo's freeze_age"),
    verifiedBy: z.enum(['size', 'hash']).describe('How "the remote holds it identically" was judged: size and mtime (a report reads no file)'),
    local: figures.describe('Every local file, excluded ones included'),
    byAge: z.array(ageRow).describe('By last access, youngest first'),
    excluded: figures.describe('Files matching exclude: never freeable nor unprotected'),
    freeable: z.strictObject({
      atFreezeAge: freeableAt.describe("What a freeze at the repo's freeze_age would free now"),
      atBounds: z.array(freeableAt).describe('The same at 7, 30, 90, 180 and 365 days'),
    }),
    unprotected: z
      .strictObject({
        files: count,
        bytes: count,
        byReason: z.record(z.enum(['missing-remote', 'differs', 'newer-locally', 'unverifiable', 'ambiguous']), figures),
        paths: z.array(z.string()).describe('The first unprotected files met (repo-relative)'),
        unlisted: count.describe('Unprotected files not in paths'),
      })
      .describe('Cold files (at freeze_age), not excluded, the remote lacks or holds differently: their only copy is local'),
    filesystem: z.strictObject({ size: count, used: count, free: count }).nullable().describe('The filesystem holding the repository, as df counts it'),
    frozen: z
      .strictObject({
        files: count,
        bytes: count,
        held: figures.describe('Frozen files the remote still holds as frozen'),
        lost: z
          .strictObject({
            files: count,
            bytes: count,
            byState: z.strictObject({ missing: figures, shrunk: figures, changed: figures }),
            listed: z.array(lostFile).describe('The first 100 lost files'),
            unlisted: count,
          })
          .describe('Frozen files the remote no longer holds as frozen: no copy is left (mailed to MAIL_ADMIN)'),
        localAgain: count.describe('Catalogued files present locally again (put back by hand): not counted'),
      })
      .describe('Files frozen under the path (the catalogue), checked against the remote listing'),
  })
  .describe('A report of a repository or a directory in it (issue 16)');

/** What the schema accepts is exactly what the kind builds (a compile-time check, both ways). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameShape: Same<z.output<typeof repoReportSchema>, DeepMutable<RepoReport>> = true;
void sameShape;

type DeepMutable<T> = T extends readonly (infer U)[] ? DeepMutable<U>[] : T extends object ? { -readonly [K in keyof T]: DeepMutable<T[K]> } : T;
