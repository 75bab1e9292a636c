/**
 * deploy/docker/healthcheck.mjs, the container healthcheck of docker-compose.prod.yml, run as
 * Docker runs it (a child process with the container's environment) against a real API and
 * the shared Redis. It loads the compiled code in dist/ (`npm run build`), as in the image.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { freePort } from '../harness/ports.js';
import { sharedServices } from '../harness/services.js';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { tempDir } from '../helpers/remotes.js';
import { exited } from '../helpers/worker-process.js';
import { REPO_ROOT } from './deploy-files.js';

const SCRIPT = path.join(REPO_ROOT, 'deploy/docker/healthcheck.mjs');

const started: TestGlacis[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((glacis) => glacis.stop()));
});

async function healthcheck(role: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  // The container's working directory has no local.cfg unless GLACIS_CONFIG names one.
  const child = spawn(process.execPath, [SCRIPT, role], { cwd: tempDir('health-cwd'), env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const { code } = await exited(child);
  return { code, stderr };
}

it('serve: healthy while the API answers /health, unhealthy once it is gone', async () => {
  const glacis = await startGlacis({ repos: {}, worker: false });
  expect(await healthcheck('serve', glacis.env)).toEqual({ code: 0, stderr: '' });
  await glacis.stop();
  const after = await healthcheck('serve', glacis.env);
  expect(after.code).toBe(1);
  expect(after.stderr).toMatch(/^unhealthy: GET \/health failed \(ECONNREFUSED\)\n$/);
});

it('serve: finds the port in local.cfg, as glacis does', async () => {
  const glacis = await startGlacis({ repos: {}, worker: false });
  started.push(glacis);
  const config = path.join(tempDir('health-cfg'), 'local.cfg');
  writeFileSync(config, `PORT = ${glacis.env.PORT}\n`);
  expect(await healthcheck('serve', { GLACIS_CONFIG: config })).toEqual({ code: 0, stderr: '' });
  // A local.cfg naming another port: nothing answers there.
  writeFileSync(config, `PORT = ${await freePort()}\n`);
  expect((await healthcheck('serve', { GLACIS_CONFIG: config })).code).toBe(1);
});

it('worker: healthy while Redis answers, unhealthy without it, never showing the Redis URL', async () => {
  expect(await healthcheck('worker', { REDIS_URL: sharedServices().redisUrl })).toEqual({ code: 0, stderr: '' });
  const down = await healthcheck('worker', { REDIS_URL: `redis://:hunter2-secret@127.0.0.1:${await freePort()}` });
  expect(down.code).toBe(1);
  expect(down.stderr).toBe('unhealthy: Redis does not answer PING\n');
});

it('reports a configuration error as unhealthy, and an unknown role as a usage error', async () => {
  const bad = await healthcheck('serve', { PORT: 'many' });
  expect(bad.code).toBe(1);
  expect(bad.stderr).toMatch(/^unhealthy: .*PORT.*1 to 65535/);
  expect((await healthcheck('scheduler', {})).code).toBe(2);
});
