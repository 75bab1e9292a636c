import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ConfigError } from '../../src/config/errors.js';
import { loadRepos, parseRepos } from '../../src/config/repos.js';
import type { Repo } from '../../src/config/types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, 'fixtures');
const repoRoot = path.resolve(here, '..', '..');

/** realpath'd, because the OS temp dir may itself be a symlink (macOS). */
let dir: string;

beforeEach(() => {
  dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'glacis-repos-')));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function mkdirs(...names: string[]): void {
  for (const name of names) fs.mkdirSync(path.join(dir, name), { recursive: true });
}

function parse(text: string): Repo[] {
  return parseRepos(text, 'repos.yaml', dir);
}

function parseError(text: string): ConfigError {
  try {
    parse(text);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

/** One repo named `lab` (an existing directory) with the given settings lines. */
function lab(...lines: string[]): string {
  mkdirs('lab');
  return `lab:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
}

const SFTP = ['backend: sftp', 'url: "backup:lab"', 'user: glacis', 'password: "hunter2"'];
const S3 = ['backend: s3', 'provider: Ceph', 'path: bucket/lab'];
const LOCAL = ['backend: local', 'path: cold'];

describe('parseRepos: valid files', () => {
  it("reads Baricadr's sample repos file", () => {
    const template = fs.readFileSync(path.join(fixtures, 'baricadr-sample-repos.yml'), 'utf8');
    const text = template.replaceAll('/repos/', `${dir}/repos/`);
    const keys = [...text.matchAll(/^(\S.*):$/gm)].map((m) => m[1] ?? '');
    for (const key of keys) fs.mkdirSync(key, { recursive: true });

    const repos = parse(text);

    expect(repos.map((r) => r.name)).toEqual(keys);
    expect(repos.map((r) => r.localPath)).toEqual(keys.map((k) => k.replace(/\/$/, '')));
    expect(repos[0]?.remote).toEqual({
      backend: 'sftp', host: 'sftp', path: '/prefix/on/remote/host', user: 'foo', password: 'pass',
    });
    expect(repos[1]).toMatchObject({
      remote: { backend: 'sftp', host: 'sftp', path: 'test-repo' },
      freezable: true,
      chownUid: 9876,
      chownGid: 9786,
    });
    expect(repos[2]).toMatchObject({ freezable: true, autoFreeze: false, autoFreezeInterval: 14 });
    expect(repos[3]?.freezable).toBe(false);
    expect(repos[4]?.exclude).toEqual(['*xml', '*tsv']);
    expect(repos[5]?.freezeAge).toBe(10);
    expect(repos[6]?.remote).toEqual({
      backend: 's3',
      provider: 'Ceph',
      endpoint: 'http://minio:9000/',
      path: 'remote-test-repo/test-repo',
      accessKeyId: 'admin',
      secretAccessKey: 'password',
    });
  });

  it('fills the documented defaults', () => {
    mkdirs('cold');
    const [repo] = parse(lab(...LOCAL));
    expect(repo).toEqual({
      localPath: path.join(dir, 'lab'),
      name: 'lab',
      remote: { backend: 'local', path: path.join(dir, 'cold') },
      exclude: [],
      freezable: false,
      freezeAge: 180,
      autoFreeze: false,
      autoFreezeInterval: 7,
      disableAtimeTest: false,
      verify: 'size',
    });
  });

  it('reads every optional key', () => {
    const [repo] = parse(
      lab(
        ...SFTP, 'port: 2222', 'key_file: keys/id_ed25519', 'known_hosts_file: keys/known_hosts', 'exclude: ["*.tmp", " *.{bam,bai} ", ""]',
        'freezable: "True"', 'freeze_age: "30"', 'auto_freeze: yes', 'auto_freeze_interval: 10000',
        'auto_freeze_cron: " 0  3 * * 0 "', 'chown_uid: 0', 'chown_gid: 65535', 'disable_atime_test: true',
        'verify: hash', 'report_cron: "0 6 * * 1"',
      ),
    );
    expect(repo).toMatchObject({
      remote: { port: 2222, keyFile: path.join(dir, 'keys/id_ed25519'), knownHostsFile: path.join(dir, 'keys/known_hosts'), password: 'hunter2' },
      exclude: ['*.tmp', '*.{bam,bai}'],
      freezable: true,
      freezeAge: 30,
      autoFreeze: true,
      autoFreezeInterval: 10000,
      autoFreezeCron: '0 3 * * 0',
      chownUid: 0,
      chownGid: 65535,
      disableAtimeTest: true,
      verify: 'hash',
      reportCron: '0 6 * * 1',
    });
  });

  it('splits the sftp url at the first colon; the prefix may be empty or absolute', () => {
    mkdirs('a', 'b');
    const repos = parse(
      [
        'a: { backend: sftp, url: "host:", user: u, key_file: ~/.ssh/id_rsa }',
        'b: { backend: sftp, url: "host:/abs/dir:with:colons", user: u, password: p }',
      ].join('\n'),
    );
    expect(repos.map((r) => r.remote)).toEqual([
      { backend: 'sftp', host: 'host', path: '', user: 'u', keyFile: '~/.ssh/id_rsa' },
      { backend: 'sftp', host: 'host', path: '/abs/dir:with:colons', user: 'u', password: 'p' },
    ]);
  });

  it('reads a generic rclone remote, stringifying option values', () => {
    const [repo] = parse(
      lab('backend: rclone', 'type: webdav', 'options:', '  url: https://dav.example.org/', '  pacer_min_sleep: 10', '  no_check_certificate: true'),
    );
    expect(repo?.remote).toEqual({
      backend: 'rclone',
      type: 'webdav',
      path: '',
      options: { url: 'https://dav.example.org/', pacer_min_sleep: '10', no_check_certificate: 'true' },
    });
  });

  it('accepts S3 keys with region and no credentials (rclone environment auth)', () => {
    const [repo] = parse(lab(...S3, 'region: eu-west-1', 'endpoint: https://s3.example.org'));
    expect(repo?.remote).toEqual({
      backend: 's3', provider: 'Ceph', path: 'bucket/lab', region: 'eu-west-1', endpoint: 'https://s3.example.org',
    });
  });

  it('allows zero repos, keeps file order and reads YAML merge keys', () => {
    expect(parse('{}\n')).toEqual([]);
    mkdirs('zeta', '2024', 'alpha');
    const text = [
      'zeta: &common',
      '  backend: sftp',
      '  url: "h:p"',
      '  user: u',
      '  password: p',
      '  freezable: true',
      '2024:',
      '  <<: *common',
      '  freeze_age: 30',
      'alpha:',
      '  <<: *common',
    ].join('\n');
    const repos = parse(text);
    expect(repos.map((r) => r.name)).toEqual(['zeta', '2024', 'alpha']);
    expect(repos[1]).toMatchObject({ freezable: true, freezeAge: 30, remote: { host: 'h' } });
  });

  it('resolves relative repo paths and local remotes against the directory of the YAML file', () => {
    mkdirs('conf/hot', 'cold');
    const file = path.join(dir, 'conf', 'repos.yaml');
    fs.writeFileSync(file, 'hot/:\n  backend: local\n  path: ../cold/\n');
    const [repo] = loadRepos(file);
    expect(repo?.localPath).toBe(path.join(dir, 'conf', 'hot'));
    expect(repo?.remote).toEqual({ backend: 'local', path: path.join(dir, 'cold') });
    expect(repo?.name).toBe('hot/');
  });

  it('stores the realpath of a repo reached through a symlink', () => {
    mkdirs('real/lab');
    fs.symlinkSync(path.join(dir, 'real'), path.join(dir, 'link'));
    const [repo] = parse(`link/lab:\n  ${SFTP.join('\n  ')}\n`);
    expect(repo?.localPath).toBe(path.join(dir, 'real', 'lab'));
  });
});

describe('parseRepos: nesting', () => {
  it('rejects a repo inside another, in either order', () => {
    mkdirs('a/b');
    const a = `a:\n  ${SFTP.join('\n  ')}\n`;
    const b = `a/b:\n  ${SFTP.join('\n  ')}\n`;
    expect(parseError(a + b).message).toBe(
      `repos.yaml: repo path "a/b" is inside repo "a" (after realpath: "${dir}/a/b" is inside "${dir}/a"); repos may not nest or repeat`,
    );
    expect(parseError(b + a).message).toBe(
      `repos.yaml: repo path "a/b" is inside repo "a" (after realpath: "${dir}/a/b" is inside "${dir}/a"); repos may not nest or repeat`,
    );
  });

  it('rejects the same directory written twice', () => {
    mkdirs('a');
    const err = parseError(`a:\n  ${SFTP.join('\n  ')}\n./a/:\n  ${SFTP.join('\n  ')}\n`);
    expect(err.message).toBe(
      `repos.yaml: repo path "./a/" is the same directory as repo "a" (after realpath: "${dir}/a"); repos may not nest or repeat`,
    );
  });

  it('rejects a repo that is a symlink into another repo', () => {
    mkdirs('a/inner');
    fs.symlinkSync(path.join(dir, 'a', 'inner'), path.join(dir, 'sneaky'));
    const err = parseError(`a:\n  ${SFTP.join('\n  ')}\nsneaky:\n  ${SFTP.join('\n  ')}\n`);
    expect(err.message).toBe(
      `repos.yaml: repo path "sneaky" is inside repo "a" (after realpath: "${dir}/a/inner" is inside "${dir}/a"); repos may not nest or repeat`,
    );
  });

  it('compares segment by segment: ab and abc may both be repos', () => {
    mkdirs('ab', 'abc');
    const repos = parse(`ab:\n  ${SFTP.join('\n  ')}\nabc:\n  ${SFTP.join('\n  ')}\n`);
    expect(repos.map((r) => r.localPath)).toEqual([path.join(dir, 'ab'), path.join(dir, 'abc')]);
  });

  it('rejects a local remote that overlaps a repo', () => {
    mkdirs('lab/cold');
    const err = parseError(lab('backend: local', 'path: lab/cold'));
    expect(err.message).toBe(
      `repos.yaml: repo "lab": key "path" (backend local) "${dir}/lab/cold" overlaps repo "lab" ("${dir}/lab"); a remote may not be inside a repo or contain one`,
    );
  });
});

describe('parseRepos: errors name the file, the repo, the key and what is allowed', () => {
  const cases: Array<[string, string[], string]> = [
    ['missing backend', ['freezable: true'], 'missing key "backend" (required; one of sftp, s3, local, rclone)'],
    ['unknown backend', ['backend: ftp'], 'key "backend" must be one of sftp, s3, local, rclone (got "ftp")'],
    [
      'unknown key',
      [...SFTP, 'fooo: 1'],
      'unknown key "fooo" for backend sftp (allowed: backend, url, user, password, port, key_file, known_hosts_file, exclude, freezable, freeze_age, auto_freeze, auto_freeze_interval, auto_freeze_cron, auto_freeze_mail, chown_uid, chown_gid, disable_atime_test, verify, report_cron, high_watermark, low_watermark, watermark_min_age, max_files_per_run, max_bytes_per_run, pushable, auto_push, auto_push_interval, auto_push_cron, push_keep_versions_days, push_shrink_limit, push_change_limit)',
    ],
    ['key of another backend', [...S3, 'url: "h:p"'], 'unknown key "url" for backend s3 (allowed: backend, provider, endpoint, path,'],
    ['missing url', ['backend: sftp', 'user: u', 'password: p'], 'missing key "url" (required for backend sftp)'],
    ['url without colon', ['backend: sftp', 'url: backup', 'user: u', 'password: p'], 'key "url" must be "host:path": a host, a colon, then the remote path (which may be empty)'],
    ['url without host', ['backend: sftp', 'url: ":lab"', 'user: u', 'password: p'], 'key "url" must be "host:path"'],
    ['missing user', ['backend: sftp', 'url: "h:p"', 'password: p'], 'missing key "user" (required for backend sftp)'],
    ['no password nor key_file', ['backend: sftp', 'url: "h:p"', 'user: u'], 'missing key "password" (backend sftp needs "password" or "key_file")'],
    ['empty password', ['backend: sftp', 'url: "h:p"', 'user: u', 'password: ""'], 'key "password" must be a non-empty string (or leave the key out)'],
    ['port out of range', [...SFTP, 'port: 0'], 'key "port" must be a whole number from 1 to 65535 (got 0)'],
    ['freeze_age too small', [...SFTP, 'freeze_age: 1'], 'key "freeze_age" must be a whole number of days from 2 to 10000 (got 1)'],
    ['freeze_age not a number', [...SFTP, 'freeze_age: "ten"'], 'key "freeze_age" must be a whole number of days from 2 to 10000 (got "ten")'],
    ['freeze_age fractional', [...SFTP, 'freeze_age: 2.5'], 'key "freeze_age" must be a whole number of days from 2 to 10000 (got 2.5)'],
    ['auto_freeze_interval too large', [...SFTP, 'auto_freeze_interval: 10001'], 'key "auto_freeze_interval" must be a whole number of days from 2 to 10000 (got 10001)'],
    ['chown_uid negative', [...SFTP, 'chown_uid: -1'], 'key "chown_uid" must be a whole number from 0 to 65535 (got -1)'],
    ['chown_gid too large', [...SFTP, 'chown_gid: 65536'], 'key "chown_gid" must be a whole number from 0 to 65535 (got 65536)'],
    ['bad boolean', [...SFTP, 'freezable: maybe'], 'key "freezable" must be true or false (got "maybe")'],
    ['bad verify', [...SFTP, 'verify: md5'], 'key "verify" must be one of size, hash (got "md5")'],
    ['bad auto_freeze_mail', [...SFTP, 'auto_freeze_mail: sometimes'], 'key "auto_freeze_mail" must be one of always, changes, never (got "sometimes")'],
    ['bad cron', [...SFTP, 'auto_freeze_cron: "0 3 *"'], 'key "auto_freeze_cron" must be a cron expression of 5 or 6 space-separated fields (got "0 3 *")'],
    // Issue 15: these passed start-up and the scheduler failed later, naming neither repo nor key.
    ['cron minute out of range', [...SFTP, 'auto_freeze_cron: "61 * * * *"'], 'key "auto_freeze_cron" must be a cron expression of 5 or 6 space-separated fields, each within its range: minute 0-59, hour 0-23, day of month 1-31, month 1-12, day of week 0-7 (a 6th field, first, is seconds 0-59) (got "61 * * * *": got value 61 expected range 0-59)'],
    ['report_cron out of range', [...SFTP, 'report_cron: "61 * * * *"'], 'key "report_cron" must be a cron expression of 5 or 6 space-separated fields, each within its range: minute 0-59'],
    ['cron hour out of range', [...SFTP, 'auto_freeze_cron: "0 25 * * *"'], 'key "auto_freeze_cron" must be a cron expression of 5 or 6 space-separated fields, each within its range'],
    ['cron month out of range', [...SFTP, 'auto_freeze_cron: "0 3 1 13 *"'], 'key "auto_freeze_cron" must be a cron expression of 5 or 6 space-separated fields, each within its range'],
    ['cron of words', [...SFTP, 'auto_freeze_cron: "every day at three am"'], 'key "auto_freeze_cron" must be a cron expression of 5 or 6 space-separated fields, each within its range'],
    // Issue 18: push keys.
    ['bad pushable', [...SFTP, 'pushable: sometimes'], 'key "pushable" must be true or false (got "sometimes")'],
    ['auto_push without pushable', [...SFTP, 'auto_push: true'], 'key "auto_push" must be false while the repo is not pushable (set pushable: true to push) (got true)'],
    ['pushable S3 bucket root', ['backend: s3', 'provider: Ceph', 'path: bucket', 'pushable: true'], 'key "pushable" must be false for a remote path without a parent (push keeps old versions beside it, in "<path>.glacis-versions": give path as bucket/prefix) (got true)'],
    ['pushable SFTP login directory', ['backend: sftp', 'url: "backup:"', 'user: u', 'password: p', 'pushable: true'], 'key "pushable" must be false for a remote path without a parent'],
    ['push_shrink_limit above 100', [...SFTP, 'pushable: true', 'push_shrink_limit: 101'], 'key "push_shrink_limit" must be a whole percentage from 1 to 100 (got 101)'],
    ['push_change_limit zero', [...SFTP, 'pushable: true', 'push_change_limit: 0'], 'key "push_change_limit" must be a whole percentage from 1 to 100 (got 0)'],
    ['push_keep_versions_days zero', [...SFTP, 'pushable: true', 'push_keep_versions_days: 0'], 'key "push_keep_versions_days" must be a whole number of days from 1 to 10000 (got 0)'],
    ['auto_push_interval too large', [...SFTP, 'pushable: true', 'auto_push: true', 'auto_push_interval: 9000'], 'key "auto_push_interval" must be a whole number of hours from 1 to 8760 (got 9000)'],
    ['bad auto_push_cron', [...SFTP, 'pushable: true', 'auto_push: true', 'auto_push_cron: "0 25 * * *"'], 'key "auto_push_cron" must be a cron expression of 5 or 6 space-separated fields, each within its range'],
    ['bad exclude', [...SFTP, 'exclude: ["*.tmp", 3]'], 'key "exclude" must be a comma-separated string or a list of strings (got a list item that is a number)'],
    ['exclude map', [...SFTP, 'exclude: { a: b }'], 'key "exclude" must be a comma-separated string or a list of strings (got a map)'],
    ['missing provider', ['backend: s3', 'path: b/p'], 'missing key "provider" (required for backend s3, e.g. AWS, Ceph, Minio, Other)'],
    ['missing s3 path', ['backend: s3', 'provider: AWS'], 'missing key "path" (required for backend s3: bucket/prefix)'],
    ['s3 path of slashes', ['backend: s3', 'provider: AWS', 'path: "//"'], 'key "path" must be "bucket" or "bucket/prefix" (got "//")'],
    ['half a key pair', [...S3, 'access_key_id: AKIA'], 'missing key "secret_access_key" (required when "access_key_id" is set)'],
    ['missing local path', ['backend: local'], 'missing key "path" (required for backend local)'],
    ['missing rclone type', ['backend: rclone'], 'missing key "type" (required for backend rclone: an rclone backend name such as webdav)'],
    ['bad rclone type', ['backend: rclone', 'type: Web-DAV'], 'key "type" must be an rclone backend name matching [a-z0-9]+ (got "Web-DAV")'],
    ['rclone options not a map', ['backend: rclone', 'type: webdav', 'options: [a]'], 'key "options" must be a map of rclone option names to values (got a list)'],
    ['bad rclone option name', ['backend: rclone', 'type: webdav', 'options: { Bad-Name: x }'], 'key "options.Bad-Name" must be named like an rclone option, matching [a-z0-9_]+'],
    ['number where a string is needed', ['backend: rclone', 'type: webdav', 'path: 2024'], 'key "path" must be a string (quote it in YAML) (got a number)'],
  ];

  it.each(cases)('%s', (_label, lines, problem) => {
    const err = parseError(lab(...lines));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message.startsWith(`repos.yaml: repo "lab": ${problem}`)).toBe(true);
    expect(err.message).not.toContain('\n');
    expect(err.repo).toBe('lab');
  });

  it('reads the push keys only with pushable: true, with their defaults (issue 18)', () => {
    expect(parse(lab(...SFTP))[0]!.push).toBeUndefined();
    expect(parse(lab(...SFTP, 'pushable: false'))[0]!.push).toBeUndefined();
    expect(parse(lab(...SFTP, 'pushable: true'))[0]!.push).toEqual({
      keepVersionsDays: 30, shrinkLimitPercent: 50, changeLimitPercent: 20, autoPush: false, autoPushIntervalHours: 24,
    });
    expect(parse(lab(...S3, 'pushable: True', 'auto_push: yes', 'auto_push_cron: "0 2 * * *"', 'push_keep_versions_days: 7', 'push_shrink_limit: 10', 'push_change_limit: 100'))[0]!.push).toEqual({
      keepVersionsDays: 7, shrinkLimitPercent: 10, changeLimitPercent: 100, autoPush: true, autoPushIntervalHours: 24, autoPushCron: '0 2 * * *',
    });
  });

  it('warns, by repo and key, about push keys that have no effect (issue 18)', () => {
    const warnings: string[] = [];
    parseRepos(lab(...SFTP, 'push_shrink_limit: 10'), 'repos.yaml', dir, (m) => warnings.push(m));
    parseRepos(lab(...SFTP, 'pushable: true', 'auto_push_interval: 3'), 'repos.yaml', dir, (m) => warnings.push(m));
    expect(warnings).toEqual([
      'repos.yaml: repo "lab": key "push_shrink_limit" has no effect without pushable: true',
      'repos.yaml: repo "lab": key "auto_push_interval" has no effect without auto_push: true',
    ]);
  });

  it('warns, by repo and key, about a schedule set without auto_freeze: true', () => {
    const warnings: string[] = [];
    parseRepos(lab(...SFTP, 'auto_freeze_cron: "0 3 * * 0"', 'auto_freeze_interval: 3'), 'repos.yaml', dir, (m) => warnings.push(m));
    expect(warnings).toEqual([
      'repos.yaml: repo "lab": key "auto_freeze_cron" has no effect without auto_freeze: true',
      'repos.yaml: repo "lab": key "auto_freeze_interval" has no effect without auto_freeze: true',
    ]);
    const none: string[] = [];
    parseRepos(lab(...SFTP, 'auto_freeze: true', 'auto_freeze_cron: "0 3 * * 0"'), 'repos.yaml', dir, (m) => none.push(m));
    expect(none).toEqual([]);
  });

  it('never shows secrets in a message', () => {
    const secrets: Array<[string[], string]> = [
      [['backend: sftp', 'url: "h:p"', 'user: u', 'password: 31337'], 'key "password" must be a string (quote it in YAML) (got a number)'],
      [[...S3, 'access_key_id: AKIA', 'secret_access_key: 31337'], 'key "secret_access_key" must be a string (quote it in YAML) (got a number)'],
      [[...S3, 'endpoint: "ftp://AKIA:31337@s3.example.org"'], 'key "endpoint" must be an http:// or https:// URL'],
      [['backend: sftp', 'url: "31337"', 'user: u', 'password: p'], 'key "url" must be "host:path"'],
      [['backend: rclone', 'type: webdav', 'options: { pass: [31337] }'], 'key "options.pass" must be a string, number or boolean (got a list)'],
      [['backend: rclone', 'type: webdav', 'options: { pass: "31337" }', 'fooo: 31337'], 'unknown key "fooo"'],
    ];
    for (const [lines, problem] of secrets) {
      const message = parseError(lab(...lines)).message;
      expect(message).toContain(problem);
      expect(message).not.toContain('31337');
    }
  });

  it('never shows a secret from a YAML syntax error', () => {
    const err = parseError('lab:\n  backend: sftp\n  password: "31337\n');
    expect(err.message).toMatch(/^repos\.yaml: line \d+, column \d+: invalid YAML: /);
    expect(err.message).not.toContain('31337');
    expect(err.message).not.toContain('\n');
  });

  it('rejects a repo directory that does not exist or is a file', () => {
    const settings = `\n  ${SFTP.join('\n  ')}\n`;
    expect(parseError(`missing:${settings}`).message).toBe(
      `repos.yaml: repo "missing": the repo directory "${dir}/missing" does not exist; it must be an existing directory`,
    );
    fs.writeFileSync(path.join(dir, 'file'), 'x');
    expect(parseError(`file:${settings}`).message).toBe(
      `repos.yaml: repo "file": the repo directory "${dir}/file" is not a directory; it must be an existing directory`,
    );
  });

  it('rejects a local remote that does not exist', () => {
    expect(parseError(lab('backend: local', 'path: nowhere')).message).toBe(
      `repos.yaml: repo "lab": key "path" "${dir}/nowhere" does not exist; it must be an existing directory`,
    );
  });

  it('rejects an empty file, a non-map top level, a non-map repo and repeated keys', () => {
    expect(parseError('').message).toBe('repos.yaml: the file is empty; expected a map of local path to repo settings');
    expect(parseError('# nothing\n').message).toBe('repos.yaml: the file is empty; expected a map of local path to repo settings');
    expect(parseError('- /data/lab\n').message).toBe(
      'repos.yaml: the top level must be a map of local path to repo settings (got a list)',
    );
    expect(parseError('lab: sftp\n').message).toBe(
      'repos.yaml: repo "lab": settings must be a map of keys such as backend, path (got a string)',
    );
    expect(parseError('lab:\n  backend: sftp\nlab:\n  backend: s3\n').message).toBe(
      'repos.yaml: line 3, column 1: invalid YAML: Map keys must be unique',
    );
  });

  it('names the file as given when the file cannot be read', () => {
    const missing = path.join(dir, 'nope.yaml');
    expect(() => loadRepos(missing)).toThrow(`${missing}: cannot read the repos file (ENOENT)`);
  });
});

describe('repos.example.yaml', () => {
  it('loads, with the demo repo pointing at the demo remote', () => {
    const repos = loadRepos(path.join(repoRoot, 'repos.example.yaml'));
    expect(repos).toEqual([
      {
        localPath: fs.realpathSync(path.join(repoRoot, 'demo', 'local')),
        name: './demo/local',
        remote: { backend: 'local', path: fs.realpathSync(path.join(repoRoot, 'demo', 'remote')) },
        exclude: [],
        freezable: true,
        freezeAge: 180,
        autoFreeze: false,
        autoFreezeInterval: 7,
        disableAtimeTest: false,
        verify: 'size',
      },
    ]);
  });

  it('documents examples that are valid once uncommented', () => {
    const text = fs.readFileSync(path.join(repoRoot, 'repos.example.yaml'), 'utf8');
    // The key reference at the top is indented like YAML too: start at the first example repo.
    const examples = text
      .slice(text.indexOf('# /data/'))
      .split('\n')
      .filter((line) => /^# (\/data\/|  )/.test(line))
      .map((line) => line.slice(2))
      .join('\n')
      .replaceAll('/data/', `${dir}/data/`);
    mkdirs('data/lab1', 'data/lab2', 'data/lab3');
    const repos = parse(examples);
    expect(repos.map((r) => r.remote.backend)).toEqual(['sftp', 's3', 'rclone']);
  });
});
