/**
 * `GET /tasks/events/<task_id>`: a task's log as data (what the web page reads instead of
 * parsing lines, where a file named `a: b.txt` read as `a`), over both store dialects: a real
 * freeze on a real remote, its events filtered by kind, paged with `after`, and bad input
 * answered as JSON 4xx.
 */
import { randomUUID } from 'node:crypto';
import { utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { taskEventsSchema, type TaskEventJson } from '../../src/wire/index.js';
import { createDatabase } from '../harness/postgres.js';
import { sharedServices } from '../harness/services.js';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { FIXTURE_FILES, FIXTURE_LINKS, FIXTURE_MTIME, makeRemote, tempDir, writeFixture } from '../helpers/remotes.js';

const DIALECTS = [
  { name: 'SQLite', env: async (): Promise<NodeJS.ProcessEnv> => ({}) },
  { name: 'PostgreSQL', env: async (): Promise<NodeJS.ProcessEnv> => ({ DATABASE_URL: await createDatabase(sharedServices().postgresUrl) }) },
];

/** Names a parser of log lines misreads: `: ` splits `kept <file>: <why>`, `)` ends `(<why>)`. */
const SAFE = 'a: b.txt';
const ONLY_HERE = 'x): only: here.txt';

describe.each(DIALECTS)('GET /tasks/events ($name)', (dialect) => {
  let glacis: TestGlacis;
  let local: string;
  let freezeId: string;

  beforeAll(async () => {
    const remote = await makeRemote('local', { [SAFE]: 'safe on the remote\n' });
    local = tempDir('events');
    writeFixture(local, 'symlink', { [SAFE]: 'safe on the remote\n' });
    // Cold and only here: kept, unprotected.
    writeFileSync(path.join(local, ONLY_HERE), 'not backed up\n');
    utimesSync(path.join(local, ONLY_HERE), FIXTURE_MTIME, FIXTURE_MTIME);
    glacis = await startGlacis({ repos: { [local]: { ...remote.settings, freezable: true, freeze_age: 30 } }, env: await dialect.env() });
    const { body } = await glacis.post('/freeze', { path: local });
    freezeId = body.task as string;
    expect((await glacis.waitForTask(freezeId, 60_000)).status).toBe('finished');
  }, 120_000);
  afterAll(async () => {
    await glacis?.stop();
  });

  const events = async (query: string): Promise<{ status: number; body: any }> => glacis.get(`/tasks/events/${freezeId}${query}`);

  it('answers every event, in order, each file under its whole name, each with its log line', async () => {
    const { status, body } = await events('');
    expect(status).toBe(200);
    const page = taskEventsSchema.parse(body);
    expect(page.more).toBe(false);
    expect(page.last).toBe(page.events.at(-1)!.seq);
    const seqs = page.events.map((e) => e.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(page.events.find((e) => e.kind === 'frozen' && e.path === SAFE)).toMatchObject({ bytes: 19, dry_run: false, text: `froze ${SAFE} (19 bytes)` });
    expect(page.events.filter((e) => e.kind === 'unprotected')).toEqual([
      expect.objectContaining({ path: ONLY_HERE, reason: 'missing-remote', why: 'missing on the remote', text: `cold but not frozen (missing on the remote): ${ONLY_HERE}` }),
    ]);
    const summary = page.events.find((e): e is Extract<TaskEventJson, { of: 'freeze' }> => e.kind === 'summary' && e.of === 'freeze');
    expect(summary).toMatchObject({ dry_run: false, files: Object.keys(FIXTURE_FILES).length + Object.keys(FIXTURE_LINKS).length + 1, unprotected: 1, freeze_age_days: 30, force: false });
    expect(summary!.kept['missing-remote']).toBe(1);
    // The text of each event is its line in the log, in the same order.
    const { body: log } = await glacis.get(`/tasks/log/${freezeId}`);
    const lines = (log.logs as string).split('\n').filter(Boolean).map((line) => line.replace(/^\S+ /, ''));
    expect(page.events.map((e) => e.text)).toEqual(lines);
  });

  it('keeps only the kinds asked for', async () => {
    const { status, body } = await events('?kinds=unprotected,kept');
    expect(status).toBe(200);
    expect(body.events.map((e: TaskEventJson) => [e.kind, 'path' in e ? e.path : undefined])).toEqual([['unprotected', ONLY_HERE]]);
    const frozen = (await events('?kinds=frozen')).body.events as TaskEventJson[];
    expect(frozen.map((e) => e.kind === 'frozen' && e.path).sort()).toEqual([SAFE, ...Object.keys(FIXTURE_FILES), ...Object.keys(FIXTURE_LINKS)].sort());
  });

  it('pages with after and limit: the pages put together are the whole', async () => {
    const whole = (await events('')).body.events as TaskEventJson[];
    const paged: TaskEventJson[] = [];
    let after = 0;
    for (let pages = 0; pages <= whole.length; pages++) {
      const { status, body } = await events(`?after=${after}&limit=2`);
      expect(status).toBe(200);
      expect(body.events.length).toBeLessThanOrEqual(2);
      paged.push(...body.events);
      if (!body.more) break;
      after = body.last;
    }
    expect(paged).toEqual(whole);
    // Past the end: nothing, and last stays where it was asked.
    const lastSeq = whole.at(-1)!.seq;
    expect((await events(`?after=${lastSeq}`)).body).toEqual({ events: [], last: lastSeq, more: false });
  });

  it('answers 400 JSON for a bad kind, limit or after, naming what is allowed', async () => {
    expect(await events('?kinds=kept,bogus')).toEqual({
      status: 400,
      body: { error: 'Invalid "kinds": expected event kinds, comma-separated, among message, placed, frozen, pushed, held, kept, unprotected, summary' },
    });
    expect(await events('?limit=0')).toEqual({ status: 400, body: { error: 'Invalid "limit": expected a whole number from 1 to 5000' } });
    expect(await events('?limit=5001')).toEqual({ status: 400, body: { error: 'Invalid "limit": expected a whole number from 1 to 5000' } });
    expect((await events('?after=-1')).status).toBe(400);
    expect(await events('?since=3')).toEqual({ status: 400, body: { error: 'Unknown field: "since"' } });
  });

  it('answers 404 JSON for an unknown task, well-formed or not', async () => {
    const unknown = randomUUID();
    expect(await glacis.get(`/tasks/events/${unknown}`)).toEqual({ status: 404, body: { error: `Task ${unknown} not found. Maybe it is too old.` } });
    expect((await glacis.get('/tasks/events/not-a-task')).status).toBe(404);
  });
});
