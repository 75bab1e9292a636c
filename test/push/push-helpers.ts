/**
 * What the push tests share: a pushable repo over a test remote, a run context with the
 * real rclone, and reading the remote back through rclone (S3 has no directory to look in).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseRepos } from '../../src/config/repos.js';
import type { Repo, RemoteSpec } from '../../src/config/types.js';
import type { TaskJobData } from '../../src/queue/task-queue.js';
import { childEnv, Rclone, remoteRoot, type RemoteEntry } from '../../src/rclone/index.js';
import { openTaskStore, type TaskStore } from '../../src/store/index.js';
import { renderEvent, type TaskEvent } from '../../src/store/task-events.js';
import type { TaskLogWriter } from '../../src/store/task-logs.js';
import type { TaskRunContext } from '../../src/tasks/kind.js';
import { rcloneOk } from '../harness/rclone-env.js';
import type { TestRemote } from '../helpers/remotes.js';

export const rclone = new Rclone({ executable: '/usr/bin/rclone' });

/** A real task store (SQLite in a temporary directory): its catalogue of frozen files, which freeze writes. */
export const storeReady: Promise<TaskStore> = openTaskStore(path.join(mkdtempSync(path.join(tmpdir(), 'glacis-push-db-')), 'glacis.sqlite'));
const store = await storeReady;

/** The repo as the repos file would give it (pushable unless `extra` says otherwise). */
export function repoOf(local: string, remote: TestRemote, extra: Record<string, unknown> = { pushable: true }): Repo {
  const yaml = `${JSON.stringify(local)}: ${JSON.stringify({ ...remote.settings, ...extra })}\n`;
  return parseRepos(yaml, 'repos.yaml', path.dirname(local))[0]!;
}

export interface PushRun {
  readonly context: TaskRunContext;
  /** The task log's text, a line each, as `GET /tasks/log` gives it (events rendered). */
  readonly lines: string[];
  /** The events written (messages too). */
  readonly events: TaskEvent[];
  /** What the run sent MAIL_ADMIN through `alert`. */
  readonly alerts: unknown[];
  readonly running: () => boolean;
}

export function pushContext(repo: Repo, options: { path?: string; dryRun?: boolean; force?: boolean; type?: string } = {}): PushRun {
  const lines: string[] = [];
  const events: TaskEvent[] = [];
  const alerts: unknown[] = [];
  let running = false;
  const event = (written: TaskEvent): void => {
    events.push(written);
    lines.push(renderEvent(written));
  };
  const log: TaskLogWriter = { line: (text) => event({ kind: 'message', text }), event, flush: async () => undefined, close: async () => undefined };
  // 'push' joins TaskType with the registry; until then the job data is typed as it will be.
  const task = {
    taskId: randomUUID(),
    type: options.type ?? 'push',
    path: options.path ?? repo.localPath,
    dryRun: options.dryRun ?? false,
    force: options.force ?? false,
  } as unknown as TaskJobData;
  return {
    lines,
    events,
    alerts,
    running: () => running,
    context: {
      task,
      repo,
      rclone,
      log,
      signal: new AbortController().signal,
      progress: () => undefined,
      enterRunning: async () => {
        running = true;
      },
      atime: { supported: true },
      catalogue: store.catalogue,
      alert: async (alert) => void alerts.push(alert),
    },
  };
}

/** A file of the remote, read through rclone. */
export async function readRemote(remote: RemoteSpec, relPath: string): Promise<string> {
  const { env, args } = childEnv(process.env, remote);
  return rcloneOk(['cat', ...args, remoteRoot(remote, relPath)], env);
}

/** Every file of the remote: name → size and mtime (what "the remote unchanged" compares). */
export async function remoteSnapshot(remote: RemoteSpec): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const entries: RemoteEntry[] = [];
  try {
    for await (const entry of rclone.list(remote, '', { recursive: true, filesOnly: true })) entries.push(entry);
  } catch (error) {
    if ((error as Error).name !== 'RemoteNotFoundError') throw error;
  }
  for (const entry of entries.sort((a, b) => a.path.localeCompare(b.path))) out[entry.path] = `${entry.size} ${entry.modTime}`;
  return out;
}
