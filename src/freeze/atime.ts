/**
 * Does atime move on this filesystem? Freeze judges coldness by atime, so on a
 * `noatime` mount every file would look cold forever: freeze is refused there unless
 * the repo says `disable_atime_test: true`.
 */
import { randomUUID } from 'node:crypto';
import { readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';

export type AtimeSupport = { readonly supported: true } | { readonly supported: false; readonly reason: string };

const OLD = new Date('2001-01-01T00:00:00Z');

/**
 * Makes a temporary file in `dir`, dates its atime back, reads it, and checks that the
 * read moved atime. (With `relatime`, a read updates an atime older than the mtime, so
 * this needs no wait.)
 *
 * @example
 * ```ts
 * const support = await checkAtimeSupport('/data/lab1');
 * if (!support.supported) log.error(support.reason);
 * ```
 */
export async function checkAtimeSupport(dir: string): Promise<AtimeSupport> {
  const probe = path.join(dir, `.glacis-atime-probe-${randomUUID()}`);
  try {
    await writeFile(probe, 'glacis atime probe\n');
    await utimes(probe, OLD, new Date());
    await readFile(probe);
    const { atimeMs } = await stat(probe);
    if (atimeMs > OLD.getTime() + 1000) return { supported: true };
    return {
      supported: false,
      reason: `reading a file in ${dir} does not update its access time (mounted noatime?): freeze is refused on this repository; mount it with relatime or strictatime, or set disable_atime_test: true to freeze by age regardless`,
    };
  } catch (error) {
    return { supported: false, reason: `could not test access times in ${dir}: ${(error as Error).message}` };
  } finally {
    await rm(probe, { force: true });
  }
}
