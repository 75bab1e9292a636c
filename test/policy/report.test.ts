import { describe, expect, it } from 'vitest';
import { decideFreeze, MTIME_TOLERANCE_MS, UNPROTECTED, type LocalFile } from '../../src/freeze/decision.js';
import { AMBIGUOUS, remoteFileFor, type RemoteMatch } from '../../src/freeze/remote-index.js';
import { AGE_BUCKETS, DAY_MS } from '../../src/policy/age.js';
import { MAX_LISTED_PATHS, ReportAccumulator, type ReportFile } from '../../src/policy/report.js';

const now = Date.parse('2026-06-01T00:00:00Z');
const t0 = Date.parse('2025-01-01T00:00:00Z');
const rules = { freezeAgeDays: 90, verify: 'size' as const, nowMs: now };

function file(path: string, ageDays: number, size: number, remote: ReportFile['remote'] | 'same', excluded = false): ReportFile {
  const local: LocalFile = { kind: 'file', size, mtimeMs: t0, atimeMs: now - ageDays * DAY_MS };
  return { path, local, remote: remote === 'same' ? { size, mtimeMs: t0, isLink: false } : remote, excluded };
}

const none = { files: 0, bytes: 0 };

describe('ReportAccumulator', () => {
  it('counts local files and bytes per age bucket, and what a freeze would free at freeze_age and at each bound', () => {
    const report = new ReportAccumulator(rules);
    report.add(file('a', 1, 10, 'same'));
    report.add(file('b', 8, 20, 'same'));
    report.add(file('c', 100, 40, 'same'));
    report.add(file('d', 400, 80, 'same'));
    report.add(file('e', 400, 1000, undefined)); // cold, only here
    const result = report.result();
    expect(result.local).toEqual({ files: 5, bytes: 1150 });
    expect(result.byAge.map((row) => [row.bucket, row.files, row.bytes, row.safe.bytes])).toEqual([
      ['<7d', 1, 10, 10],
      ['7-30d', 1, 20, 20],
      ['30-90d', 0, 0, 0],
      ['90-180d', 1, 40, 40],
      ['180-365d', 0, 0, 0],
      ['>365d', 2, 1080, 80],
    ]);
    expect(result.freeable.atFreezeAge).toEqual({ days: 90, files: 2, bytes: 120 });
    expect(result.freeable.atBounds).toEqual([
      { days: 7, files: 3, bytes: 140 },
      { days: 30, files: 2, bytes: 120 },
      { days: 90, files: 2, bytes: 120 },
      { days: 180, files: 1, bytes: 80 },
      { days: 365, files: 1, bytes: 80 },
    ]);
    expect(result.unprotected).toMatchObject({ files: 1, bytes: 1000, paths: ['e'], unlisted: 0 });
    expect(result.filesystem).toBeNull();
  });

  it('reports cold files the remote lacks or holds differently, by reason; hot ones are not yet a concern', () => {
    const report = new ReportAccumulator({ ...rules, verify: 'hash' });
    const hashed = (f: ReportFile, local: string, remote: string | undefined): ReportFile => ({
      ...f,
      local: { ...f.local, hashes: { md5: local } },
      remote: { size: f.local.size, mtimeMs: t0, isLink: false, ...(remote ? { hashes: { md5: remote } } : {}) },
    });
    report.add(file('missing', 200, 1, undefined));
    report.add(file('smaller-remote', 200, 2, { size: 1, mtimeMs: t0, isLink: false }));
    report.add(file('older-remote', 200, 4, { size: 4, mtimeMs: t0 - MTIME_TOLERANCE_MS - 1, isLink: false }));
    report.add(file('two-remote-entries', 200, 8, AMBIGUOUS));
    report.add(hashed(file('no-common-hash', 200, 16, 'same'), 'aa', undefined));
    report.add(hashed(file('other-hash', 200, 32, 'same'), 'aa', 'bb'));
    report.add(hashed(file('same-hash', 200, 64, 'same'), 'aa', 'aa'));
    report.add(file('hot-missing', 3, 128, undefined));
    const result = report.result();
    expect(result.unprotected.byReason).toEqual({
      'missing-remote': { files: 1, bytes: 1 },
      differs: { files: 2, bytes: 2 + 32 },
      'newer-locally': { files: 1, bytes: 4 },
      unverifiable: { files: 1, bytes: 16 },
      ambiguous: { files: 1, bytes: 8 },
    });
    expect(result.unprotected.files).toBe(6);
    expect(result.unprotected.paths).toEqual(['missing', 'smaller-remote', 'older-remote', 'two-remote-entries', 'no-common-hash', 'other-hash']);
    expect(result.freeable.atFreezeAge).toEqual({ days: 90, files: 1, bytes: 64 });
  });

  it('judges a symlink against a .rclonelink only, by its target', () => {
    const link: LocalFile = { kind: 'symlink', size: 5, mtimeMs: now, atimeMs: now - 200 * DAY_MS, linkTarget: 'x.dat' };
    const report = new ReportAccumulator(rules);
    report.add({ path: 'as-link', local: link, remote: { size: 5, mtimeMs: t0, isLink: true }, excluded: false });
    report.add({ path: 'as-file', local: link, remote: { size: 5, mtimeMs: t0, isLink: false }, excluded: false });
    const result = report.result();
    expect(result.freeable.atFreezeAge).toMatchObject({ files: 1, bytes: 5 });
    expect(result.unprotected).toMatchObject({ files: 1, paths: ['as-file'], byReason: { 'missing-remote': { files: 1, bytes: 5 } } });
  });

  it('counts excluded files as local usage only: never freeable, never unprotected', () => {
    const report = new ReportAccumulator(rules);
    report.add(file('kept.xml', 400, 7, 'same', true));
    report.add(file('only-here.xml', 400, 9, undefined, true));
    const result = report.result();
    expect(result.local).toEqual({ files: 2, bytes: 16 });
    expect(result.excluded).toEqual({ files: 2, bytes: 16 });
    expect(result.byAge[5]).toMatchObject({ files: 2, bytes: 16, safe: none });
    expect(result.freeable.atFreezeAge).toMatchObject(none);
    expect(result.unprotected).toMatchObject({ ...none, paths: [] });
  });

  it('lists only the first N unprotected paths, counting the rest, with N capped', () => {
    const report = new ReportAccumulator({ ...rules, listedPaths: 3 });
    for (let i = 0; i < 10; i++) report.add(file(`f${i}`, 200, 1, undefined));
    expect(report.result().unprotected).toMatchObject({ files: 10, paths: ['f0', 'f1', 'f2'], unlisted: 7 });
    const capped = new ReportAccumulator({ ...rules, listedPaths: 1e9 });
    for (let i = 0; i < MAX_LISTED_PATHS + 5; i++) capped.add(file(`f${i}`, 200, 1, undefined));
    expect(capped.result().unprotected.paths).toHaveLength(MAX_LISTED_PATHS);
    expect(capped.result().unprotected.unlisted).toBe(5);
  });

  it('carries the filesystem figures it is given', () => {
    const fs = { size: 1000, used: 600, free: 350 };
    expect(new ReportAccumulator(rules).result(fs).filesystem).toEqual(fs);
  });

  it('on random trees, frees at each bound exactly what the freeze decision would freeze at that age', () => {
    let seed = 42;
    const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let round = 0; round < 50; round++) {
      const freezeAgeDays = 2 + Math.floor(random() * 400);
      const report = new ReportAccumulator({ ...rules, freezeAgeDays });
      const files: ReportFile[] = [];
      for (let i = 0; i < 200; i++) {
        // Ages land on the bounds often, where off-by-one mistakes hide.
        const ageDays = random() < 0.3 ? AGE_BUCKETS[Math.floor(random() * 6)]!.minDays : random() * 800;
        const size = Math.floor(random() * 1000);
        const r = random();
        const remote: RemoteMatch | typeof AMBIGUOUS | undefined =
          r < 0.5 ? { size, mtimeMs: t0, isLink: false } : r < 0.6 ? undefined : r < 0.7 ? AMBIGUOUS : r < 0.8 ? { size: size + 1, mtimeMs: t0, isLink: false } : r < 0.9 ? { size, mtimeMs: t0 - DAY_MS, isLink: false } : { size, mtimeMs: t0, isLink: true };
        const f: ReportFile = { path: `p${i}`, local: { kind: 'file', size, mtimeMs: t0, atimeMs: now - ageDays * DAY_MS }, remote, excluded: random() < 0.1 };
        files.push(f);
        report.add(f);
      }
      const wouldFreeze = (days: number): { files: number; bytes: number } => {
        const frozen = files.filter((f) => !f.excluded && f.remote !== AMBIGUOUS && decideFreeze(f.local, remoteFileFor(f.local, f.remote), { freezeAgeDays: days, force: false, verify: 'size', nowMs: now }).freeze);
        return { files: frozen.length, bytes: frozen.reduce((sum, f) => sum + f.local.size, 0) };
      };
      const result = report.result();
      expect(result.freeable.atFreezeAge).toEqual({ days: freezeAgeDays, ...wouldFreeze(freezeAgeDays) });
      for (const at of result.freeable.atBounds) expect(at).toEqual({ days: at.days, ...wouldFreeze(at.days) });
      const kept = files.filter((f) => {
        if (f.excluded || now - f.local.atimeMs < freezeAgeDays * DAY_MS) return false;
        if (f.remote === AMBIGUOUS) return true;
        const verdict = decideFreeze(f.local, remoteFileFor(f.local, f.remote), { freezeAgeDays, force: false, verify: 'size', nowMs: now });
        return !verdict.freeze && UNPROTECTED.includes(verdict.reason);
      });
      expect(result.unprotected.files).toBe(kept.length);
      expect(result.unprotected.paths).toEqual(kept.slice(0, 100).map((f) => f.path));
      expect(result.local.files).toBe(200);
      expect(result.byAge.reduce((sum, row) => sum + row.bytes, 0)).toBe(result.local.bytes);
    }
  });
});
