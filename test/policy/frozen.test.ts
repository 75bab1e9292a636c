/** The rule that says whether the remote still holds a frozen file (src/policy/frozen.ts). */
import { describe, expect, it } from 'vitest';
import { MTIME_TOLERANCE_MS } from '../../src/freeze/decision.js';
import { AMBIGUOUS } from '../../src/freeze/remote-index.js';
import { frozenCopyState } from '../../src/policy/frozen.js';

const T = Date.parse('2024-05-01T00:00:00Z');
const file = { kind: 'file' as const, size: 100, mtimeMs: T, hash: null };

describe('frozenCopyState', () => {
  it('holds a file the remote has with the same size, at its time or newer', () => {
    expect(frozenCopyState(file, { size: 100, mtimeMs: T, isLink: false })).toBe('held');
    expect(frozenCopyState(file, { size: 100, mtimeMs: T + 5_000, isLink: false })).toBe('held');
    expect(frozenCopyState(file, { size: 100, mtimeMs: T - MTIME_TOLERANCE_MS, isLink: false })).toBe('held');
  });

  it('names each loss: missing, a symlink held as a plain file, shrunk, grown, older, ambiguous', () => {
    expect(frozenCopyState(file, undefined)).toBe('missing');
    expect(frozenCopyState({ ...file, kind: 'symlink' }, { size: 100, mtimeMs: T, isLink: false })).toBe('missing');
    expect(frozenCopyState(file, { size: 99, mtimeMs: T, isLink: false })).toBe('shrunk');
    expect(frozenCopyState(file, { size: 101, mtimeMs: T, isLink: false })).toBe('changed');
    expect(frozenCopyState(file, { size: 100, mtimeMs: T - MTIME_TOLERANCE_MS - 1, isLink: false })).toBe('changed');
    expect(frozenCopyState(file, AMBIGUOUS)).toBe('changed');
  });

  it('compares a hash the freeze recorded when the listing has one of that type', () => {
    const hashed = { ...file, hash: 'md5:aaaa' };
    expect(frozenCopyState(hashed, { size: 100, mtimeMs: T, isLink: false, hashes: { md5: 'aaaa' } })).toBe('held');
    expect(frozenCopyState(hashed, { size: 100, mtimeMs: T, isLink: false, hashes: { md5: 'bbbb' } })).toBe('changed');
    expect(frozenCopyState(hashed, { size: 100, mtimeMs: T, isLink: false, hashes: { sha1: 'cccc' } })).toBe('held');
    expect(frozenCopyState(hashed, { size: 100, mtimeMs: T, isLink: false })).toBe('held');
  });

  it('judges a symlink by its target length only (its own mtime says nothing)', () => {
    const link = { kind: 'symlink' as const, size: 12, mtimeMs: T, hash: null };
    expect(frozenCopyState(link, { size: 12, mtimeMs: T - 10 * MTIME_TOLERANCE_MS, isLink: true })).toBe('held');
    expect(frozenCopyState(link, { size: 11, mtimeMs: T, isLink: true })).toBe('shrunk');
  });
});
