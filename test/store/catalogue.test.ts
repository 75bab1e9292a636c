/**
 * The catalogue of frozen files (issue 16 §1), run unchanged over both dialects as
 * test/store/store.test.ts does: upsert, removal, subtree streaming in path order across
 * pages, totals, and sizes past 2^32.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { KyselyFrozenCatalogue, type FrozenFile } from '../../src/store/catalogue.js';
import { postgresStoreDialect } from '../../src/store/dialects/postgres/index.js';
import { sqliteStoreDialect } from '../../src/store/dialects/sqlite/index.js';
import { openTaskStore, type TaskStore } from '../../src/store/index.js';
import type { Database } from '../../src/store/schema.js';
import { createDatabase } from '../harness/postgres.js';
import { sharedServices } from '../harness/services.js';

const stores: TaskStore[] = [];
const dbs: Array<Kysely<Database>> = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  await Promise.all(dbs.splice(0).map((db) => db.destroy()));
});

const DIALECTS = [
  {
    name: 'SQLite',
    url: () => Promise.resolve(path.join(mkdtempSync(path.join(tmpdir(), 'glacis-catalogue-')), 'glacis.sqlite')),
    connect: (url: string) => new Kysely<Database>({ dialect: sqliteStoreDialect(url).dialect }),
  },
  {
    name: 'PostgreSQL',
    url: () => createDatabase(sharedServices().postgresUrl),
    connect: (url: string) => new Kysely<Database>({ dialect: postgresStoreDialect(url).dialect }),
  },
] as const;

const TASK = randomUUID();
function frozen(p: string, overrides: Partial<FrozenFile> = {}): FrozenFile {
  return { path: p, kind: 'file', size: 10, mtimeMs: 1_600_000_000_123.456, hash: null, frozenAt: '2026-01-02T03:04:05.678Z', taskId: TASK, ...overrides };
}

async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe.each(DIALECTS)('frozen catalogue ($name)', (dialect) => {
  async function fresh(): Promise<{ store: TaskStore; url: string }> {
    const url = await dialect.url();
    const store = await openTaskStore(url);
    stores.push(store);
    return { store, url };
  }

  it('records, replaces a path frozen again, and reads every field back', async () => {
    const { store } = await fresh();
    const big = 5 * 1024 ** 3;
    await store.catalogue.record('/data/a', [frozen('x/1.dat'), frozen('x/link', { kind: 'symlink', size: 7 }), frozen('y.dat', { size: big, hash: 'md5:00ff' })]);
    const second = randomUUID();
    await store.catalogue.record('/data/a', [frozen('x/1.dat', { size: 11, taskId: second })]);
    expect(await all(store.catalogue.stream('/data/a', ''))).toEqual([
      frozen('x/1.dat', { size: 11, taskId: second }),
      frozen('x/link', { kind: 'symlink', size: 7 }),
      frozen('y.dat', { size: big, hash: 'md5:00ff' }),
    ]);
    expect(await store.catalogue.totals('/data/a', '')).toEqual({ files: 3, bytes: big + 18 });
    expect(await store.catalogue.totals('/data/other', '')).toEqual({ files: 0, bytes: 0 });
  });

  it('streams a subtree by path segment, never a sibling sharing its prefix, nor another repo', async () => {
    const { store } = await fresh();
    await store.catalogue.record('/data/a', ['run', 'run/1', 'run/sub/2', 'run-b/3', 'run0', 'runs/4', 'z'].map((p) => frozen(p)));
    await store.catalogue.record('/data/a2', [frozen('run/9')]);
    expect((await all(store.catalogue.stream('/data/a', 'run'))).map((f) => f.path)).toEqual(['run', 'run/1', 'run/sub/2']);
    expect(await store.catalogue.totals('/data/a', 'run')).toEqual({ files: 3, bytes: 30 });
    expect((await all(store.catalogue.stream('/data/a', 'run/sub'))).map((f) => f.path)).toEqual(['run/sub/2']);
  });

  it('pages through more rows than one page holds, in path order, and batches writes past one statement', async () => {
    const { store, url } = await fresh();
    const paths = Array.from({ length: 2_345 }, (_, i) => `d/${String(i).padStart(5, '0')}`);
    await store.catalogue.record('/data/a', [...paths].reverse().map((p) => frozen(p)));
    const db = dialect.connect(url);
    dbs.push(db);
    const paged = new KyselyFrozenCatalogue(db, 100);
    expect((await all(paged.stream('/data/a', 'd'))).map((f) => f.path)).toEqual(paths);
    await store.catalogue.remove('/data/a', paths.slice(0, 1_500));
    expect((await all(paged.stream('/data/a', ''))).map((f) => f.path)).toEqual(paths.slice(1_500));
  });

  it('forgets removed paths only, ignoring paths it never had', async () => {
    const { store } = await fresh();
    await store.catalogue.record('/data/a', [frozen('a'), frozen('b')]);
    await store.catalogue.record('/data/b', [frozen('a')]);
    await store.catalogue.remove('/data/a', ['a', 'never']);
    expect((await all(store.catalogue.stream('/data/a', ''))).map((f) => f.path)).toEqual(['b']);
    expect((await all(store.catalogue.stream('/data/b', ''))).map((f) => f.path)).toEqual(['a']);
    await store.catalogue.remove('/data/a', []);
  });
});
