/**
 * `glacis check` as an administrator runs it on the server (the bin, in its own process,
 * reading REPOS_CONF): each repository described without a secret, and tested against real
 * remotes, a real SFTP server refusing a wrong password included. It runs the compiled code
 * in dist/ (`npm run build`).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { stringify } from 'yaml';
import { sharedServices } from '../harness/services.js';
import { startGlacis } from '../helpers/glacis.js';
import { makeRemote, tempDir } from '../helpers/remotes.js';
import { exited } from '../helpers/worker-process.js';

const BIN = path.resolve('bin/glacis.js');

async function check(repos: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dir = tempDir('check');
  writeFileSync(path.join(dir, 'repos.yaml'), stringify(repos));
  const child = spawn(process.execPath, [BIN, 'check'], { cwd: dir, env: { PATH: process.env.PATH, HOME: dir, REPOS_CONF: path.join(dir, 'repos.yaml'), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const { code } = await exited(child);
  return { code, stdout, stderr };
}

it('lists each repository and tests it: all good → exit 0', async () => {
  const remote = await makeRemote('local');
  const sftp = await makeRemote('sftp');
  const a = tempDir('check-a');
  const b = tempDir('check-b');
  const result = await check({
    [a]: { ...remote.settings, freezable: true, freeze_age: 30, auto_freeze: true, auto_freeze_interval: 3 },
    [b]: sftp.settings,
  });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const { sftp: server } = sharedServices();
  expect(result.stdout).toMatch(new RegExp([
    `^${a}: local ${remote.settings.path}; freezable \\(freeze_age 30 days\\); auto-freeze every 3 days`,
    '  ok    local: directory present, readable and writable',
    '  ok    remote: reachable, credentials accepted, path present; listed its top level \\(5 entries\\) in \\d+\\.\\d s',
    '  ok    atime: reading a file updates its access time \\(freeze can tell cold files\\)',
    `${b}: sftp ${server.user}@${server.host}:${server.port}:remote-[0-9a-f-]+; not freezable; no auto-freeze`,
    '  ok    local: directory present, readable and writable',
    '  ok    remote: reachable, credentials accepted, path present; listed its top level \\(5 entries\\) in \\d+\\.\\d s',
    '2 repositories checked: no problem',
    '',
  ].join('\n')));
  for (const secret of sftp.secrets) expect(result.stdout).not.toContain(secret);
}, 120_000);

it('a wrong SFTP password is named with the repo and the key to fix; a path missing on the remote too; exit 1, no secret shown', async () => {
  const sftp = await makeRemote('sftp');
  const good = await makeRemote('local');
  const wrongPassword = 'not-the-password-at-all';
  const refused = tempDir('check-refused');
  const missing = tempDir('check-missing');
  const fine = tempDir('check-fine');
  const result = await check({
    [refused]: { ...sftp.settings, password: wrongPassword },
    [missing]: { ...sftp.settings, url: `${String(sftp.settings.url).split(':')[0]}:no-such-dir` },
    [fine]: good.settings,
  });
  expect(result.code, result.stderr).toBe(1);
  const lines = result.stdout.split('\n');
  const after = (heading: string): string[] => lines.slice(lines.findIndex((line) => line.startsWith(`${heading}: `)) + 1);
  expect(after(refused)[1]).toMatch(new RegExp(`^ {2}FAIL {2}remote: repo ${refused}: the SFTP server refused the login: check "password" \\(or "key_file"\\) and "user" \\(rclone .+\\)$`));
  expect(after(missing)[1]).toMatch(new RegExp(`^ {2}FAIL {2}remote: sftp .*:no-such-dir does not exist: check "path" of repo ${missing}`));
  expect(after(fine)[1]).toMatch(/^ {2}ok {4}remote: reachable/);
  expect(lines.at(-2)).toBe('3 repositories checked: 2 problems');
  for (const secret of [...sftp.secrets, wrongPassword]) expect(result.stdout + result.stderr).not.toContain(secret);
}, 120_000);

it('a task failing on a wrong SFTP password names the repo and the likely key', async () => {
  const sftp = await makeRemote('sftp');
  const local = tempDir('check-task');
  mkdirSync(path.join(local, 'x'), { recursive: true });
  const glacis = await startGlacis({ repos: { [local]: { ...sftp.settings, password: 'not-the-password-at-all' } } });
  try {
    const { body } = await glacis.post('/pull', { path: path.join(local, 'subdir') });
    const task = await glacis.waitForTask(body.task, 90_000);
    expect(task.status).toBe('failed');
    expect(task.error).toMatch(new RegExp(`^repo ${local}: the SFTP server refused the login: check "password" \\(or "key_file"\\) and "user" \\(rclone `));
    expect(task.error).not.toContain('not-the-password-at-all');
  } finally {
    await glacis.stop();
  }
}, 120_000);

/**
 * `glacis check` validates the configuration by the server's own rules, in the same words: the
 * repos file as `loadRepos` reads it (every key: cron schedules, watermarks, push, limits) and
 * the settings as the server's start-up checks them (src/config/usable.ts). An `RCLONE_EXECUTABLE`
 * that does not exist stopped the server naming the key, while check said each remote "failed"
 * (this test).
 */
it.each([
  ['a report_cron out of range', { report_cron: '61 * * * *' }, /key "report_cron" must be a cron expression of 5 or 6 space-separated fields, each within its range: minute 0-59, .*\(got "61 \* \* \* \*": .*\)$/],
  ['an auto_push_cron that is not one', { pushable: true, auto_push: true, auto_push_cron: 'hourly' }, /key "auto_push_cron" must be a cron expression of 5 or 6 space-separated fields \(got "hourly"\)$/],
  ['a push_shrink_limit over 100', { pushable: true, push_shrink_limit: 150 }, /key "push_shrink_limit" must be a whole percentage from 1 to 100 \(got 150\)$/],
  ['auto_push without pushable', { auto_push: true }, /key "auto_push" must be false while the repo is not pushable \(set pushable: true to push\) \(got true\)$/],
  ['a high_watermark without low_watermark', { freezable: true, high_watermark: 90 }, /key "low_watermark" is required when high_watermark is set \(both or neither\)$/],
  ['a negative max_files_per_run', { max_files_per_run: -1 }, /key "max_files_per_run" must be a whole number of files from 1 to \d+ \(got -1\)$/],
])('%s: one line naming the repos file, the repo, the key and what it allows; exit 2', async (_, keys, message) => {
  const remote = await makeRemote('local');
  const repo = tempDir('check-keys');
  const result = await check({ [repo]: { ...remote.settings, ...keys } });
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  const lines = result.stderr.split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^glacis: configuration error: .*repos\\.yaml: repo "${repo}": `));
  expect(lines[0]).toMatch(message);
}, 60_000);

it('an RCLONE_EXECUTABLE that is not a program: one line naming the key, as the server says it; exit 2', async () => {
  const remote = await makeRemote('local');
  const result = await check({ [tempDir('check-rclone')]: remote.settings }, { RCLONE_EXECUTABLE: '/nonexistent/rclone' });
  expect(result.code).toBe(2);
  expect(result.stdout).toBe('');
  expect(result.stderr).toBe(
    'glacis: configuration error: settings: key "RCLONE_EXECUTABLE" must be the rclone program, executable (default: the first rclone on PATH) (got "/nonexistent/rclone": ENOENT)\n',
  );
}, 60_000);
