import { describe, expect, it } from 'vitest';
import { decideFreeze } from '../../src/freeze/decision.js';
import { AGE_BUCKETS, ageBucketOf, DAY_MS, isAtLeastDaysOld } from '../../src/policy/age.js';

const now = Date.parse('2026-06-01T00:00:00Z');

describe('age buckets', () => {
  it('are the six of issue 16, youngest first, with readable labels', () => {
    expect(AGE_BUCKETS.map((b) => [b.label, b.minDays, b.maxDays])).toEqual([
      ['<7d', 0, 7],
      ['7-30d', 7, 30],
      ['30-90d', 30, 90],
      ['90-180d', 90, 180],
      ['180-365d', 180, 365],
      ['>365d', 365, null],
    ]);
  });

  it('put a bound in the older bucket, and a future atime in the youngest', () => {
    expect(ageBucketOf(now, now)).toBe(0);
    expect(ageBucketOf(now + 5 * DAY_MS, now)).toBe(0);
    expect(ageBucketOf(now - 7 * DAY_MS + 1, now)).toBe(0);
    expect(ageBucketOf(now - 7 * DAY_MS, now)).toBe(1);
    expect(ageBucketOf(now - 29 * DAY_MS, now)).toBe(1);
    expect(ageBucketOf(now - 30 * DAY_MS, now)).toBe(2);
    expect(ageBucketOf(now - 180 * DAY_MS, now)).toBe(4);
    expect(ageBucketOf(now - 365 * DAY_MS, now)).toBe(5);
    expect(ageBucketOf(now - 5000 * DAY_MS, now)).toBe(5);
  });

  it('agree with freeze on when a file is cold at each bound', () => {
    const remote = { size: 1, mtimeMs: 0 };
    for (const bucket of AGE_BUCKETS.slice(1)) {
      for (const atimeMs of [now - bucket.minDays * DAY_MS, now - bucket.minDays * DAY_MS + 1]) {
        const frozen = decideFreeze({ kind: 'file', size: 1, mtimeMs: 0, atimeMs }, remote, { freezeAgeDays: bucket.minDays, force: false, verify: 'size', nowMs: now }).freeze;
        expect(isAtLeastDaysOld(atimeMs, now, bucket.minDays)).toBe(frozen);
        expect(ageBucketOf(atimeMs, now) >= bucket.index).toBe(frozen);
      }
    }
  });
});
