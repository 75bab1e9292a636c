/**
 * What a directory tree looks like on disk, down to access times, so that a test can
 * prove nothing in it was written, deleted, listed or read. Taking a snapshot reads the
 * directories (which moves their atime on a relatime mount): it puts each atime back,
 * so two snapshots compare equal only if nobody else touched the tree in between.
 * File contents are never read here, as that would move their atime.
 */
import { lstatSync, readdirSync, readlinkSync, utimesSync } from 'node:fs';
import path from 'node:path';

/** One entry: its kind, size, link target, mtime and atime (ms). */
export interface EntryState {
  readonly kind: 'file' | 'dir' | 'symlink' | 'other';
  readonly size: number;
  readonly target?: string;
  readonly mtimeMs: number;
  readonly atimeMs: number;
}

/** Relative path ('' for the root) → state. */
export type Snapshot = Map<string, EntryState>;

/** Long before any test ran, and before every mtime: with relatime, any read moves it. */
export const OLD_ATIME = new Date('2001-01-01T00:00:00Z');

/**
 * @param skip relative paths (and everything below them) left out.
 * @example
 * ```ts
 * const before = snapshot(outside);
 * // … hostile requests …
 * expect(diffSnapshots(before, snapshot(outside))).toEqual([]);
 * ```
 */
export function snapshot(root: string, skip: readonly string[] = []): Snapshot {
  const out: Snapshot = new Map();
  const visit = (relative: string): void => {
    if (skip.includes(relative)) return;
    const full = relative === '' ? root : path.join(root, relative);
    const stat = lstatSync(full);
    const kind = stat.isSymbolicLink() ? 'symlink' : stat.isDirectory() ? 'dir' : stat.isFile() ? 'file' : 'other';
    out.set(relative, {
      kind,
      size: kind === 'dir' ? 0 : stat.size,
      ...(kind === 'symlink' ? { target: readlinkSync(full) } : {}),
      mtimeMs: stat.mtimeMs,
      atimeMs: stat.atimeMs,
    });
    if (kind !== 'dir') return;
    const names = readdirSync(full).sort();
    // Undo our own listing's trace, so that a later listing by someone else shows.
    utimesSync(full, stat.atime, stat.mtime);
    for (const name of names) visit(relative === '' ? name : `${relative}/${name}`);
  };
  visit('');
  return out;
}

/**
 * Dates every atime in the tree back to {@link OLD_ATIME} (symlinks excepted: their
 * own atime never moves through a read of their target), and rounds mtimes down to the
 * second, so that {@link snapshot} can put times back exactly (a Date holds milliseconds,
 * the filesystem nanoseconds).
 *
 * @example
 * ```ts
 * ageAccessTimes(outside);
 * ```
 */
export function ageAccessTimes(root: string): void {
  const visit = (full: string): void => {
    const stat = lstatSync(full);
    if (stat.isSymbolicLink()) return;
    if (stat.isDirectory()) for (const name of readdirSync(full)) visit(path.join(full, name));
    utimesSync(full, OLD_ATIME, Math.floor(stat.mtimeMs / 1000));
  };
  visit(root);
}

/**
 * Human-readable differences, empty when the trees are the same.
 *
 * @example
 * ```ts
 * diffSnapshots(before, after); // ['created: newsub', 'read or listed: secret.txt']
 * ```
 */
export function diffSnapshots(before: Snapshot, after: Snapshot): string[] {
  const problems: string[] = [];
  for (const [name, was] of before) {
    const now = after.get(name);
    const label = name === '' ? '(the directory itself)' : name;
    if (!now) problems.push(`deleted: ${label}`);
    else if (now.kind !== was.kind || now.size !== was.size || now.target !== was.target || now.mtimeMs !== was.mtimeMs) {
      problems.push(`changed: ${label} (${JSON.stringify(was)} → ${JSON.stringify(now)})`);
    } else if (now.atimeMs !== was.atimeMs && now.kind !== 'symlink') {
      // A symlink's own atime moves whenever a path through it is resolved (realpath reads
      // it); what it leads to is checked on its own.
      problems.push(`read or listed: ${label}`);
    }
  }
  for (const name of after.keys()) if (!before.has(name)) problems.push(`created: ${name}`);
  return problems;
}
