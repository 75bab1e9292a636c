/**
 * The pieces of a notification mail without a running Glacis: the file lists read back
 * from a real task log, the composed text, and the mail repository sending it to a real
 * SMTP server (where a header injection attempt must arrive as harmless text).
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { MailSettings } from '../../src/config/types.js';
import { createLogger } from '../../src/log/index.js';
import { audiencesFor, composeTaskMail, formatSize } from '../../src/notify/compose.js';
import { collectFileLists } from '../../src/notify/file-list.js';
import { Mailer } from '../../src/notify/mailer.js';
import path from 'node:path';
import { openTaskStore } from '../../src/store/index.js';
import type { Task, TaskStore } from '../../src/store/types.js';
import type { TaskLogs } from '../../src/store/task-logs.js';
import { tempDir } from '../helpers/remotes.js';
import { startSmtpCapture, type SmtpCapture } from './smtp-capture.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

function task(overrides: Partial<Task> = {}): Task {
  return {
    id: randomUUID(),
    type: 'pull',
    path: '/data/lab1/raw',
    status: 'finished',
    origin: 'user',
    dryRun: false,
    force: false,
    email: 'ada@test.example',
    created: '2024-01-01T00:00:00.000Z',
    started: '2024-01-01T00:00:01.000Z',
    finished: '2024-01-01T00:00:02.000Z',
    error: null,
    files: 0,
    bytes: 0,
    unprotected: null,
    result: null,
    ...overrides,
  };
}

const stores: TaskStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
});

async function freshLogs(): Promise<TaskLogs> {
  const store = await openTaskStore(path.join(tempDir('mail-logs'), 'glacis.sqlite'));
  stores.push(store);
  return store.logs;
}

async function writeLog(logs: TaskLogs, taskId: string, lines: readonly string[]): Promise<void> {
  const log = await logs.open(taskId);
  for (const line of lines) log.line(line);
  await log.close();
}

describe('file lists from the task log', () => {
  it('keeps the file lines of the task kind, names with line breaks whole, and skips summaries', async () => {
    const logs = await freshLogs();
    const freeze = task({ type: 'freeze' });
    await writeLog(logs, freeze.id, [
      'freeze of /data/lab1/raw started',
      'froze raw/a.txt (12 bytes)',
      'froze raw/two\nlines.txt (3 bytes)',
      'cold but not frozen (the remote does not hold it): raw/local-only.txt',
      'kept raw/b.txt: it was read or changed while the freeze ran',
      'would freeze raw/not-this-kind.txt (1 bytes)',
      'froze 2 files, 15 bytes; 1 cold files are not safe on the remote and were kept',
      'finished: 2 files, 15 bytes, 1 cold files unprotected',
    ]);
    const lists = await collectFileLists(logs.entries(freeze.id), freeze);
    expect(lists).toEqual({
      done: { shown: ['raw/a.txt', 'raw/two\nlines.txt'], total: 2 },
      unprotected: { shown: ['raw/local-only.txt (the remote does not hold it)'], total: 1 },
    });

    const pull = task();
    await writeLog(logs, pull.id, ['pulled raw/x', 'pulled 1 files, 5 bytes', 'pulled raw/12 files, 3 bytes']);
    expect((await collectFileLists(logs.entries(pull.id), pull))?.done).toEqual({ shown: ['raw/x', 'raw/12 files, 3 bytes'], total: 2 });
  });

  it("counts the task's recorded totals when its log was cut in the middle", async () => {
    async function* cutLog(): AsyncGenerator<string> {
      for (let i = 0; i < 10; i++) yield `would freeze head${i} (1 bytes)`;
      // (the store's cap deleted 980 lines here)
      for (let i = 0; i < 10; i++) yield `would freeze tail${i} (1 bytes)`;
      yield 'cold but not frozen (the remote does not hold it): only-local';
    }
    const lists = await collectFileLists(cutLog(), { type: 'freeze', dryRun: true, files: 1000, unprotected: 40 }, 5);
    expect(lists?.done).toEqual({ shown: ['head0', 'head1', 'head2', 'head3', 'head4'], total: 1000 });
    expect(lists?.unprotected.total).toBe(40);
  });

  it('cuts a long list at the limit and counts the rest; a missing log gives no list', async () => {
    const logs = await freshLogs();
    const dry = task({ dryRun: true });
    await writeLog(logs, dry.id, Array.from({ length: 2500 }, (_, i) => `would pull f${i} (${i} bytes)`));
    const lists = await collectFileLists(logs.entries(dry.id), dry, 100);
    expect(lists?.done.total).toBe(2500);
    expect(lists?.done.shown).toEqual(Array.from({ length: 100 }, (_, i) => `f${i}`));
    expect(await collectFileLists(logs.entries(randomUUID()), dry)).toBeUndefined();
  });
});

describe('composed mails', () => {
  const done = (names: string[], total = names.length) => ({ done: { shown: names, total }, unprotected: { shown: [], total: 0 } });

  it('a finished pull: the files, their count and total size; "would be" for a dry run', () => {
    const t = task({ files: 2, bytes: 1536 });
    const mail = composeTaskMail(t, 'user', done(['raw/a', 'raw/b']), [])!;
    expect(mail.to).toEqual(['ada@test.example']);
    expect(mail.subject).toBe('Glacis: finished pulling /data/lab1/raw');
    expect(mail.text).toContain('The following 2 files were pulled (total size: 1.50 KiB):\n\n  raw/a\n  raw/b');
    expect(mail.text).toContain(`Task: ${t.id}`);

    const dry = composeTaskMail({ ...t, dryRun: true, files: 3 }, 'user', done(['raw/a', 'raw/b'], 3), [])!;
    expect(dry.subject).toBe('Glacis: finished pulling (DRY RUN) /data/lab1/raw');
    expect(dry.text).toContain('The following 3 files would be pulled (total size: 1.50 KiB):\n\n  raw/a\n  raw/b\n  … and 1 more');
    expect(composeTaskMail({ ...t, files: 0 }, 'user', done([]), [])!.text).toContain('No files were pulled.');
  });

  it('who hears about what: users about their tasks, admins about failures and auto-freezes', () => {
    const admins = ['ops@test.example'];
    expect(audiencesFor(task(), admins)).toEqual(['user']);
    expect(audiencesFor(task({ status: 'failed', error: 'boom' }), admins)).toEqual(['user', 'admin']);
    expect(audiencesFor(task({ status: 'cancelled' }), admins)).toEqual(['user']);
    expect(audiencesFor(task({ email: null, origin: 'schedule', type: 'freeze', files: 2 }), admins)).toEqual(['admin']);
    expect(audiencesFor(task({ status: 'failed' }), [])).toEqual(['user']);
    expect(audiencesFor(task({ status: 'pulling' }), admins)).toEqual([]);
    // A record that somehow holds a header-smuggling address is never written to.
    expect(audiencesFor(task({ email: 'ada@test.example\r\nBcc: eve@test.example' }), admins)).toEqual([]);
    expect(composeTaskMail(task(), 'admin', undefined, admins)).toBeUndefined();
  });

  // Issue 15: every auto-freeze mailed "No files were frozen", every night.
  it('auto_freeze_mail: a finished auto-freeze is told always, only when it changed something (default), or never; failures always', () => {
    const admins = ['ops@test.example'];
    const nothing = task({ email: null, origin: 'schedule', type: 'freeze', files: 0, bytes: 0, unprotected: 0 });
    const froze = { ...nothing, files: 3, bytes: 30 };
    const unprotected = { ...nothing, unprotected: 1 };
    const failed = { ...nothing, status: 'failed' as const, error: 'the remote stopped answering' };
    expect(audiencesFor(nothing, admins)).toEqual([]);
    expect(audiencesFor(nothing, admins, { autoFreezeMail: 'changes' })).toEqual([]);
    expect(audiencesFor(froze, admins)).toEqual(['admin']);
    expect(audiencesFor(unprotected, admins)).toEqual(['admin']);
    expect(audiencesFor(nothing, admins, { autoFreezeMail: 'always' })).toEqual(['admin']);
    expect(audiencesFor(froze, admins, { autoFreezeMail: 'never' })).toEqual([]);
    for (const setting of ['always', 'changes', 'never'] as const) expect(audiencesFor(failed, admins, { autoFreezeMail: setting })).toEqual(['admin']);
  });

  it('a failure on the user\'s own input goes to the user only; other failures, and the schedule\'s, to the admins too', () => {
    const admins = ['ops@test.example'];
    const failed = task({ status: 'failed', error: '/data/x does not exist on the remote' });
    expect(audiencesFor(failed, admins, { onUserInput: true })).toEqual(['user']);
    expect(audiencesFor(failed, admins)).toEqual(['user', 'admin']);
    expect(audiencesFor({ ...failed, origin: 'schedule' }, admins, { onUserInput: true })).toEqual(['user', 'admin']);
  });

  it('a failure and a premature end say so; a failed freeze lists what it had deleted', () => {
    const failed = composeTaskMail(task({ type: 'freeze', status: 'failed', error: 'rclone: connection refused' }), 'admin', done(['raw/gone']), ['ops@test.example'])!;
    expect(failed.to).toEqual(['ops@test.example']);
    expect(failed.subject).toBe('Glacis: freeze task on /data/lab1/raw failed');
    expect(failed.text).toContain("A Glacis freeze task on '/data/lab1/raw' (requested by ada@test.example) failed, with the following error:\n\nrclone: connection refused");
    expect(failed.text).toContain('Before it stopped, 1 file had been frozen:\n\n  raw/gone');
    const dead = composeTaskMail(task({ status: 'failed', error: 'terminated prematurely: job stalled more than allowable limit' }), 'user', undefined, [])!;
    expect(dead.text).toContain("Your Glacis pull task on '/data/lab1/raw' was terminated prematurely:\n\njob stalled more than allowable limit");
    expect(dead.text).toContain('Contact the administrator');
    expect(formatSize(5)).toBe('5 B');
    expect(formatSize(3 * 1024 ** 3)).toBe('3.00 GiB');
  });
});

describe('sending', () => {
  const settings = (smtp: SmtpCapture): MailSettings => ({
    server: '127.0.0.1',
    port: smtp.port,
    useSsl: false,
    useTls: false,
    sender: { name: 'Glacis', address: 'glacis@test.example' },
    admins: [],
    suppressSend: false,
    retryDelayMs: 1000,
  });

  it('a path that tries to add a header arrives as one subject line, to the one recipient', async () => {
    const smtp = await startSmtpCapture();
    cleanups.push(() => smtp.stop());
    const mailer = new Mailer(settings(smtp), createLogger('test', () => undefined));
    cleanups.push(async () => mailer.close());
    const evil = task({ path: '/data/lab1/x\r\nBcc: eve@test.example\r\nX-Evil: 1', files: 0 });
    const mail = composeTaskMail(evil, 'user', { done: { shown: [], total: 0 }, unprotected: { shown: [], total: 0 } }, [])!;
    expect(await mailer.send(mail)).toBe('sent');
    const received = await smtp.waitFor(() => true);
    expect(received.rcptTo).toEqual(['ada@test.example']);
    expect(received.parsed.bcc).toBeUndefined();
    expect(received.parsed.headers.has('x-evil')).toBe(false);
    expect(received.parsed.subject).toBe('Glacis: finished pulling /data/lab1/x??Bcc: eve@test.example??X-Evil: 1');
    expect(received.parsed.from?.value).toEqual([{ name: 'Glacis', address: 'glacis@test.example' }]);
    expect(received.parsed.text).toContain("finished pulling the following path: /data/lab1/x??Bcc");
  });

  it('refuses a message with no valid recipient, and reports a server that is down', async () => {
    const smtp = await startSmtpCapture();
    await smtp.stop();
    const mailer = new Mailer(settings(smtp), createLogger('test', () => undefined));
    cleanups.push(async () => mailer.close());
    await expect(mailer.send({ to: ['not an address'], subject: 's', text: 't' })).rejects.toThrow('no valid recipient');
    await expect(mailer.send({ to: ['ada@test.example'], subject: 's', text: 't' })).rejects.toThrow(/ECONNREFUSED|connect/i);
  });
});
