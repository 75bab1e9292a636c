/**
 * What the web page shows: the repositories with their filesystems (`GET /repos`), and one
 * directory level of a repository, the remote's listing merged with the local directory
 * (`POST /browse`). Read-only, like every listing: nothing here writes anywhere.
 */
import type { Dirent, Stats } from 'node:fs';
import { lstat, readdir, statfs } from 'node:fs/promises';
import path from 'node:path';
import type { Repo, RemoteSpec } from '../config/types.js';
import type { CatalogueTotals, FrozenCatalogue } from '../store/index.js';
import { localNameOf, type Rclone, type RemoteEntry } from '../rclone/index.js';
import { STAGING_DIR_NAME } from '../paths/index.js';
import { ConcurrencyLimit } from './concurrency.js';
import { BadRequestError, NotFoundError } from './errors.js';
import { findOnRemote } from '../rclone/remote-paths.js';
import { resolveForRequest } from './request-path.js';

/** Browsings running at once in one API process (each is one or two rclone processes); the others wait. */
export const BROWSE_CONCURRENCY = 8;
/**
 * Entries one answer holds at most (directories first, then files, by name): a page cannot
 * show a directory of a million files usefully, and its answer would weigh hundreds of MB.
 * `total` says how many there are; `/list` streams them all.
 */
export const BROWSE_MAX_ENTRIES = 5000;

/** Bytes of the filesystem holding a repository's local tree, as `df` counts them. */
export interface FilesystemUsage {
  readonly size: number;
  readonly used: number;
  /** Available to unprivileged users (`f_bavail`), what a pull may fill. */
  readonly free: number;
}

/** A repository as the page shows it: its settings (never its remote's secrets) and its disk. */
export interface RepoSummary {
  readonly repo: Repo;
  readonly backend: RemoteSpec['backend'];
  /** Null when the local tree cannot be read (missing, unmounted). */
  readonly filesystem: FilesystemUsage | null;
  /** What freezes took off the local disk and the remote alone holds (the catalogue's totals). */
  readonly frozen: CatalogueTotals;
}

/**
 * Where an entry lives: `local` (present locally, and on the remote), `frozen` (on the
 * remote only: a pull brings it back), `local_only` (not on the remote: unprotected).
 */
export type EntryState = 'local' | 'frozen' | 'local_only';

/** One entry of a browsed directory. */
export interface BrowseEntry {
  /** Its local name (a symlink stored as `x.rclonelink` on the remote is `x`). */
  readonly name: string;
  readonly isDir: boolean;
  readonly state: EntryState;
  /** Bytes: the local file's when local, else the remote's; null for directories. */
  readonly size: number | null;
  /** Modification time, ISO 8601: the local file's when local, else the remote's; null for a remote directory. */
  readonly mtime: string | null;
  /** Last access, ISO 8601, when local. */
  readonly atime: string | null;
}

/** One browsed directory level. */
export interface BrowseResult {
  /** The directory, normalised. */
  readonly path: string;
  /** The repository holding it. */
  readonly repo: string;
  /** Directories first, then files, each by name; at most {@link BROWSE_MAX_ENTRIES}. */
  readonly entries: readonly BrowseEntry[];
  /** How many entries the level holds: more than `entries` when they were cut. */
  readonly total: number;
}

/**
 * @example
 * ```ts
 * const browse = new BrowseService(repos, rclone, store.catalogue);
 * const { entries } = await browse.browse('/data/lab1/runs'); // [{ name: 'r1', isDir: true, state: 'frozen', … }]
 * ```
 */
export class BrowseService {
  private readonly running: ConcurrencyLimit;

  constructor(
    private readonly repos: readonly Repo[],
    private readonly rclone: Rclone,
    private readonly catalogue: Pick<FrozenCatalogue, 'totals'>,
    concurrency = BROWSE_CONCURRENCY,
    private readonly maxEntries = BROWSE_MAX_ENTRIES,
  ) {
    this.running = new ConcurrencyLimit(concurrency);
  }

  /** Every repository, in the repos file's order, with its filesystem's usage and its frozen totals. */
  async summaries(): Promise<RepoSummary[]> {
    return Promise.all(
      this.repos.map(async (repo) => {
        const [filesystem, frozen] = await Promise.all([usageOf(repo.localPath), this.catalogue.totals(repo.localPath, '')]);
        return { repo, backend: repo.remote.backend, filesystem, frozen };
      }),
    );
  }

  /**
   * One directory level. 400 for a path in no repository or a file; 404 when neither the
   * remote nor the local tree has the directory.
   */
  async browse(requestPath: unknown): Promise<BrowseResult> {
    const { repo, path: dir, relativePath } = await resolveForRequest(this.repos, requestPath);
    const localStats = await lstatOrUndefined(dir);
    if (localStats && !localStats.isDirectory()) throw new BadRequestError(`${dir} is not a directory`);
    const release = await this.running.acquire();
    let remote: readonly RemoteEntry[] | undefined;
    try {
      remote = await this.remoteLevel(repo, relativePath, dir);
    } finally {
      release();
    }
    if (!localStats && !remote) throw new NotFoundError(`${dir} exists neither locally nor on the remote`);
    const local = localStats ? await localLevel(dir) : new Map<string, Stats>();
    // Pulls stage files under the repo root's hidden staging directory: not the user's data.
    if (dir === repo.localPath) local.delete(STAGING_DIR_NAME);
    const entries = merge(remote ?? [], local);
    return { path: dir, repo: repo.localPath, entries: entries.slice(0, this.maxEntries), total: entries.length };
  }

  /** The remote directory's own entries; undefined when the remote lacks it. */
  private async remoteLevel(repo: Repo, relativePath: string, dir: string): Promise<RemoteEntry[] | undefined> {
    const target = await findOnRemote(this.rclone, repo, relativePath);
    if (!target) return undefined;
    if (!target.isDir) throw new BadRequestError(`${dir} is not a directory`);
    const entries: RemoteEntry[] = [];
    for await (const entry of this.rclone.list(repo.remote, target.remotePath, { recursive: false })) entries.push(entry);
    return entries;
  }
}

async function usageOf(dir: string): Promise<FilesystemUsage | null> {
  try {
    const fs = await statfs(dir);
    return { size: fs.blocks * fs.bsize, used: (fs.blocks - fs.bfree) * fs.bsize, free: fs.bavail * fs.bsize };
  } catch {
    return null;
  }
}

async function lstatOrUndefined(file: string): Promise<Stats | undefined> {
  try {
    return await lstat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/** The local directory's entries by name, each `lstat`ed (a symlink is shown as itself, as rclone's `--links` stores it). */
async function localLevel(dir: string): Promise<Map<string, Stats>> {
  const names: Dirent[] = await readdir(dir, { withFileTypes: true });
  const stats = new Map<string, Stats>();
  for (const dirent of names) {
    const entryStats = await lstatOrUndefined(path.join(dir, dirent.name));
    if (entryStats) stats.set(dirent.name, entryStats);
  }
  return stats;
}

function merge(remote: readonly RemoteEntry[], local: ReadonlyMap<string, Stats>): BrowseEntry[] {
  const onRemote = new Map(remote.map((entry) => [entry.isDir ? entry.name : localNameOf(entry.name), entry]));
  const names = new Set([...onRemote.keys(), ...local.keys()]);
  const entries: BrowseEntry[] = [];
  for (const name of names) {
    const stats = local.get(name);
    const entry = onRemote.get(name);
    if (stats) {
      const isDir = stats.isDirectory();
      entries.push({
        name,
        isDir,
        state: entry ? 'local' : 'local_only',
        size: isDir ? null : stats.size,
        mtime: stats.mtime.toISOString(),
        atime: stats.atime.toISOString(),
      });
    } else if (entry) {
      entries.push({
        name,
        isDir: entry.isDir,
        state: 'frozen',
        size: entry.isDir ? null : entry.size,
        mtime: entry.isDir ? null : new Date(entry.modTime).toISOString(),
        atime: null,
      });
    }
  }
  return entries.sort((a, b) => Number(b.isDir) - Number(a.isDir) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
