/**
 * The repo keys of issue 16 §3–4 (`high_watermark`, `low_watermark`, `watermark_min_age`,
 * `max_files_per_run`, `max_bytes_per_run`) and `WATERMARK_CHECK_INTERVAL`: read when
 * valid, one-line errors naming the file, the repo, the key and what is allowed otherwise.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { parseRepos } from '../../src/config/repos.js';
import { loadSettings } from '../../src/config/settings.js';

let dir: string;
beforeEach(() => {
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'glacis-wm-keys-')));
  fs.mkdirSync(path.join(dir, 'lab'));
  fs.mkdirSync(path.join(dir, 'cold'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const lab = (...lines: string[]): string => `lab:\n${['backend: local', 'path: cold', ...lines].map((l) => `  ${l}`).join('\n')}\n`;
const parse = (text: string) => parseRepos(text, 'repos.yaml', dir)[0]!;

function problem(text: string): string {
  try {
    parse(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    expect(message.startsWith('repos.yaml: repo "lab": ')).toBe(true);
    return message.slice('repos.yaml: repo "lab": '.length);
  }
  throw new Error('expected a ConfigError');
}

describe('repo keys', () => {
  it('reads the watermarks, the minimum age and the limits; absent, none of them is set', () => {
    expect(parse(lab('high_watermark: 85', 'low_watermark: 80.5', 'watermark_min_age: 0', 'max_files_per_run: 1000', 'max_bytes_per_run: "5000000000"'))).toMatchObject({
      watermarks: { high: 85, low: 80.5 },
      watermarkMinAge: 0,
      maxFilesPerRun: 1000,
      maxBytesPerRun: 5_000_000_000,
    });
    const plain = parse(lab());
    expect(plain.watermarks).toBeUndefined();
    expect(plain.watermarkMinAge).toBeUndefined();
    expect(plain.maxFilesPerRun).toBeUndefined();
    expect(plain.maxBytesPerRun).toBeUndefined();
  });

  it('warns that watermarks do nothing in a repo that is not freezable', () => {
    const warnings: string[] = [];
    parseRepos(lab('high_watermark: 85', 'low_watermark: 80').replace('  backend', '  freezable: false\n  backend'), 'repos.yaml', dir, (w) => warnings.push(w));
    expect(warnings).toEqual(['repos.yaml: repo "lab": keys "high_watermark" and "low_watermark" have no effect without freezable: true']);
  });

  it.each([
    [['high_watermark: 85'], 'key "low_watermark" is required when high_watermark is set (both or neither)'],
    [['low_watermark: 80'], 'key "high_watermark" is required when low_watermark is set (both or neither)'],
    [['high_watermark: 80', 'low_watermark: 85'], 'key "low_watermark" must be below high_watermark (80) (got 85)'],
    [['high_watermark: 101', 'low_watermark: 85'], 'key "high_watermark" must be a percentage above 0 and at most 100 (got 101)'],
    [['high_watermark: 90', 'low_watermark: "x"'], 'key "low_watermark" must be a percentage above 0 and at most 100 (got "x")'],
    [['watermark_min_age: -1'], 'key "watermark_min_age" must be a whole number of days from 0 to 10000 (got -1)'],
    [['max_files_per_run: 0'], 'key "max_files_per_run" must be a whole number of files from 1 to 9007199254740991 (got 0)'],
    [['max_bytes_per_run: 1.5'], 'key "max_bytes_per_run" must be a whole number of bytes from 1 to 9007199254740991 (got 1.5)'],
  ])('%j: %s', (lines, expected) => {
    expect(problem(lab(...lines))).toBe(expected);
  });
});

describe('WATERMARK_CHECK_INTERVAL', () => {
  it('is 300 seconds by default, read in seconds, and refused outside 1..86400 naming the key', () => {
    expect(loadSettings({ env: {} }).watermarkCheckIntervalMs).toBe(300_000);
    expect(loadSettings({ env: { WATERMARK_CHECK_INTERVAL: '5' } }).watermarkCheckIntervalMs).toBe(5000);
    expect(() => loadSettings({ env: { WATERMARK_CHECK_INTERVAL: '0' } })).toThrow(/WATERMARK_CHECK_INTERVAL/);
  });
});
