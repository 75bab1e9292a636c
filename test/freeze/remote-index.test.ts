import { expect, it } from 'vitest';
import { AMBIGUOUS, pathHash, RemoteIndex } from '../../src/freeze/remote-index.js';
import type { RemoteEntry } from '../../src/rclone/index.js';

const file = (path: string, size = 1, modTime = '2020-01-01T00:00:00Z'): RemoteEntry => ({ path, name: path.split('/').pop()!, size, modTime, isDir: false });

it('finds each of many files by path, with its size, mtime and kind, and nothing else', () => {
  const index = new RemoteIndex();
  for (let i = 0; i < 50_000; i++) index.add(file(`d${i % 97}/f${i}.dat`, i), false);
  index.add(file('links/l.rclonelink', 5), false);
  index.add({ ...file('dir'), isDir: true }, false);
  expect(index.size).toBe(50_001);
  for (let i = 0; i < 50_000; i += 997) expect(index.get(`d${i % 97}/f${i}.dat`)).toEqual({ size: i, mtimeMs: Date.parse('2020-01-01T00:00:00Z'), isLink: false });
  expect(index.get('links/l')).toMatchObject({ size: 5, isLink: true });
  expect(index.get('links/l.rclonelink')).toBeUndefined();
  expect(index.get('d0/f1.dat')).toBeUndefined(); // f1 is in d1
  expect(index.get('dir')).toBeUndefined();
});

it('keeps hashes only when asked', () => {
  const withHashes = new RemoteIndex();
  withHashes.add({ ...file('a'), hashes: { md5: 'abc' } }, true);
  expect(withHashes.get('a')).toMatchObject({ hashes: { md5: 'abc' } });
  const without = new RemoteIndex();
  without.add({ ...file('a'), hashes: { md5: 'abc' } }, false);
  expect(without.get('a')).not.toHaveProperty('hashes');
});

it('a file and a .rclonelink standing for the same local name are ambiguous', () => {
  const index = new RemoteIndex();
  index.add(file('x', 3), false);
  index.add(file('x.rclonelink', 1), false);
  expect(index.get('x')).toBe(AMBIGUOUS);
});

it('path hashes differ for near-identical paths (64 bits from two lanes)', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 200_000; i++) seen.add(pathHash(`dir/file-${i}`).join(':'));
  expect(seen.size).toBe(200_000);
  expect(pathHash('ab')).not.toEqual(pathHash('ba'));
  expect(pathHash('é')).not.toEqual(pathHash('e'));
});
