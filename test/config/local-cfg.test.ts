import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { ConfigError } from '../../src/config/errors.js';
import { parseLocalCfg } from '../../src/config/local-cfg.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

function parseError(text: string): ConfigError {
  try {
    parseLocalCfg(text, 'local.cfg');
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('parseLocalCfg', () => {
  it('parses strings, numbers, booleans and skips None, blank lines and comments', () => {
    const text = [
      '# a comment',
      '',
      "A = 'single'",
      'B = "double"',
      'C = 42',
      'D = -1.5',
      'E = True',
      'F = False',
      'G = None',
      "H = 'with # hash'  # trailing comment",
      '   ',
      "I = 'it\\'s'",
      'J = 1_000',
      "K = r'C:\\path'",
      "L = ''",
    ].join('\n');
    expect(parseLocalCfg(text, 'local.cfg')).toEqual({
      A: 'single',
      B: 'double',
      C: 42,
      D: -1.5,
      E: true,
      F: false,
      H: 'with # hash',
      I: "it's",
      J: 1000,
      K: 'C:\\path',
      L: '',
    });
  });

  it('lets a later assignment win and None unset an earlier one, as Python would', () => {
    expect(parseLocalCfg("A = 'x'\nA = 'y'\nB = 1\nB = None\n", 'local.cfg')).toEqual({ A: 'y' });
  });

  it('evaluates integer products such as Baricadr\'s 365 * 24 * 3600', () => {
    expect(parseLocalCfg('CLEANUP_AGE = 365 * 24 * 3600', 'local.cfg')).toEqual({ CLEANUP_AGE: 31536000 });
  });

  it('keeps list and dict literals as their text, including multi-line ones with comments', () => {
    const text = [
      "CELERY_ACCEPT_CONTENT = ['json', ]",
      'SQLALCHEMY_ENGINE_OPTIONS = {',
      '    "pool_pre_ping": True,  # a comment with a ] bracket',
      '}',
      "AFTER = 'still parsed'",
    ].join('\n');
    expect(parseLocalCfg(text, 'local.cfg')).toEqual({
      CELERY_ACCEPT_CONTENT: "['json', ]",
      SQLALCHEMY_ENGINE_OPTIONS: '{ "pool_pre_ping": True, }',
      AFTER: 'still parsed',
    });
  });

  it('handles CRLF line endings and a byte-order mark', () => {
    expect(parseLocalCfg("\uFEFFA = 1\r\nB = 'b'\r\n", 'local.cfg')).toEqual({ A: 1, B: 'b' });
  });

  it('parses a realistic Baricadr local.cfg', () => {
    const text = fs.readFileSync(path.join(fixtures, 'baricadr-local.cfg'), 'utf8');
    const values = parseLocalCfg(text, 'baricadr-local.cfg');
    expect(values).toMatchObject({
      MAIL_SENDER: 'baricadr@lab.example.org',
      CLEANUP_INTERVAL: '21600',
      CLEANUP_AGE: 31536000,
      CELERY_ACCEPT_CONTENT: "['json', ]",
      CELERY_DISABLE_RATE_LIMITS: true,
      MAIL_PORT: 1025,
      BARICADR_VERSION: '1.0.0',
    });
  });

  it('names the file and line of a statement it cannot read', () => {
    const err = parseError("A = 1\n\nimport os\n");
    expect(err.message).toBe('local.cfg: line 3: expected KEY = value');
    expect(err.line).toBe(3);
  });

  it('names the key, not the value, of an unsupported value', () => {
    const err = parseError("MAIL_PASSWORD = os.getenv('hunter2')\n");
    expect(err.message).toMatch(/^local\.cfg: line 1: key "MAIL_PASSWORD" has an unsupported value \(allowed: .*quoted string/);
    expect(err.message).not.toContain('hunter2');
  });

  it('reports an unterminated string without showing it', () => {
    const err = parseError("\nMAIL_PASSWORD = 'hunter2\n");
    expect(err.message).toBe('local.cfg: line 2: unterminated string (strings must open and close on the same line)');
  });

  it('reports a bracket that is never closed, and a stray closing one', () => {
    expect(parseError("X = ['json',\n 'yaml'\n").message).toBe(
      'local.cfg: line 1: key "X": bracket opened here is never closed',
    );
    expect(parseError('X = 1)\n').message).toBe('local.cfg: line 1: closing bracket without an opening one');
  });

  it('rejects a missing value, comparisons and trailing junk', () => {
    expect(parseError('X =\n').message).toContain('key "X" has no value');
    expect(parseError('X == 1\n').message).toBe('local.cfg: line 1: expected KEY = value');
    expect(parseError("X = 'a' 'b'\n").message).toContain('key "X" has an unsupported value');
  });

  it('keeps a __proto__ key as data', () => {
    const values = parseLocalCfg("__proto__ = 'x'\n", 'local.cfg');
    expect(Object.getPrototypeOf(values)).toBe(Object.prototype);
    expect(Object.keys(values)).toEqual(['__proto__']);
  });
});
