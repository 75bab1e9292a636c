/**
 * `/list` and `/tree`: what the remote holds under a path, and which of it is
 * missing locally. Streams: entries flow from rclone's listing to the response one
 * at a time, so a remote with millions of files is never held in memory.
 */
import path from 'node:path';
import type { Repo } from '../config/types.js';
import { pathExists } from '../paths/index.js';
import { localNameOf, type Rclone, type RemoteEntry } from '../rclone/index.js';
import { ConcurrencyLimit, releasingAtEnd } from './concurrency.js';
import { BadRequestError } from './errors.js';
import { entriesOf, findOnRemote } from '../rclone/remote-paths.js';
import { resolveForRequest } from './request-path.js';

export interface ListRequest {
  readonly path: unknown;
  /** Only files on the remote that are not present locally. */
  readonly missing?: boolean;
  /** All of rclone's fields (size, mtime, …), not just `Path`. */
  readonly full?: boolean;
  /** Directory levels to descend; 0 = everything. Default 1. */
  readonly maxDepth?: number;
  /** Paths relative to the repository root instead of the asked path. */
  readonly fromRoot?: boolean;
  /**
   * Directories too, their `Path` ending in `/` as `rclone lsf` shows them (`/list` only;
   * Baricadr lists files only, so it is off unless asked).
   */
  readonly dirs?: boolean;
}

/** Listings running at once in one API process; see {@link ListingService}. */
export const LISTING_CONCURRENCY = 8;

/** One `/list` entry: `Path` plus, with `full`, rclone's other fields. */
export type ListEntry = { Path: string } & Partial<Omit<RemoteEntryJson, 'Path'>>;
/** One `/tree` entry. */
export interface TreeEntry {
  Path: string;
  missing: boolean;
}

interface RemoteEntryJson {
  Path: string;
  Name: string;
  Size: number;
  ModTime: string;
  IsDir: boolean;
  /** rclone's, as Baricadr shows it (`text/plain; charset=utf-8`). */
  MimeType?: string;
  Hashes?: Readonly<Record<string, string>>;
}

/**
 * @example
 * ```ts
 * for await (const entry of listing.list({ path: '/data/lab1/raw', missing: true })) console.log(entry.Path);
 * ```
 */
export class ListingService {
  private readonly running: ConcurrencyLimit;

  /**
   * @param concurrency How many listings run at once (each is one or more rclone processes);
   * the others wait their turn. Unbounded, a burst of requests started so many rclone
   * processes that the API stopped accepting connections for tens of seconds
   * (test/safety/load.test.ts found it).
   */
  constructor(
    private readonly repos: readonly Repo[],
    private readonly rclone: Rclone,
    concurrency = LISTING_CONCURRENCY,
  ) {
    this.running = new ConcurrencyLimit(concurrency);
  }

  /**
   * Checks the request and locates it on the remote, before anything is streamed,
   * so that errors can still become a 4xx; then returns the entries' stream.
   */
  async list(request: ListRequest): Promise<AsyncIterable<ListEntry>> {
    return this.limited(request, (scope) =>
      mapEntries(scope, (entry, relToAsked, relToRepo) => {
        const shown = `${request.fromRoot ? relToRepo : relToAsked}${entry.isDir ? '/' : ''}`;
        return request.full ? { ...toJson(entry), Path: shown } : { Path: shown };
      }, request.missing ?? false),
    request.dirs ?? false);
  }

  /** Like {@link list}, each entry flagged `missing` when it is not present locally. */
  async tree(request: ListRequest): Promise<AsyncIterable<TreeEntry>> {
    return this.limited(request, (scope) => mapEntries(scope, (_entry, relToAsked, _relToRepo, missing) => ({ Path: relToAsked, missing }), false), false);
  }

  /** Holds a slot from the request's check until its entries have all been read, or the reading stopped. */
  private async limited<T>(request: ListRequest, entries: (scope: Scope) => AsyncIterable<T>, dirs: boolean): Promise<AsyncIterable<T>> {
    const release = await this.running.acquire();
    try {
      return releasingAtEnd(entries(await this.scope(request, dirs)), release);
    } catch (error) {
      release();
      throw error;
    }
  }

  private async scope(request: ListRequest, dirs: boolean): Promise<Scope> {
    const resolved = await resolveForRequest(this.repos, request.path);
    const { repo, relativePath } = resolved;
    const full = request.full ?? false;
    const target = await findOnRemote(this.rclone, repo, relativePath, undefined, full);
    // 400, as Baricadr answers: barique treats only 400 and 502 as errors, and printed a
    // 404's error as if it were a listing, exiting 0 (test/api/baricadr-compat.test.ts).
    if (!target) throw new BadRequestError(`${resolved.path} does not exist on the remote`);
    // Listing a file yields that one file; its paths are then relative to its directory.
    const { listedDir, entries } = entriesOf(this.rclone, repo, target, { recursive: true, maxDepth: request.maxDepth ?? 1, filesOnly: !dirs, mimeType: full });
    return { repo, listedDir, entries, dirs };
  }
}

interface Scope {
  readonly repo: Repo;
  /** Repo-relative remote directory the entries' paths are relative to. */
  readonly listedDir: string;
  readonly entries: AsyncIterable<RemoteEntry>;
  /** Whether directories are yielded too. */
  readonly dirs: boolean;
}

async function* mapEntries<T>(
  scope: Scope,
  shape: (entry: RemoteEntry, relToAsked: string, relToRepo: string, missing: boolean) => T,
  onlyMissing: boolean,
): AsyncIterable<T> {
  for await (const entry of scope.entries) {
    if (entry.isDir && !scope.dirs) continue;
    // Paths as they are locally: a symlink is `x`, not rclone's `x.rclonelink` (as Baricadr
    // shows it); `missing` is about the symlink itself (lstat), whatever it points to.
    const relToAsked = localNameOf(entry.path);
    const relToRepo = scope.listedDir === '' ? relToAsked : `${scope.listedDir}/${relToAsked}`;
    const missing = !(await pathExists(path.join(scope.repo.localPath, relToRepo)));
    if (onlyMissing && !missing) continue;
    yield shape(entry, relToAsked, relToRepo, missing);
  }
}

function toJson(entry: RemoteEntry): RemoteEntryJson {
  return {
    Path: entry.path,
    Name: entry.name,
    Size: entry.size,
    ModTime: entry.modTime,
    IsDir: entry.isDir,
    ...(entry.mimeType ? { MimeType: entry.mimeType } : {}),
    ...(entry.hashes ? { Hashes: entry.hashes } : {}),
  };
}
