/**
 * Whether the remote still holds a frozen file (issue 16 §1): the catalogue says what was
 * deleted locally (size, mtime, hash when the freeze compared one), the remote listing what
 * is there now. A frozen file whose remote copy is missing, shrunk or changed has no copy
 * left anywhere: the report counts it and mails the administrators by name.
 *
 * Pure, like src/freeze/decision.ts, whose comparisons it mirrors for a file no longer on
 * disk: the kind must match (a symlink is held as a `.rclonelink`), the size must be equal,
 * a hash both sides have must be equal, and the remote copy must not be older than the
 * frozen file by more than {@link MTIME_TOLERANCE_MS} (an older copy put back in its place).
 */
import { MTIME_TOLERANCE_MS } from '../freeze/decision.js';
import { AMBIGUOUS, type RemoteMatch } from '../freeze/remote-index.js';

/**
 * What the catalogue remembers of a frozen file that this rule reads (the store's
 * `FrozenFile` has these fields: the rule sits below the store and names its own shape).
 */
export interface FrozenFacts {
  /** A symlink is frozen as its `.rclonelink` on the remote. */
  readonly kind: 'file' | 'symlink';
  readonly size: number;
  readonly mtimeMs: number;
  /** `type:hex` when the freeze compared a hash; null otherwise. */
  readonly hash: string | null;
}

/** `held`: the remote holds it as it was frozen. The others are losses. */
export type FrozenCopyState = 'held' | 'missing' | 'shrunk' | 'changed';
export const LOSS_STATES: readonly Exclude<FrozenCopyState, 'held'>[] = ['missing', 'shrunk', 'changed'];

/**
 * @example
 * ```ts
 * frozenCopyState(file, undefined); // 'missing'
 * frozenCopyState({ ...file, size: 10 }, { size: 4, mtimeMs, isLink: false }); // 'shrunk'
 * ```
 */
export function frozenCopyState(file: FrozenFacts, remote: RemoteMatch | typeof AMBIGUOUS | undefined): FrozenCopyState {
  // Two remote entries claim the name: neither can be trusted to be the frozen file.
  if (remote === AMBIGUOUS) return 'changed';
  if (!remote || remote.isLink !== (file.kind === 'symlink')) return 'missing';
  if (remote.size < file.size) return 'shrunk';
  if (remote.size !== file.size) return 'changed';
  if (file.hash !== null) {
    const colon = file.hash.indexOf(':');
    const remoteHash = remote.hashes?.[file.hash.slice(0, colon)];
    if (remoteHash !== undefined && remoteHash !== file.hash.slice(colon + 1)) return 'changed';
  }
  if (file.kind === 'file' && remote.mtimeMs + MTIME_TOLERANCE_MS < file.mtimeMs) return 'changed';
  return 'held';
}
