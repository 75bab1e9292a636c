/**
 * Alerts a task raises while it runs (the report's loss alert, issue 16 §1): queued on the
 * mail queue, sent as composed to MAIL_ADMIN through a real SMTP server, once per task.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startGlacis } from '../helpers/glacis.js';
import { makeRemote, tempDir } from '../helpers/remotes.js';
import { startSmtpCapture } from './smtp-capture.js';

const ADMINS = ['admin@test.example', 'ops@test.example'];
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('admin alerts', () => {
  it('mails MAIL_ADMIN the alert as the task composed it, once per task', async () => {
    const smtp = await startSmtpCapture();
    cleanups.push(() => smtp.stop());
    const remote = await makeRemote('local');
    const glacis = await startGlacis({
      repos: { [tempDir('alert-repo')]: remote.settings },
      env: { MAIL_SERVER: '127.0.0.1', MAIL_PORT: String(smtp.port), MAIL_SENDER: 'glacis@test.example', MAIL_ADMIN: ADMINS.join(','), MAIL_RETRY_DELAY: '1' },
    });
    cleanups.push(() => glacis.stop());
    const taskId = randomUUID();
    const alert = { subject: 'Glacis: 2 frozen files lost on the remote of /data/a', text: 'missing  big/large.bin\nshrunk   links/relative.txt\n' };
    await glacis.runtime.alert(taskId, alert);
    await glacis.runtime.alert(taskId, alert); // an attempt run again
    const mail = await smtp.waitFor((m) => m.parsed.subject === alert.subject);
    expect([...mail.rcptTo].sort()).toEqual(ADMINS);
    expect(mail.parsed.text).toContain('missing  big/large.bin');
    const jobs = await glacis.runtime.mailQueue!.queue.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed']);
    expect(jobs.map((job) => job.id)).toEqual([`${taskId}-alert`]);
  });

  it('without MAIL_ADMIN, says in the process log that the alert was not mailed', async () => {
    const remote = await makeRemote('local');
    const glacis = await startGlacis({ repos: { [tempDir('alert-repo')]: remote.settings }, env: { MAIL_SUPPRESS_SEND: 'True' } });
    cleanups.push(() => glacis.stop());
    await glacis.runtime.alert(randomUUID(), { subject: 'Glacis: 1 frozen file lost', text: 'x\n' });
    expect(glacis.logLines.join('\n')).toMatch(/alert not mailed \(MAIL_ADMIN is not set\): Glacis: 1 frozen file lost/);
  });
});
