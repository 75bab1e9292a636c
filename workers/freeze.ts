/**
 * Freeze: not built yet (it comes with the freeze issue). Until then a freeze task
 * fails with a clear message and deletes nothing.
 */
import type { Repo } from '../src/config/types.js';
import type { TaskJobResult } from '../src/queue/task-queue.js';
import { TaskFailedError } from './errors.js';

export function runFreeze(repo: Repo): Promise<TaskJobResult> {
  if (!repo.freezable) return Promise.reject(new TaskFailedError(`freeze refused: repository ${repo.localPath} is not freezable (freezable: false)`));
  return Promise.reject(new TaskFailedError('freeze is not implemented yet in this version of Glacis; nothing was deleted'));
}
