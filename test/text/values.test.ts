/**
 * One parser per value form (src/text/values.ts): booleans and whole numbers read the same at
 * every edge that takes them: local.cfg and the environment, the repos file, API bodies and
 * queries, and the command line. One table of forms drives all of them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRequest, listBody, taskListQuery } from '../../src/api/requests.js';
import { pullBody } from '../../src/tasks/kinds/pull.js';
import { parseRepos } from '../../src/config/repos.js';
import { loadSettings } from '../../src/config/settings.js';
import { parseDepth } from '../../src/cli/client/common.js';
import { durationMs, parseBoolean, parseDuration, parseWholeNumber, wholeNumberIn } from '../../src/text/values.js';

/** [as written, what it means]; undefined: refused. */
const BOOLEANS: readonly (readonly [unknown, boolean | undefined])[] = [
  [true, true],
  [false, false],
  [1, true],
  [0, false],
  ['true', true],
  ['True', true],
  ['TRUE', true],
  ['yes', true],
  ['Yes', true],
  ['on', true],
  ['ON', true],
  ['1', true],
  [' true ', true],
  ['false', false],
  ['False', false],
  ['no', false],
  ['No', false],
  ['off', false],
  ['0', false],
  ['maybe', undefined],
  ['y', undefined],
  ['oui', undefined],
  ['', undefined],
  ['2', undefined],
  [2, undefined],
  ['truee', undefined],
];

/** [as written, what it means]; undefined: refused. */
const WHOLE_NUMBERS: readonly (readonly [unknown, number | undefined])[] = [
  [0, 0],
  [7, 7],
  ['7', 7],
  [' 7 ', 7],
  ['007', 7],
  ['10000', 10_000],
  [1.5, undefined],
  ['1.5', undefined],
  [-1, undefined],
  ['-1', undefined],
  ['+1', undefined],
  ['1e3', undefined],
  ['0x10', undefined],
  ['', undefined],
  ['abc', undefined],
  [true, undefined],
  [Number.MAX_SAFE_INTEGER + 1, undefined],
  ['99999999999999999999', undefined],
];

describe('the parsers', () => {
  it.each(BOOLEANS)('parseBoolean(%j) is %s', (written, meaning) => {
    expect(parseBoolean(written)).toBe(meaning);
  });
  it.each(WHOLE_NUMBERS)('parseWholeNumber(%j) is %s', (written, meaning) => {
    expect(parseWholeNumber(written)).toBe(meaning);
  });
  it('wholeNumberIn keeps both bounds', () => {
    expect([0, 1, 10, 11].map((n) => wholeNumberIn(String(n), { min: 1, max: 10 }))).toEqual([undefined, 1, 10, undefined]);
  });
  it('durations in milliseconds', () => {
    expect([durationMs(30, 'seconds'), durationMs(2, 'hours'), durationMs(7, 'days')]).toEqual([30_000, 7_200_000, 604_800_000]);
  });
  it('parseDuration: a whole number of the unit, within the range, in milliseconds; nothing else', () => {
    const range = { min: 1, max: 86_400 };
    // Baricadr's files write seconds, quoted or not.
    expect([parseDuration('3600', 'seconds', range), parseDuration(3600, 'seconds', range), parseDuration(' 60 ', 'seconds', range)]).toEqual([3_600_000, 3_600_000, 60_000]);
    expect(parseDuration(2, 'days', { min: 0, max: 7 })).toBe(172_800_000);
    for (const bad of ['1h', '6h', '1.5', 1.5, '-1', 0, 86_401, '', true, null]) expect(parseDuration(bad, 'seconds', range), String(bad)).toBeUndefined();
  });
});

/** The API's answer to a form, as a value or undefined when refused (400). */
function viaApi<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

describe('every edge reads the table alike', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'glacis-values-')));
    fs.mkdirSync(path.join(dir, 'lab'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A repos file holding one repo with `key: <value>` (written as YAML, so the types stay). */
  function viaRepos<T>(key: string, value: unknown, read: (repo: ReturnType<typeof parseRepos>[number]) => T): T | undefined {
    const text = `lab:\n  backend: sftp\n  url: "backup:lab"\n  user: glacis\n  password: "hunter2"\n  ${key}: ${JSON.stringify(value)}\n`;
    try {
      return read(parseRepos(text, 'repos.yaml', dir)[0]!);
    } catch {
      return undefined;
    }
  }

  /** local.cfg holding `KEY = <value>` (a Python literal: a string quoted, a number or boolean bare). */
  function viaLocalCfg<T>(line: string, read: (settings: ReturnType<typeof loadSettings>) => T): T | undefined {
    const file = path.join(dir, 'local.cfg');
    fs.writeFileSync(file, `${line}\n`);
    try {
      return read(loadSettings({ configPath: file, env: { PATH: '' }, cwd: dir, warn: () => undefined }));
    } catch {
      return undefined;
    }
  }

  /** The environment (always a string). */
  function viaEnv<T>(name: string, value: string, read: (settings: ReturnType<typeof loadSettings>) => T): T | undefined {
    try {
      return read(loadSettings({ env: { PATH: '', [name]: value }, cwd: dir, warn: () => undefined }));
    } catch {
      return undefined;
    }
  }

  const python = (value: unknown): string => (typeof value === 'boolean' ? (value ? 'True' : 'False') : JSON.stringify(value));

  it.each(BOOLEANS)('the boolean %j', (written, meaning) => {
    expect(viaApi(() => parseRequest(pullBody, { dry_run: written }).dry_run), 'API').toBe(meaning);
    expect(viaRepos('freezable', written, (repo) => repo.freezable), 'repos file').toBe(meaning);
    expect(viaLocalCfg(`MAIL_SUPPRESS_SEND = ${python(written)}`, (s) => s.mail.suppressSend), 'local.cfg').toBe(meaning);
    if (typeof written === 'string') expect(viaEnv('MAIL_SUPPRESS_SEND', written, (s) => s.mail.suppressSend), 'environment').toBe(meaning);
  });

  it.each(WHOLE_NUMBERS)('the whole number %j', (written, meaning) => {
    // Each edge's range keeps 7 and 10000 inside it; 0 is below repos' freeze_age range (2..).
    expect(viaApi(() => parseRequest(listBody, { max_depth: written }).max_depth), 'API body').toBe(meaning);
    expect(viaRepos('freeze_age', written, (repo) => repo.freezeAge), 'repos file').toBe(meaning === 0 ? undefined : meaning);
    expect(viaLocalCfg(`CLEANUP_INTERVAL = ${python(written)}`, (s) => s.cleanupIntervalMs / 1000), 'local.cfg').toBe(meaning);
    if (typeof written === 'string') {
      expect(viaEnv('CLEANUP_INTERVAL', written, (s) => s.cleanupIntervalMs / 1000), 'environment').toBe(meaning);
      expect(viaApi(() => parseRequest(taskListQuery, { offset: written }).offset), 'API query').toBe(meaning);
      let cli: number | undefined;
      try {
        cli = parseDepth(written);
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidArgumentError);
      }
      expect(cli, 'command line').toBe(meaning);
    }
  });
});
