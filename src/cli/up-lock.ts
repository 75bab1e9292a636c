/**
 * One `glacis up` per data directory: a second one would start a second redis-server on the
 * same append-only file (test/cli/startup.test.ts found it). A pid file, created exclusively,
 * whose owner is checked for liveness, so that a crashed `up` never blocks the next one.
 */
import { mkdirSync, openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import { CliError, EXIT } from './client/index.js';

export interface UpLock {
  readonly file: string;
  release(): void;
}

/**
 * @throws CliError (usage) when a live process holds the lock.
 * @example
 * ```ts
 * const lock = acquireUpLock('./data');
 * // … run …
 * lock.release();
 * ```
 */
export function acquireUpLock(dataDir: string): UpLock {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'glacis-up.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return { file, release: () => releaseIfOurs(file) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readPid(file);
    if (holder !== undefined && holder !== process.pid && isAlive(holder)) {
      throw new CliError(
        `another glacis up (pid ${holder}) is running on ${path.resolve(dataDir)}: stop it first, or remove ${file} if that process is not Glacis`,
        EXIT.usage,
      );
    }
    // Left by a process that is gone: take it over.
    rmSync(file, { force: true });
  }
  throw new CliError(`could not take the lock ${file}: another glacis up is starting; try again`, EXIT.usage);
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, owned by another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function releaseIfOurs(file: string): void {
  if (readPid(file) === process.pid) rmSync(file, { force: true });
}
