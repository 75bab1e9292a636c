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

async function check(repos: Record<string, unknown>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const dir = tempDir('check');
  writeFileSync(path.join(dir, 'repos.yaml'), stringify(repos));
  const child = spawn(process.execPath, [BIN, 'check'], { cwd: dir, env: { PATH: process.env.PATH, HOME: dir, REPOS_CONF: path.join(dir, 'repos.yaml') }, stdio: ['ignore', 'pipe', 'pipe'] });
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
