import { expect, it } from 'vitest';
import { StreamingMatcher, WAITING } from '../../src/freeze/matcher.js';
import type { RemoteEntry } from '../../src/rclone/index.js';

const file = (path: string, size = 1): RemoteEntry => ({ path, name: path, size, modTime: '2020-01-01T00:00:00Z', isDir: false });

it('matches whichever side comes first, and reports the rest missing once the listing ends', () => {
  const matcher = new StreamingMatcher<string>(false);
  matcher.remote(file('early', 7));
  expect(matcher.local('early', 'L1')).toMatchObject({ size: 7, isLink: false });
  expect(matcher.local('late', 'L2')).toBe(WAITING);
  expect(matcher.local('never', 'L3')).toBe(WAITING);
  expect(matcher.remote(file('late', 9))).toMatchObject({ key: 'late', local: 'L2', remote: { size: 9 } });
  expect(matcher.remote(file('remote-only'))).toBeUndefined();
  expect([...matcher.listingComplete()]).toEqual([{ key: 'never', local: 'L3', remote: undefined }]);
  // After the listing: an unknown path is missing at once, never waits.
  expect(matcher.local('after', 'L4')).toBeUndefined();
  expect(matcher.peakWaiting).toBe(2);
});

it('a symlink waiting for the listing is matched by its .rclonelink', () => {
  const matcher = new StreamingMatcher<string>(false);
  expect(matcher.local('s/link', 'L')).toBe(WAITING);
  expect(matcher.remote(file('s/link.rclonelink', 4))).toMatchObject({ key: 's/link', remote: { size: 4, isLink: true } });
});

it('pauses the walk at the bound, and resumes it when the listing catches up or stops', async () => {
  const matcher = new StreamingMatcher<number>(false, 4);
  for (let i = 0; i < 4; i++) expect(matcher.local(`f${i}`, i)).toBe(WAITING);
  let resumed = false;
  const room = matcher.roomToWait().then(() => {
    resumed = true;
  });
  await new Promise((r) => setImmediate(r));
  expect(resumed).toBe(false);
  matcher.remote(file('f0'));
  await new Promise((r) => setImmediate(r));
  expect(resumed).toBe(false); // 3 still wait: above half the bound
  matcher.remote(file('f1'));
  await room;
  expect(resumed).toBe(true);

  for (let i = 4; i < 6; i++) matcher.local(`f${i}`, i);
  const stopped = matcher.roomToWait();
  matcher.listingStopped();
  await stopped; // resolves: the walk must see the failure rather than hang
  expect(matcher.peakWaiting).toBe(4);
});

it('remoteHeld counts only remote files no local file asked for, whichever side came first', () => {
  // The freeze-decision bench logged ~60,000 of 100,000 remote files "not in the local
  // tree" for identical trees: entries that arrived before their local file stayed counted.
  const matcher = new StreamingMatcher<string>(false);
  matcher.remote(file('listed-first'));
  matcher.remote(file('link.rclonelink'));
  matcher.remote(file('remote-only'));
  expect(matcher.local('walked-first', 'L')).toBe(WAITING);
  matcher.remote(file('walked-first'));
  expect(matcher.local('listed-first', 'L')).toMatchObject({ size: 1 });
  expect(matcher.local('link', 'L')).toMatchObject({ isLink: true });
  // Asked twice (the report looks frozen files up after the walk): still one file.
  expect(matcher.local('listed-first', 'L')).toMatchObject({ size: 1 });
  expect([...matcher.listingComplete()]).toEqual([]);
  expect(matcher.remoteHeld).toBe(1);
});
