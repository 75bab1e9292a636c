/**
 * Starting and stopping the server commands as users run them (the built bin): a port in
 * use, a second `up` on one data directory, `--port`, Redis unreachable at start-up, and a
 * shutdown that Redis going away must not hold up (issue 15, bugs 1 and 5).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { freePort } from '../harness/ports.js';
import { startRedis, type RedisServer } from '../harness/redis.js';
import { makeRemote, tempDir } from '../helpers/remotes.js';
import { exited, GLACIS_BIN as BIN, runGlacis, until } from '../helpers/worker-process.js';

const running: ChildProcess[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const child of running.splice(0)) child.kill('SIGKILL');
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

function run(args: string[], env: NodeJS.ProcessEnv, cwd: string) {
  return runGlacis(args, env, cwd, running);
}

/** A directory with a repos file (one `local` repo) and a local.cfg naming it. */
async function setup(label: string, cfg = ''): Promise<string> {
  const dir = tempDir(label);
  const remote = await makeRemote('local');
  mkdirSync(path.join(dir, 'repo'));
  writeFileSync(path.join(dir, 'repos.yaml'), stringify({ './repo': remote.settings }));
  writeFileSync(path.join(dir, 'local.cfg'), `REPOS_CONF = './repos.yaml'\nRUN_MODE = 'test'\n${cfg}`);
  return dir;
}

async function occupy(port: number): Promise<void> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
}

const serving = async (port: number): Promise<boolean> => (await fetch(`http://127.0.0.1:${port}/version`).catch(() => undefined))?.ok === true;

it.each(['serve', 'up'])('glacis %s on a port already in use: one line naming the port, exit 2', async (command) => {
  const redis = await startRedis();
  cleanups.push(() => redis.stop());
  const port = await freePort();
  await occupy(port);
  const dir = await setup(`port-${command}`, `PORT = ${port}\n`);
  const { child, stderr } = run([command], command === 'serve' ? { REDIS_URL: redis.url } : {}, dir);
  const { code } = await exited(child);
  expect(code, stderr()).toBe(2);
  expect(stderr()).toContain(`glacis: port ${port} is already in use`);
  expect(stderr()).not.toMatch(/Glacis is up|listening on/);
  expect(stderr()).not.toMatch(/\n\s+at /);
}, 60_000);

it('glacis up --port listens there, and a second up on the same data directory is refused', async () => {
  const dir = await setup('up-twice');
  const port = await freePort();
  const first = run(['up', '--port', String(port)], {}, dir);
  await until(() => serving(port), 30_000, () => `glacis up did not start: ${first.stderr()}`);

  const second = run(['up', '--port', String(await freePort())], {}, dir);
  const { code } = await exited(second.child);
  expect(code, second.stderr()).toBe(2);
  expect(second.stderr()).toMatch(new RegExp(`another glacis up \\(pid ${first.child.pid}\\) is running on .*data`));
  expect(second.stderr()).not.toMatch(/started redis-server/);
  expect(await serving(port)).toBe(true);

  first.child.kill('SIGTERM');
  expect((await exited(first.child)).code).toBe(0);
  // Its lock went with it: the next up starts.
  const third = run(['up', '--port', String(port)], {}, dir);
  await until(() => serving(port), 30_000, () => `glacis up did not start again: ${third.stderr()}`);
}, 90_000);

it('a lock left by a process that died does not block the next up', async () => {
  const dir = await setup('up-stale');
  mkdirSync(path.join(dir, 'data'), { recursive: true });
  // A pid that is not running: the one of a child that has exited.
  const dead = spawn(process.execPath, ['-e', '0']);
  await exited(dead);
  writeFileSync(path.join(dir, 'data', 'glacis-up.pid'), `${dead.pid}\n`);
  const port = await freePort();
  const { stderr } = run(['up', '--port', String(port)], {}, dir);
  await until(() => serving(port), 30_000, () => `glacis up did not start: ${stderr()}`);
}, 60_000);

it.each([['0'], ['70000'], ['x']])('--port %s is a usage error in one line', async (value) => {
  const dir = await setup('port-bad');
  const { child, stderr } = run(['serve', '--port', value], { REDIS_URL: 'redis://127.0.0.1:1' }, dir);
  expect((await exited(child)).code).toBe(2);
  expect(stderr().trim().split('\n')).toEqual([expect.stringMatching(/--port.*1 to 65535/)]);
});

it('a worker whose Redis is unreachable at start-up says so once, with what to check, and exits 3 after REDIS_STARTUP_TIMEOUT', async () => {
  const dir = await setup('worker-noredis');
  const closed = await freePort();
  const { child, stderr } = run(['worker'], { REDIS_URL: `redis://:hunter2hunter2@127.0.0.1:${closed}`, REDIS_STARTUP_TIMEOUT: '4' }, dir);
  const { code } = await exited(child);
  expect(code, stderr()).toBe(3);
  expect(stderr()).toContain(`glacis: cannot reach Redis at redis://127.0.0.1:${closed} after 4 s (REDIS_STARTUP_TIMEOUT): is redis-server running there, and is REDIS_URL right?`);
  expect(stderr()).not.toMatch(/503/);
  expect(stderr()).not.toContain('hunter2');
  expect(stderr().match(/ECONNREFUSED/g) ?? []).toHaveLength(0);
  expect(stderr()).not.toMatch(/\n\s+at /);
}, 60_000);

it('a worker told to stop after Redis went away exits within its grace period plus a few seconds, saying what it abandons', async () => {
  const redis: RedisServer = await startRedis();
  let redisStopped = false;
  cleanups.push(async () => {
    if (!redisStopped) await redis.stop();
  });
  const dir = await setup('worker-lostredis');
  const grace = 2;
  const { child, stderr } = run(['worker'], { REDIS_URL: redis.url, WORKER_SHUTDOWN_GRACE: String(grace) }, dir);
  await until(() => /Glacis worker started/.test(stderr()), 30_000, () => `the worker did not start: ${stderr()}`);
  await redis.stop();
  redisStopped = true;
  await until(() => /lost Redis/.test(stderr()), 30_000, () => `the worker did not notice: ${stderr()}`);
  child.kill('SIGTERM');
  // The bound under test, with room for a loaded machine: BullMQ's close() alone never returned.
  await until(() => child.exitCode !== null || child.signalCode !== null, (grace + 5 + 10) * 1000, () => `the worker is still running after SIGTERM: ${stderr()}`);
  expect(child.exitCode).toBe(1);
  expect(stderr()).toMatch(/shutdown did not finish within 7 s .*exiting/);
  expect(stderr().match(/lost Redis/g)).toHaveLength(1);
  expect(stderr()).not.toMatch(/503/);
}, 90_000);

it('glacis serve in production logs readable lines on a terminal and JSON lines into a pipe', async () => {
  const redis = await startRedis();
  cleanups.push(() => redis.stop());
  const dir = await setup('log-tty');
  writeFileSync(path.join(dir, 'local.cfg'), `REPOS_CONF = './repos.yaml'\nRUN_MODE = 'prod'\n`);
  const port = await freePort();
  const env = { REDIS_URL: redis.url };
  // On a pseudo-terminal (util-linux `script`), as in the demo.
  const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const onTty = spawn('script', ['-qefc', [process.execPath, BIN, 'serve', '--port', String(port)].map(shellQuote).join(' '), '/dev/null'], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, SHELL: '/bin/sh', TERM: 'xterm', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  running.push(onTty);
  let ttyOutput = '';
  onTty.stdout.on('data', (d: Buffer) => (ttyOutput += d.toString()));
  await until(() => /listening on/.test(ttyOutput), 30_000, () => `no start-up line: ${ttyOutput}`);
  expect(ttyOutput).toMatch(/Z INFO Glacis API listening on http:\/\/127\.0\.0\.1:\d+/);
  expect(ttyOutput).not.toMatch(/\{"level"/);
  onTty.kill('SIGKILL');

  const piped = run(['serve', '--port', String(await freePort())], env, dir);
  await until(() => /listening on/.test(piped.stderr()), 30_000, () => `no start-up line: ${piped.stderr()}`);
  expect(piped.stderr()).toMatch(/^\{"level":"info".*"msg":"Glacis API listening on/m);
}, 60_000);
