/**
 * The push decision, in one place: should this local file be copied to the remote, and
 * does the whole push look sane? Pure (no I/O), like src/freeze/decision.ts: every rule is
 * tested directly (test/push/decision.test.ts); the worker gathers facts and acts.
 */

import type { Repo } from '../config/types.js';
import { plural } from '../text/plural.js';

/**
 * Why push may not run in `repo`, or undefined when it may: the push kind's refusal (a 400
 * from the API) and the worker's, in one place.
 *
 * @example
 * ```ts
 * pushRefusal(repo); // 'the remote of repository /data/lab1 is read-only (pushable: false)'
 * ```
 */
export function pushRefusal(repo: Repo): string | undefined {
  return repo.push ? undefined : `the remote of repository ${repo.name} is read-only (pushable: false)`;
}

/** What push knows of a local file, or of its remote copy. */
export interface PushFile {
  readonly kind: 'file' | 'symlink';
  /** Bytes; for a symlink, the length of its target (what rclone's `.rclonelink` holds). */
  readonly size: number;
  readonly mtimeMs: number;
  /** type → hex, when the repo verifies hashes and the side has one. */
  readonly hashes?: Readonly<Record<string, string>>;
}

export interface PushPolicy {
  /** `push_shrink_limit`: percent a file may shrink by against its remote copy before it is held. */
  readonly shrinkLimitPercent: number;
  /** `verify: hash`: equal size and mtime are not enough when both sides have a hash. */
  readonly verify: 'size' | 'hash';
  /** `force` on the request: push held files too (the replaced copy is still kept as a version). */
  readonly force: boolean;
}

/** Why a changed file is not pushed: it became empty, or shrank by more than the limit. */
export type HoldReason = 'emptied' | 'shrank';
export const HOLD_REASONS: readonly HoldReason[] = ['emptied', 'shrank'];

/**
 * The words for a held file, in its log line (the `held` event) and the task's error.
 *
 * @example
 * ```ts
 * describeHold('shrank', 1000, 3145728); // '1000 bytes, the remote copy 3145728 bytes'
 * ```
 */
export function describeHold(reason: HoldReason, localBytes: number, remoteBytes: number): string {
  return reason === 'emptied' ? `empty, the remote copy has ${plural(remoteBytes, 'byte')}` : `${plural(localBytes, 'byte')}, the remote copy ${plural(remoteBytes, 'byte')}`;
}

export type PushVerdict =
  | { readonly action: 'new' }
  | { readonly action: 'unchanged' }
  | { readonly action: 'replace' }
  | { readonly action: 'hold'; readonly reason: HoldReason };

/**
 * How far apart two mtimes may be and still be the same: SFTP keeps whole seconds, and
 * rclone's default modify window on it is one second.
 */
export const PUSH_MTIME_WINDOW_MS = 1000;

/**
 * @example
 * ```ts
 * decidePush({ kind: 'file', size: 0, mtimeMs: t1 }, { kind: 'file', size: 100, mtimeMs: t0 }, { shrinkLimitPercent: 50, verify: 'size', force: false });
 * // { action: 'hold', reason: 'emptied' }
 * ```
 */
export function decidePush(local: PushFile, remote: PushFile | undefined, policy: PushPolicy): PushVerdict {
  if (!remote) return { action: 'new' };
  if (sameContent(local, remote, policy.verify)) return { action: 'unchanged' };
  // A truncated or emptied file is the typical damage (a full disk, a crashed writer, a
  // mistaken redirect); pushing it would put the damage where the good copy is.
  if (!policy.force && local.kind === 'file' && remote.kind === 'file' && remote.size > 0) {
    if (local.size === 0) return { action: 'hold', reason: 'emptied' };
    if ((remote.size - local.size) * 100 > policy.shrinkLimitPercent * remote.size) return { action: 'hold', reason: 'shrank' };
  }
  return { action: 'replace' };
}

function sameContent(local: PushFile, remote: PushFile, verify: 'size' | 'hash'): boolean {
  if (local.kind !== remote.kind || local.size !== remote.size) return false;
  // A symlink is its target: its own mtime says nothing (rclone's .rclonelink gets the link's).
  if (local.kind === 'symlink') return true;
  if (Math.abs(local.mtimeMs - remote.mtimeMs) > PUSH_MTIME_WINDOW_MS) return false;
  if (verify === 'hash') {
    const common = Object.keys(local.hashes ?? {}).filter((type) => remote.hashes?.[type] !== undefined);
    if (common.some((type) => local.hashes![type] !== remote.hashes![type])) return false;
  }
  return true;
}

/**
 * The mass-change guard: true when a push would replace (or hold) more than
 * `changeLimitPercent` of the remote files it looked at, the mark of ransomware or of a
 * bad mount rather than of work. New files do not count: adding never loses anything.
 *
 * @example
 * ```ts
 * tooManyChanges({ replacing: 3, remoteFiles: 10 }, 20); // true: 30 % > 20 %
 * ```
 */
export function tooManyChanges(counts: { readonly replacing: number; readonly remoteFiles: number }, changeLimitPercent: number): boolean {
  if (counts.remoteFiles === 0) return false;
  return counts.replacing * 100 > changeLimitPercent * counts.remoteFiles;
}
