import { describe, expect, it } from 'vitest';
import { DAY_MS } from '../../src/policy/age.js';
import { LruSelection, type LruOptions } from '../../src/policy/lru-selection.js';

const now = Date.parse('2026-06-01T00:00:00Z');

interface File {
  readonly id: number;
  readonly atimeMs: number;
  readonly bytes: number;
}

/** Both passes over the same list, in the same order; the selected ids, and the outcome. */
function select(files: readonly File[], options: LruOptions) {
  const lru = new LruSelection(options);
  for (const f of files) lru.count(f.atimeMs, f.bytes);
  const plan = lru.plan();
  const pass = lru.secondPass<number>();
  const chosen: number[] = [];
  for (const f of files) chosen.push(...pass.consider(f.atimeMs, f.bytes, f.id));
  const outcome = pass.finish();
  chosen.push(...outcome.held);
  return { plan, outcome, chosen: new Set(chosen), heldOrder: outcome.held };
}

/** The baseline: every eligible file in memory, sorted oldest first (stable: ties in walk order), taken until the target. */
function fullSort(files: readonly File[], options: LruOptions): Set<number> {
  const eligible = files.filter((f) => now - f.atimeMs >= options.minAgeDays * DAY_MS).sort((a, b) => a.atimeMs - b.atimeMs);
  const chosen = new Set<number>();
  let bytes = 0;
  for (const f of eligible) {
    if (bytes >= options.targetBytes) break;
    chosen.add(f.id);
    bytes += f.bytes;
  }
  return chosen;
}

function randomFiles(random: () => number, count: number): File[] {
  // Few distinct atimes, so many ties and crowded buckets; some files within the minimum age.
  const atimes = Array.from({ length: 1 + Math.floor(random() * 40) }, () => now - Math.floor(random() * 3 * 365 * DAY_MS));
  return Array.from({ length: count }, (_, id) => ({
    id,
    atimeMs: random() < 0.1 ? now - Math.floor(random() * DAY_MS) : atimes[Math.floor(random() * atimes.length)]! + (random() < 0.5 ? 0 : Math.floor(random() * 60_000)),
    bytes: random() < 0.1 ? 0 : Math.floor(random() * 10_000),
  }));
}

function lcg(seed: number): () => number {
  let state = seed;
  return () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

describe('LruSelection', () => {
  it('takes the least recently read first until the target, never a file read within the minimum age', () => {
    const files: File[] = [
      { id: 0, atimeMs: now - 10 * DAY_MS, bytes: 100 },
      { id: 1, atimeMs: now - 400 * DAY_MS, bytes: 100 },
      { id: 2, atimeMs: now - 2 * 3600_000, bytes: 10_000 }, // read two hours ago: never
      { id: 3, atimeMs: now - 50 * DAY_MS, bytes: 100 },
    ];
    expect([...select(files, { targetBytes: 150, nowMs: now, minAgeDays: 1 }).chosen].sort()).toEqual([1, 3]);
    const all = select(files, { targetBytes: 1_000_000, nowMs: now, minAgeDays: 1 });
    expect([...all.chosen].sort()).toEqual([0, 1, 3]);
    expect(all.plan).toMatchObject({ eligibleFiles: 3, eligibleBytes: 300, shortfallBytes: 1_000_000 - 300, boundaryAgeDays: null });
    expect(select(files, { targetBytes: 0, nowMs: now, minAgeDays: 1 }).chosen.size).toBe(0);
  });

  it('gives the boundary age and returns the held files oldest first', () => {
    const files: File[] = [0, 1, 2, 3].map((i) => ({ id: i, atimeMs: now - 100 * DAY_MS - i * 1000, bytes: 10 }));
    const { plan, heldOrder, outcome } = select(files, { targetBytes: 25, nowMs: now, minAgeDays: 1 });
    expect(plan.boundaryAgeDays!.min).toBeLessThanOrEqual(100);
    expect(plan.boundaryAgeDays!.max).toBeGreaterThan(100);
    expect(heldOrder).toEqual([3, 2, 1]);
    expect(outcome).toMatchObject({ selectedFiles: 3, selectedBytes: 30, exact: true });
  });

  it('chooses the same files as a full sort on random inputs (ties: walk order)', () => {
    const random = lcg(7);
    for (let round = 0; round < 300; round++) {
      const files = randomFiles(random, Math.floor(random() * 400));
      const total = files.reduce((sum, f) => sum + f.bytes, 0);
      const options = { targetBytes: Math.floor(random() * total * 1.2), nowMs: now, minAgeDays: random() < 0.5 ? 1 : 30 };
      const { chosen, outcome } = select(files, options);
      const expected = fullSort(files, options);
      expect(outcome.exact).toBe(true);
      expect([...chosen].sort((a, b) => a - b)).toEqual([...expected].sort((a, b) => a - b));
      const bytes = files.filter((f) => chosen.has(f.id)).reduce((sum, f) => sum + f.bytes, 0);
      expect(outcome.selectedBytes).toBe(bytes);
      expect(outcome.selectedFiles).toBe(chosen.size);
    }
  });

  it('with a heap too small for the boundary bucket, still reaches the target from that bucket, and says it is not exact', () => {
    const random = lcg(11);
    for (let round = 0; round < 100; round++) {
      // All in one bucket (atimes within one second): the boundary bucket is everything.
      const files = Array.from({ length: 500 }, (_, id) => ({ id, atimeMs: now - 200 * DAY_MS - Math.floor(random() * 1000), bytes: 1 + Math.floor(random() * 100) }));
      const total = files.reduce((sum, f) => sum + f.bytes, 0);
      const options = { targetBytes: Math.floor(total / 2), nowMs: now, minAgeDays: 1, boundaryCapacity: 20 };
      const { chosen, outcome, heldOrder } = select(files, options);
      expect(heldOrder.length).toBeLessThanOrEqual(20);
      expect(outcome.exact).toBe(false);
      expect(outcome.selectedBytes).toBeGreaterThanOrEqual(options.targetBytes);
      // Never more than one file past the target beyond what the exact choice could overshoot by.
      expect(outcome.selectedBytes).toBeLessThan(options.targetBytes + 100);
      expect(chosen.size).toBe(outcome.selectedFiles);
    }
  });

  it('never selects a file read between the two passes within the minimum age', () => {
    const files: File[] = [0, 1, 2].map((id) => ({ id, atimeMs: now - (300 + id) * DAY_MS, bytes: 100 }));
    const lru = new LruSelection({ targetBytes: 300, nowMs: now, minAgeDays: 1 });
    for (const f of files) lru.count(f.atimeMs, f.bytes);
    const pass = lru.secondPass<number>();
    const chosen = [
      ...pass.consider(files[0]!.atimeMs, 100, 0),
      ...pass.consider(now - 1000, 100, 1), // read just now
      ...pass.consider(files[2]!.atimeMs, 100, 2),
      ...pass.finish().held,
    ];
    expect(chosen.sort()).toEqual([0, 2]);
  });
});
