import { describe, expect, it } from 'vitest';
import { ConcurrencyLimit, releasingAtEnd } from '../../src/services/concurrency.js';

/** Lets every promise callback that is ready run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('ConcurrencyLimit', () => {
  it('lets `limit` holders in at once; the others wait, served in arrival order', async () => {
    const limit = new ConcurrencyLimit(2);
    const order: string[] = [];
    const first = await limit.acquire();
    const second = await limit.acquire();
    const third = limit.acquire().then((release) => (order.push('third'), release));
    const fourth = limit.acquire().then((release) => (order.push('fourth'), release));
    await settle();
    expect(order).toEqual([]);
    expect(limit.queued).toBe(2);
    first();
    await settle();
    expect(order).toEqual(['third']);
    // Releasing twice frees one slot only.
    first();
    await settle();
    expect(order).toEqual(['third']);
    second();
    await settle();
    expect(order).toEqual(['third', 'fourth']);
    (await third)();
    (await fourth)();
    // All free again: `limit` acquisitions succeed at once.
    await Promise.all([limit.acquire(), limit.acquire()]);
    expect(limit.queued).toBe(0);
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => new ConcurrencyLimit(0)).toThrow(RangeError);
    expect(() => new ConcurrencyLimit(1.5)).toThrow(RangeError);
  });
});

describe('releasingAtEnd', () => {
  async function* items(fail = false): AsyncGenerator<number> {
    yield 1;
    yield 2;
    if (fail) throw new Error('listing broke');
  }

  it('releases once when the items are all read, when reading fails, and when it stops early', async () => {
    let releases = 0;
    const release = () => void releases++;

    const all: number[] = [];
    for await (const item of releasingAtEnd(items(), release)) all.push(item);
    expect(all).toEqual([1, 2]);
    expect(releases).toBe(1);

    await expect(async () => {
      for await (const _ of releasingAtEnd(items(true), release)) void _;
    }).rejects.toThrow('listing broke');
    expect(releases).toBe(2);

    for await (const _ of releasingAtEnd(items(), release)) break;
    expect(releases).toBe(3);

    // Stopped before the first item was asked for (the client went away at once).
    await releasingAtEnd(items(), release)[Symbol.asyncIterator]().return?.();
    expect(releases).toBe(4);
  });
});
