/**
 * Moving a fully downloaded file from staging to its final name, never replacing
 * anything: `link` refuses an existing target atomically, so a file created or
 * changed locally in the meantime always wins. Only then is the staged name removed.
 */
import { link, lstat, lchown, lutimes, mkdir, realpath, unlink } from 'node:fs/promises';
import path from 'node:path';
import { isSameOrInside } from '../paths/index.js';

export interface Ownership {
  readonly uid?: number;
  readonly gid?: number;
}

/** What happened to one staged file. */
export type PlaceOutcome = { readonly placed: true; readonly size: number } | { readonly placed: false; readonly reason: 'exists' | 'outside' };

/**
 * Gives the staged file atime = now (mtime stays the remote's, as rclone set it: an
 * untouched pulled file must not look cold at once) and the configured owner, then
 * links it into place.
 *
 * @example
 * ```ts
 * await placeStagedFile('/data/lab1/.glacis-staging/<id>/raw/a.fastq', '/data/lab1/raw/a.fastq', '/data/lab1', { uid: 1000 });
 * ```
 */
export async function placeStagedFile(staged: string, final: string, repoRoot: string, owner: Ownership): Promise<PlaceOutcome> {
  const stat = await lstat(staged);
  await lutimes(staged, new Date(), stat.mtime);
  if (owner.uid !== undefined || owner.gid !== undefined) await lchown(staged, owner.uid ?? -1, owner.gid ?? -1);
  // A directory inside the repo may be a symlink to elsewhere: never write through it,
  // neither the file nor the directories it would need.
  if (!(await makeParents(path.dirname(final), repoRoot, owner)) || !isSameOrInside(await realpath(path.dirname(final)), repoRoot)) {
    await unlink(staged);
    return { placed: false, reason: 'outside' };
  }
  try {
    await link(staged, final);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    await unlink(staged);
    return { placed: false, reason: 'exists' };
  }
  await unlink(staged);
  return { placed: true, size: stat.size };
}

/**
 * mkdir -p below the repository root, giving new directories the configured owner.
 * False, creating nothing, when the deepest existing ancestor resolves outside the
 * repository: `mkdir -p` would follow a symlink there and create directories outside.
 */
async function makeParents(dir: string, repoRoot: string, owner: Ownership): Promise<boolean> {
  const missing: string[] = [];
  let current = dir;
  for (; current.length > repoRoot.length; current = path.dirname(current)) {
    try {
      await lstat(current);
      break;
    } catch {
      missing.push(current);
    }
  }
  if (missing.length === 0) return true;
  if (!isSameOrInside(await realpath(current), repoRoot)) return false;
  await mkdir(dir, { recursive: true });
  if (owner.uid !== undefined || owner.gid !== undefined) {
    for (const created of missing) await lchown(created, owner.uid ?? -1, owner.gid ?? -1);
  }
  return true;
}
