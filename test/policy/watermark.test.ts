import { execFileSync } from 'node:child_process';
import { statfsSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { filesystemFigures, usedPercent } from '../../src/policy/filesystem.js';
import { checkWatermarks, watermarkError } from '../../src/policy/watermark.js';
import { mountTmpfs, unmountAll } from '../helpers/mounts.js';

afterAll(unmountAll);

const MB = 1024 * 1024;

describe('checkWatermarks', () => {
  it('is due only above the high mark, and frees down to the low mark', () => {
    expect(checkWatermarks({ size: 100, used: 90, free: 10 }, { high: 85, low: 80 })).toEqual({ due: true, usedPercent: 90, bytesToFree: 10 });
    expect(checkWatermarks({ size: 100, used: 85, free: 15 }, { high: 85, low: 80 })).toMatchObject({ due: false, bytesToFree: 5 });
    expect(checkWatermarks({ size: 100, used: 70, free: 30 }, { high: 85, low: 80 })).toMatchObject({ due: false, bytesToFree: 0 });
  });

  it("counts like df: root's reserved blocks are not room, freeing leaves used + free unchanged", () => {
    // 1000 bytes, 50 reserved: used 855 of 950 usable is 90 %.
    const fs = { size: 1000, used: 855, free: 95 };
    const check = checkWatermarks(fs, { high: 85, low: 80 });
    expect(check.usedPercent).toBeCloseTo(90, 10);
    expect(check.bytesToFree).toBe(855 - 760);
    const after = { size: 1000, used: fs.used - check.bytesToFree, free: fs.free + check.bytesToFree };
    expect(usedPercent(after)).toBeLessThanOrEqual(80);
  });

  it('rounds so that freeing the bytes asked is enough, on a fractional low mark', () => {
    const fs = { size: 1003, used: 1000, free: 3 };
    const { bytesToFree } = checkWatermarks(fs, { high: 90, low: 33.3 });
    expect(usedPercent({ size: 1003, used: fs.used - bytesToFree, free: fs.free + bytesToFree })).toBeLessThanOrEqual(33.3);
    expect(usedPercent({ size: 1003, used: fs.used - bytesToFree + 1, free: fs.free + bytesToFree - 1 })).toBeGreaterThan(33.3);
  });

  it('on a real filesystem: figures equal df, and freeing bytesToFree brings usage under the low mark', () => {
    const dir = mountTmpfs('rw');
    const file = path.join(dir, 'fill.dat');
    writeFileSync(file, Buffer.alloc(48 * MB, 1));
    const fs = filesystemFigures(statfsSync(dir));
    const df = execFileSync('df', ['-B1', '--output=size,used,avail', dir], { encoding: 'utf8' }).trim().split('\n')[1]!.trim().split(/\s+/).map(Number);
    expect([fs.size, fs.used, fs.free]).toEqual(df);
    const check = checkWatermarks(fs, { high: 70, low: 50 });
    expect(check.due).toBe(true);
    expect(check.bytesToFree).toBeGreaterThan(0);
    truncateSync(file, 48 * MB - check.bytesToFree);
    const after = filesystemFigures(statfsSync(dir));
    expect(usedPercent(after)).toBeLessThanOrEqual(50);
    expect(checkWatermarks(after, { high: 70, low: 50 })).toMatchObject({ due: false });
  });
});

describe('watermarkError', () => {
  it('accepts both or neither, 0 < low < high <= 100', () => {
    expect(watermarkError(undefined, undefined)).toBeUndefined();
    expect(watermarkError(85, 80)).toBeUndefined();
    expect(watermarkError(100, 0.5)).toBeUndefined();
  });

  it('names the key in one line for each wrong pair', () => {
    const cases: [unknown, unknown, string][] = [
      [85, undefined, 'key "low_watermark" is required when high_watermark is set (both or neither)'],
      [undefined, 80, 'key "high_watermark" is required when low_watermark is set (both or neither)'],
      [101, 80, 'key "high_watermark" must be a percentage above 0 and at most 100 (got 101)'],
      ['85%', 80, 'key "high_watermark" must be a percentage above 0 and at most 100 (got "85%")'],
      [85, 0, 'key "low_watermark" must be a percentage above 0 and at most 100 (got 0)'],
      [85, null, 'key "low_watermark" must be a percentage above 0 and at most 100 (got an empty value)'],
      [80, 85, 'key "low_watermark" must be below high_watermark (80) (got 85)'],
      [80, 80, 'key "low_watermark" must be below high_watermark (80) (got 80)'],
    ];
    for (const [high, low, message] of cases) {
      expect(watermarkError(high, low)).toBe(message);
      expect(message).not.toContain('\n');
    }
  });
});
