/**
 * Last-access age buckets, in one place: the report's histogram, its "would free at
 * each age bound" figures, the future `/metrics` gauges and the CLI table all use these.
 *
 * A bucket holds ages from its lower bound (included) to its upper bound (excluded), in
 * whole days of 86,400 s: a file read exactly 7 days ago is in `7–30 d`. This matches
 * freeze's own rule (`decideFreeze` in src/freeze/decision.ts: a file is cold once `now - atime >=
 * freeze_age days`), so "what a freeze at 30 days would free" is "the safe files in the
 * buckets from `30–90 d` up".
 */
import { DAY_MS } from '../text/values.js';

/** A day in milliseconds: src/text/values.ts says it once for the config, freeze and the schedules. */
export { DAY_MS };

/** The bounds between buckets, in days (Robinhood's usual report steps). */
export const AGE_BOUNDS_DAYS: readonly number[] = [7, 30, 90, 180, 365];

export interface AgeBucket {
  /** Position in {@link AGE_BUCKETS}, youngest first. */
  readonly index: number;
  /** For tables and metric labels: `<7d`, `7-30d`, …, `>365d` (ASCII: a label value). */
  readonly label: string;
  /** Lower bound in days, included. */
  readonly minDays: number;
  /** Upper bound in days, excluded; `null` for the last, open bucket. */
  readonly maxDays: number | null;
}

/** Six buckets: < 7 d, 7–30, 30–90, 90–180, 180–365, > 365 days. */
export const AGE_BUCKETS: readonly AgeBucket[] = [0, ...AGE_BOUNDS_DAYS].map((minDays, index) => {
  const maxDays = AGE_BOUNDS_DAYS[index] ?? null;
  const label = index === 0 ? `<${maxDays}d` : maxDays === null ? `>${minDays}d` : `${minDays}-${maxDays}d`;
  return { index, label, minDays, maxDays };
});

/**
 * The bucket (index into {@link AGE_BUCKETS}) of a file last read at `atimeMs`, judged at
 * `nowMs`. An atime in the future (clock skew, `touch -a` with a date) counts as age 0.
 *
 * @example
 * ```ts
 * ageBucketOf(now - 10 * DAY_MS, now); // 1 (7-30d)
 * ageBucketOf(now - 7 * DAY_MS, now); // 1: a bound belongs to the older bucket
 * ```
 */
export function ageBucketOf(atimeMs: number, nowMs: number): number {
  const age = nowMs - atimeMs;
  let index = 0;
  while (index < AGE_BOUNDS_DAYS.length && age >= AGE_BOUNDS_DAYS[index]! * DAY_MS) index++;
  return index;
}

/** True when a file last read at `atimeMs` is at least `days` old at `nowMs` (freeze's coldness rule). */
export function isAtLeastDaysOld(atimeMs: number, nowMs: number, days: number): boolean {
  return nowMs - atimeMs >= days * DAY_MS;
}
