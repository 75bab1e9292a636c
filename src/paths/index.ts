/**
 * Path rules, in one place: how a requested path is normalised, which repository
 * contains it, and whether one path lies inside another. Every other module (API,
 * locks, workers) asks here rather than comparing strings itself.
 */
import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';

/** Thrown when a requested path is malformed or lies outside every repository. */
export class PathError extends Error {
  override readonly name = 'PathError';
}

/** Longest path Glacis accepts, in bytes (Linux's PATH_MAX). */
export const MAX_PATH_BYTES = 4096;

/**
 * Normalises a path given by a user: must be absolute; `.`/`..`, repeated and
 * trailing slashes are resolved lexically.
 *
 * @example
 * ```ts
 * normalizeRequestPath('/data/lab1//runs/../raw/'); // '/data/lab1/raw'
 * normalizeRequestPath('relative/path');            // throws PathError
 * ```
 */
export function normalizeRequestPath(input: unknown): string {
  if (typeof input !== 'string') throw new PathError('"path" must be a string');
  if (input.length === 0) throw new PathError('"path" must not be empty');
  if (input.includes('\0')) throw new PathError('"path" must not contain NUL bytes');
  // An unpaired surrogate has no UTF-8 form: the filesystem would get U+FFFD instead, a
  // different path from the one checked here and recorded on the task.
  if (/\p{Surrogate}/u.test(input)) throw new PathError('"path" must be valid Unicode (it holds an unpaired surrogate)');
  if (Buffer.byteLength(input) > MAX_PATH_BYTES) throw new PathError(`"path" is longer than ${MAX_PATH_BYTES} bytes`);
  if (!path.isAbsolute(input)) throw new PathError(`"path" must be absolute (got "${input}")`);
  return path.resolve(input);
}

/**
 * True when `child` equals `parent` or lies below it, segment by segment:
 * `/repo/ab` is not inside `/repo/abc`. Both must be normalised absolute paths.
 *
 * The one "same path or inside it" rule: the config (repos nesting, local remotes), request
 * paths, placing and the locks' ancestors ({@link selfAndAncestors}) call it. Two places cannot
 * call it and say it as a byte range `[parent/, parent0)` ('0' follows '/' in byte order), the
 * range {@link subtree} gives: the SQL of `TaskStore.list`'s `pathPrefix` (src/store/index.ts,
 * with PostgreSQL's path column in byte order, `collate "C"`) and the Lua of `CLAIM_SCRIPT`
 * (src/locks/scripts.ts), which computes it again. test/paths/same-or-inside.test.ts drives all of them with one
 * table of cases and holds them equal.
 *
 * @example
 * ```ts
 * isSameOrInside('/repo/a/b', '/repo/a'); // true
 * isSameOrInside('/repo/abc', '/repo/ab'); // false
 * ```
 */
export function isSameOrInside(child: string, parent: string): boolean {
  const { self, below } = subtree(parent);
  return child === self || child.startsWith(below);
}

/** The subtree of a path: the path itself and where the paths below it start. */
export interface Subtree {
  /** The path, without a trailing slash (`/` stays `/`). */
  readonly self: string;
  /** What every path below it starts with: the path and a slash (`/` for the root). */
  readonly below: string;
  /** The first string after every path below it in byte order: `below` with its `/` made `0`. */
  readonly end: string;
}

/**
 * A path's subtree as a byte range, for ordered stores (SQL, a Redis sorted set): the paths
 * inside `parent` are those `p` with `below <= p < end`, in byte (UTF-8, `collate "C"`) order.
 * A trailing slash on `parent` changes nothing.
 *
 * @example
 * ```ts
 * subtree('/a/');  // { self: '/a', below: '/a/', end: '/a0' }
 * subtree('/');    // { self: '/', below: '/', end: '0' }
 * ```
 */
export function subtree(parent: string): Subtree {
  // `/a/` is `/a`: before, the SQL and isSameOrInside left `/a` itself out of `/a/`'s subtree
  // (test/paths/same-or-inside.test.ts). A loop, not a regex: no backtracking on many slashes.
  let length = parent.length;
  while (length > 1 && parent[length - 1] === '/') length--;
  const self = parent.slice(0, length);
  const below = self === '/' ? '/' : `${self}/`;
  return { self, below, end: `${below.slice(0, -1)}0` };
}

/**
 * True when either path contains the other: the two may touch the same files.
 *
 * @example
 * ```ts
 * pathsOverlap('/repo/a', '/repo/a/b'); // true
 * pathsOverlap('/repo/a', '/repo/b');   // false
 * ```
 */
export function pathsOverlap(a: string, b: string): boolean {
  return isSameOrInside(a, b) || isSameOrInside(b, a);
}

/**
 * The path itself and all its ancestors up to `/`, deepest first.
 * Lock checks use it to look up tasks on ancestor paths without scanning.
 *
 * @example
 * ```ts
 * selfAndAncestors('/a/b/c'); // ['/a/b/c', '/a/b', '/a', '/']
 * ```
 */
export function selfAndAncestors(p: string): string[] {
  const out = [p];
  let current = p;
  while (current !== '/') {
    current = path.dirname(current);
    out.push(current);
  }
  return out;
}

/** A repository as far as path rules care: its resolved local root. */
export interface RepoRoot {
  readonly localPath: string;
}

/**
 * The repository whose tree holds `p`, by lexical containment; undefined if none.
 *
 * @example
 * ```ts
 * findRepo(repos, '/data/lab1/raw/x.fastq'); // the repo rooted at /data/lab1
 * ```
 */
export function findRepo<R extends RepoRoot>(repos: readonly R[], p: string): R | undefined {
  return repos.find((repo) => isSameOrInside(p, repo.localPath));
}

/**
 * The part of `p` below the repository root, with `/` separators and no leading
 * slash; `''` for the root itself.
 *
 * @example
 * ```ts
 * relativeToRepo({ localPath: '/data/lab1' }, '/data/lab1/raw/x'); // 'raw/x'
 * ```
 */
export function relativeToRepo(repo: RepoRoot, p: string): string {
  if (!isSameOrInside(p, repo.localPath)) throw new PathError(`${p} is not inside ${repo.localPath}`);
  return p === repo.localPath ? '' : p.slice(repo.localPath.length + (repo.localPath.endsWith('/') ? 0 : 1));
}

/**
 * Resolves a user's path to the repository that holds it, refusing anything outside
 * every repository, including through a symlink inside a repository that points
 * elsewhere. Missing trailing components are allowed (a pull restores them), so the
 * check resolves the longest existing ancestor with `realpath`.
 *
 * @returns the repository and the normalised (not symlink-resolved) path.
 * @example
 * ```ts
 * const { repo, path } = await resolveRequestPath(repos, '/data/lab1/raw/../runs/');
 * // path === '/data/lab1/runs'
 * ```
 */
export async function resolveRequestPath<R extends RepoRoot>(
  repos: readonly R[],
  input: unknown,
): Promise<{ repo: R; path: string; relativePath: string }> {
  const normalized = normalizeRequestPath(input);
  const repo = findRepo(repos, normalized);
  if (!repo) throw new PathError(`${normalized} is not in any configured repository`);
  const resolved = await realpathOfLongestExisting(normalized);
  if (!isSameOrInside(resolved, repo.localPath)) {
    throw new PathError(`${normalized} resolves outside its repository (through a symlink)`);
  }
  return { repo, path: normalized, relativePath: relativeToRepo(repo, normalized) };
}

async function realpathOfLongestExisting(p: string): Promise<string> {
  const missing: string[] = [];
  let current = p;
  for (;;) {
    try {
      const real = await realpath(current);
      return missing.length === 0 ? real : path.join(real, ...missing.reverse());
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') throw new PathError(`${p} goes through a symlink loop`);
      if (code === 'ENAMETOOLONG') throw new PathError(`${p} has a component that is too long`);
      if (code === 'EACCES') throw new PathError(`${p} is not accessible to the Glacis service`);
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
      if (current === '/') return p;
      missing.push(path.basename(current));
      current = path.dirname(current);
    }
  }
}

/**
 * True when something (file, directory, symlink, even a dangling one) exists at `p`.
 *
 * @example
 * ```ts
 * await pathExists('/data/lab1/raw/a.fastq'); // false once frozen
 * ```
 */
export async function pathExists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * The hidden directory at a repository's root where pulls stage files before linking them
 * into place (workers/staging.ts). Not the user's data: listings of the local tree skip it.
 */
export const STAGING_DIR_NAME = '.glacis-staging';
