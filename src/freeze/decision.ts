/**
 * The freeze decision, in one place: may this local file be deleted, given what the
 * remote holds? Pure (no I/O), so every rule is tested directly; the worker gathers the
 * facts and acts on the verdict.
 */
import { DAY_MS } from '../text/values.js';

/** Local facts about one file (from `lstat`). */
export interface LocalFile {
  readonly kind: 'file' | 'symlink';
  readonly size: number;
  readonly mtimeMs: number;
  readonly atimeMs: number;
  /** For a symlink: its target (`readlink`). */
  readonly linkTarget?: string;
  /** Hash computed locally, when the repo verifies hashes: type → hex. */
  readonly hashes?: Readonly<Record<string, string>>;
}

/** What the remote listing says about the same path (its `.rclonelink` for a symlink). */
export interface RemoteFile {
  readonly size: number;
  readonly mtimeMs: number;
  readonly hashes?: Readonly<Record<string, string>>;
}

export interface FreezePolicy {
  /** Files last read more than this many days ago are cold. */
  readonly freezeAgeDays: number;
  /** Freeze regardless of age. */
  readonly force: boolean;
  /** `hash`: also compare a hash both sides have, refusing what cannot be compared. */
  readonly verify: 'size' | 'hash';
  readonly nowMs: number;
}

/**
 * Why a file is kept. `missing-remote`, `differs`, `newer-locally` and `unverifiable`
 * mean "cold but unprotected": data the admin must hear about.
 */
export type KeepReason = 'recent' | 'missing-remote' | 'differs' | 'newer-locally' | 'unverifiable';

export type FreezeVerdict = { readonly freeze: true } | { readonly freeze: false; readonly reason: KeepReason };

/** Local mtime may lead the remote's by this much (clock skew, coarse remote times). */
export const MTIME_TOLERANCE_MS = 10_000;

/** The keep reasons that mean the data exists only locally. */
export type UnprotectedKeepReason = Exclude<KeepReason, 'recent'>;

/** Kinds of keep reasons that mean the data exists only locally. */
export const UNPROTECTED: readonly KeepReason[] = ['missing-remote', 'differs', 'newer-locally', 'unverifiable'] satisfies readonly UnprotectedKeepReason[];

/** True when a file kept for this reason exists only locally (it is in {@link UNPROTECTED}). */
export function isUnprotected(reason: KeepReason): reason is UnprotectedKeepReason {
  return UNPROTECTED.includes(reason);
}

/**
 * @example
 * ```ts
 * decideFreeze(
 *   { kind: 'file', size: 10, mtimeMs: t0, atimeMs: t0 },
 *   { size: 10, mtimeMs: t0 },
 *   { freezeAgeDays: 180, force: false, verify: 'size', nowMs: t0 + 200 * 86_400_000 },
 * ); // { freeze: true }
 * ```
 */
export function decideFreeze(local: LocalFile, remote: RemoteFile | undefined, policy: FreezePolicy): FreezeVerdict {
  if (!policy.force && policy.nowMs - local.atimeMs < policy.freezeAgeDays * DAY_MS) return { freeze: false, reason: 'recent' };
  if (!remote) return { freeze: false, reason: 'missing-remote' };
  const expectedSize = local.kind === 'symlink' ? Buffer.byteLength(local.linkTarget ?? '') : local.size;
  if (remote.size !== expectedSize) return { freeze: false, reason: 'differs' };
  // A symlink's own mtime says nothing about its target; its content is the target.
  if (local.kind === 'file' && local.mtimeMs > remote.mtimeMs + MTIME_TOLERANCE_MS) return { freeze: false, reason: 'newer-locally' };
  if (policy.verify === 'hash' && local.kind === 'file') {
    const common = Object.keys(local.hashes ?? {}).filter((type) => remote.hashes?.[type] !== undefined);
    if (common.length === 0) return { freeze: false, reason: 'unverifiable' };
    if (common.some((type) => local.hashes![type] !== remote.hashes![type])) return { freeze: false, reason: 'differs' };
  }
  return { freeze: true };
}

/**
 * True when the file is exactly as it was when judged: same size, mtime and atime.
 * Checked right before deleting, so a file read or changed in between is kept.
 * A symlink's atime is left out: reading its target (`readlink`, which freeze itself
 * does to judge it) moves it; its target is compared instead.
 */
export function unchangedSince(judged: LocalFile, now: LocalFile): boolean {
  if (judged.kind !== now.kind || judged.size !== now.size || judged.mtimeMs !== now.mtimeMs) return false;
  return judged.kind === 'symlink' ? judged.linkTarget === now.linkTarget : judged.atimeMs === now.atimeMs;
}
