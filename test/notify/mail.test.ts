/**
 * Task notification mails, end to end: a real Glacis (API, worker, mail worker) sends
 * through a real SMTP server on loopback, whose messages are parsed and read back.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { autoFreezeQueue, syncAutoFreezeSchedules } from '../../src/schedule/auto-freeze.js';
import { freePort } from '../harness/ports.js';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { FIXTURE_MTIME, makeRemote, tempDir, writeFixture, type TestRemote } from '../helpers/remotes.js';
import { until } from '../helpers/worker-process.js';
import { startSmtpCapture, type CapturedMail, type SmtpCapture } from './smtp-capture.js';

const USER = 'ada@test.example';
const ADMINS = ['admin@test.example', 'ops@test.example'];

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  // Glacis first: its mail worker must not be left retrying against a stopped server.
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Setup {
  readonly glacis: TestGlacis;
  readonly local: string;
  readonly remote: TestRemote;
  submit(route: '/pull' | '/freeze', rel: string, extra?: Record<string, unknown>): Promise<string>;
}

async function setup(options: {
  readonly smtpPort: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly repo?: Record<string, unknown>;
  readonly worker?: boolean;
  readonly remoteExtra?: Record<string, string>;
  readonly local?: string;
}): Promise<Setup> {
  const remote = await makeRemote('local', options.remoteExtra);
  const local = options.local ?? tempDir('mail-repo');
  const glacis = await startGlacis({
    repos: { [local]: { ...remote.settings, ...options.repo } },
    ...(options.worker === undefined ? {} : { worker: options.worker }),
    env: {
      MAIL_SERVER: '127.0.0.1',
      MAIL_PORT: String(options.smtpPort),
      MAIL_SENDER: 'Glacis <glacis@test.example>',
      MAIL_ADMIN: ADMINS.join(','),
      MAIL_RETRY_DELAY: '1',
      ...options.env,
    },
  });
  cleanups.push(() => glacis.stop());
  const submit = async (route: '/pull' | '/freeze', rel: string, extra: Record<string, unknown> = {}): Promise<string> => {
    const { status, body } = await glacis.post(route, { path: path.join(local, rel), ...extra });
    expect(status, JSON.stringify(body)).toBe(200);
    return body.task as string;
  };
  return { glacis, local, remote, submit };
}

async function smtpServer(options: Parameters<typeof startSmtpCapture>[0] = {}): Promise<SmtpCapture> {
  const smtp = await startSmtpCapture(options);
  cleanups.push(() => smtp.stop());
  return smtp;
}

const to = (address: string) => (mail: CapturedMail): boolean => mail.rcptTo.includes(address);
const toAdmins = (mail: CapturedMail): boolean => ADMINS.every((a) => mail.rcptTo.includes(a));

/** The audiences of every mail job this instance queued, whatever their state. */
async function mailJobs(glacis: TestGlacis): Promise<string[]> {
  const jobs = await glacis.runtime.mailQueue!.queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed']);
  return jobs.map((job) => `${job.data.taskId} ${job.name}`).sort();
}

describe('a task posted with an email', () => {
  it('finished pull: the files, their count and total size, to that address only', async () => {
    const smtp = await smtpServer();
    const { glacis, local, submit } = await setup({ smtpPort: smtp.port });
    const id = await submit('/pull', 'subdir/subsubdir2', { email: USER });
    expect(await glacis.waitForTask(id)).toMatchObject({ status: 'finished', files: 2, bytes: 18 });

    const mail = await smtp.waitFor(to(USER));
    expect(mail.rcptTo).toEqual([USER]);
    expect(mail.parsed.to).toMatchObject({ value: [{ address: USER }] });
    expect(mail.parsed.from?.value).toEqual([{ name: 'Glacis', address: 'glacis@test.example' }]);
    expect(mail.parsed.subject).toBe(`Glacis: finished pulling ${path.join(local, 'subdir/subsubdir2')}`);
    const text = mail.parsed.text ?? '';
    expect(text).toContain(`As you asked, Glacis has finished pulling the following path: ${path.join(local, 'subdir/subsubdir2')}`);
    expect(text).toContain('The following 2 files were pulled (total size: 18 B):');
    const listed = text.split('\n').filter((line) => line.startsWith('  ')).map((line) => line.trim()).sort();
    expect(listed).toEqual(['subdir/subsubdir2/poutrelle.xml', 'subdir/subsubdir2/subsubfile.txt']);
    expect(text).toContain(`Task: ${id}`);
    // A success is the user's business only: no admin mail was even queued.
    expect(await mailJobs(glacis)).toEqual([`${id} user`]);
  });

  it('dry-run freeze: "would be" frozen, with the cold files the remote does not hold; nothing deleted', async () => {
    const smtp = await smtpServer();
    const { glacis, local, submit } = await setup({ smtpPort: smtp.port, repo: { freezable: true } });
    await glacis.waitForTask(await submit('/pull', 'subdir'));
    writeFileSync(path.join(local, 'subdir/local-only.txt'), 'only here');
    const id = await submit('/freeze', 'subdir', { email: USER, dry_run: true, force: true });
    expect(await glacis.waitForTask(id)).toMatchObject({ status: 'finished', files: 4, bytes: 31, unprotected: 1 });

    const mail = await smtp.waitFor(to(USER));
    expect(mail.parsed.subject).toBe(`Glacis: finished freezing (DRY RUN) ${path.join(local, 'subdir')}`);
    const text = mail.parsed.text ?? '';
    expect(text).toContain(`finished freezing the following path (DRY RUN): ${path.join(local, 'subdir')}`);
    expect(text).toContain('The following 4 files would be frozen (total size freed: 31 B):');
    for (const name of ['subdir/subfile.txt', 'subdir/subsubdir/poutrelle.tsv', 'subdir/subsubdir2/subsubfile.txt', 'subdir/subsubdir2/poutrelle.xml']) {
      expect(text).toContain(`\n  ${name}\n`);
    }
    expect(text).toContain(
      '1 cold file could not be frozen because the remote lacks it or holds it differently; it exists only here:\n\n  subdir/local-only.txt (missing on the remote)',
    );
    expect(existsSync(path.join(local, 'subdir/subfile.txt'))).toBe(true);
  });

  it('a file named like a line of the log is listed as it is: the mail reads the events, not the text', async () => {
    const smtp = await smtpServer();
    // "pulled 1 file, 5 bytes" is also the summary a pull of one file ends with: the regular
    // expression the mail read the log with dropped this file from the list.
    const { glacis, local, submit } = await setup({ smtpPort: smtp.port, remoteExtra: { '1 file, 5 bytes': 'named like a summary\n' } });
    const id = await submit('/pull', '', { email: USER });
    const ended = await glacis.waitForTask(id);
    expect(ended).toMatchObject({ status: 'finished' });
    expect(existsSync(path.join(local, '1 file, 5 bytes'))).toBe(true);

    const text = (await smtp.waitFor(to(USER))).parsed.text ?? '';
    expect(text).toContain(`The following ${ended.files} files were pulled`);
    const listed = text.split('\n').filter((line) => line.startsWith('  ')).map((line) => line.trim());
    expect(listed).toContain('1 file, 5 bytes');
    expect(listed).toHaveLength(ended.files);
    expect(text).not.toContain('… and');
    // The log reads as it always did.
    expect((await glacis.get(`/tasks/log/${id}`)).body.logs).toMatch(/Z pulled 1 file, 5 bytes\n/);
  });

  // Issue 15: a user's typo mailed the administrator.
  it('failure on the user\'s own input (a path the remote lacks): the error to the user only, MAIL_ADMIN not bothered', async () => {
    const smtp = await smtpServer();
    const { glacis, local, submit } = await setup({ smtpPort: smtp.port });
    const missing = path.join(local, 'no/such/dir');
    const id = await submit('/pull', 'no/such/dir', { email: USER });
    expect(await glacis.waitForTask(id)).toMatchObject({ status: 'failed', error: `${missing} does not exist on the remote` });

    const user = await smtp.waitFor(to(USER));
    expect(user.rcptTo).toEqual([USER]);
    expect(user.parsed.subject).toBe(`Glacis: pull task on ${missing} failed`);
    expect(user.parsed.text).toContain(`Your Glacis pull task on '${missing}' failed, with the following error:\n\n${missing} does not exist on the remote`);
    // The task's mails are queued together: once the user's is sent, an admin one would be queued.
    expect(await mailJobs(glacis)).toEqual([`${id} user`]);
    expect(smtp.messages.filter(toAdmins)).toEqual([]);
  });

  it('failure of the service (the remote unreachable): the error to the user, and a copy to MAIL_ADMIN', async () => {
    const smtp = await smtpServer();
    const local = tempDir('mail-repo');
    const glacis = await startGlacis({
      repos: { [local]: { backend: 'sftp', url: '127.0.0.1:data', port: await freePort(), user: 'ada', password: 'nobody-listens-here' } },
      env: { MAIL_SERVER: '127.0.0.1', MAIL_PORT: String(smtp.port), MAIL_ADMIN: ADMINS.join(','), MAIL_RETRY_DELAY: '1' },
    });
    cleanups.push(() => glacis.stop());
    const target = path.join(local, 'dir');
    const { body } = await glacis.post('/pull', { path: target, email: USER });
    const id = body.task as string;
    expect(await glacis.waitForTask(id, 90_000)).toMatchObject({ status: 'failed' });

    const user = await smtp.waitFor(to(USER));
    expect(user.parsed.subject).toBe(`Glacis: pull task on ${target} failed`);
    const admin = await smtp.waitFor(toAdmins);
    expect([...admin.rcptTo].sort()).toEqual(ADMINS);
    expect(admin.parsed.subject).toBe(`Glacis: pull task on ${target} failed`);
    expect(admin.parsed.text).toContain(`A Glacis pull task on '${target}' (requested by ${USER}) failed, with the following error:`);
    expect(admin.parsed.text).toContain(`Task: ${id}`);
  }, 120_000);

  it('with no MAIL_SERVER: refused at submission with 400, nothing queued', async () => {
    const remote = await makeRemote('local');
    const local = tempDir('mail-repo');
    const glacis = await startGlacis({ repos: { [local]: { ...remote.settings, freezable: true } }, worker: false });
    cleanups.push(() => glacis.stop());
    for (const route of ['/pull', '/freeze']) {
      const { status, body } = await glacis.post(route, { path: path.join(local, 'subdir'), email: USER });
      expect(status).toBe(400);
      expect(body).toEqual({ error: '"email" cannot be honoured: this server sends no mail (MAIL_SERVER is not set); leave "email" out' });
    }
    expect((await glacis.get('/tasks')).body).toEqual([]);
    // Without an email the same requests are accepted.
    expect((await glacis.post('/pull', { path: path.join(local, 'subdir'), email: null })).status).toBe(200);
  });

  it('removed before it ran: "terminated prematurely", sent even though its record is gone', async () => {
    const smtp = await smtpServer();
    const { glacis, local, submit } = await setup({ smtpPort: smtp.port, worker: false });
    const id = await submit('/pull', 'subdir', { email: USER });
    expect((await glacis.get(`/tasks/remove/${id}`)).body).toStrictEqual({ info: `Task ${id} removed.`, error: '' });
    expect((await glacis.get(`/tasks/status/${id}`)).status).toBe(404);
    // The mail worker runs with the task worker.
    await glacis.startWorker();

    const mail = await smtp.waitFor(to(USER));
    expect(mail.parsed.subject).toBe(`Glacis: pull task on ${path.join(local, 'subdir')} cancelled`);
    expect(mail.parsed.text).toContain(`Your Glacis pull task on '${path.join(local, 'subdir')}' was terminated prematurely: cancelled by request.`);
    expect(mail.parsed.text).toContain(`Task: ${id}`);
    // Cancelling is no failure: the admins are not told.
    expect(await mailJobs(glacis)).toEqual([`${id} user`]);
  });

  it('lost with its worker (a zombie): "terminated prematurely" to the user and the admins', async () => {
    const smtp = await smtpServer();
    const { glacis, local, submit } = await setup({ smtpPort: smtp.port, worker: false });
    const id = await submit('/pull', 'subdir', { email: USER });
    await glacis.runtime.queue.queue.remove(id);
    const db = new Database(glacis.env.DATABASE_URL!);
    try {
      // Older than the grace period zombie clean-up gives a task being queued.
      db.prepare('UPDATE tasks SET created = ? WHERE id = ?').run('2020-01-01T00:00:00.000Z', id);
    } finally {
      db.close();
    }
    // GET /zombie starts the clean-up task (it mails nobody itself); the lost task is failed.
    const cleanup = await glacis.waitForTask((await glacis.get('/zombie')).body.task);
    expect(cleanup).toMatchObject({ type: 'zombie', status: 'finished', files: 1 });
    expect((await glacis.get(`/tasks/status/${id}`)).body.status).toBe('failed');
    await glacis.startWorker();

    const user = await smtp.waitFor(to(USER));
    expect(user.parsed.subject).toBe(`Glacis: pull task on ${path.join(local, 'subdir')} failed`);
    expect(user.parsed.text).toContain(`Your Glacis pull task on '${path.join(local, 'subdir')}' was terminated prematurely:\n\nno live job behind the task (job missing)`);
    const admin = await smtp.waitFor(toAdmins);
    expect(admin.parsed.text).toContain('was terminated prematurely:');
  });
});

describe('delivery', () => {
  it('SMTP down when the task ends: the task finishes all the same, and the mail arrives once the server is up', async () => {
    const port = await freePort();
    const { glacis, local, submit } = await setup({ smtpPort: port });
    const id = await submit('/pull', 'subdir/subsubdir2', { email: USER });
    const ended = await glacis.waitForTask(id);
    expect(ended).toMatchObject({ status: 'finished', files: 2, bytes: 18, error: null });
    await until(() => glacis.logLines.some((l) => l.includes('mail not sent yet: will try again')), 20_000, () => `no failed send in ${JSON.stringify(glacis.logLines)}`);
    expect((await glacis.get(`/tasks/status/${id}`)).body).toStrictEqual(ended);

    const smtp = await smtpServer({ port });
    const mail = await smtp.waitFor(to(USER), 40_000);
    expect(mail.parsed.subject).toBe(`Glacis: finished pulling ${path.join(local, 'subdir/subsubdir2')}`);
    expect(mail.parsed.text).toContain('The following 2 files were pulled (total size: 18 B):');
    expect((await glacis.get(`/tasks/status/${id}`)).body).toStrictEqual(ended);
    expect(smtp.messages).toHaveLength(1);
  }, 90_000);

  it('a 20,000-file list is cut after 1000 names, saying how many more', async () => {
    const smtp = await smtpServer();
    const many: Record<string, string> = {};
    for (let i = 0; i < 20_000; i++) many[`many/f${String(i).padStart(5, '0')}.txt`] = 'x';
    const { glacis, submit } = await setup({ smtpPort: smtp.port, remoteExtra: many });
    const id = await submit('/pull', 'many', { email: USER, dry_run: true });
    expect(await glacis.waitForTask(id, 60_000)).toMatchObject({ status: 'finished', files: 20_000, bytes: 20_000 });

    const mail = await smtp.waitFor(to(USER));
    const text = mail.parsed.text ?? '';
    expect(text).toContain('The following 20000 files would be pulled (total size: 19.53 KiB):');
    expect(text.split('\n').filter((line) => /^ {2}many\/f\d{5}\.txt$/.test(line))).toHaveLength(1000);
    expect(text).toContain('\n  … and 19000 more (see the task log)\n');
    expect(mail.raw.length).toBeLessThan(64 * 1024);
  }, 120_000);

  it('MAIL_SUPPRESS_SEND: composed and logged (recipients, subject, not the body), never sent', async () => {
    const smtp = await smtpServer();
    const { glacis, local, submit } = await setup({ smtpPort: smtp.port, env: { MAIL_SUPPRESS_SEND: 'True' } });
    const id = await submit('/pull', 'subdir/subsubdir2', { email: USER });
    await glacis.waitForTask(id);
    await until(() => glacis.logLines.some((l) => l.includes('mail suppressed')), 20_000, () => JSON.stringify(glacis.logLines));
    const line = glacis.logLines.find((l) => l.includes('mail suppressed'))!;
    expect(line).toContain(USER);
    expect(line).toContain(`Glacis: finished pulling ${path.join(local, 'subdir/subsubdir2')}`);
    expect(line).not.toContain('subsubfile.txt');
    // The line is logged while the mail job runs; its outcome is stored once it returns.
    const outcome = async (): Promise<unknown> => (await glacis.runtime.mailQueue!.queue.getJob(`${id}-user`))?.returnvalue;
    await until(async () => (await outcome()) != null, 20_000, async () => `mail job outcome: ${String(await outcome())}`);
    expect(await outcome()).toBe('suppressed');
    expect(smtp.messages).toEqual([]);
  });

  it('MAIL_PASSWORD is used for AUTH and appears in no log, task log or queued job, right or wrong', async () => {
    const password = `pw-${randomUUID()}`;
    const wrong = `wrong-${randomUUID()}`;
    const smtp = await smtpServer({ users: { 'glacis-mailer': password } });
    const auth = { MAIL_USERNAME: 'glacis-mailer', MAIL_PASSWORD: password };

    const good = await setup({ smtpPort: smtp.port, env: auth });
    const sent = await good.submit('/pull', 'subdir/subsubdir2', { email: USER });
    await good.glacis.waitForTask(sent);
    const mail = await smtp.waitFor(to(USER));
    expect(mail.user).toBe('glacis-mailer');

    const bad = await setup({ smtpPort: smtp.port, env: { ...auth, MAIL_PASSWORD: wrong } });
    const refused = await bad.submit('/pull', 'subdir/subsubdir2', { email: 'bob@test.example' });
    await bad.glacis.waitForTask(refused);
    await until(() => bad.glacis.logLines.some((l) => l.includes('mail not sent yet')), 20_000, () => JSON.stringify(bad.glacis.logLines));
    expect(smtp.authAttempts).toContainEqual({ user: 'glacis-mailer', accepted: false });
    const job = await bad.glacis.runtime.mailQueue!.queue.getJob(`${refused}-user`);
    expect(job?.failedReason).toMatch(/Invalid/);

    const forms = (secret: string): string[] => [secret, Buffer.from(secret).toString('base64'), Buffer.from(`\0glacis-mailer\0${secret}`).toString('base64')];
    const seen = [
      ...good.glacis.logLines,
      ...bad.glacis.logLines,
      (await good.glacis.get(`/tasks/log/${sent}`)).body.logs,
      (await bad.glacis.get(`/tasks/log/${refused}`)).body.logs,
      JSON.stringify(await bad.glacis.get(`/tasks/status/${refused}`)),
      job?.failedReason ?? '',
      ...(job?.stacktrace ?? []),
    ].join('\n');
    for (const secret of [...forms(password), ...forms(wrong)]) expect(seen).not.toContain(secret);
    expect(seen).toContain('mail sent');
  });
});

describe('auto-freeze', () => {
  it('each scheduled freeze sends MAIL_ADMIN a summary: files frozen, bytes freed, cold files left unprotected', async () => {
    const smtp = await smtpServer();
    const local = tempDir('mail-auto');
    writeFixture(local, 'symlink');
    writeFileSync(path.join(local, 'only-here.txt'), 'never backed up');
    utimesSync(path.join(local, 'only-here.txt'), FIXTURE_MTIME, FIXTURE_MTIME);
    const { glacis } = await setup({
      smtpPort: smtp.port,
      local,
      repo: { freezable: true, auto_freeze: true, auto_freeze_cron: '*/2 * * * * *' },
    });
    cleanups.push(async () => {
      const schedules = autoFreezeQueue(glacis.runtime.redis, glacis.env.QUEUE_PREFIX!);
      await syncAutoFreezeSchedules(schedules, []).catch(() => undefined);
      await schedules.close();
    });

    const summary = await smtp.waitFor((m) => toAdmins(m) && /frozen/.test(m.parsed.subject ?? ''), 45_000);
    expect([...summary.rcptTo].sort()).toEqual(ADMINS);
    expect(summary.parsed.subject).toBe(`Glacis: auto-freeze of ${local}: 10 files frozen, 1 cold file unprotected`);
    const text = summary.parsed.text ?? '';
    expect(text).toContain(`The scheduled auto-freeze of ${local} has finished.`);
    expect(text).toMatch(/The following 10 files were frozen \(total size freed: 3\.\d\d MiB\):/);
    expect(text).toContain('\n  subdir/subfile.txt\n');
    expect(text).toContain('1 cold file could not be frozen because the remote lacks it or holds it differently; it exists only here:\n\n  only-here.txt (missing on the remote)');
    expect(existsSync(path.join(local, 'file1.txt'))).toBe(false);
    expect(existsSync(path.join(local, 'only-here.txt'))).toBe(true);
  }, 90_000);
});
