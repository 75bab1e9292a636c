/**
 * The push rule and the anomaly guard (issue 18), as pure functions.
 */
import { describe, expect, it } from 'vitest';
import { decidePush, tooManyChanges, type PushFile, type PushPolicy } from '../../src/push/decision.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const file = (size: number, mtimeMs = T0, hashes?: Record<string, string>): PushFile => ({ kind: 'file', size, mtimeMs, ...(hashes ? { hashes } : {}) });
const policy: PushPolicy = { shrinkLimitPercent: 50, verify: 'size', force: false };

describe('decidePush', () => {
  it('pushes a file the remote lacks', () => {
    expect(decidePush(file(10), undefined, policy)).toEqual({ action: 'new' });
    expect(decidePush(file(0), undefined, policy)).toEqual({ action: 'new' });
  });

  it('leaves a file of the same size and mtime (within SFTP\'s second)', () => {
    expect(decidePush(file(10, T0 + 900), file(10, T0), policy)).toEqual({ action: 'unchanged' });
  });

  it('replaces a file whose size or mtime differs', () => {
    expect(decidePush(file(11), file(10), policy)).toEqual({ action: 'replace' });
    expect(decidePush(file(10, T0 + 5000), file(10, T0), policy)).toEqual({ action: 'replace' });
    expect(decidePush(file(10, T0 - 5000), file(10, T0), policy)).toEqual({ action: 'replace' });
  });

  it('with verify: hash, replaces a file of the same size and mtime whose hash differs', () => {
    const hashed: PushPolicy = { ...policy, verify: 'hash' };
    expect(decidePush(file(10, T0, { md5: 'a' }), file(10, T0, { md5: 'b' }), hashed)).toEqual({ action: 'replace' });
    expect(decidePush(file(10, T0, { md5: 'a' }), file(10, T0, { md5: 'a' }), hashed)).toEqual({ action: 'unchanged' });
    // Without verify: hash the hashes are not looked at.
    expect(decidePush(file(10, T0, { md5: 'a' }), file(10, T0, { md5: 'b' }), policy)).toEqual({ action: 'unchanged' });
  });

  it('holds a file that became empty', () => {
    expect(decidePush(file(0, T0 + 60_000), file(100), policy)).toEqual({ action: 'hold', reason: 'emptied' });
  });

  it('holds a file that shrank by more than push_shrink_limit percent, not one that shrank by it or less', () => {
    expect(decidePush(file(49, T0 + 60_000), file(100), policy)).toEqual({ action: 'hold', reason: 'shrank' });
    expect(decidePush(file(50, T0 + 60_000), file(100), policy)).toEqual({ action: 'replace' });
    expect(decidePush(file(91, T0 + 60_000), file(100), { ...policy, shrinkLimitPercent: 10 })).toEqual({ action: 'replace' });
    expect(decidePush(file(89, T0 + 60_000), file(100), { ...policy, shrinkLimitPercent: 10 })).toEqual({ action: 'hold', reason: 'shrank' });
  });

  it('pushes a held file with force (its remote copy is still kept as a version)', () => {
    expect(decidePush(file(0, T0 + 60_000), file(100), { ...policy, force: true })).toEqual({ action: 'replace' });
  });

  it('replaces an empty remote file, and compares a symlink by its target only', () => {
    expect(decidePush(file(5), file(0), policy)).toEqual({ action: 'replace' });
    const link = (size: number, mtimeMs: number): PushFile => ({ kind: 'symlink', size, mtimeMs });
    expect(decidePush(link(3, T0 + 99_000), file(3), policy)).toEqual({ action: 'replace' });
    expect(decidePush(link(3, T0 + 99_000), link(3, T0), policy)).toEqual({ action: 'unchanged' });
    expect(decidePush(link(1, T0), link(30, T0), policy)).toEqual({ action: 'replace' });
  });
});

describe('tooManyChanges', () => {
  it('stops a push replacing more than push_change_limit percent of the remote files looked at', () => {
    expect(tooManyChanges({ replacing: 3, remoteFiles: 10 }, 20)).toBe(true);
    expect(tooManyChanges({ replacing: 2, remoteFiles: 10 }, 20)).toBe(false);
    expect(tooManyChanges({ replacing: 10, remoteFiles: 10 }, 100)).toBe(false);
  });

  it('never stops a push onto an empty remote (new files only)', () => {
    expect(tooManyChanges({ replacing: 0, remoteFiles: 0 }, 1)).toBe(false);
  });
});
