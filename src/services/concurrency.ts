/**
 * Bounds how many of an expensive operation run at once; the rest wait their turn, first
 * come first served.
 */

/**
 * A counting semaphore.
 *
 * @example
 * ```ts
 * const listings = new ConcurrencyLimit(8);
 * const release = await listings.acquire();
 * try { await listRemote(); } finally { release(); }
 * ```
 */
export class ConcurrencyLimit {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, not ${limit}`);
  }

  /** Resolves once a slot is free; the function it gives frees the slot (calling it again does nothing). */
  async acquire(): Promise<() => void> {
    if (this.running < this.limit) this.running++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      // The slot passes straight to the next in line, so a newcomer cannot overtake it.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    };
  }

  /** How many are waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }
}

/**
 * The same items as `source`; `release` is called once when the iteration ends: all read,
 * failed, or stopped early with `return()` (which `for await` and `break` call).
 */
export function releasingAtEnd<T>(source: AsyncIterable<T>, release: () => void): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const iterator = source[Symbol.asyncIterator]();
      return {
        async next() {
          try {
            const result = await iterator.next();
            if (result.done) release();
            return result;
          } catch (error) {
            release();
            throw error;
          }
        },
        async return(value?: unknown) {
          try {
            return (await iterator.return?.(value)) ?? { done: true, value: undefined };
          } finally {
            release();
          }
        },
      };
    },
  };
}
