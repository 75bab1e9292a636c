/**
 * Where push keeps what it replaces: a versions store beside the remote's root,
 * `<remote path>.glacis-versions`, on the same rclone remote (rclone's `--backup-dir` must
 * be on the destination's remote, and may not overlap it: a sibling never does, and no
 * listing of the repo's remote sees it).
 *
 * ```
 * <path>.glacis-versions/2026-12-01T135222Z-<task>/<repo-relative path>   a replaced file
 * <path>.glacis-versions/.incoming/<task>/<repo-relative path>            an upload in progress
 * ```
 */
import type { RemoteSpec } from '../config/types.js';
import { remotePath } from '../rclone/index.js';

/** Appended to the remote's root path to name its versions store. */
export const VERSIONS_SUFFIX = '.glacis-versions';
/** Uploads land here first; only whole files are then moved under their final names. */
export const INCOMING_DIR = '.incoming';
const DAY_MS = 86_400_000;
const STAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})(\d{2})(\d{2})Z-[A-Za-z0-9-]+$/;

/**
 * The versions store as a remote of its own (same backend and credentials, another path).
 *
 * @example
 * ```ts
 * versionsRemote({ backend: 'local', path: '/mnt/cold/lab1/' }).path; // '/mnt/cold/lab1.glacis-versions'
 * ```
 */
export function versionsRemote(remote: RemoteSpec): RemoteSpec {
  const root = remotePath(remote, '');
  if (root.replace(/^\/+/, '') === '') throw new Error('a remote at the root of its store has no place beside it for versions');
  return { ...remote, path: root + VERSIONS_SUFFIX };
}

/**
 * Where a task uploads, in the versions store, before its files are moved into place: its
 * own directory, which a retry of the same task takes over.
 *
 * @example
 * ```ts
 * incomingDirOf('ab12'); // '.incoming/ab12'
 * ```
 */
export function incomingDirOf(taskId: string): string {
  return `${INCOMING_DIR}/${taskId}`;
}

/**
 * The directory of one push's versions: sortable UTC time, then the task (two pushes in
 * the same second never share one).
 *
 * @example
 * ```ts
 * versionDirName(new Date('2026-12-01T13:52:22Z'), 'ab12'); // '2026-12-01T135222Z-ab12'
 * ```
 */
export function versionDirName(at: Date, taskId: string): string {
  const iso = at.toISOString();
  return `${iso.slice(0, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z-${taskId.replace(/[^A-Za-z0-9-]/g, '')}`;
}

/** When a version directory was made, or undefined for a name push did not make. */
export function versionDirTime(name: string): number | undefined {
  const m = STAMP.exec(name);
  if (!m) return undefined;
  const time = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Number.isNaN(time) ? undefined : time;
}

/**
 * The version directories older than `keepDays`: the only things push ever deletes.
 * Anything not named by {@link versionDirName} (the incoming area, a directory someone
 * put there) is never chosen.
 *
 * @example
 * ```ts
 * expiredVersionDirs(['2020-01-01T000000Z-x', '.incoming'], Date.now(), 30); // ['2020-01-01T000000Z-x']
 * ```
 */
export function expiredVersionDirs(names: readonly string[], nowMs: number, keepDays: number): string[] {
  return names.filter((name) => {
    const time = versionDirTime(name);
    return time !== undefined && nowMs - time > keepDays * DAY_MS;
  });
}
