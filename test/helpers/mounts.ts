/** tmpfs mounts for atime tests (needs root, which the test machines and CI have). */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { tempDir } from './remotes.js';

const mounted: string[] = [];

/** A tmpfs mounted with `options` (e.g. `noatime`) of `size` (mount's syntax); fails, never skips, if it cannot be. */
export function mountTmpfs(options: string, size = '64m'): string {
  const dir = path.join(tempDir('mnt'), 'fs');
  mkdirSync(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `${options},size=${size}`, 'tmpfs', dir]);
  mounted.push(dir);
  return dir;
}

export function unmountAll(): void {
  for (const dir of mounted.splice(0)) execFileSync('umount', ['-l', dir]);
}
