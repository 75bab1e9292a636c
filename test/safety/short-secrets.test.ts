/**
 * A secret too short to be recognised (issue 15, bug 2): an SFTP password `p` made every
 * message unreadable ("re***ository", "Co***ied") and showed where the secret was.
 * Such a secret is left alone by the redactor and warned about once at start-up, by repo and
 * key; messages stay intact, because the password itself never reaches them (it is in
 * rclone's environment only).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startSftp } from '../harness/sftp.js';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { tempDir } from '../helpers/remotes.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

it('an SFTP password of one letter: warned about by repo and key at start-up, task messages and logs left readable', async () => {
  const served = tempDir('short-secret-sftp');
  mkdirSync(path.join(served, 'tree', 'papers'), { recursive: true });
  writeFileSync(path.join(served, 'tree', 'papers', 'paper.txt'), 'pp\n');
  const sftp = await startSftp({ root: served, password: 'p' });
  cleanups.push(() => sftp.stop());
  const local = tempDir('short-secret-repo');
  const glacis: TestGlacis = await startGlacis({ repos: { [local]: { backend: 'sftp', url: `${sftp.host}:tree`, port: sftp.port, user: sftp.user, password: 'p' } } });
  cleanups.push(() => glacis.stop());

  const warnings = glacis.logLines.filter((line) => /shorter than 8 characters/.test(line));
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatch(new RegExp(`repo "${local}": key "password" is shorter than 8 characters`));

  const pulled = await glacis.post('/pull', { path: path.join(local, 'papers') });
  expect((await glacis.waitForTask(pulled.body.task)).status).toBe('finished');
  const log = (await glacis.get(`/tasks/log/${pulled.body.task}`)).body;
  const logText = JSON.stringify(log);
  expect(logText).not.toContain('***');
  expect(logText).toContain(path.join(local, 'papers'));

  const missing = await glacis.post('/pull', { path: path.join(local, 'no-such-paper') });
  const failed = await glacis.waitForTask(missing.body.task);
  expect(failed.status).toBe('failed');
  expect(JSON.stringify(failed)).not.toContain('***');
  expect(JSON.stringify((await glacis.get(`/tasks/log/${missing.body.task}`)).body)).not.toContain('***');
  expect(glacis.logLines.join('\n')).not.toContain('***');
}, 90_000);
