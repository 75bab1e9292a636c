/**
 * Randomness the safety suites can replay: every suite prints its seed, and
 * `GLACIS_SEED=<seed>` runs the same choices again. Also the CI/soak size switch.
 */

/** True when the long soak variants were asked for (`GLACIS_SOAK=1`, see scripts/soak.sh). */
export const SOAK = process.env.GLACIS_SOAK === '1';

/** `ci` in a normal run, `soak` under GLACIS_SOAK=1. */
export function sized<T>(ci: T, soak: T): T {
  return SOAK ? soak : ci;
}

export interface Random {
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [min, max]. */
  int(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  /** `count` distinct items (all of them if fewer). */
  sample<T>(items: readonly T[], count: number): T[];
}

/**
 * A seeded generator (mulberry32): the seed comes from `GLACIS_SEED` when set, else is fresh.
 *
 * @example
 * ```ts
 * const random = seededRandom();
 * console.log(`seed ${random.seed}`);
 * const delay = random.int(0, 2000);
 * ```
 */
export function seededRandom(seed: number = Number(process.env.GLACIS_SEED ?? Math.floor(Math.random() * 2 ** 31))): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  return {
    seed,
    next,
    int,
    chance: (p) => next() < p,
    pick: (items) => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[int(0, items.length - 1)]!;
    },
    sample: (items, count) => {
      const copy = [...items];
      for (let i = copy.length - 1; i > 0; i--) {
        const j = int(0, i);
        [copy[i], copy[j]] = [copy[j]!, copy[i]!];
      }
      return copy.slice(0, count);
    },
  };
}

/** The `q` quantile (0..1) of `values`, nearest rank; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
