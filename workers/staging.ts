/**
 * Staging directories: where a pull downloads before files are linked into place.
 * One per task, `<repo>/.glacis-staging/<task id>`, on the repo's own filesystem so
 * the final `link` is atomic and costs no copy.
 */
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Repo } from '../src/config/types.js';
import { isTaskId } from '../src/store/task-logs.js';

export const STAGING_DIR_NAME = '.glacis-staging';

export function stagingRoot(repo: Repo): string {
  return path.join(repo.localPath, STAGING_DIR_NAME);
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
    const taskId = name.replace(/\.files$/, '');
    if (isTaskId(taskId) && (await isLive(taskId))) continue;
    await rm(path.join(stagingRoot(repo), name), { recursive: true, force: true });
    removed.push(taskId);
  }
  return removed;
}
