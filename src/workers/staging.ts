/**
 * Staging directories: where a pull downloads before files are linked into place.
 * One per attempt of a task, `<repo>/.glacis-staging/<task id>.<nonce>`, on the repo's own filesystem so
 * the final `link` is atomic and costs no copy.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import type { Repo } from '../config/types.js';
import { isTaskId } from '../store/task-logs.js';

import { STAGING_DIR_NAME } from '../paths/index.js';

export { STAGING_DIR_NAME };

export function stagingRoot(repo: Repo): string {
  return path.join(repo.localPath, STAGING_DIR_NAME);
}

/** A new staging directory name for one attempt of a task: `<task id>.<nonce>`. */
export function stagingDirFor(repo: Repo, taskId: string): string {
  return path.join(stagingRoot(repo), `${taskId}.${randomUUID().slice(0, 8)}`);
}

/**
 * Creates an attempt's staging directory. Another task may be removing the (then empty)
 * staging root at the same moment ({@link removeStagingRootIfEmpty}): created again then.
 */
export async function makeStagingDir(dir: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 5) throw error;
    }
  }
}

/**
 * Removes the staging root once no attempt uses it, so that a repo does not keep an empty
 * `.glacis-staging` after every pull (issue 15). Left alone while another attempt's
 * directory is in it.
 */
export async function removeStagingRootIfEmpty(repo: Repo): Promise<void> {
  await rmdir(stagingRoot(repo)).catch(() => undefined);
}

/** Removes what earlier attempts of the same task left (its worker was killed). */
export async function removeEarlierAttempts(repo: Repo, taskId: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(stagingRoot(repo));
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith(taskId)) await rm(path.join(stagingRoot(repo), name), { recursive: true, force: true });
  }
}

/**
 * Removes staging left by tasks that are no longer running (a worker was killed).
 * `isLive` says whether a task id still holds its lock.
 *
 * @returns the task ids whose staging was removed.
 */
export async function removeStaleStaging(repo: Repo, isLive: (taskId: string) => Promise<boolean>): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(stagingRoot(repo));
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const taskId = name.slice(0, 36);
    if (isTaskId(taskId) && (await isLive(taskId))) continue;
    await rm(path.join(stagingRoot(repo), name), { recursive: true, force: true });
    removed.push(taskId);
  }
  await removeStagingRootIfEmpty(repo);
  return removed;
}
