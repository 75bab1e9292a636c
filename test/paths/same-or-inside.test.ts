/**
 * One "same path or inside it" rule, said in three languages: isSameOrInside (src/paths, which
 * the config's repo nesting check and the locks' ancestors use too), the byte range of
 * TaskStore.list's `pathPrefix` in SQL (both dialects) and the range in the locks' Lua
 * (CLAIM_SCRIPT). One table of cases drives all of them; they must agree with the table.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { parseRepos } from '../../src/config/repos.js';
import { PathLocks } from '../../src/locks/index.js';
import { isSameOrInside, pathsOverlap } from '../../src/paths/index.js';
import { openTaskStore, type TaskStore } from '../../src/store/index.js';
import { createDatabase } from '../harness/postgres.js';
import { sharedServices } from '../harness/services.js';

/** [parent, child, child is parent or inside it]. Paths are normalised, as every caller gets them. */
const CASES: readonly (readonly [string, string, boolean])[] = [
  ['/a', '/a', true],
  ['/a', '/a/b', true],
  ['/a', '/a/b/c', true],
  ['/a', '/ab', false],
  ['/ab', '/a', false],
  ['/a/b', '/a', false],
  // The characters around '/' in byte order: '.' before it, '0' right after it (the ranges' end).
  ['/a', '/a.b', false],
  ['/a', '/a0', false],
  ['/a', '/a0/b', false],
  ['/a', '/a-/b', false],
  ['/a', '/a /b', false],
  ['/a b', '/a b/c', true],
  ['/', '/', true],
  ['/', '/a', true],
  ['/', '/a/b', true],
  ['/a', '/', false],
  // SQL LIKE's wildcards are plain characters here.
  ['/a%', '/ab', false],
  ['/a%', '/a%/b', true],
  ['/a_', '/ab', false],
  ['/a_', '/a_/x', true],
  ['/%', '/a', false],
  // Unicode: composed characters, a character beyond the BMP (UTF-16 surrogates, 4 UTF-8 bytes).
  ['/é', '/é/x', true],
  ['/e', '/é', false],
  ['/e', '/e\u0301', false],
  ['/a', '/a\u00e9', false],
  ['/😀', '/😀/x', true],
  ['/😀', '/😀x', false],
  ['/a', '/a/😀', true],
];

const PATHS = [...new Set(CASES.flatMap(([parent, child]) => [parent, child]))];

describe('"same path or inside it": the table', () => {
  it.each(CASES)('isSameOrInside(%j ⊇ %j) is %s', (parent, child, inside) => {
    expect(isSameOrInside(child, parent)).toBe(inside);
  });

  it('a trailing slash on the parent changes nothing (TaskStore.list gets it from users too)', () => {
    for (const [parent, child, inside] of CASES) {
      if (parent !== '/') expect(isSameOrInside(child, `${parent}/`), `${parent}/ ⊇ ${child}`).toBe(inside);
    }
  });
});

describe.each([
  { name: 'SQLite', url: () => Promise.resolve(path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'glacis-inside-')), 'glacis.sqlite')) },
  { name: 'PostgreSQL', url: () => createDatabase(sharedServices().postgresUrl) },
])('"same path or inside it": SQL ($name), TaskStore.list({ pathPrefix })', ({ url }) => {
  let store: TaskStore;
  beforeAll(async () => {
    store = await openTaskStore(await url());
    for (const p of PATHS) await store.create({ id: randomUUID(), type: 'pull', path: p, dryRun: false, force: false, email: null, origin: 'user' });
  });
  afterAll(async () => {
    await store.close();
  });

  it('lists, for each parent, exactly the paths the table puts inside it', async () => {
    for (const parent of PATHS) {
      const expected = PATHS.filter((p) => isSameOrInside(p, parent)).sort();
      for (const prefix of parent === '/' ? [parent] : [parent, `${parent}/`]) {
        const listed = (await store.list({ pathPrefix: prefix })).map((task) => task.path).sort();
        expect(listed, `pathPrefix ${prefix}`).toEqual(expected);
      }
    }
    // And the table's own verdicts, said by SQL.
    for (const [parent, child, inside] of CASES) {
      const listed = (await store.list({ pathPrefix: parent })).map((task) => task.path);
      expect(listed.includes(child), `${parent} ⊇ ${child}`).toBe(inside);
    }
  });
});

describe('"same path or inside it": Lua (CLAIM_SCRIPT) and the locks', () => {
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis(sharedServices().redisUrl);
  });
  afterAll(() => {
    redis.disconnect();
  });

  it.each(CASES)('%j and %j: a claim on one waits for the other exactly when they overlap', async (parent, child) => {
    const overlap = pathsOverlap(parent, child);
    // Both orders: the second claim finds the first among its ancestors (TypeScript's
    // selfAndAncestors) or below it (the Lua range).
    for (const [first, second] of [
      [parent, child],
      [child, parent],
    ] as const) {
      const locks = new PathLocks(redis, `test-inside-${randomUUID()}`);
      await locks.claim({ taskId: randomUUID(), type: 'pull', path: first, dryRun: false });
      const outcome = await locks.claim({ taskId: randomUUID(), type: 'freeze', path: second, dryRun: false });
      expect(outcome, `${first} then ${second}`).toMatchObject({ kind: 'claimed', blockers: overlap ? 1 : 0 });
    }
  });
});

describe('"same path or inside it": the config (repos may not nest)', () => {
  const SFTP = ['backend: sftp', 'url: "backup:lab"', 'user: glacis', 'password: "hunter2"'];
  let base: string;
  beforeAll(() => {
    base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'glacis-inside-')));
  });
  afterAll(() => {
    fs.rmSync(base, { recursive: true, force: true });
  });

  it.each(CASES)('repos %j and %j are refused exactly when they overlap', (parent, child) => {
    // Each path of the table becomes a directory under a temporary root ('/' is the root).
    // The child written with a trailing slash: the same path twice must be two YAML keys.
    const names = [parent === '/' ? '.' : `.${parent}`, child === '/' ? './' : `.${child}/`];
    for (const name of names) fs.mkdirSync(path.join(base, name), { recursive: true });
    const text = names.map((name) => `${JSON.stringify(name)}:\n  ${SFTP.join('\n  ')}\n`).join('');
    let error: unknown;
    try {
      parseRepos(text, 'repos.yaml', base);
    } catch (caught) {
      error = caught;
    }
    if (pathsOverlap(parent, child)) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/repos may not nest or repeat/);
    } else {
      expect(error).toBeUndefined();
    }
  });
});
