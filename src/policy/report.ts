/**
 * The usage report of a repository (issue 16 §2), as an accumulator fed one file at a
 * time with the facts a freeze already gathers (the local `lstat`, what the remote
 * listing holds for the path, whether `exclude` matches it). It keeps counters only, and
 * the first N unprotected paths: memory is O(age buckets + N) however many files pass.
 *
 * "Safe to free" is the freeze decision ({@link decideFreeze}) with its age rule set
 * aside (`force`): the remote holds the file identically. The age rule is then applied
 * per age bound, so the figures say what a freeze at `freeze_age`, or at any bound of
 * {@link AGE_BUCKETS}, would free now. The walk, the listing and the matching stay the
 * caller's (see workers/freeze.ts and src/freeze/matcher.ts).
 *
 * @example
 * ```ts
 * const report = new ReportAccumulator({ freezeAgeDays: repo.freezeAge, verify: repo.verify, nowMs: Date.now() });
 * // for each local file, once the remote side is known (StreamingMatcher):
 * report.add({ path: 'runs/a.dat', local, remote, excluded: isExcluded('runs/a.dat') });
 * const result = report.result(filesystemFigures(await statfs(repo.localPath)));
 * ```
 */
import { decideFreeze, type KeepReason, type LocalFile } from '../freeze/decision.js';
import { AMBIGUOUS, remoteFileFor, type RemoteMatch } from '../freeze/remote-index.js';
import type { VerifyMode } from '../config/types.js';
import { AGE_BUCKETS, ageBucketOf, isAtLeastDaysOld } from './age.js';
import type { FilesystemFigures } from './filesystem.js';

/** Unprotected paths listed by default; the rest are only counted. */
export const DEFAULT_LISTED_PATHS = 100;
/** Upper bound on listed paths, whatever the caller asks: the report is held in memory and stored with the task. */
export const MAX_LISTED_PATHS = 10_000;

export interface ReportRules {
  /** The repo's `freeze_age`, days. */
  readonly freezeAgeDays: number;
  readonly verify: VerifyMode;
  /** The one "now" of the whole report, so every file is judged at the same instant. */
  readonly nowMs: number;
  /** Unprotected paths to list (default {@link DEFAULT_LISTED_PATHS}, at most {@link MAX_LISTED_PATHS}). */
  readonly listedPaths?: number;
}

/** One local file and what the caller knows about it. */
export interface ReportFile {
  /** Repo-relative, for the list of unprotected paths. */
  readonly path: string;
  /** With `hashes` when the repo verifies hashes (else such files count as unverifiable, as in freeze). */
  readonly local: LocalFile;
  /** What the remote listing holds for it (`undefined`: nothing). */
  readonly remote: RemoteMatch | typeof AMBIGUOUS | undefined;
  /** `exclude` matches it: freeze never touches it, so it is neither freeable nor unprotected. */
  readonly excluded: boolean;
}

/** Why a cold file is not safe on the remote: freeze's reasons, and two remote entries claiming its name. */
export type UnprotectedReason = Exclude<KeepReason, 'recent'> | 'ambiguous';

export interface Figures {
  readonly files: number;
  readonly bytes: number;
}

export interface AgeRow extends Figures {
  /** Label of the bucket ({@link AGE_BUCKETS}). */
  readonly bucket: string;
  readonly minDays: number;
  readonly maxDays: number | null;
  /** The part the remote holds identically (not excluded). */
  readonly safe: Figures;
}

export interface FreeableAt extends Figures {
  /** Files last read at least this many days ago. */
  readonly days: number;
}

export interface PolicyReport {
  readonly nowMs: number;
  readonly freezeAgeDays: number;
  /** Every local file seen, excluded ones included (they take room too). */
  readonly local: Figures;
  readonly byAge: readonly AgeRow[];
  readonly excluded: Figures;
  readonly freeable: {
    /** What a freeze of the repo at its `freeze_age` would free now. */
    readonly atFreezeAge: FreeableAt;
    /** The same at each lower bound of {@link AGE_BUCKETS} after 0 (7, 30, 90, 180, 365 days). */
    readonly atBounds: readonly FreeableAt[];
  };
  /** Cold (at `freeze_age`), not excluded, and not safe on the remote: its only copy is local. */
  readonly unprotected: Figures & {
    readonly byReason: Readonly<Record<UnprotectedReason, Figures>>;
    /** The first paths met, in walk order. */
    readonly paths: readonly string[];
    /** Unprotected files not in `paths`. */
    readonly unlisted: number;
  };
  /** The filesystem holding the repo, when the caller gave it. */
  readonly filesystem: FilesystemFigures | null;
}

const REASONS: readonly UnprotectedReason[] = ['missing-remote', 'differs', 'newer-locally', 'unverifiable', 'ambiguous'];

class Counter {
  files = 0;
  bytes = 0;
  add(bytes: number): void {
    this.files++;
    this.bytes += bytes;
  }
  get figures(): Figures {
    return { files: this.files, bytes: this.bytes };
  }
}

export class ReportAccumulator {
  private readonly listLimit: number;
  private readonly all = new Counter();
  private readonly excluded = new Counter();
  private readonly byAge = AGE_BUCKETS.map(() => new Counter());
  private readonly safeByAge = AGE_BUCKETS.map(() => new Counter());
  private readonly safeAtFreezeAge = new Counter();
  private readonly unprotected = new Counter();
  private readonly byReason = new Map<UnprotectedReason, Counter>(REASONS.map((reason) => [reason, new Counter()]));
  private readonly paths: string[] = [];

  constructor(private readonly rules: ReportRules) {
    this.listLimit = Math.max(0, Math.min(rules.listedPaths ?? DEFAULT_LISTED_PATHS, MAX_LISTED_PATHS));
  }

  add(file: ReportFile): void {
    const { local } = file;
    const bytes = local.size;
    const bucket = ageBucketOf(local.atimeMs, this.rules.nowMs);
    this.all.add(bytes);
    this.byAge[bucket]!.add(bytes);
    if (file.excluded) {
      this.excluded.add(bytes);
      return;
    }
    const reason = this.unsafeReason(file);
    if (reason === undefined) {
      this.safeByAge[bucket]!.add(bytes);
      if (isAtLeastDaysOld(local.atimeMs, this.rules.nowMs, this.rules.freezeAgeDays)) this.safeAtFreezeAge.add(bytes);
      return;
    }
    if (!isAtLeastDaysOld(local.atimeMs, this.rules.nowMs, this.rules.freezeAgeDays)) return; // hot: not yet a concern
    this.unprotected.add(bytes);
    this.byReason.get(reason)!.add(bytes);
    if (this.paths.length < this.listLimit) this.paths.push(file.path);
  }

  /** The report so far (it can be asked for again after more files). */
  result(filesystem: FilesystemFigures | null = null): PolicyReport {
    const safeFrom = (bucket: number): Figures =>
      this.safeByAge.slice(bucket).reduce((sum, c) => ({ files: sum.files + c.files, bytes: sum.bytes + c.bytes }), { files: 0, bytes: 0 });
    return {
      nowMs: this.rules.nowMs,
      freezeAgeDays: this.rules.freezeAgeDays,
      local: this.all.figures,
      byAge: AGE_BUCKETS.map((b) => ({ bucket: b.label, minDays: b.minDays, maxDays: b.maxDays, ...this.byAge[b.index]!.figures, safe: this.safeByAge[b.index]!.figures })),
      excluded: this.excluded.figures,
      freeable: {
        atFreezeAge: { days: this.rules.freezeAgeDays, ...this.safeAtFreezeAge.figures },
        atBounds: AGE_BUCKETS.slice(1).map((b) => ({ days: b.minDays, ...safeFrom(b.index) })),
      },
      unprotected: {
        ...this.unprotected.figures,
        byReason: Object.fromEntries(REASONS.map((reason) => [reason, this.byReason.get(reason)!.figures])) as Record<UnprotectedReason, Figures>,
        paths: [...this.paths],
        unlisted: this.unprotected.files - this.paths.length,
      },
      filesystem,
    };
  }

  /** `undefined` when the remote holds the file identically (freeze's rules, age aside). */
  private unsafeReason(file: ReportFile): UnprotectedReason | undefined {
    if (file.remote === AMBIGUOUS) return 'ambiguous';
    const verdict = decideFreeze(file.local, remoteFileFor(file.local, file.remote), {
      freezeAgeDays: 0,
      force: true,
      verify: this.rules.verify,
      nowMs: this.rules.nowMs,
    });
    // With force, 'recent' cannot come back; the narrowing says so to the compiler.
    return verdict.freeze || verdict.reason === 'recent' ? undefined : verdict.reason;
  }
}
