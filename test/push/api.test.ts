/**
 * Push through the API (issue 18): `POST /push` refused (400) where the repo is not
 * pushable, a push run by a real worker answered with its `push` result, the held file of a
 * truncation mailed to MAIL_ADMIN (a real SMTP server), and a freeze of what was pushed
 * succeeding right after.
 */
import { readFileSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startSmtpCapture } from '../notify/smtp-capture.js';
import { startGlacis } from '../helpers/glacis.js';
import { FIXTURE_FILES, FIXTURE_LINKS, makeRemote, tempDir, writeFixture } from '../helpers/remotes.js';

const ADMIN = 'ops@test.example';
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function edited(dir: string, name: string, content: string): void {
  writeFileSync(path.join(dir, name), content);
  const later = new Date('2026-06-01T10:00:00Z');
  utimesSync(path.join(dir, name), later, later);
}

it('POST /push: 400 where the remote is read-only; elsewhere pushed by a worker, answered with its result, then frozen at once', async () => {
  const remote = await makeRemote('sftp');
  const pushable = tempDir('api-push');
  const readOnly = tempDir('api-push-ro');
  writeFixture(pushable, 'symlink');
  edited(pushable, 'file1.txt', 'file one, edited after the backup\n');
  edited(pushable, 'added.txt', 'added\n');
  const other = await makeRemote('local');
  const glacis = await startGlacis({ repos: { [pushable]: { ...remote.settings, pushable: true, freezable: true }, [readOnly]: other.settings } });
  cleanups.push(() => glacis.stop());

  const refused = await glacis.post('/push', { path: readOnly });
  expect(refused.status).toBe(400);
  expect(refused.body).toEqual({ error: expect.stringContaining(`the remote of repository ${readOnly} is read-only (pushable: false)`) });

  const { status, body } = await glacis.post('/push', { path: pushable });
  expect(status, JSON.stringify(body)).toBe(200);
  const done = await glacis.waitForTask(body.task, 60_000);
  expect(done, JSON.stringify(done)).toMatchObject({ status: 'finished', type: 'push', files: 2 });
  const answer = (await glacis.get(`/tasks/status/${body.task}`)).body;
  expect(answer.push).toMatchObject({ new: 1, replaced: 1, held: 0 });

  const freeze = await glacis.post('/freeze', { path: pushable, force: true });
  const frozen = await glacis.waitForTask(freeze.body.task, 60_000);
  expect(frozen).toMatchObject({ status: 'finished', files: Object.keys(FIXTURE_FILES).length + Object.keys(FIXTURE_LINKS).length + 1, unprotected: 0 });
}, 120_000);

it('a truncated file is held, and MAIL_ADMIN is mailed its name; a dry run through the API pushes nothing', async () => {
  const smtp = await startSmtpCapture();
  cleanups.push(() => smtp.stop());
  const remote = await makeRemote('s3');
  const local = tempDir('api-push-held');
  writeFixture(local, 'symlink');
  truncateSync(path.join(local, 'big/large.bin'), 10);
  const glacis = await startGlacis({
    repos: { [local]: { ...remote.settings, pushable: true } },
    env: { MAIL_SERVER: '127.0.0.1', MAIL_PORT: String(smtp.port), MAIL_ADMIN: ADMIN, MAIL_RETRY_DELAY: '1' },
  });
  cleanups.push(() => glacis.stop());

  const dry = await glacis.post('/push', { path: local, dry_run: true });
  expect(await glacis.waitForTask(dry.body.task, 60_000)).toMatchObject({ status: 'finished', files: 0, dry_run: true });

  const { body } = await glacis.post('/push', { path: local });
  const ended = await glacis.waitForTask(body.task, 60_000);
  expect(ended.status).toBe('failed');
  expect(ended.error).toContain('held 1 file');
  const mail = await smtp.waitFor((m) => m.rcptTo.includes(ADMIN), 60_000);
  expect(mail.parsed.subject).toContain('push');
  expect(mail.parsed.text).toContain('big/large.bin (10 bytes, the remote copy 3145728 bytes)');
}, 120_000);

it('auto_push: the schedule submits a push of the repo (origin schedule), run like any other', async () => {
  const remote = await makeRemote('local');
  const local = tempDir('api-auto-push');
  writeFixture(local, 'symlink');
  edited(local, 'scheduled.txt', 'pushed by the schedule\n');
  const glacis = await startGlacis({ repos: { [local]: { ...remote.settings, pushable: true, auto_push: true, auto_push_cron: '*/1 * * * * *' } } });
  cleanups.push(() => glacis.stop());
  let scheduled: { status: string; origin: string; files: number } | undefined;
  const deadline = Date.now() + 60_000;
  while (scheduled === undefined && Date.now() < deadline) {
    const tasks = (await glacis.get('/tasks?type=push')).body as Array<{ status: string; origin: string; files: number }>;
    scheduled = tasks.find((t) => t.origin === 'schedule' && t.status === 'finished' && t.files === 1);
    if (scheduled === undefined) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  expect(scheduled, 'a scheduled push finished, pushing the new file').toBeDefined();
  expect(readFileSync(path.join(remote.root!, 'scheduled.txt'), 'utf8')).toBe('pushed by the schedule\n');
}, 90_000);
