/**
 * Watermarks (issue 16 §3): a repo with `high_watermark` / `low_watermark` (percent of
 * the filesystem holding it) gets a freeze when usage is above the high mark, freeing
 * until it is at or under the low mark. Pure: the caller takes `statfs`; these rules say
 * whether a freeze is due and how many bytes it must free.
 *
 * Freeing `x` bytes moves them from used to free, so `used + free` does not change and
 * the bytes to free follow exactly from the `df` percentage ({@link usedPercent}).
 * Bytes freed are a file's allocated blocks (`st_blocks * 512`), not its size: the caller
 * should count those (sparse files, small files on large blocks).
 */
import { usedPercent, type FilesystemFigures } from './filesystem.js';

export interface Watermarks {
  /** Percent: a freeze is due above this. */
  readonly high: number;
  /** Percent: the freeze frees until usage is at or under this. */
  readonly low: number;
}

/** Days: a file read more recently than this is never evicted by a watermark freeze (`watermark_min_age`). */
export const DEFAULT_WATERMARK_MIN_AGE_DAYS = 1;

export interface WatermarkCheck {
  /** Usage is above the high mark. */
  readonly due: boolean;
  /** Percent used now (`df`'s definition, unrounded). */
  readonly usedPercent: number;
  /** Bytes to free to be at or under the low mark (0 when already there). */
  readonly bytesToFree: number;
}

/**
 * @example
 * ```ts
 * checkWatermarks({ size: 100, used: 90, free: 10 }, { high: 85, low: 80 });
 * // { due: true, usedPercent: 90, bytesToFree: 10 }
 * ```
 */
export function checkWatermarks(fs: FilesystemFigures, marks: Watermarks): WatermarkCheck {
  const percent = usedPercent(fs);
  const room = fs.used + fs.free;
  // used - x <= low% of room; floor keeps "at or under" true when low% of room is fractional.
  const allowed = Math.floor((marks.low * room) / 100);
  return { due: percent > marks.high, usedPercent: percent, bytesToFree: Math.max(0, fs.used - allowed) };
}

/** The pair's validation lives with the config that reads it (config is the lower layer); one rule, re-exported. */
export { watermarkError } from '../config/watermarks.js';
