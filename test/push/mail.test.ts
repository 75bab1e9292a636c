/**
 * Push's mails list its files as pull's and freeze's do (issue 18): a real Glacis (API,
 * worker, mail worker) pushes to a local remote and mails through a real SMTP server on
 * loopback. The list is built from the task's `pushed` events; before push wrote them, the
 * mail said "2 files were pushed" and listed none. GET /tasks/events answers the same events.
 */
import { mkdirSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { makeRemote, tempDir, writeFixture } from '../helpers/remotes.js';
import { startSmtpCapture, type CapturedMail, type SmtpCapture } from '../notify/smtp-capture.js';

const USER = 'ada@test.example';
const ADMIN = 'admin@test.example';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A pushable repo whose local tree is the remote's fixture, edited by `edit`; and an SMTP server Glacis mails through. */
async function setup(edit: (dir: string) => void): Promise<{ glacis: TestGlacis; local: string; smtp: SmtpCapture }> {
  const smtp = await startSmtpCapture();
  cleanups.push(() => smtp.stop());
  const remote = await makeRemote('local');
  const local = tempDir('push-mail');
  writeFixture(local, 'symlink');
  edit(local);
  const glacis = await startGlacis({
    repos: { [local]: { ...remote.settings, pushable: true } },
    env: { MAIL_SERVER: '127.0.0.1', MAIL_PORT: String(smtp.port), MAIL_SENDER: 'Glacis <glacis@test.example>', MAIL_ADMIN: ADMIN, MAIL_RETRY_DELAY: '1' },
  });
  cleanups.push(() => glacis.stop());
  return { glacis, local, smtp };
}

function edit(dir: string, name: string, content: string): void {
  mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
  writeFileSync(path.join(dir, name), content);
  const later = new Date('2026-06-01T10:00:00Z');
  utimesSync(path.join(dir, name), later, later);
}

const to = (address: string) => (mail: CapturedMail): boolean => mail.rcptTo.includes(address);
const listed = (text: string): string[] => text.split('\n').filter((line) => line.startsWith('  ')).map((line) => line.trim()).sort();

it('a finished push mails the files it pushed, a replaced one marked as kept as a version; the log has a line for each', async () => {
  const { glacis, local, smtp } = await setup((dir) => {
    edit(dir, 'file1.txt', 'file one, edited since the backup\n');
    edit(dir, 'new/added.txt', 'a new file\n');
  });
  const { status, body } = await glacis.post('/push', { path: local, email: USER });
  expect(status, JSON.stringify(body)).toBe(200);
  const id = body.task as string;
  expect(await glacis.waitForTask(id)).toMatchObject({ status: 'finished', files: 2 });

  const text = (await smtp.waitFor(to(USER))).parsed.text ?? '';
  expect(text).toContain(`As you asked, Glacis has finished pushing the following path: ${local}`);
  expect(text).toMatch(/The following 2 files were pushed \(total size: \d+ B\):/);
  expect(listed(text)).toEqual(['file1.txt (replaced the remote copy, kept as a version)', 'new/added.txt']);

  const log = (await glacis.get(`/tasks/log/${id}`)).body.logs as string;
  expect(log).toMatch(/Z pushed file1\.txt \(the remote copy kept as a version\)\n/);
  expect(log).toMatch(/Z pushed new\/added\.txt\n/);
}, 90_000);

it('a dry run mails what would be pushed; the log lines are those push always wrote ("would push …")', async () => {
  const { glacis, local, smtp } = await setup((dir) => edit(dir, 'new.txt', 'new\n'));
  const id = (await glacis.post('/push', { path: local, email: USER, dry_run: true })).body.task as string;
  expect(await glacis.waitForTask(id)).toMatchObject({ status: 'finished', files: 1 });
  const text = (await smtp.waitFor(to(USER))).parsed.text ?? '';
  expect(text).toContain('The following 1 file would be pushed');
  expect(listed(text)).toEqual(['new.txt']);
  expect((await glacis.get(`/tasks/log/${id}`)).body.logs).toMatch(/Z would push new\.txt\n/);
}, 90_000);

it('a push that held a truncated file: the failure mail lists the file pushed before it stopped, and names the held one', async () => {
  const { glacis, local, smtp } = await setup((dir) => {
    edit(dir, 'file2.xml', '<xml>two, edited</xml>\n');
    truncateSync(path.join(dir, 'big/large.bin'), 1000);
  });
  const id = (await glacis.post('/push', { path: local, email: USER })).body.task as string;
  expect(await glacis.waitForTask(id)).toMatchObject({ status: 'failed' });
  for (const address of [USER, ADMIN]) {
    const text = (await smtp.waitFor(to(address))).parsed.text ?? '';
    expect(text).toContain('big/large.bin (1000 bytes, the remote copy 3145728 bytes)');
    expect(text).toContain('Before it stopped, 1 file had been pushed:\n\n  file2.xml (replaced the remote copy, kept as a version)');
  }
  expect((await glacis.get(`/tasks/log/${id}`)).body.logs).toMatch(/Z held big\/large\.bin: 1000 bytes, the remote copy 3145728 bytes\n/);
  // The same events as data (GET /tasks/events), each with its fields.
  const { status, body } = await glacis.get(`/tasks/events/${id}?kinds=pushed,held`);
  expect(status).toBe(200);
  expect(body.events.map(({ seq: _seq, time: _time, ...event }: Record<string, unknown>) => event)).toEqual([
    { level: 'info', kind: 'held', text: 'held big/large.bin: 1000 bytes, the remote copy 3145728 bytes', path: 'big/large.bin', reason: 'shrank', bytes: 1000, remote_bytes: 3145728, why: '1000 bytes, the remote copy 3145728 bytes' },
    { level: 'info', kind: 'pushed', text: 'pushed file2.xml (the remote copy kept as a version)', path: 'file2.xml', bytes: 23, replaced: true, dry_run: false },
  ]);
}, 90_000);
