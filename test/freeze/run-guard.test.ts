/**
 * The limits of one freeze run (src/freeze/run-guard.ts): the bounds exactly where
 * issue 16 §4 puts them.
 */
import { describe, expect, it } from 'vitest';
import { LOW_MARK_REACHED, RemoteInTroubleError, RunGuard } from '../../src/freeze/run-guard.js';

describe('RunGuard', () => {
  it('max_files_per_run: the n-th file is allowed, the next is not', () => {
    const guard = new RunGuard({ maxFiles: 2 });
    for (let i = 0; i < 2; i++) {
      expect(guard.allows(10)).toBe(true);
      guard.frozen(10, 4096);
    }
    expect(guard.allows(10)).toBe(false);
    expect(guard.stopped).toBe('max_files_per_run (2) is reached');
  });

  it('max_bytes_per_run: a file reaching the limit exactly is allowed, one going past is not', () => {
    const guard = new RunGuard({ maxBytes: 100 });
    expect(guard.allows(60)).toBe(true);
    guard.frozen(60, 0);
    expect(guard.allows(41)).toBe(false);
    expect(guard.stopped).toMatch(/^max_bytes_per_run \(100\) is reached/);
    expect(new RunGuard({ maxBytes: 100 }).allows(100)).toBe(true);
  });

  it('a watermark target: stops once the allocated bytes freed reach it', () => {
    const guard = new RunGuard({ targetAllocatedBytes: 8192 });
    expect(guard.allows(1)).toBe(true);
    guard.frozen(1, 8192);
    expect(guard.allows(1)).toBe(false);
    expect(guard.stopped).toBe(LOW_MARK_REACHED);
  });

  it('re-checks: judged only from the 100th; more than 10 % failed stops, exactly 10 % does not', () => {
    const early = new RunGuard({});
    for (let i = 0; i < 99; i++) early.recheck(false); // 99 failures of 99: not judged yet
    expect(() => early.recheck(false)).toThrow(RemoteInTroubleError);

    const tenPercent = new RunGuard({});
    for (let i = 0; i < 1000; i++) tenPercent.recheck(i % 10 !== 9); // never more than 10 % so far
    const justOver = new RunGuard({});
    for (let i = 0; i < 89; i++) justOver.recheck(true);
    for (let i = 0; i < 10; i++) justOver.recheck(false);
    expect(() => justOver.recheck(false)).toThrow(/^remote in trouble: stop deleting \(it failed 11 of 100 re-checks, more than 10 %; 0 files were frozen before\)$/);
  });
});
