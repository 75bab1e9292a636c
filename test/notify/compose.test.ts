/**
 * The pieces of a notification mail without a running Glacis: the file lists read back
 * from a real task log's events, the composed text, and the mail repository sending it to a real
 * SMTP server (where a header injection attempt must arrive as harmless text).
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { MailSettings } from '../../src/config/types.js';
import { createLogger } from '../../src/log/index.js';
import { audiencesFor, composeTaskMail } from '../../src/notify/compose.js';
import { formatSize } from '../../src/text/size.js';
import { readFileLists } from '../../src/notify/file-list.js';
import { Mailer } from '../../src/notify/mailer.js';
import path from 'node:path';
import { openTaskStore } from '../../src/store/index.js';
import type { Task, TaskStore } from '../../src/store/types.js';
import { Kysely } from 'kysely';
import { noneKept } from '../../src/freeze/summary.js';
import { sqliteStoreDialect } from '../../src/store/dialects/sqlite/index.js';
import type { Database } from '../../src/store/schema.js';
import type { TaskEvent } from '../../src/store/task-events.js';
import { TaskLogs } from '../../src/store/task-logs.js';
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

async function writeLog(logs: TaskLogs, taskId: string, events: readonly TaskEvent[]): Promise<void> {
  const log = await logs.open(taskId);
  for (const event of events) log.event(event);
  await log.close();
}

const message = (text: string): TaskEvent => ({ kind: 'message', text });

describe('file lists from the task events', () => {
  it('lists the files of frozen and unprotected events, names with line breaks whole; messages and summaries are not files', async () => {
    const logs = await freshLogs();
    const freeze = task({ type: 'freeze' });
    await writeLog(logs, freeze.id, [
      message('freeze of /data/lab1/raw started'),
      { kind: 'frozen', path: 'raw/a.txt', bytes: 12 },
      { kind: 'frozen', path: 'raw/two\nlines.txt', bytes: 3 },
      { kind: 'unprotected', path: 'raw/local-only.txt', reason: 'missing-remote' },
      { kind: 'kept', path: 'raw/b.txt', reason: 'changed-locally' },
      // A message that reads like a file line, as a note or an rclone line may: the old
      // regular expressions over the text listed it as frozen and as unprotected.
      message('froze raw/not-a-file.txt (1 bytes)'),
      message('cold but not frozen (missing on the remote): raw/not-a-file-either'),
      { kind: 'summary', of: 'freeze', dryRun: false, files: 2, bytes: 15, kept: { ...noneKept(), 'missing-remote': 1, changed: 1 }, unprotected: 1, freezeAgeDays: 180, force: false },
      message('finished: 2 files, 15 bytes, 1 cold files unprotected'),
    ]);
    const lists = await readFileLists(logs, freeze.id, freeze);
    expect(lists).toEqual({
      done: { shown: ['raw/a.txt', 'raw/two\nlines.txt'], total: 2 },
      unprotected: { shown: ['raw/local-only.txt (missing on the remote)'], total: 1 },
    });
    // The text is the log's as it always was.
    expect((await logs.read(freeze.id))!.replace(/^\S+ /gm, '')).toContain(
      'froze raw/a.txt (12 bytes)\nfroze raw/two\n    lines.txt (3 bytes)\ncold but not frozen (missing on the remote): raw/local-only.txt\nkept raw/b.txt: it was read or changed while the freeze ran\n',
    );
  });

  it('a pulled file named like the summary line is listed (the old PULL_SUMMARY expression dropped it)', async () => {
    const logs = await freshLogs();
    const pull = task();
    await writeLog(logs, pull.id, [
      { kind: 'placed', path: 'raw/x', bytes: 5 },
      { kind: 'placed', path: '1 file, 5 bytes', bytes: 3 },
      { kind: 'placed', path: 'raw/y (unprotected: 3 bytes)', bytes: 4 },
      { kind: 'summary', of: 'pull', dryRun: false, files: 3, bytes: 12, kept: 0 },
    ]);
    expect((await readFileLists(logs, pull.id, pull))?.done).toEqual({ shown: ['raw/x', '1 file, 5 bytes', 'raw/y (unprotected: 3 bytes)'], total: 3 });
    expect((await logs.read(pull.id))!.replace(/^\S+ /gm, '')).toBe('pulled raw/x\npulled 1 file, 5 bytes\npulled raw/y (unprotected: 3 bytes)\npulled 3 files, 12 bytes\n');
  });

  it("counts the task's recorded totals when its log was cut in the middle", async () => {
    const file = path.join(tempDir('mail-logs'), 'glacis.sqlite');
    stores.push(await openTaskStore(file));
    const db = new Kysely<Database>({ dialect: sqliteStoreDialect(file).dialect });
    cleanups.push(() => db.destroy());
    const dry = task({ type: 'freeze', dryRun: true, files: 1000, unprotected: 40 });
    // The store's cap, made small: the middle 979 events are deleted.
    const capped = new TaskLogs(db, { headLines: 10, tailLines: 11, batchLines: 7 });
    await writeLog(capped, dry.id, [
      ...Array.from({ length: 1000 }, (_, i): TaskEvent => ({ kind: 'frozen', path: `f${i}`, bytes: 1, dryRun: true })),
      { kind: 'unprotected', path: 'only-local', reason: 'differs' },
    ]);
    const lists = await readFileLists(capped, dry.id, dry, 5);
    expect(lists?.done).toEqual({ shown: ['f0', 'f1', 'f2', 'f3', 'f4'], total: 1000 });
    expect(lists?.unprotected).toEqual({ shown: ['only-local (the remote copy differs)'], total: 40 });
  });

  it('cuts a long list at the limit and counts the rest; a missing log gives no list, a log with no file an empty one', async () => {
    const logs = await freshLogs();
    const dry = task({ dryRun: true });
    await writeLog(logs, dry.id, Array.from({ length: 2500 }, (_, i): TaskEvent => ({ kind: 'placed', path: `f${i}`, bytes: i, dryRun: true })));
    const lists = await readFileLists(logs, dry.id, dry, 100);
    expect(lists?.done.total).toBe(2500);
    expect(lists?.done.shown).toEqual(Array.from({ length: 100 }, (_, i) => `f${i}`));
    expect(await readFileLists(logs, randomUUID(), dry)).toBeUndefined();
    const nothing = task();
    await writeLog(logs, nothing.id, [message('nothing to pull: every file is present locally')]);
    expect(await readFileLists(logs, nothing.id, nothing)).toEqual({ done: { shown: [], total: 0 }, unprotected: { shown: [], total: 0 } });
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
