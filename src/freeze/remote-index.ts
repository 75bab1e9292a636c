/**
 * The remote listing as a hash map, held once and compactly: for each remote file, its
 * size, mtime and kind in typed arrays, found by a 64-bit hash of its path. Path strings
 * are not kept, so a million files cost tens of megabytes rather than hundreds.
 *
 * A 64-bit hash can in theory collide. Two remote paths with the same hash are marked
 * ambiguous and never match (their local files are kept); a local path colliding with a
 * different remote path would match the wrong entry, but freeze asks the remote again,
 * by exact name, right before deleting anything, so a collision can only keep a file.
 */
import { localNameOf, type RemoteEntry } from '../rclone/index.js';
import { pathHash } from '../text/path-hash.js';
import type { LocalFile, RemoteFile } from './decision.js';

/** What the remote holds for a local path. */
export interface RemoteMatch extends RemoteFile {
  /** The remote holds it as a symlink (a `.rclonelink`). */
  readonly isLink: boolean;
}

/** Two remote entries share the key (for example `x` and `x.rclonelink`): nothing to trust. */
export const AMBIGUOUS = 'ambiguous';

export { pathHash };

/**
 * The remote file to judge a local file against: a symlink only matches a `.rclonelink`
 * and a regular file only a regular file; anything else counts as missing on the remote.
 * (The same rule as `remoteFor` in workers/freeze.ts, which can use this one.)
 */
export function remoteFileFor(local: LocalFile, match: RemoteMatch | undefined): RemoteFile | undefined {
  if (!match) return undefined;
  return (local.kind === 'symlink') === match.isLink ? match : undefined;
}

const EMPTY = -1;
const FLAG_LINK = 1;
const FLAG_AMBIGUOUS = 2;
const FLAG_CLAIMED = 4;

/**
 * @example
 * ```ts
 * const index = new RemoteIndex();
 * for await (const entry of rclone.list(remote, dir, { recursive: true, filesOnly: true })) index.add(entry, false);
 * index.get('sub/file.dat'); // { size, mtimeMs, isLink } | 'ambiguous' | undefined
 * ```
 */
export class RemoteIndex {
  private count = 0;
  private claimed = 0;
  // Open addressing, linear probing; the table stays at most half full.
  private hashHi = new Uint32Array(1024);
  private hashLo = new Uint32Array(1024);
  private slotOf = new Int32Array(1024).fill(EMPTY);
  private sizes = new Float64Array(512);
  private mtimes = new Float64Array(512);
  private flags = new Uint8Array(512);
  private readonly hashes = new Map<number, Readonly<Record<string, string>>>();

  /** Remote files held. */
  get size(): number {
    return this.count;
  }

  /** Remote files held that no {@link claim} has asked for. */
  get unclaimed(): number {
    return this.count - this.claimed;
  }

  /** Adds a file entry, keyed by its local name (a `.rclonelink` is the symlink it stands for). */
  add(entry: RemoteEntry, keepHashes: boolean): void {
    if (entry.isDir) return;
    const key = localNameOf(entry.path);
    const [hi, lo] = pathHash(key);
    this.addFile(hi, lo, entry.size, Date.parse(entry.modTime), key !== entry.path, keepHashes ? entry.hashes : undefined);
  }

  /** Adds a file by the {@link pathHash} of its local name (what a direct walk gives: src/rclone/local-walk.ts). */
  addFile(hi: number, lo: number, size: number, mtimeMs: number, isLink: boolean, hashes?: Readonly<Record<string, string>>): void {
    const position = this.find(hi, lo);
    const existing = this.slotOf[position]!;
    if (existing !== EMPTY) {
      this.flags[existing]! |= FLAG_AMBIGUOUS;
      return;
    }
    if (this.count === this.sizes.length) this.growData();
    const slot = this.count++;
    this.hashHi[position] = hi;
    this.hashLo[position] = lo;
    this.slotOf[position] = slot;
    this.sizes[slot] = size;
    this.mtimes[slot] = mtimeMs;
    this.flags[slot] = isLink ? FLAG_LINK : 0;
    if (hashes) this.hashes.set(slot, hashes);
    if (this.count * 2 > this.slotOf.length) this.growTable();
  }

  /** What the remote holds for a path relative to the listed directory. */
  get(localRelative: string): RemoteMatch | typeof AMBIGUOUS | undefined {
    const [hi, lo] = pathHash(localRelative);
    return this.matchAt(this.slotOf[this.find(hi, lo)]!);
  }

  /**
   * {@link get}, and the entry counts as asked for by a local file: {@link unclaimed} is
   * then what the remote holds outside the local tree (the bench logged ~60 % of a tree
   * "not in the local tree" when only what matched as it was added was counted out:
   * test/freeze/matcher.test.ts).
   */
  claim(localRelative: string): RemoteMatch | typeof AMBIGUOUS | undefined {
    const [hi, lo] = pathHash(localRelative);
    return this.claimHash(hi, lo);
  }

  /** {@link claim} by the path's {@link pathHash}. */
  claimHash(hi: number, lo: number): RemoteMatch | typeof AMBIGUOUS | undefined {
    const slot = this.slotOf[this.find(hi, lo)]!;
    if (slot !== EMPTY && (this.flags[slot]! & FLAG_CLAIMED) === 0) {
      this.flags[slot]! |= FLAG_CLAIMED;
      this.claimed++;
    }
    return this.matchAt(slot);
  }

  private matchAt(slot: number): RemoteMatch | typeof AMBIGUOUS | undefined {
    if (slot === EMPTY) return undefined;
    const flags = this.flags[slot]!;
    if (flags & FLAG_AMBIGUOUS) return AMBIGUOUS;
    const hashes = this.hashes.get(slot);
    return { size: this.sizes[slot]!, mtimeMs: this.mtimes[slot]!, isLink: (flags & FLAG_LINK) !== 0, ...(hashes ? { hashes } : {}) };
  }

  /** The table position holding this hash, or the empty position where it would go. */
  private find(hi: number, lo: number): number {
    const mask = this.slotOf.length - 1;
    let position = (lo ^ hi) & mask;
    while (this.slotOf[position] !== EMPTY && (this.hashHi[position] !== hi || this.hashLo[position] !== lo)) {
      position = (position + 1) & mask;
    }
    return position;
  }

  private growTable(): void {
    const { hashHi, hashLo, slotOf } = this;
    const capacity = slotOf.length * 2;
    this.hashHi = new Uint32Array(capacity);
    this.hashLo = new Uint32Array(capacity);
    this.slotOf = new Int32Array(capacity).fill(EMPTY);
    for (let i = 0; i < slotOf.length; i++) {
      if (slotOf[i] === EMPTY) continue;
      const position = this.find(hashHi[i]!, hashLo[i]!);
      this.hashHi[position] = hashHi[i]!;
      this.hashLo[position] = hashLo[i]!;
      this.slotOf[position] = slotOf[i]!;
    }
  }

  private growData(): void {
    const capacity = this.sizes.length * 2;
    const sizes = new Float64Array(capacity);
    sizes.set(this.sizes);
    const mtimes = new Float64Array(capacity);
    mtimes.set(this.mtimes);
    const flags = new Uint8Array(capacity);
    flags.set(this.flags);
    this.sizes = sizes;
    this.mtimes = mtimes;
    this.flags = flags;
  }
}
