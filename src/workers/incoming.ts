/**
 * Push's upload areas left by tasks that no longer run. Push uploads into
 * `<remote path>.glacis-versions/.incoming/<task>` and moves only whole files into place
 * (src/workers/push.ts); a failed or cancelled push removes its own area, but a worker
 * killed mid-push leaves its part there, outside the repo's remote yet taking space on it.
 * A worker sweeps those areas when it starts, as it removes stale local staging
 * (./staging.ts). Only directories named by a task id under `.incoming` are ever removed:
 * nothing of the repo's remote, no version, nothing someone else put there.
 */
import type { Repo } from '../config/types.js';
import { INCOMING_DIR, incomingDirOf, versionsRemote } from '../push/versions.js';
import { RemoteNotFoundError, type Rclone } from '../rclone/index.js';
import { isTaskId } from '../store/task-logs.js';

/**
 * Removes the incoming areas of tasks that are not running (`isLive`: the task still holds
 * its path lock). Nothing in a repo that is not pushable: push never wrote there.
 *
 * @returns the task ids whose area was removed.
 * @example
 * ```ts
 * await removeStaleIncoming(repo, rclone, async (taskId) => (await locks.blockers(taskId)) !== -1);
 * ```
 */
export async function removeStaleIncoming(repo: Repo, rclone: Rclone, isLive: (taskId: string) => Promise<boolean>, signal?: AbortSignal): Promise<string[]> {
  if (!repo.push) return [];
  const versions = versionsRemote(repo.remote);
  const taskIds: string[] = [];
  try {
    for await (const entry of rclone.list(versions, INCOMING_DIR, signal ? { signal } : {})) {
      if (entry.isDir && isTaskId(entry.name)) taskIds.push(entry.name);
    }
  } catch (error) {
    if (!(error instanceof RemoteNotFoundError)) throw error;
  }
  const removed: string[] = [];
  for (const taskId of taskIds) {
    // Asked right before the removal: a retry of the task that started since the listing
    // holds its lock and is left alone (and it judges the whole tree before it uploads).
    if (await isLive(taskId)) continue;
    await rclone.purge(versions, incomingDirOf(taskId), signal);
    removed.push(taskId);
  }
  return removed;
}
