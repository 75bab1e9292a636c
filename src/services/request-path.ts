/**
 * A path given in a request, resolved to its repository — or a 400 saying why not.
 * Every service that takes a path from a user goes through here.
 */
import type { Repo } from '../config/types.js';
import { PathError, resolveRequestPath } from '../paths/index.js';
import { BadRequestError } from './errors.js';

/**
 * @example
 * ```ts
 * const { repo, path, relativePath } = await resolveForRequest(repos, body.path); // or BadRequestError
 * ```
 */
export async function resolveForRequest(repos: readonly Repo[], path: unknown): Promise<{ repo: Repo; path: string; relativePath: string }> {
  if (path === undefined || path === null) throw new BadRequestError('Missing "path"');
  try {
    return await resolveRequestPath(repos, path);
  } catch (error) {
    if (error instanceof PathError) throw new BadRequestError(error.message);
    throw error;
  }
}
