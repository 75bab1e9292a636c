/**
 * How a local path maps to what the remote holds. With rclone's `--links`, a local
 * symlink `x` is stored on the remote as a file `x.rclonelink` holding the target.
 */
import path from 'node:path/posix';
import type { Repo } from '../config/types.js';
import { RCLONELINK_SUFFIX, type ListOptions, type Rclone, type RemoteEntry } from './index.js';

/** A repo-relative path as found on the remote. */
export interface RemoteTarget {
  /** Repo-relative path on the remote (with `.rclonelink` for a symlink). */
  readonly remotePath: string;
  readonly isDir: boolean;
  readonly entry?: RemoteEntry;
}

/**
 * Finds what the remote holds at a repo-relative path: a directory, a file, or a
 * symlink stored as `.rclonelink`. Undefined when the remote has nothing there.
 *
 * @example
 * ```ts
 * const target = await findOnRemote(rclone, repo, 'runs/latest'); // { remotePath: 'runs/latest.rclonelink', isDir: false }
 * ```
 */
export async function findOnRemote(rclone: Rclone, repo: Repo, relativePath: string, signal?: AbortSignal, mimeType = false): Promise<RemoteTarget | undefined> {
  if (relativePath === '') return { remotePath: '', isDir: true };
  for (const candidate of [relativePath, relativePath + RCLONELINK_SUFFIX]) {
    const entry = await rclone.stat(repo.remote, candidate, { ...(signal ? { signal } : {}), ...(mimeType ? { mimeType } : {}) });
    if (entry) return { remotePath: candidate, isDir: entry.isDir, entry };
  }
  return undefined;
}

/** The directory part of a repo-relative path ('' at the root). */
export function parentOf(relativePath: string): string {
  const dir = path.dirname(relativePath);
  return dir === '.' ? '' : dir;
}

/**
 * The entries to work on for a target: a directory's listing, or the one file (its path
 * then relative to its directory, `listedDir`).
 *
 * @example
 * ```ts
 * const { listedDir, entries } = entriesOf(rclone, repo, target, { recursive: true, filesOnly: true });
 * for await (const entry of entries) console.log(`${listedDir}/${entry.path}`);
 * ```
 */
export function entriesOf(rclone: Rclone, repo: Repo, target: RemoteTarget, options: ListOptions): { listedDir: string; entries: AsyncIterable<RemoteEntry> } {
  if (target.isDir) return { listedDir: target.remotePath, entries: rclone.list(repo.remote, target.remotePath, options) };
  return { listedDir: parentOf(target.remotePath), entries: single(target.entry) };
}

async function* single(entry: RemoteEntry | undefined): AsyncIterable<RemoteEntry> {
  if (entry) yield { ...entry, path: entry.name };
}
