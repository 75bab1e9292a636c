/**
 * `glacis check`: run on a host with the server's configuration (as `glacis serve` is), it
 * lists the configured repositories and tests what each needs, one line per finding, each
 * failure saying what to fix. Exit 1 when something is wrong.
 *
 * Nothing secret is printed: a remote is described by its backend, host, user and path only,
 * and rclone's messages have been through the remote's redactor (src/rclone).
 */
import { access, constants, stat } from 'node:fs/promises';
import type { Repo, RemoteSpec } from '../config/types.js';
import { checkAtimeSupport } from '../freeze/atime.js';
import { explainRemoteFailure, Rclone, RcloneError, RemoteNotFoundError } from '../rclone/index.js';

/** Longest a remote listing may take before the remote counts as unreachable. */
export const CHECK_TIMEOUT_MS = 60_000;

/** One finding: `ok` lines say what works, the others what to fix. */
export interface CheckLine {
  readonly level: 'ok' | 'warn' | 'fail';
  readonly text: string;
}

/** What a repository's check found, under a heading line that describes it. */
export interface RepoReport {
  readonly heading: string;
  readonly lines: readonly CheckLine[];
}

/**
 * Checks every repository, one after the other (the lines come in the order of the repos file).
 *
 * @example
 * ```ts
 * for await (const report of checkRepos(repos, new Rclone({ executable: 'rclone' }))) print(report);
 * ```
 */
export async function* checkRepos(repos: readonly Repo[], rclone: Rclone, timeoutMs = CHECK_TIMEOUT_MS): AsyncGenerator<RepoReport> {
  for (const repo of repos) yield { heading: describeRepo(repo), lines: await checkRepo(repo, rclone, timeoutMs) };
}

/** The repository in one line: path, remote (no secret), freezable, schedule. */
export function describeRepo(repo: Repo): string {
  const freeze = repo.freezable ? `freezable (freeze_age ${repo.freezeAge} days)` : 'not freezable';
  const schedule = !repo.autoFreeze
    ? 'no auto-freeze'
    : repo.autoFreezeCron
      ? `auto-freeze on cron "${repo.autoFreezeCron}"`
      : `auto-freeze every ${repo.autoFreezeInterval} days`;
  return `${repo.localPath}: ${describeRemote(repo.remote)}; ${freeze}; ${schedule}`;
}

/** The remote without its secrets: backend, where, who. */
export function describeRemote(remote: RemoteSpec): string {
  switch (remote.backend) {
    case 'sftp':
      return `sftp ${remote.user ? `${remote.user}@` : ''}${remote.host}${remote.port ? `:${remote.port}` : ''}:${remote.path}`;
    case 's3':
      return `s3 (${remote.provider}${remote.endpoint ? ` at ${remote.endpoint}` : ''}) ${remote.path}`;
    case 'local':
      return `local ${remote.path}`;
    case 'rclone':
      return `rclone ${remote.type} ${remote.path}`;
  }
}

async function checkRepo(repo: Repo, rclone: Rclone, timeoutMs: number): Promise<CheckLine[]> {
  const lines: CheckLine[] = [];
  lines.push(await checkLocal(repo));
  lines.push(await checkRemote(repo, rclone, timeoutMs));
  if (repo.freezable) lines.push(await checkAtime(repo));
  return lines;
}

async function checkLocal(repo: Repo): Promise<CheckLine> {
  try {
    if (!(await stat(repo.localPath)).isDirectory()) return { level: 'fail', text: `local: ${repo.localPath} is not a directory: fix the key "${repo.name}" in the repos file` };
    // A worker writes (pulls) and deletes (freezes) here.
    await access(repo.localPath, constants.R_OK | constants.W_OK | constants.X_OK);
    return { level: 'ok', text: 'local: directory present, readable and writable' };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { level: 'fail', text: `local: ${repo.localPath} does not exist: create it, or fix the key "${repo.name}" in the repos file` };
    if (code === 'EACCES') return { level: 'fail', text: `local: ${repo.localPath} is not writable by this user: run glacis as the repository's owner (see docs/production.md, "Which user")` };
    return { level: 'fail', text: `local: ${repo.localPath}: ${(error as Error).message}` };
  }
}

async function checkRemote(repo: Repo, rclone: Rclone, timeoutMs: number): Promise<CheckLine> {
  const started = performance.now();
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    let entries = 0;
    for await (const _entry of rclone.list(repo.remote, '', { signal })) entries++;
    const seconds = (performance.now() - started) / 1000;
    return { level: 'ok', text: `remote: reachable, credentials accepted, path present; listed its top level (${entries} ${entries === 1 ? 'entry' : 'entries'}) in ${seconds.toFixed(1)} s` };
  } catch (error) {
    if (signal.aborted) return { level: 'fail', text: `remote: no answer within ${timeoutMs / 1000} s: check host and port of repo ${repo.name}, and the network (firewall?)` };
    if (error instanceof RemoteNotFoundError) return { level: 'fail', text: `remote: ${describeRemote(repo.remote)} does not exist: check "path" of repo ${repo.name} (or create it on the remote)` };
    if (error instanceof RcloneError) return { level: 'fail', text: `remote: ${explainRemoteFailure(error, repo)}` };
    throw error;
  }
}

async function checkAtime(repo: Repo): Promise<CheckLine> {
  if (repo.disableAtimeTest) return { level: 'warn', text: 'atime: not tested (disable_atime_test: true): freeze judges coldness by access times, make sure they move' };
  const support = await checkAtimeSupport(repo.localPath);
  if (support.supported) return { level: 'ok', text: 'atime: reading a file updates its access time (freeze can tell cold files)' };
  return { level: 'fail', text: `atime: ${support.reason}` };
}
