/**
 * Several hosts for real: one API and two workers, each its own `glacis` process in its own
 * working directory (its own repos.yaml copy, no shared data directory), sharing nothing but
 * Redis, PostgreSQL and the repository trees. Pulls and freezes run; every task's log is
 * readable through the API, the logs of a worker that has gone included; no host has a
 * database file or a task-log directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { afterEach, expect, it } from 'vitest';
import { createDatabase } from '../harness/postgres.js';
import { freePort, waitForPort } from '../harness/ports.js';
import { sharedServices } from '../harness/services.js';
import { FIXTURE_FILES, makeRemote, tempDir, writeFixture } from '../helpers/remotes.js';
import { exited, until } from '../helpers/worker-process.js';

interface Host {
  readonly name: string;
  readonly dir: string;
  readonly child: ChildProcess;
  /** stdout and stderr so far (the process log: task events name their task id). */
  output: string;
}

const hosts: Host[] = [];
afterEach(async () => {
  await Promise.all(
    hosts.splice(0).map(async (host) => {
      host.child.kill('SIGKILL');
      await exited(host.child);
    }),
  );
});

function startHost(name: string, command: 'serve' | 'worker', repos: Record<string, unknown>, env: NodeJS.ProcessEnv): Host {
  const dir = tempDir(`host-${name}`);
  // Each host its own configuration file, by a relative name: nothing read from a shared place.
  writeFileSync(path.join(dir, 'repos.yaml'), stringify(repos));
  const child = spawn(process.execPath, [path.resolve('bin/glacis.js'), command], {
    cwd: dir,
    env: { PATH: process.env.PATH, HOME: dir, REPOS_CONF: 'repos.yaml', RUN_MODE: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const host: Host = { name, dir, child, output: '' };
  child.stdout!.on('data', (d: Buffer) => (host.output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (host.output += d.toString()));
  hosts.push(host);
  return host;
}

/** Every file and directory below `dir`, relative. */
function entriesBelow(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const rel = path.join(prefix, entry.name);
    return entry.isDirectory() ? [`${rel}/`, ...entriesBelow(path.join(dir, entry.name), rel)] : [rel];
  });
}

it('one API and two workers on separate "hosts" share only Redis, PostgreSQL and the trees', async () => {
  const databaseUrl = await createDatabase(sharedServices().postgresUrl);
  const pullRepo = tempDir('mh-pull');
  const freezeRepo = tempDir('mh-freeze');
  writeFixture(freezeRepo, 'symlink');
  const repos = {
    [pullRepo]: (await makeRemote('local')).settings,
    [freezeRepo]: { ...(await makeRemote('local')).settings, freezable: true },
  };
  const port = await freePort();
  const env = { REDIS_URL: sharedServices().redisUrl, DATABASE_URL: databaseUrl, QUEUE_PREFIX: `mh${randomUUID().slice(0, 8)}`, WORKER_CONCURRENCY: '1', WORKER_LOCK_DURATION: '5', WORKER_SHUTDOWN_GRACE: '10' };
  const api = startHost('api', 'serve', repos, { ...env, PORT: String(port) });
  await waitForPort(port, 60_000).catch((error: unknown) => {
    throw new Error(`${String(error)}\n--- api output ---\n${api.output}`);
  });
  const workers = [startHost('worker-1', 'worker', repos, env), startHost('worker-2', 'worker', repos, env)];
  await until(() => workers.every((w) => w.output.includes('worker started')), 60_000, () => workers.map((w) => `--- ${w.name} ---\n${w.output}`).join('\n'));

  const base = `http://127.0.0.1:${port}`;
  const call = async (method: string, route: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const response = await fetch(base + route, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: response.status, body: await response.json() };
  };
  const submit = async (kind: 'pull' | 'freeze', target: string): Promise<string> => {
    const { status, body } = await call('POST', `/${kind}`, { path: target });
    expect(status, JSON.stringify(body)).toBe(200);
    return body.task as string;
  };
  const waitEnded = async (ids: readonly string[]): Promise<void> => {
    for (const id of ids) {
      await until(
        async () => ['finished', 'failed', 'cancelled'].includes((await call('GET', `/tasks/status/${id}`)).body.status),
        120_000,
        async () => `task ${id} did not end: ${JSON.stringify((await call('GET', `/tasks/status/${id}`)).body)}\n${hosts.map((h) => `--- ${h.name} ---\n${h.output.slice(-3000)}`).join('\n')}`,
      );
      const { body } = await call('GET', `/tasks/status/${id}`);
      expect(body.status, JSON.stringify(body)).toBe('finished');
    }
  };
  const ranOn = (id: string): string[] => workers.filter((w) => w.output.includes(id)).map((w) => w.name);

  // Both workers up: pulls and freezes, taken by whichever worker is free.
  const first = [
    await submit('pull', path.join(pullRepo, 'subdir')),
    await submit('pull', path.join(pullRepo, 'file1.txt')),
    await submit('pull', path.join(pullRepo, 'big')),
    await submit('freeze', path.join(freezeRepo, 'subdir')),
    await submit('freeze', path.join(freezeRepo, 'big')),
  ];
  await waitEnded(first);
  for (const id of first) expect(ranOn(id), `task ${id} ran on exactly one worker`).toHaveLength(1);
  expect(readFileSync(path.join(pullRepo, 'subdir/subfile.txt'), 'utf8')).toBe(FIXTURE_FILES['subdir/subfile.txt']);
  expect(existsSync(path.join(freezeRepo, 'subdir/subfile.txt'))).toBe(false);

  // The worker that ran the first task leaves (its host gone); the other takes the rest, so
  // both have run tasks, and the logs the gone one wrote stay readable.
  const gone = workers.find((w) => w.name === ranOn(first[0]!)[0])!;
  const staying = workers.find((w) => w !== gone)!;
  gone.child.kill('SIGTERM');
  expect((await exited(gone.child)).code).toBe(0);
  const second = [await submit('pull', path.join(pullRepo, 'file2.xml')), await submit('freeze', path.join(freezeRepo, 'file1.txt'))];
  await waitEnded(second);
  for (const id of second) expect(ranOn(id)).toEqual([staying.name]);
  expect(readFileSync(path.join(pullRepo, 'file2.xml'), 'utf8')).toBe(FIXTURE_FILES['file2.xml']);

  const answers: string[] = [];
  for (const id of [...first, ...second]) {
    const { status, body } = await call('GET', `/tasks/log/${id}`);
    expect(status).toBe(200);
    expect(body.logs, id).toMatch(/^\d{4}-\d\d-\d\dT\S+Z (pull|freeze) of .* started\n/);
    expect(body.logs, id).toMatch(/ finished: \d+ files?, \d+ bytes?/);
    answers.push(JSON.stringify(body), JSON.stringify((await call('GET', `/tasks/status/${id}`)).body));
  }
  // DATABASE_URL's password is a secret: in no process log and no API answer.
  const password = decodeURIComponent(new URL(databaseUrl).password);
  for (const text of [...hosts.map((h) => h.output), ...answers]) expect(text).not.toContain(password);

  // No host keeps a database file or a task-log directory: the configuration file only.
  for (const host of hosts) expect(entriesBelow(host.dir), host.name).toEqual(['repos.yaml']);
  // Each host said it ignores nothing and wrote no warning about a log directory.
  for (const host of hosts) expect(host.output, host.name).not.toMatch(/TASK_LOG_DIR|task-logs/);
}, 300_000);
