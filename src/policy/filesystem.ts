/**
 * The filesystem holding a repository, as the report shows it and the watermarks judge
 * it: size, used, free, from `statfs` figures. One definition of "percent used" for both,
 * the one `df` prints, so what an administrator sees in `df` is what the marks compare.
 */

/** The `statfs` fields used (Node's `fs.statfs` gives them as numbers). */
export interface StatfsFigures {
  /** Block size in bytes. */
  readonly bsize: number;
  /** Blocks in the filesystem. */
  readonly blocks: number;
  /** Free blocks, including those reserved for root. */
  readonly bfree: number;
  /** Free blocks an unprivileged user may use. */
  readonly bavail: number;
}

/** Bytes. `size` may exceed `used + free` by the blocks reserved for root (ext4: 5%). */
export interface FilesystemFigures {
  readonly size: number;
  readonly used: number;
  /** Available to unprivileged users, as `df` "Avail". */
  readonly free: number;
}

/**
 * @example
 * ```ts
 * filesystemFigures(await fs.promises.statfs('/data/lab1')); // { size, used, free }
 * ```
 */
export function filesystemFigures(statfs: StatfsFigures): FilesystemFigures {
  return {
    size: statfs.blocks * statfs.bsize,
    used: (statfs.blocks - statfs.bfree) * statfs.bsize,
    free: statfs.bavail * statfs.bsize,
  };
}

/**
 * Percent used as `df` computes it: `used / (used + free)`, so root's reserved blocks do
 * not count as room. Unrounded (`df` rounds up for display); 0 for an empty filesystem.
 */
export function usedPercent(fs: FilesystemFigures): number {
  const room = fs.used + fs.free;
  return room === 0 ? 0 : (fs.used / room) * 100;
}
