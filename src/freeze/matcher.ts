/**
 * Matches a local walk against a remote listing while both stream, so the two run at
 * the same time instead of one after the other. Remote files not yet asked for wait in
 * the compact {@link RemoteIndex}; local files the listing has not reached yet wait in a
 * small map until it does (or until it ends: then they are missing on the remote). Each
 * side is held once, and only while it waits for the other.
 */
import { localNameOf, type RemoteEntry } from '../rclone/index.js';
import { AMBIGUOUS, RemoteIndex, type RemoteMatch } from './remote-index.js';

/** The listing has not reached this path yet: the local file waits. */
export const WAITING = 'waiting';

/**
 * Local files allowed to wait at once. The walk is faster than most listings and rclone
 * lists directories in parallel, in no fixed order, so without a bound the waiting side
 * could grow to the whole tree; with it, the walk pauses until the listing catches up.
 */
export const MAX_WAITING = 20_000;

/** A local file that waited, and what the remote turned out to hold for it. */
export interface LateMatch<L> {
  readonly key: string;
  readonly local: L;
  readonly remote: RemoteMatch | undefined;
}

/**
 * @example
 * ```ts
 * const matcher = new StreamingMatcher<LocalFile>(false);
 * // listing side:
 * const late = matcher.remote(entry); if (late) judge(late.key, late.local, late.remote);
 * // walking side:
 * const remote = matcher.local('a/b.dat', stat); if (remote !== WAITING) judge('a/b.dat', stat, remote);
 * // when the listing has ended:
 * for (const late of matcher.listingComplete()) judge(late.key, late.local, undefined);
 * ```
 */
export class StreamingMatcher<L> {
  private readonly index = new RemoteIndex();
  private readonly waiting = new Map<string, L>();
  private complete = false;
  private mostWaiting = 0;
  private wakeWalk: (() => void) | undefined;

  /**
   * @param keepHashes keep the remote's hashes (for `verify: hash`)
   * @param maxWaiting local files allowed to wait at once
   */
  constructor(
    private readonly keepHashes: boolean,
    private readonly maxWaiting = MAX_WAITING,
  ) {}

  /** Remote files seen so far that no local file has asked for yet. */
  get remoteHeld(): number {
    return this.index.unclaimed;
  }

  /** The largest number of local files that waited at once (for the task log and the bench). */
  get peakWaiting(): number {
    return this.mostWaiting;
  }

  /** A remote entry arrived: the waiting local file it completes, if any. */
  remote(entry: RemoteEntry): LateMatch<L> | undefined {
    if (entry.isDir) return undefined;
    const key = localNameOf(entry.path);
    const local = this.waiting.get(key);
    if (local === undefined) {
      this.index.add(entry, this.keepHashes);
      return undefined;
    }
    this.waiting.delete(key);
    if (this.wakeWalk && this.waiting.size <= this.maxWaiting / 2) this.wake();
    const remote: RemoteMatch = {
      size: entry.size,
      mtimeMs: Date.parse(entry.modTime),
      isLink: key !== entry.path,
      ...(this.keepHashes && entry.hashes ? { hashes: entry.hashes } : {}),
    };
    return { key, local, remote };
  }

  /**
   * A local file arrived (path relative to the listed directory): what the remote holds,
   * `undefined` when it holds nothing (the listing has ended), or {@link WAITING}.
   */
  local(key: string, local: L): RemoteMatch | typeof AMBIGUOUS | undefined | typeof WAITING {
    const match = this.index.claim(key);
    if (match !== undefined || this.complete) return match;
    this.waiting.set(key, local);
    if (this.waiting.size > this.mostWaiting) this.mostWaiting = this.waiting.size;
    return WAITING;
  }

  /**
   * Resolves when another local file may wait: at once while fewer than the maximum do, otherwise when the listing has caught up or ended.
   */
  roomToWait(): Promise<void> {
    if (this.waiting.size < this.maxWaiting || this.complete) return Promise.resolve();
    return new Promise((resolve) => {
      this.wakeWalk = resolve;
    });
  }

  /** The listing stopped (failed or aborted): a paused walk resumes, to see the failure. */
  listingStopped(): void {
    this.wake();
  }

  /** The listing ended without error: every local file still waiting is missing on the remote. */
  *listingComplete(): Generator<LateMatch<L>> {
    this.complete = true;
    this.wake();
    for (const [key, local] of this.waiting) {
      this.waiting.delete(key);
      yield { key, local, remote: undefined };
    }
  }

  private wake(): void {
    const wake = this.wakeWalk;
    this.wakeWalk = undefined;
    wake?.();
  }
}
