/**
 * The `glacis` bin as users run it: `up` on a fresh setup (its own redis-server),
 * configuration errors as one line and exit code 2.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { freePort } from '../harness/ports.js';
import { makeRemote, tempDir } from '../helpers/remotes.js';
import { exited, runGlacis, until } from '../helpers/worker-process.js';

const running: ChildProcess[] = [];
afterEach(() => {
  for (const child of running.splice(0)) child.kill('SIGKILL');
});

function run(args: string[], env: NodeJS.ProcessEnv, cwd: string) {
  return runGlacis(args, env, cwd, running);
}

it('glacis up starts its own redis-server, serves pulls, and stops cleanly on SIGTERM', async () => {
  const dir = tempDir('up');
  const remote = await makeRemote('local');
  const local = path.join(dir, 'repo');
  mkdirSync(local);
  writeFileSync(path.join(dir, 'repos.yaml'), stringify({ './repo': remote.settings }));
  const port = await freePort();
  writeFileSync(path.join(dir, 'local.cfg'), `# a Baricadr-style file\nREPOS_CONF = './repos.yaml'\nPORT = ${port}\nCELERY_BROKER_URL = 'redis://redis:6379/0'\n`);
  const { child, stderr } = run(['up'], {}, dir);

  const url = `http://127.0.0.1:${port}`;
  await until(async () => (await fetch(`${url}/version`).catch(() => undefined))?.ok === true, 20_000, () => `glacis up did not start: ${stderr()}`);
  expect(stderr()).toMatch(/CELERY_BROKER_URL.*ignored/);
  expect(stderr()).toMatch(/started redis-server at redis:\/\/127\.0\.0\.1:\d+/);

  const response = await fetch(`${url}/pull`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path: path.join(local, 'subdir') }) });
  const { task } = (await response.json()) as { task: string };
  await until(async () => ((await (await fetch(`${url}/tasks/status/${task}`)).json()) as { status: string }).status === 'finished', 20_000, () => stderr());
  expect(readFileSync(path.join(local, 'subdir/subfile.txt'), 'utf8')).toBe('sub file\n');

  const redisPort = Number(/redis:\/\/127\.0\.0\.1:(\d+)/.exec(stderr())![1]);
  child.kill('SIGTERM');
  expect((await exited(child)).code).toBe(0);
  // Its redis-server went with it.
  await expect(fetch(`http://127.0.0.1:${redisPort}`).then(() => 'open', () => 'closed')).resolves.toBe('closed');
}, 60_000);

it.each([
  ['a repos file with a bad value', { 'repos.yaml': stringify({ './repo': { backend: 'local', path: '.', freeze_age: 1 } }) }, /freeze_age.*2 to 10000/],
  ['a local.cfg with a bad port', { 'local.cfg': "PORT = 'many'\n" }, /PORT.*1 to 65535/],
  ['a missing repos file', { 'local.cfg': "REPOS_CONF = './nope.yaml'\n" }, /nope\.yaml/],
])('refuses %s: one line, exit code 2, nothing started', async (_what, files, expected) => {
  const dir = tempDir('badcfg');
  mkdirSync(path.join(dir, 'repo'));
  writeFileSync(path.join(dir, 'local.cfg'), "REPOS_CONF = './repos.yaml'\n");
  writeFileSync(path.join(dir, 'repos.yaml'), stringify({ './repo': { backend: 'local', path: '.' } }));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  const { child, stderr } = run(['serve'], { REDIS_URL: 'redis://127.0.0.1:1' }, dir);
  const { code } = await exited(child);
  expect(code).toBe(2);
  const lines = stderr().trim().split('\n').filter((l) => !l.startsWith('warning:'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^glacis: configuration error: /);
  expect(lines[0]).toMatch(expected);
  expect(stderr()).not.toMatch(/\n\s+at /);
});
