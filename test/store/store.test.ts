/**
 * The task store and the task logs, run unchanged over both dialects (Kysely's own style: one
 * parameterised suite): a SQLite file, and a fresh database on the real PostgreSQL server the
 * global setup starts (test/harness/postgres.ts).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Kysely } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { postgresStoreDialect } from '../../src/store/dialects/postgres/index.js';
import { sqliteStoreDialect } from '../../src/store/dialects/sqlite/index.js';
import { openTaskStore, type NewTask, type TaskStore } from '../../src/store/index.js';
import type { Database } from '../../src/store/schema.js';
import { noneKept } from '../../src/freeze/summary.js';
import type { TaskEvent, TaskEventKind } from '../../src/store/task-events.js';
import { TaskLogs, isTaskId, type LoggedEvent, type TaskLogLimits } from '../../src/store/task-logs.js';
import { createDatabase } from '../harness/postgres.js';
import { sharedServices } from '../harness/services.js';

const stores: TaskStore[] = [];
const dbs: Array<Kysely<Database>> = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  await Promise.all(dbs.splice(0).map((db) => db.destroy()));
});

interface DialectCase {
  readonly name: string;
  /** A new, empty database's URL. */
  url(): Promise<string>;
  /** A second connection to it, for looking under the store (counting statements, column types). */
  connect(url: string, onQuery?: () => void): Kysely<Database>;
}

const DIALECTS: readonly DialectCase[] = [
  {
    name: 'SQLite',
    url: () => Promise.resolve(path.join(mkdtempSync(path.join(tmpdir(), 'glacis-store-')), 'sub', 'glacis.sqlite')),
    connect: (url, onQuery) => new Kysely<Database>({ dialect: sqliteStoreDialect(url).dialect, log: () => onQuery?.() }),
  },
  {
    name: 'PostgreSQL',
    url: () => createDatabase(sharedServices().postgresUrl),
    connect: (url, onQuery) => new Kysely<Database>({ dialect: postgresStoreDialect(url).dialect, log: () => onQuery?.() }),
  },
];

function newTask(p: string, overrides: Partial<NewTask> = {}): NewTask {
  return { id: randomUUID(), type: 'pull', path: p, dryRun: false, force: false, email: null, origin: 'user', ...overrides };
}

const GiB = 1024 ** 3;

describe.each(DIALECTS)('task store ($name)', (dialect) => {
  async function freshStore(): Promise<{ store: TaskStore; url: string }> {
    const url = await dialect.url();
    const store = await openTaskStore(url);
    stores.push(store);
    return { store, url };
  }

  it('creates a waiting task and reads it back', async () => {
    const { store } = await freshStore();
    const created = await store.create(newTask('/repo/a', { email: 'a@b.org', dryRun: true }));
    expect(created).toMatchObject({ status: 'waiting', dryRun: true, force: false, email: 'a@b.org', started: null, files: null });
    expect(created.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(await store.get(created.id)).toEqual(created);
    expect(await store.get(randomUUID())).toBeUndefined();
  });

  it('transitions only from the expected statuses', async () => {
    const { store } = await freshStore();
    const { id } = await store.create(newTask('/repo/a'));
    await store.update(id, { status: 'cancelled' });
    expect(await store.transition(id, ['waiting', 'started'], { status: 'started' })).toBeUndefined();
    expect((await store.get(id))?.status).toBe('cancelled');
  });

  it('lists with filters and paging, path prefix by segment', async () => {
    const { store } = await freshStore();
    for (const p of ['/repo/ab', '/repo/ab/c', '/repo/abc', '/repo/x', '/repo/ab-c', '/repo/ab.c']) await store.create(newTask(p));
    await store.create(newTask('/repo/ab/f', { type: 'freeze' }));
    expect((await store.list({ pathPrefix: '/repo/ab' })).map((t) => t.path)).toEqual(['/repo/ab', '/repo/ab/c', '/repo/ab/f']);
    expect((await store.list({ type: 'freeze' })).map((t) => t.path)).toEqual(['/repo/ab/f']);
    expect((await store.list({ limit: 2, offset: 1 })).map((t) => t.path)).toEqual(['/repo/ab/c', '/repo/abc']);
  });

  it('keeps records across reopening (migrations run once)', async () => {
    const { store, url } = await freshStore();
    const { id } = await store.create(newTask('/repo/a'));
    await store.close();
    stores.pop();
    const again = await openTaskStore(url);
    stores.push(again);
    expect((await again.get(id))?.path).toBe('/repo/a');
    expect(await again.delete(id)).toBe(true);
    expect(await again.delete(id)).toBe(false);
  });

  it('migrates once when several processes open a new database at the same time', async () => {
    const url = await dialect.url();
    const opened = await Promise.all([openTaskStore(url), openTaskStore(url), openTaskStore(url)]);
    stores.push(...opened);
    const { id } = await opened[0]!.create(newTask('/repo/a'));
    expect((await opened[2]!.get(id))?.id).toBe(id);
  });

  it('holds 64-bit counters as numbers: a 5 GiB pull, and its sum in the aggregates', async () => {
    const { store } = await freshStore();
    const first = await store.create(newTask('/repo/big'));
    const second = await store.create(newTask('/repo/big2'));
    for (const { id } of [first, second]) {
      await store.update(id, { status: 'finished', started: '2024-03-01T12:00:00.000Z', finished: '2024-03-01T12:00:02.500Z', files: 3_000_000_000, bytes: 5 * GiB });
    }
    const read = await store.get(first.id);
    expect(read).toMatchObject({ files: 3_000_000_000, bytes: 5 * GiB, started: '2024-03-01T12:00:00.000Z', finished: '2024-03-01T12:00:02.500Z' });
    expect(typeof read?.bytes).toBe('number');
    const [group] = await store.stats([1, 3]);
    expect(group).toEqual({ type: 'pull', status: 'finished', count: 2, bytes: 10 * GiB, timed: 2, durationSeconds: expect.closeTo(5, 3), durationBuckets: [0, 2] });
    for (const value of [group!.count, group!.bytes, group!.timed, group!.durationSeconds]) expect(typeof value).toBe('number');
  });

  it('deletes ended tasks that finished before the cutoff, never unfinished ones', async () => {
    const { store } = await freshStore();
    const old = await store.create(newTask('/repo/old'));
    await store.update(old.id, { status: 'finished', finished: '2020-01-01T00:00:00.000Z' });
    const recent = await store.create(newTask('/repo/recent'));
    await store.update(recent.id, { status: 'failed', finished: '2030-01-01T00:00:00.000Z' });
    const running = await store.create(newTask('/repo/running'));
    await store.update(running.id, { status: 'pulling', finished: '2020-01-01T00:00:00.000Z' });
    expect(await store.deleteEndedBefore('2025-01-01T00:00:00.000Z', 10)).toEqual([old.id]);
    expect((await store.list()).map((t) => t.id).sort()).toEqual([recent.id, running.id].sort());
  });

  it('keeps a kind\'s JSON result (objects, arrays, strings, null), null until one is stored', async () => {
    const { store, url } = await freshStore();
    const { id } = await store.create(newTask('/repo/a'));
    expect((await store.get(id))?.result).toBeNull();
    const result = { files: [{ path: 'a/b.txt', bytes: 5 * GiB }], lost: [], note: 'ünïcode "quoted"', ok: true, ratio: 0.5, none: null };
    expect((await store.transition(id, ['waiting'], { status: 'finished', result }))?.result).toEqual(result);
    expect((await store.get(id))?.result).toEqual(result);
    // An array stays an array (pg would otherwise send a JS array as a PostgreSQL array).
    await store.update(id, { result: ['x', 1] });
    expect((await store.get(id))?.result).toEqual(['x', 1]);
    // A bare string stays a string (not read back as JSON text to parse again).
    await store.update(id, { result: '{"not": "an object"}' });
    expect((await store.get(id))?.result).toBe('{"not": "an object"}');
    await store.update(id, { result: null });
    expect((await store.get(id))?.result).toBeNull();
    const db = dialect.connect(url);
    dbs.push(db);
    await store.update(id, { result: { n: 1 } });
    const row = await db.selectFrom('tasks').select('result').where('id', '=', id).executeTakeFirstOrThrow();
    // SQLite keeps JSON text; PostgreSQL a jsonb value (pg parses it).
    expect(dialect.name === 'SQLite' ? JSON.parse(row.result as string) : row.result).toEqual({ n: 1 });
  });

  it('answers ping, and refuses after close', async () => {
    const { store } = await freshStore();
    await store.ping();
    await store.close();
    stores.pop();
    await expect(store.ping()).rejects.toThrow();
  });
});

describe.each(DIALECTS)('task logs ($name)', (dialect) => {
  async function freshLogs(limits: Partial<TaskLogLimits> = {}): Promise<{ logs: TaskLogs; url: string; store: TaskStore }> {
    const url = await dialect.url();
    const store = await openTaskStore(url);
    stores.push(store);
    return { logs: Object.keys(limits).length === 0 ? store.logs : new TaskLogs(own(url), limits), url, store };
  }

  function own(url: string, onQuery?: () => void): Kysely<Database> {
    const db = dialect.connect(url, onQuery);
    dbs.push(db);
    return db;
  }

  it('appends timestamped lines and reads them back as text; refuses non-uuid names', async () => {
    const { logs } = await freshLogs();
    const id = randomUUID();
    expect(await logs.read(id)).toBeUndefined();
    const writer = await logs.open(id);
    writer.line('first');
    writer.line('second\nwith a newline');
    await writer.close();
    const text = (await logs.read(id))!;
    expect(text).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z first\n\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z second\n {4}with a newline\n$/);
    const entries: string[] = [];
    for await (const entry of logs.entries(id)) entries.push(entry);
    expect(entries).toEqual(['first', 'second\nwith a newline']);
    await logs.remove(id);
    expect(await logs.read(id)).toBeUndefined();
    expect(isTaskId('../../etc/passwd')).toBe(false);
    await expect(logs.read('../../etc/passwd')).rejects.toThrow(/not a task id/);
  });

  it('a task run again appends to its log', async () => {
    const { logs } = await freshLogs();
    const id = randomUUID();
    for (const text of ['attempt 1', 'attempt 2']) {
      const writer = await logs.open(id);
      writer.line(text);
      await writer.close();
    }
    expect((await logs.read(id))!.split('\n').filter(Boolean).map((line) => line.split(' ').slice(1).join(' '))).toEqual(['attempt 1', 'attempt 2']);
  });

  it('keeps every line of two attempts writing at once (a new attempt opened while the earlier one still wrote)', async () => {
    // Both writers once numbered their lines from the same max(seq): the later insert hit
    // the primary key and its batch was dropped, so the earlier attempt's "stopped" line
    // vanished (test/safety/redis.test.ts found it).
    const { url } = await freshLogs();
    const logs = new TaskLogs(own(url), { batchLines: 3 });
    const id = randomUUID();
    const earlier = await logs.open(id);
    earlier.line('attempt 1 started');
    await earlier.flush();
    const later = await logs.open(id);
    for (let i = 0; i < 10; i++) {
      earlier.line(`attempt 1 line ${i}`);
      later.line(`attempt 2 line ${i}`);
    }
    earlier.line('attempt 1 stopped');
    await Promise.all([earlier.close(), later.close()]);
    const entries: string[] = [];
    for await (const entry of logs.entries(id)) entries.push(entry);
    expect(entries.filter((entry) => entry.startsWith('attempt 1'))).toEqual(['attempt 1 started', ...Array.from({ length: 10 }, (_, i) => `attempt 1 line ${i}`), 'attempt 1 stopped']);
    expect(entries.filter((entry) => entry.startsWith('attempt 2'))).toEqual(Array.from({ length: 10 }, (_, i) => `attempt 2 line ${i}`));
    // No gap reads as lines cut by the cap.
    expect(await logs.read(id)).not.toMatch(/cut here/);
  });

  it('writes in batches: 20,000 lines take a few dozen statements, not 20,000', async () => {
    const { url } = await freshLogs();
    let statements = 0;
    const logs = new TaskLogs(own(url, () => (statements += 1)));
    const id = randomUUID();
    const writer = await logs.open(id);
    for (let i = 0; i < 20_000; i++) writer.line(`pulled raw/file-${i}`);
    await writer.close();
    // 500 lines a batch: 40 inserts, plus the trims of the middle past the cap and the open.
    expect(statements).toBeLessThan(60);
    const entries: string[] = [];
    for await (const entry of logs.entries(id)) entries.push(entry);
    expect(entries.length).toBe(20_000);
    expect(entries[19_999]).toBe('pulled raw/file-19999');
  });

  it('writes what waits in the buffer after a short delay, without close', async () => {
    const { url } = await freshLogs();
    const logs = new TaskLogs(own(url), { flushMs: 50, batchLines: 1000 });
    const id = randomUUID();
    const writer = await logs.open(id);
    writer.line('still running');
    const deadline = Date.now() + 30_000;
    while ((await logs.read(id)) === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await logs.read(id)).toMatch(/ still running\n$/);
    await writer.close();
  });

  it('caps a log: keeps its head and tail, deletes the middle as it goes, and says what was cut', async () => {
    const { url } = await freshLogs();
    const db = own(url);
    const logs = new TaskLogs(db, { headLines: 3, tailLines: 4, batchLines: 2 });
    const id = randomUUID();
    const writer = await logs.open(id);
    let most = 0;
    for (let i = 1; i <= 40; i++) {
      writer.line(`line ${i}`);
      if (i % 5 === 0) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        const { count } = await db.selectFrom('task_logs').select((eb) => eb.fn.countAll<number>().as('count')).where('task_id', '=', id).executeTakeFirstOrThrow();
        most = Math.max(most, Number(count));
      }
    }
    await writer.close();
    // Never more than the head, two tails and a batch in the table while the task runs.
    expect(most).toBeLessThanOrEqual(3 + 2 * 4 + 2);
    const lines = (await logs.read(id))!.trimEnd().split('\n');
    expect(lines.map((line) => line.replace(/^\d{4}-\S+ /, ''))).toEqual([
      'line 1', 'line 2', 'line 3',
      "[… 33 lines cut here: a task's log keeps its first and last lines]",
      'line 37', 'line 38', 'line 39', 'line 40',
    ]);
    expect(lines[3]).toMatch(/^\[… 33 lines cut/);
  });

  it('cuts a very long line, saying so', async () => {
    const { logs } = await freshLogs();
    const id = randomUUID();
    const writer = await logs.open(id);
    writer.line('x'.repeat(10_000));
    await writer.close();
    expect(await logs.read(id)).toMatch(/ x{8192} \[… 1808 characters cut\]\n$/);
  });
});

describe.each(DIALECTS)('task events ($name)', (dialect) => {
  async function fresh(limits: Partial<TaskLogLimits> = {}, onQuery?: () => void): Promise<{ logs: TaskLogs; db: Kysely<Database> }> {
    const url = await dialect.url();
    stores.push(await openTaskStore(url));
    const db = dialect.connect(url, onQuery);
    dbs.push(db);
    return { logs: new TaskLogs(db, limits), db };
  }

  async function collect(logs: TaskLogs, id: string, kinds?: readonly TaskEventKind[]): Promise<LoggedEvent[]> {
    const out: LoggedEvent[] = [];
    for await (const logged of logs.events(id, kinds ? { kinds } : {})) out.push(logged);
    return out;
  }

  const kept = { ...noneKept(), recent: 2, 'missing-remote': 1, changed: 1 };
  /** Each event, and the line the workers wrote for it before events existed (their templates, verbatim). */
  const RENDERED: ReadonlyArray<readonly [TaskEvent, string]> = [
    [{ kind: 'message', text: 'pull of /data/lab1/raw started' }, 'pull of /data/lab1/raw started'],
    [{ kind: 'placed', path: 'raw/a.txt', bytes: 12 }, 'pulled raw/a.txt'],
    [{ kind: 'placed', path: 'raw/b.txt', bytes: 7, dryRun: true }, 'would pull raw/b.txt (7 bytes)'],
    [{ kind: 'placed', path: 'raw/no-size', bytes: -1, dryRun: true }, 'would pull raw/no-size (-1 bytes)'],
    [{ kind: 'kept', path: 'raw/c.txt', reason: 'appeared-locally' }, 'kept the local raw/c.txt: it appeared during the pull'],
    [{ kind: 'kept', path: 'raw/d', reason: 'outside-repository' }, 'skipped raw/d: its directory leads outside the repository'],
    [{ kind: 'summary', of: 'pull', dryRun: false, files: 1, bytes: 12, kept: 1 }, 'pulled 1 file, 12 bytes; 1 kept as they were locally'],
    [{ kind: 'summary', of: 'pull', dryRun: false, files: 2, bytes: 1, kept: 0 }, 'pulled 2 files, 1 byte'],
    [{ kind: 'summary', of: 'pull', dryRun: true, files: 3, bytes: 30, kept: 0 }, 'dry run: would pull 3 files, 30 bytes'],
    [{ kind: 'frozen', path: 'raw/e.txt', bytes: 5 }, 'froze raw/e.txt (5 bytes)'],
    [{ kind: 'frozen', path: 'raw/e2.txt', bytes: 5, dryRun: false }, 'froze raw/e2.txt (5 bytes)'],
    [{ kind: 'frozen', path: 'raw/f.txt', bytes: 6, dryRun: true }, 'would freeze raw/f.txt (6 bytes)'],
    [{ kind: 'kept', path: 'raw/g', reason: 'changed-remote' }, 'kept raw/g: the remote copy changed or vanished since it was listed'],
    [{ kind: 'kept', path: 'raw/h', reason: 'changed-locally' }, 'kept raw/h: it was read or changed while the freeze ran'],
    [{ kind: 'unprotected', path: 'raw/i', reason: 'missing-remote' }, 'cold but not frozen (missing on the remote): raw/i'],
    [{ kind: 'unprotected', path: 'raw/j', reason: 'differs' }, 'cold but not frozen (the remote copy differs): raw/j'],
    [{ kind: 'unprotected', path: 'raw/k', reason: 'newer-locally' }, 'cold but not frozen (changed locally since the last backup): raw/k'],
    [{ kind: 'unprotected', path: 'raw/l', reason: 'unverifiable' }, 'cold but not frozen (no hash to compare with the remote): raw/l'],
    [{ kind: 'unprotected', path: 'raw/m', reason: 'ambiguous' }, 'cold but not frozen (the remote holds two entries for it): raw/m'],
    [
      { kind: 'summary', of: 'freeze', dryRun: false, files: 2, bytes: 11, kept, unprotected: 1, freezeAgeDays: 180, force: false },
      'froze 2 files, 11 bytes; kept 4 files: 2 read within freeze_age (180 days), 1 missing on the remote, 1 read or changed during the run',
    ],
    [{ kind: 'pushed', path: 'raw/n.txt', bytes: 8, replaced: false, dryRun: true }, 'would push raw/n.txt'],
    [{ kind: 'pushed', path: 'raw/o.txt', bytes: 9, replaced: false }, 'pushed raw/o.txt'],
    [{ kind: 'pushed', path: 'raw/p.txt', bytes: 10, replaced: true }, 'pushed raw/p.txt (the remote copy kept as a version)'],
    [{ kind: 'held', path: 'raw/q.bin', reason: 'shrank', bytes: 1000, remoteBytes: 3145728 }, 'held raw/q.bin: 1000 bytes, the remote copy 3145728 bytes'],
    [{ kind: 'held', path: 'raw/r.txt', reason: 'emptied', bytes: 0, remoteBytes: 9 }, 'held raw/r.txt: empty, the remote copy has 9 bytes'],
    [{ kind: 'message', text: 'failed: the remote stopped answering', level: 'error' }, 'failed: the remote stopped answering'],
  ];

  it('renders each event as the line the workers wrote before, and gives every event back whole, with its level', async () => {
    const { logs } = await fresh();
    const id = randomUUID();
    const writer = await logs.open(id);
    for (const [event] of RENDERED) writer.event(event);
    await writer.close();
    const text = (await logs.read(id))!;
    expect(text.split('\n').slice(0, -1).map((line) => line.replace(/^\d{4}-\d\d-\d\dT\S+Z /, ''))).toEqual(RENDERED.map(([, line]) => line));
    const events = await collect(logs, id);
    expect(events.map((e) => e.event)).toEqual(RENDERED.map(([event]) => event));
    expect(events.map((e) => e.level)).toEqual(RENDERED.map(([event]) => (event.kind === 'message' && event.level) || 'info'));
    expect(events.every((e) => /^\d{4}-\d\d-\d\dT/.test(e.time))).toBe(true);
  });

  it('reads only the kinds asked for, page by page across a long log; a line written before events is a message', async () => {
    const { logs, db } = await fresh({ headLines: 100_000, tailLines: 100_000 });
    const id = randomUUID();
    // As migration 0005 wrote a line: kind `line`, no data.
    await db.insertInto('task_logs').values({ task_id: id, seq: 1, time: new Date().toISOString(), level: 'info', kind: 'line', message: 'froze old.txt (1 bytes)', data: null }).execute();
    const writer = await logs.open(id);
    // More than a read page (5,000 rows), the files among messages.
    for (let i = 0; i < 12_000; i++) writer.event(i % 3 === 0 ? { kind: 'frozen', path: `f${i}`, bytes: i } : { kind: 'message', text: `note ${i}` });
    await writer.close();
    const frozen = await collect(logs, id, ['frozen']);
    expect(frozen).toHaveLength(4_000);
    expect(frozen.at(-1)!.event).toEqual({ kind: 'frozen', path: 'f11997', bytes: 11997 });
    const messages = await collect(logs, id, ['message']);
    expect(messages).toHaveLength(8_001);
    // The old line is its text, not a file: only its own text could say otherwise.
    expect(messages[0]!.event).toEqual({ kind: 'message', text: 'froze old.txt (1 bytes)' });
    expect(await collect(logs, id, [])).toEqual([]);
    expect(await logs.exists(id)).toBe(true);
    expect(await logs.exists(randomUUID())).toBe(false);
  });

  it('a row whose fields do not read back as its kind is its text, as a message, never a file', async () => {
    const { logs, db } = await fresh();
    const id = randomUUID();
    const row = { task_id: id, time: new Date().toISOString(), level: 'warn', message: 'froze x (1 bytes)' };
    await db
      .insertInto('task_logs')
      .values([
        { ...row, seq: 1, kind: 'frozen', data: '{not json' },
        { ...row, seq: 2, kind: 'frozen', data: JSON.stringify({ path: 3, bytes: 1 }) },
        { ...row, seq: 3, kind: 'unprotected', data: JSON.stringify({ path: 'x', reason: 'no such reason' }) },
        { ...row, seq: 4, kind: 'some later kind', data: '{}' },
      ])
      .execute();
    const events = await collect(logs, id);
    expect(events.map((e) => e.event)).toEqual(Array.from({ length: 4 }, () => ({ kind: 'message', text: 'froze x (1 bytes)', level: 'warn' })));
    expect(await collect(logs, id, ['frozen', 'unprotected'])).toEqual([]);
  });

  it('batches events as lines: 20,000 events take a few dozen statements', async () => {
    let statements = 0;
    const { logs } = await fresh({}, () => (statements += 1));
    const id = randomUUID();
    const writer = await logs.open(id);
    for (let i = 0; i < 20_000; i++) writer.event({ kind: 'placed', path: `raw/file-${i}`, bytes: i });
    await writer.close();
    expect(statements).toBeLessThan(60);
    expect((await collect(logs, id, ['placed'])).length).toBe(20_000);
  });

  it('the cap keeps the head and the tail of the events, and the text says what was cut', async () => {
    const { logs } = await fresh({ headLines: 3, tailLines: 4, batchLines: 2 });
    const id = randomUUID();
    const writer = await logs.open(id);
    for (let i = 1; i <= 40; i++) writer.event({ kind: 'frozen', path: `f${i}`, bytes: 1 });
    writer.event({ kind: 'summary', of: 'freeze', dryRun: false, files: 40, bytes: 40, kept: noneKept(), unprotected: 0, freezeAgeDays: 1, force: true });
    await writer.close();
    const events = (await collect(logs, id)).map((e) => e.event);
    expect(events.map((e) => ('path' in e ? e.path : e.kind))).toEqual(['f1', 'f2', 'f3', 'f38', 'f39', 'f40', 'summary']);
    expect((await logs.read(id))!.replace(/^\d{4}-\S+ /gm, '')).toBe(
      "froze f1 (1 bytes)\nfroze f2 (1 bytes)\nfroze f3 (1 bytes)\n[… 34 lines cut here: a task's log keeps its first and last lines]\n" +
        'froze f38 (1 bytes)\nfroze f39 (1 bytes)\nfroze f40 (1 bytes)\nfroze 40 files, 40 bytes\n',
    );
  });

  it('cuts a very long path, in the text and in the event alike', async () => {
    const { logs } = await fresh();
    const id = randomUUID();
    const writer = await logs.open(id);
    writer.event({ kind: 'placed', path: 'p'.repeat(10_000), bytes: 1 });
    await writer.close();
    const [logged] = await collect(logs, id);
    expect(logged!.event).toEqual({ kind: 'placed', path: `${'p'.repeat(8192)} [… 1808 characters cut]`, bytes: 1 });
  });
});

describe('PostgreSQL specifics', () => {
  it('uses real booleans, timestamps with time zone and 64-bit integers', async () => {
    const url = await createDatabase(sharedServices().postgresUrl);
    stores.push(await openTaskStore(url));
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ table_name: string; column_name: string; data_type: string }>(
        "select table_name, column_name, data_type from information_schema.columns where table_name in ('tasks', 'task_logs')",
      );
      const types = Object.fromEntries(rows.map((row) => [`${row.table_name}.${row.column_name}`, row.data_type]));
      expect(types).toMatchObject({
        'tasks.dry_run': 'boolean',
        'tasks.force': 'boolean',
        'tasks.created': 'timestamp with time zone',
        'tasks.started': 'timestamp with time zone',
        'tasks.finished': 'timestamp with time zone',
        'tasks.bytes': 'bigint',
        'tasks.files': 'bigint',
        'tasks.unprotected': 'bigint',
        'tasks.seq': 'bigint',
        'task_logs.time': 'timestamp with time zone',
        'task_logs.seq': 'bigint',
        'task_logs.data': 'text',
      });
    } finally {
      await client.end();
    }
  });

  it('lists a subtree in byte order whatever the database locale', async () => {
    const admin = new pg.Client({ connectionString: sharedServices().postgresUrl });
    await admin.connect();
    const name = `glacis_locale_${randomUUID().slice(0, 8)}`;
    try {
      // ICU's English order is not byte order: it ignores punctuation first, so '/r/a-b' would
      // fall inside the range ['/r/a/', '/r/a0') without the column's own "C" collation.
      await admin.query(`create database ${name} template template0 locale_provider icu icu_locale 'en-US' locale 'C.UTF-8'`);
    } finally {
      await admin.end();
    }
    const url = new URL(sharedServices().postgresUrl);
    url.pathname = `/${name}`;
    const store = await openTaskStore(url.toString());
    stores.push(store);
    for (const p of ['/r/a', '/r/a/b', '/r/a-b', '/r/a.b', '/r/a0', '/r/a/z']) await store.create(newTask(p));
    expect((await store.list({ pathPrefix: '/r/a' })).map((t) => t.path)).toEqual(['/r/a', '/r/a/b', '/r/a/z']);
  });

  it('never shows the password of DATABASE_URL in an error', async () => {
    const url = new URL(sharedServices().postgresUrl);
    url.password = 'Wrong-Secret-42';
    const error = await openTaskStore(url.toString()).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeInstanceOf(Error);
    expect(`${error!.message}\n${error!.stack ?? ''}`).not.toContain('Wrong-Secret-42');
    expect(`${error!.message}\n${error!.stack ?? ''}`).not.toContain(new URL(sharedServices().postgresUrl).password);
  });
});
