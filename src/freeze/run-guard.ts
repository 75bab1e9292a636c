/**
 * The limits of one freeze run (issue 16 §4), in one place: `max_files_per_run`,
 * `max_bytes_per_run`, the byte target of a watermark freeze, and the guard against a
 * remote in trouble. Pure: the freeze asks before each deletion and reports each re-check.
 */
import { plural } from '../text/plural.js';

/** Re-checks seen before the failure ratio is judged: a few unlucky files early are no trend. */
export const RECHECKS_BEFORE_JUDGING = 100;
/** More than this share of failed re-checks means the remote is in trouble. */
export const MAX_RECHECK_FAILURE_SHARE = 0.1;

/** Why a watermark freeze stops when it has freed what it had to: not a limit, the goal. */
export const LOW_MARK_REACHED = 'the low watermark is reached';

export interface RunLimits {
  /** `max_files_per_run`. */
  readonly maxFiles?: number;
  /** `max_bytes_per_run`: sizes, as the task's `bytes` counts them. */
  readonly maxBytes?: number;
  /** A watermark freeze's target: allocated bytes (`st_blocks * 512`) to free. */
  readonly targetAllocatedBytes?: number;
}

/** Thrown when the remote fails too many re-checks: the freeze stops deleting and fails with this message. */
export class RemoteInTroubleError extends Error {
  override readonly name = 'RemoteInTroubleError';
}

/**
 * @example
 * ```ts
 * const guard = new RunGuard({ maxFiles: repo.maxFilesPerRun });
 * if (!guard.allows(size)) return; // guard.stopped says why
 * guard.recheck(remoteStillHoldsIt); // throws RemoteInTroubleError
 * guard.frozen(size, allocated);
 * ```
 */
export class RunGuard {
  private files = 0;
  private bytes = 0;
  private allocated = 0;
  private rechecks = 0;
  private failures = 0;
  private reason: string | undefined;

  constructor(private readonly limits: RunLimits) {}

  /** Why the run stopped early (a limit reached), or undefined. */
  get stopped(): string | undefined {
    return this.reason;
  }

  /** Allocated bytes freed so far. */
  get freedAllocatedBytes(): number {
    return this.allocated;
  }

  /** Whether a file of `size` bytes may still be frozen; false (and {@link stopped} set) once a limit is reached. */
  allows(size: number): boolean {
    if (this.reason !== undefined) return false;
    const { maxFiles, maxBytes, targetAllocatedBytes } = this.limits;
    if (targetAllocatedBytes !== undefined && this.allocated >= targetAllocatedBytes) this.reason = LOW_MARK_REACHED;
    else if (maxFiles !== undefined && this.files >= maxFiles) this.reason = `max_files_per_run (${maxFiles}) is reached`;
    else if (maxBytes !== undefined && this.bytes + size > maxBytes) this.reason = `max_bytes_per_run (${maxBytes}) is reached: the next file would take it past`;
    return this.reason === undefined;
  }

  /** A file was frozen (or would be, in a dry run). */
  frozen(size: number, allocatedBytes: number): void {
    this.files++;
    this.bytes += size;
    this.allocated += allocatedBytes;
  }

  /**
   * One re-check of the remote before a deletion: `ok` when the remote still holds the file
   * as listed.
   *
   * @throws RemoteInTroubleError once more than 10 % of at least 100 re-checks failed.
   */
  recheck(ok: boolean): void {
    this.rechecks++;
    if (!ok) this.failures++;
    if (this.rechecks >= RECHECKS_BEFORE_JUDGING && this.failures > MAX_RECHECK_FAILURE_SHARE * this.rechecks) {
      throw new RemoteInTroubleError(
        `remote in trouble: stop deleting (it failed ${this.failures} of ${plural(this.rechecks, 're-check')}, more than 10 %; ${plural(this.files, 'file was', 'files were')} frozen before)`,
      );
    }
  }
}
