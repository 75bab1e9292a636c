/**
 * A remote that stops answering mid-pull (an SFTP server frozen with SIGSTOP: no reset,
 * no error, the connection just goes quiet) must not hold its task and path lock for
 * ever: the transfer watchdog (TRANSFER_STALL_TIMEOUT) fails the task, nothing partial
 * is placed, and the next pull of the path succeeds.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startSftp, type SftpServer } from '../harness/sftp.js';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { tempDir } from '../helpers/remotes.js';
import { bytesBelow, hashOf, rcloneProcessesMentioning, until, writeBigFile } from '../helpers/worker-process.js';

const STALL_SECONDS = 3;
const servers: SftpServer[] = [];
const instances: TestGlacis[] = [];
afterEach(async () => {
  await Promise.all(instances.splice(0).map((g) => g.stop()));
  for (const server of servers.splice(0)) {
    process.kill(server.pid, 'SIGCONT');
    await server.stop();
  }
});

it('fails a pull whose SFTP server froze mid-transfer, places nothing partial, frees the path', async () => {
  // Slow enough (1 MiB/s from the server) that the transfer is surely still running when frozen.
  const server = await startSftp({ root: tempDir('stall-remote'), bwLimit: '1M' });
  servers.push(server);
  writeBigFile(path.join(server.root, 'data', 'big.bin'), 4, 7);
  const local = tempDir('stall-repo');
  const glacis = await startGlacis({
    repos: { [local]: { backend: 'sftp', url: `${server.host}:data`, port: server.port, user: server.user, password: server.password } },
    env: { TRANSFER_STALL_TIMEOUT: String(STALL_SECONDS) },
  });
  instances.push(glacis);
  const staging = path.join(local, '.glacis-staging');

  const { body } = await glacis.post('/pull', { path: local });
  const taskId: string = body.task;
  expect(taskId, JSON.stringify(body)).toBeDefined();
  await until(() => bytesBelow(staging) > 0, 30_000, async () => `the transfer never started: ${JSON.stringify((await glacis.get(`/tasks/status/${taskId}`)).body)}`);
  process.kill(server.pid, 'SIGSTOP');

  // rclone's own I/O timeout is 5 minutes: only the watchdog ends the task within this wait.
  const ended = await glacis.waitForTask(taskId, 60_000);
  expect(ended.status).toBe('failed');
  expect(ended.error).toMatch(new RegExp(`no byte and no file moved for ${STALL_SECONDS} s: the remote stopped answering`));
  expect(existsSync(path.join(local, 'big.bin')), 'a partial file under its final name').toBe(false);
  expect(existsSync(staging) ? readdirSync(staging) : []).toEqual([]);
  await until(() => rcloneProcessesMentioning(staging).length === 0, 10_000, () => `rclone left running: ${rcloneProcessesMentioning(staging).join('\n')}`);

  // The path lock is released: a new pull (a new task) runs once the server answers again.
  process.kill(server.pid, 'SIGCONT');
  const again = await glacis.post('/pull', { path: local });
  expect(again.body.task).not.toBe(taskId);
  const second = await glacis.waitForTask(again.body.task, 60_000);
  expect(second.status, JSON.stringify(second)).toBe('finished');
  expect(await hashOf(path.join(local, 'big.bin'))).toBe(await hashOf(path.join(server.root, 'data', 'big.bin')));
}, 150_000);
