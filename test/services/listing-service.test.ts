/**
 * The listing service's bound on concurrent listings, on a real local remote: listings
 * beyond the bound wait for a slot, and every way a listing ends frees its slot.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Repo } from '../../src/config/types.js';
import { Rclone } from '../../src/rclone/index.js';
import { BadRequestError } from '../../src/services/errors.js';
import { ListingService } from '../../src/services/listing-service.js';
import { requireBinary } from '../harness/process.js';
import { makeRemote, tempDir } from '../helpers/remotes.js';

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

describe('ListingService with one listing at a time', async () => {
  const remote = await makeRemote('local');
  const local = tempDir('listing-limit');
  const repo: Repo = {
    localPath: local, name: local, remote: { backend: 'local', path: remote.root! }, exclude: [], freezable: true,
    freezeAge: 180, autoFreeze: false, autoFreezeInterval: 7, disableAtimeTest: false, verify: 'size',
  };
  const listing = new ListingService([repo], new Rclone({ executable: requireBinary('rclone') }), 1);

  it('a second listing starts only once the first has been read to its end', async () => {
    const first = await listing.list({ path: local, maxDepth: 0 });
    let secondStarted = false;
    const second = listing.list({ path: `${local}/subdir`, maxDepth: 0 }).then((entries) => ((secondStarted = true), entries));
    // Unbounded, the second would have its answer as soon as its rclone stat returns.
    await sleep(500);
    expect(secondStarted).toBe(false);
    expect((await collect(first)).length).toBeGreaterThan(5);
    expect((await collect(await second)).map((e) => e.Path).sort()).toEqual(['subfile.txt', 'subsubdir/poutrelle.tsv', 'subsubdir2/poutrelle.xml', 'subsubdir2/subsubfile.txt']);
  });

  it('frees its slot on a 404, on a reader that stops early and on one that never reads', async () => {
    await expect(listing.list({ path: `${local}/not-on-the-remote` })).rejects.toBeInstanceOf(BadRequestError);
    for await (const _ of await listing.tree({ path: local, maxDepth: 0 })) break;
    await (await listing.list({ path: local }))[Symbol.asyncIterator]().return?.();
    // With a slot leaked, this would wait for ever (and the test time out).
    expect((await collect(await listing.list({ path: `${local}/file1.txt` }))).map((e) => e.Path)).toEqual(['file1.txt']);
  });
});
