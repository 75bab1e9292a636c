/**
 * `high_watermark` / `low_watermark` as the repos file gives them (issue 16 §3): the one
 * rule for the pair. Here, with the config that reads it, because config sits below policy
 * (test/architecture.test.ts); src/policy/watermark.ts re-exports it.
 */
import { describeValue } from './errors.js';

const PERCENT = 'a percentage above 0 and at most 100';

/**
 * Validates the pair as read from the repos file (values of any type, `undefined` when
 * absent): both or neither, numbers, `0 < low < high <= 100`. Returns the problem as one
 * line naming the key (the config loader prefixes file and repo, see `ConfigError`), or
 * `undefined` when valid.
 *
 * @example
 * ```ts
 * watermarkError(85, 80); // undefined
 * watermarkError(80, 85); // 'key "low_watermark" must be below high_watermark (80) (got 85)'
 * watermarkError(85, undefined); // 'key "low_watermark" is required when high_watermark is set (both or neither)'
 * ```
 */
export function watermarkError(high: unknown, low: unknown): string | undefined {
  if (high === undefined && low === undefined) return undefined;
  if (low === undefined) return 'key "low_watermark" is required when high_watermark is set (both or neither)';
  if (high === undefined) return 'key "high_watermark" is required when low_watermark is set (both or neither)';
  if (!isPercent(high)) return `key "high_watermark" must be ${PERCENT} (got ${describeValue(high)})`;
  if (!isPercent(low)) return `key "low_watermark" must be ${PERCENT} (got ${describeValue(low)})`;
  if (low >= high) return `key "low_watermark" must be below high_watermark (${high}) (got ${low})`;
  return undefined;
}

function isPercent(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 && value <= 100;
}
