/**
 * TaskStore.stats(): the aggregates behind /metrics, computed by the database: SQLite over a
 * real file and PostgreSQL on the real server of the global setup, the same expectations.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely } from 'kysely';
import { TASK_DURATION_BOUNDS } from '../../src/metrics/index.js';
import { sqliteStoreDialect } from '../../src/store/dialects/sqlite/index.js';
import { openTaskStore, type TaskStatus, type TaskStore, type TaskType } from '../../src/store/index.js';
import type { Database } from '../../src/store/schema.js';
import { taskStatsQuery } from '../../src/store/stats.js';
import { createDatabase } from '../harness/postgres.js';
import { sharedServices } from '../harness/services.js';
import { tempDir } from '../helpers/remotes.js';

const DIALECTS = [
  { name: 'SQLite', url: (): Promise<string> => Promise.resolve(path.join(tempDir('stats'), 'glacis.sqlite')) },
  { name: 'PostgreSQL', url: (): Promise<string> => createDatabase(sharedServices().postgresUrl) },
];

const stores: TaskStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

const T0 = Date.parse('2024-03-01T12:00:00.000Z');
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();

/** Records a task that ran from `start` to `end` seconds after T0 (null: never started or not ended). */
async function record(store: TaskStore, type: TaskType, status: TaskStatus, run: { start: number | null; end: number | null; bytes?: number; dryRun?: boolean }): Promise<void> {
  const { id } = await store.create({ id: randomUUID(), type, path: '/repo/x', dryRun: run.dryRun ?? false, force: false, email: null, origin: 'user' });
  await store.update(id, {
    status,
    started: run.start === null ? null : at(run.start),
    finished: run.end === null ? null : at(run.end),
    ...(run.bytes === undefined ? {} : { bytes: run.bytes }),
  });
}

describe.each(DIALECTS)('$name', (dialect) => {
  it('groups by type and status: counts, bytes of finished real runs, cumulative run-time buckets', async () => {
    const store = await openTaskStore(await dialect.url());
    stores.push(store);
    await record(store, 'pull', 'finished', { start: 0, end: 0.5, bytes: 100 });
    await record(store, 'pull', 'finished', { start: 0, end: 30, bytes: 20 });
    await record(store, 'pull', 'finished', { start: 0, end: 7200, bytes: 3 });
    await record(store, 'pull', 'finished', { start: 0, end: 1, bytes: 5000, dryRun: true });
    await record(store, 'pull', 'failed', { start: 0, end: 60, bytes: 7 });
    await record(store, 'pull', 'waiting', { start: null, end: null });
    await record(store, 'freeze', 'pulling', { start: 0, end: null });
    await record(store, 'freeze', 'cancelled', { start: null, end: 5 });
    await record(store, 'freeze', 'finished', { start: 10, end: 11, bytes: 4096 });

    const groups = await store.stats([1, 60, 3600]);
    const byKey = Object.fromEntries(groups.map((g) => [`${g.type}/${g.status}`, g]));
    expect(Object.keys(byKey).sort()).toEqual(['freeze/cancelled', 'freeze/finished', 'freeze/pulling', 'pull/failed', 'pull/finished', 'pull/waiting']);

    // A dry run is counted and timed, but moved no bytes.
    expect(byKey['pull/finished']).toEqual({ type: 'pull', status: 'finished', count: 4, bytes: 123, timed: 4, durationSeconds: expect.closeTo(7231.5, 3), durationBuckets: [2, 3, 3] });
    // The bucket bound is inclusive: 60 s falls in le="60". Failed tasks moved nothing that counts.
    expect(byKey['pull/failed']).toMatchObject({ count: 1, bytes: 0, timed: 1, durationSeconds: expect.closeTo(60, 3), durationBuckets: [0, 1, 1] });
    // Without both a start and an end there is no run time.
    expect(byKey['pull/waiting']).toMatchObject({ count: 1, bytes: 0, timed: 0, durationSeconds: 0, durationBuckets: [0, 0, 0] });
    expect(byKey['freeze/pulling']).toMatchObject({ count: 1, timed: 0 });
    expect(byKey['freeze/cancelled']).toMatchObject({ count: 1, timed: 0 });
    expect(byKey['freeze/finished']).toMatchObject({ count: 1, bytes: 4096, timed: 1, durationBuckets: [1, 1, 1] });
  });

  it('answers with no groups on an empty table, and with no buckets when asked for none', async () => {
    const store = await openTaskStore(await dialect.url());
    stores.push(store);
    expect(await store.stats([1, 10])).toEqual([]);
    await record(store, 'freeze', 'finished', { start: 0, end: 2, bytes: 1 });
    expect(await store.stats([])).toEqual([{ type: 'freeze', status: 'finished', count: 1, bytes: 1, timed: 1, durationSeconds: expect.closeTo(2, 3), durationBuckets: [] }]);
  });

});

it('reads only the stats index, in group order: no table rows, no sort (SQLite)', async () => {
  const file = path.join(tempDir('stats-plan'), 'glacis.sqlite');
  stores.push(await openTaskStore(file));
  const dialect = sqliteStoreDialect(file);
  const db = new Kysely<Database>({ dialect: dialect.dialect });
  const query = taskStatsQuery(db, dialect, TASK_DURATION_BOUNDS).compile();
  await db.destroy();
  const connection = new BetterSqlite3(file, { readonly: true });
  try {
    const plan = connection.prepare(`explain query plan ${query.sql}`).all(...query.parameters) as Array<{ detail: string }>;
    expect(plan.map((row) => row.detail)).toEqual(['SCAN tasks USING COVERING INDEX tasks_stats']);
  } finally {
    connection.close();
  }
});
