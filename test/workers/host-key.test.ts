/**
 * SFTP host keys: with `known_hosts_file` a repo's tasks talk only to the server whose key
 * the file holds. The same server address answering with another key (a reinstalled
 * server, or an impostor) fails the task with an error saying so, and pulls nothing.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startSftp, type SftpServer } from '../harness/sftp.js';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { tempDir } from '../helpers/remotes.js';

const servers: SftpServer[] = [];
const instances: TestGlacis[] = [];
afterEach(async () => {
  await Promise.all(instances.splice(0).map((g) => g.stop()));
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

it('pulls from the server known_hosts_file names, and fails saying so once its host key changed', async () => {
  const root = tempDir('host-key-remote');
  mkdirSync(path.join(root, 'data'));
  writeFileSync(path.join(root, 'data', 'a.txt'), 'first\n');
  const first = await startSftp({ root });
  servers.push(first);
  // What `ssh-keyscan -p PORT 127.0.0.1` prints for this server.
  const knownHosts = path.join(tempDir('host-key-conf'), 'known_hosts');
  writeFileSync(knownHosts, `[${first.host}]:${first.port} ${first.hostPublicKey}\n`);

  const local = tempDir('host-key-repo');
  const repo = { backend: 'sftp', url: `${first.host}:data`, port: first.port, user: first.user, password: first.password, known_hosts_file: knownHosts };
  const glacis = await startGlacis({ repos: { [local]: repo } });
  instances.push(glacis);
  const pulled = await glacis.post('/pull', { path: local });
  const ok = await glacis.waitForTask(pulled.body.task, 60_000);
  expect(ok.status, JSON.stringify(ok)).toBe('finished');
  expect(existsSync(path.join(local, 'a.txt'))).toBe(true);

  // The same address and credentials, a second host key.
  servers.splice(servers.indexOf(first), 1);
  await first.stop();
  const second = await startSftp({ root, port: first.port, user: first.user, password: first.password });
  servers.push(second);
  expect(second.hostPublicKey).not.toBe(first.hostPublicKey);
  writeFileSync(path.join(root, 'data', 'b.txt'), 'second\n');

  const refused = await glacis.post('/pull', { path: local });
  const failed = await glacis.waitForTask(refused.body.task, 90_000);
  expect(failed.status, JSON.stringify(failed)).toBe('failed');
  expect(failed.error).toMatch(/host key is not the one in known_hosts_file: the server's key changed, or this is not the server/);
  expect(failed.error).not.toContain(first.password);
  expect(existsSync(path.join(local, 'b.txt'))).toBe(false);
}, 180_000);
