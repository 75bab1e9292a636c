/**
 * The MAIL_* settings: Baricadr's values load, the environment overrides them, and a bad
 * value stops start-up with one line naming the key (never quoting a password).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { loadSettings } from '../../src/config/settings.js';
import { tempDir } from '../helpers/remotes.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'config', 'fixtures');

function load(env: NodeJS.ProcessEnv, cfg?: string) {
  const dir = tempDir('mail-settings');
  let configPath: string | undefined;
  if (cfg !== undefined) {
    configPath = path.join(dir, 'local.cfg');
    fs.writeFileSync(configPath, cfg);
  }
  const warnings: string[] = [];
  const settings = loadSettings({ env: { PATH: '', ...env }, cwd: dir, warn: (m) => warnings.push(m), ...(configPath ? { configPath } : {}) });
  return { settings, warnings };
}

function errorOf(env: NodeJS.ProcessEnv, cfg?: string): string {
  try {
    load(env, cfg);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('MAIL_* settings', () => {
  it("reads Baricadr's local.cfg mail keys", () => {
    const warnings: string[] = [];
    const settings = loadSettings({ configPath: path.join(fixtures, 'baricadr-local.cfg'), env: { PATH: '' }, warn: (m) => warnings.push(m) });
    expect(settings.mail).toMatchObject({
      server: 'mailhog',
      port: 1025,
      useSsl: false,
      useTls: false,
      sender: { address: 'baricadr@lab.example.org' },
      admins: ['admin@lab.example.org', 'ops@lab.example.org'],
      suppressSend: false,
    });
    expect(warnings.filter((w) => w.includes('MAIL_'))).toEqual([]);
  });

  it('takes every key from the file, overridden by the environment, booleans and numbers as strings', () => {
    const cfg = [
      "MAIL_SERVER = 'smtp.lab.example.org'",
      'MAIL_PORT = 465',
      'MAIL_USE_SSL = True',
      "MAIL_USERNAME = 'glacis'",
      "MAIL_PASSWORD = 'from-the-file'",
      "MAIL_SENDER = 'Glacis Lab <glacis@lab.example.org>'",
      "MAIL_ADMIN = ' a@lab.example.org , b@lab.example.org,a@lab.example.org '",
      'MAIL_RETRY_DELAY = 5',
    ].join('\n');
    const { settings } = load({ MAIL_PORT: '587', MAIL_USE_SSL: 'false', MAIL_USE_TLS: 'True', MAIL_PASSWORD: 'from-env', MAIL_SUPPRESS_SEND: '1' }, cfg);
    expect(settings.mail).toEqual({
      server: 'smtp.lab.example.org',
      port: 587,
      useSsl: false,
      useTls: true,
      username: 'glacis',
      password: 'from-env',
      sender: { name: 'Glacis Lab', address: 'glacis@lab.example.org' },
      admins: ['a@lab.example.org', 'b@lab.example.org'],
      suppressSend: true,
      retryDelayMs: 5000,
    });
  });

  it.each([
    [{ MAIL_PORT: '0' }, 'environment: key "MAIL_PORT" must be a whole number from 1 to 65535 (got "0")'],
    [{ MAIL_PORT: 'smtp' }, 'environment: key "MAIL_PORT" must be a whole number from 1 to 65535 (got "smtp")'],
    [{ MAIL_USE_TLS: 'maybe' }, 'environment: key "MAIL_USE_TLS" must be True or False (got "maybe")'],
    [{ MAIL_ADMIN: 'ops@lab.example.org,not-an-address' }, 'environment: key "MAIL_ADMIN" must be comma-separated mail addresses (got "not-an-address")'],
    [{ MAIL_SENDER: 'Glacis <glacis@lab>' }, 'environment: key "MAIL_SENDER" must be a mail address, or "Name <address>" (got "Glacis <glacis@lab>")'],
    [{ MAIL_SERVER: 'smtp.example.org\r\nRCPT TO' }, 'environment: key "MAIL_SERVER" must be a host name or IP address'],
    [{ MAIL_RETRY_DELAY: '0' }, 'environment: key "MAIL_RETRY_DELAY" must be a whole number of seconds from 1 to 86400 (got "0")'],
  ])('%j → one line naming the key', (env, message) => {
    expect(errorOf(env)).toBe(message);
  });

  it('a bad MAIL_PORT in the file names the file and the key', () => {
    const message = errorOf({}, "MAIL_PORT = '25a'\n");
    expect(message).toMatch(/^\/.*local\.cfg: key "MAIL_PORT" must be a whole number from 1 to 65535 \(got "25a"\)$/);
  });

  it('never quotes a user name with a line break, nor the password', () => {
    const message = errorOf({ MAIL_USERNAME: 'glacis\r\nAUTH', MAIL_PASSWORD: 'pw-in-env' });
    expect(message).toBe('environment: key "MAIL_USERNAME" must be a string without control characters or line breaks');
    const unquoted = errorOf({}, 'MAIL_PASSWORD = 12345\n');
    expect(unquoted).toMatch(/key "MAIL_PASSWORD" must be a quoted string \(got a number\)$/);
    expect(unquoted).not.toContain('12345');
  });
});
