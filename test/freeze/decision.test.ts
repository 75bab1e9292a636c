import { describe, expect, it } from 'vitest';
import { decideFreeze, MTIME_TOLERANCE_MS, unchangedSince, type FreezePolicy, type LocalFile } from '../../src/freeze/decision.js';

const DAY = 86_400_000;
const t0 = Date.parse('2026-01-01T00:00:00Z');
const policy: FreezePolicy = { freezeAgeDays: 180, force: false, verify: 'size', nowMs: t0 + 200 * DAY };
const coldFile: LocalFile = { kind: 'file', size: 100, mtimeMs: t0, atimeMs: t0 };

describe('decideFreeze', () => {
  it('freezes a cold file the remote holds with the same size and an mtime not older', () => {
    expect(decideFreeze(coldFile, { size: 100, mtimeMs: t0 }, policy)).toEqual({ freeze: true });
    expect(decideFreeze(coldFile, { size: 100, mtimeMs: t0 - MTIME_TOLERANCE_MS }, policy)).toEqual({ freeze: true });
  });

  it('keeps a file read within freeze_age, unless forced', () => {
    const recent = { ...coldFile, atimeMs: policy.nowMs - 179 * DAY };
    expect(decideFreeze(recent, { size: 100, mtimeMs: t0 }, policy)).toEqual({ freeze: false, reason: 'recent' });
    expect(decideFreeze(recent, { size: 100, mtimeMs: t0 }, { ...policy, force: true })).toEqual({ freeze: true });
  });

  it('keeps what the remote lacks, holds with another size, or holds older than the local change', () => {
    expect(decideFreeze(coldFile, undefined, policy)).toEqual({ freeze: false, reason: 'missing-remote' });
    expect(decideFreeze(coldFile, { size: 99, mtimeMs: t0 }, policy)).toEqual({ freeze: false, reason: 'differs' });
    expect(decideFreeze(coldFile, { size: 100, mtimeMs: t0 - MTIME_TOLERANCE_MS - 1 }, policy)).toEqual({ freeze: false, reason: 'newer-locally' });
    // Forcing never overrides safety.
    expect(decideFreeze(coldFile, undefined, { ...policy, force: true })).toEqual({ freeze: false, reason: 'missing-remote' });
  });

  it('compares a symlink by its target length, not its mtime', () => {
    const link: LocalFile = { kind: 'symlink', size: 12, mtimeMs: t0 + 100 * DAY, atimeMs: t0, linkTarget: '../file1.txt' };
    expect(decideFreeze(link, { size: 12, mtimeMs: t0 }, policy)).toEqual({ freeze: true });
    expect(decideFreeze(link, { size: 11, mtimeMs: t0 }, policy)).toEqual({ freeze: false, reason: 'differs' });
  });

  it('with verify: hash, requires a common hash that matches', () => {
    const hashPolicy = { ...policy, verify: 'hash' as const };
    const hashed = { ...coldFile, hashes: { md5: 'aa' } };
    expect(decideFreeze(hashed, { size: 100, mtimeMs: t0, hashes: { md5: 'aa' } }, hashPolicy)).toEqual({ freeze: true });
    expect(decideFreeze(hashed, { size: 100, mtimeMs: t0, hashes: { md5: 'bb' } }, hashPolicy)).toEqual({ freeze: false, reason: 'differs' });
    expect(decideFreeze(hashed, { size: 100, mtimeMs: t0, hashes: { sha1: 'aa' } }, hashPolicy)).toEqual({ freeze: false, reason: 'unverifiable' });
    expect(decideFreeze(coldFile, { size: 100, mtimeMs: t0 }, hashPolicy)).toEqual({ freeze: false, reason: 'unverifiable' });
  });
});

describe('unchangedSince', () => {
  it('notices a read (atime), a write (mtime, size) and a replaced symlink', () => {
    expect(unchangedSince(coldFile, { ...coldFile })).toBe(true);
    expect(unchangedSince(coldFile, { ...coldFile, atimeMs: coldFile.atimeMs + 1 })).toBe(false);
    expect(unchangedSince(coldFile, { ...coldFile, mtimeMs: coldFile.mtimeMs + 1 })).toBe(false);
    expect(unchangedSince(coldFile, { ...coldFile, size: 101 })).toBe(false);
    const link: LocalFile = { kind: 'symlink', size: 1, mtimeMs: 0, atimeMs: 0, linkTarget: 'a' };
    expect(unchangedSince(link, { ...link, linkTarget: 'b' })).toBe(false);
    expect(unchangedSince(link, { ...coldFile })).toBe(false);
    // Reading a symlink's target moves its atime: that alone does not count.
    expect(unchangedSince(link, { ...link, atimeMs: 5 })).toBe(true);
  });
});
