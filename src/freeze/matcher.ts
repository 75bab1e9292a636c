/**
 * Matches a local walk against a remote listing while both stream, so the two run at
 * the same time instead of one after the other. Remote files not yet asked for wait in
 * the compact {@link RemoteIndex}; local files the listing has not reached yet wait in a
 * small map until it does (or until it ends: then they are missing on the remote). Each
 * side is held once, and only while it waits for the other.
 */
import { localNameOf, type ListedFiles, type RemoteEntry } from '../rclone/index.js';
import { pathHash } from '../text/path-hash.js';
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
 * A local file waiting, found by the {@link pathHash} of its path (a remote file may come
 * without a name: {@link ListedFiles}); those sharing the map's 53-bit key are chained.
 */
interface Waiting<L> {
  readonly hi: number;
  readonly lo: number;
  readonly key: string;
  readonly local: L;
  next: Waiting<L> | undefined;
}

/** The waiting map's key: 53 of the hash's 64 bits (the chain compares all 64). */
function waitKey(hi: number, lo: number): number {
  return (hi & 0x1fffff) * 0x1_0000_0000 + lo;
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
  private readonly waiting = new Map<number, Waiting<L>>();
  private waitingCount = 0;
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
    const [hi, lo] = pathHash(key);
    const hashes = this.keepHashes ? entry.hashes : undefined;
    return this.arrived(hi, lo, entry.size, Date.parse(entry.modTime), key !== entry.path, hashes);
  }

  /** Remote files arrived in bulk (a direct walk: src/rclone/local-walk.ts): the waiting local files they complete. */
  remoteFiles(files: ListedFiles): LateMatch<L>[] {
    const late: LateMatch<L>[] = [];
    for (let i = 0; i < files.count; i++) {
      const match = this.arrived(files.hashHi[i]!, files.hashLo[i]!, files.sizes[i]!, files.mtimesMs[i]!, files.links[i] === 1, undefined);
      if (match) late.push(match);
    }
    return late;
  }

  private arrived(hi: number, lo: number, size: number, mtimeMs: number, isLink: boolean, hashes: Readonly<Record<string, string>> | undefined): LateMatch<L> | undefined {
    const waiting = this.waitingCount === 0 ? undefined : this.unwait(hi, lo);
    if (waiting === undefined) {
      this.index.addFile(hi, lo, size, mtimeMs, isLink, hashes);
      return undefined;
    }
    if (this.wakeWalk && this.waitingCount <= this.maxWaiting / 2) this.wake();
    return { key: waiting.key, local: waiting.local, remote: { size, mtimeMs, isLink, ...(hashes ? { hashes } : {}) } };
  }

  /** Takes the local file waiting for this hash out of the waiting map, if one is. */
  private unwait(hi: number, lo: number): Waiting<L> | undefined {
    const mapKey = waitKey(hi, lo);
    let previous: Waiting<L> | undefined;
    for (let w = this.waiting.get(mapKey); w !== undefined; previous = w, w = w.next) {
      if (w.hi !== hi || w.lo !== lo) continue;
      if (previous) previous.next = w.next;
      else if (w.next) this.waiting.set(mapKey, w.next);
      else this.waiting.delete(mapKey);
      this.waitingCount--;
      return w;
    }
    return undefined;
  }

  /**
   * A local file arrived (path relative to the listed directory): what the remote holds,
   * `undefined` when it holds nothing (the listing has ended), or {@link WAITING}.
   */
  local(key: string, local: L): RemoteMatch | typeof AMBIGUOUS | undefined | typeof WAITING {
    const [hi, lo] = pathHash(key);
    const match = this.index.claimHash(hi, lo);
    if (match !== undefined || this.complete) return match;
    const mapKey = waitKey(hi, lo);
    this.waiting.set(mapKey, { hi, lo, key, local, next: this.waiting.get(mapKey) });
    this.waitingCount++;
    if (this.waitingCount > this.mostWaiting) this.mostWaiting = this.waitingCount;
    return WAITING;
  }

  /**
   * Resolves when another local file may wait: at once while fewer than the maximum do, otherwise when the listing has caught up or ended.
   */
  roomToWait(): Promise<void> {
    if (this.waitingCount < this.maxWaiting || this.complete) return Promise.resolve();
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
    for (const [mapKey, first] of this.waiting) {
      this.waiting.delete(mapKey);
      for (let w: Waiting<L> | undefined = first; w !== undefined; w = w.next) {
        this.waitingCount--;
        yield { key: w.key, local: w.local, remote: undefined };
      }
    }
  }

  private wake(): void {
    const wake = this.wakeWalk;
    this.wakeWalk = undefined;
    wake?.();
  }
}
