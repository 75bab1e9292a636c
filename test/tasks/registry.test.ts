/**
 * The task-kind registry: its lists keep Baricadr's names and order, and a kind listed only
 * there (here through the test seam, the one line a new kind adds) is submitted through its
 * own route, queued, run by a real worker with its running status, and answered by the API
 * with its result field and its bytes gauge, with no other edit.
 */
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { email, flag, path as pathField } from '../../src/wire/fields.js';
import type { Repo } from '../../src/config/types.js';
import type { TaskKindDefinition } from '../../src/tasks/kind.js';
import {
  ENDED_STATUSES,
  QUEUED_KIND_NAMES,
  registerTaskKindForTest,
  RUNNING_STATUSES,
  TASK_KIND_NAMES,
  TASK_STATUSES,
  taskKind,
  UNFINISHED_STATUSES,
} from '../../src/tasks/registry.js';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { makeRemote, tempDir } from '../helpers/remotes.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('the registry', () => {
  it('lists Baricadr\'s kinds and statuses, in Baricadr\'s order', () => {
    // Baricadr's first, in its order; Glacis's own kinds (report, push…) after them.
    expect(TASK_KIND_NAMES.slice(0, 3)).toEqual(['pull', 'freeze', 'zombie']);
    expect(QUEUED_KIND_NAMES.slice(0, 2)).toEqual(['pull', 'freeze']);
    expect(QUEUED_KIND_NAMES).not.toContain('zombie');
    const glacisRunning = TASK_KIND_NAMES.slice(3).map((name) => taskKind(name).runningStatus);
    expect(TASK_STATUSES).toEqual(['waiting', 'started', 'pulling', 'freezing', ...glacisRunning, 'finished', 'failed', 'cancelled']);
    expect(RUNNING_STATUSES).toEqual(['started', 'pulling', 'freezing', ...glacisRunning]);
    expect(UNFINISHED_STATUSES).toEqual(['waiting', 'started', 'pulling', 'freezing', ...glacisRunning]);
    expect(ENDED_STATUSES).toEqual(['finished', 'failed', 'cancelled']);
  });

  it('knows each kind by name, and says which names it knows otherwise', () => {
    expect(taskKind('freeze').runningStatus).toBe('freezing');
    expect(taskKind('zombie').run).toBeUndefined();
    expect(taskKind('zombie').mailsNobody).toBe(true);
    expect(() => taskKind('thaw')).toThrow(`unknown task kind "thaw" (known: ${TASK_KIND_NAMES.join(', ')})`);
  });

  it('refuses freeze in a repository with freezable: false, in today\'s words', () => {
    const repo = { localPath: '/data/lab1', freezable: false } as Repo;
    expect(taskKind('freeze').refusedIn?.(repo)).toBe('Freezing is disabled in repository /data/lab1 (freezable: false); pull works there, freeze does not');
    expect(taskKind('freeze').refusedIn?.({ ...repo, freezable: true })).toBeUndefined();
    expect(taskKind('pull').refusedIn).toBeUndefined();
  });

  it('adds a test kind\'s running status to the derived lists, and removes it again', () => {
    const remove = registerTaskKindForTest({ ...censusKind(new Gate()), name: 'census-lists' });
    expect(TASK_STATUSES.slice(-4)).toEqual(['counting', 'finished', 'failed', 'cancelled']);
    expect(RUNNING_STATUSES).toContain('counting');
    expect(QUEUED_KIND_NAMES).toContain('census-lists');
    remove();
    expect(TASK_STATUSES).not.toContain('counting');
    expect(TASK_KIND_NAMES).not.toContain('census-lists');
  });
});

/** Lets the test see the task in its running status before the run ends (no fixed sleep). */
class Gate {
  open!: () => void;
  readonly opened = new Promise<void>((resolve) => {
    this.open = resolve;
  });
}

const censusBody = z.strictObject({ path: pathField, email, dry_run: flag.optional() });

/** A tiny kind: counts the local files under the path and answers their names as its result. */
function censusKind(gate: Gate): TaskKindDefinition {
  return {
    name: 'census',
    runningStatus: 'counting',
    words: { verb: 'count', ing: 'counting', ed: 'counted', bytesMeaning: 'counted' },
    writesRemote: false,
    resultField: 'census',
    refusedIn: (repo) => (repo.freezable ? undefined : `census needs freezable: true in ${repo.localPath}`),
    submit: {
      path: '/census',
      body: censusBody,
      toRequest: (body: z.output<typeof censusBody>) => ({ path: body.path, email: body.email, dryRun: body.dry_run ?? false }),
      doc: { schemaName: 'CensusRequest', title: 'Count files', summary: 'Count the local files under path', description: 'A test kind.', fields: { path: 'path', email: 'email', dry_run: 'dry run' } },
    },
    metricsBytes: { name: 'glacis_counted_bytes', help: 'Bytes counted by census tasks.' },
    async run(context) {
      await context.enterRunning();
      await gate.opened;
      const names = (readdirSync(context.task.path, { recursive: true }) as string[]).filter((name) => statSync(path.join(context.task.path, name)).isFile()).sort();
      const bytes = names.reduce((sum, name) => sum + statSync(path.join(context.task.path, name)).size, 0);
      context.log.line(`counted ${names.length} files`);
      return { files: names.length, bytes, result: { names, repo: context.repo.localPath } };
    },
  };
}

describe('a kind registered only in the registry', () => {
  async function setup(repo: Record<string, unknown>): Promise<{ glacis: TestGlacis; local: string; gate: Gate }> {
    const gate = new Gate();
    cleanups.push(registerTaskKindForTest(censusKind(gate)));
    const remote = await makeRemote('local');
    const local = tempDir('repo');
    mkdirSync(path.join(local, 'runs'), { recursive: true });
    writeFileSync(path.join(local, 'runs', 'a.txt'), 'hello');
    writeFileSync(path.join(local, 'runs', 'b.txt'), 'hi');
    const glacis = await startGlacis({ repos: { [local]: { ...remote.settings, ...repo } } });
    cleanups.push(() => glacis.stop());
    return { glacis, local, gate };
  }

  it('is submitted on its own route, queued, run by the worker in its running status, and answered with its result', async () => {
    const { glacis, local, gate } = await setup({ freezable: true });
    const runs = path.join(local, 'runs');
    const submitted = await glacis.post('/census', { path: runs, dry_run: 'no' });
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(200);
    const id = submitted.body.task as string;
    const deadline = Date.now() + 60_000;
    let seen = (await glacis.get(`/tasks/status/${id}`)).body;
    while (seen.status !== 'counting' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      seen = (await glacis.get(`/tasks/status/${id}`)).body;
    }
    expect(seen).toMatchObject({ type: 'census', status: 'counting' });
    expect(seen).not.toHaveProperty('census');
    gate.open();
    const ended = await glacis.waitForTask(id, 60_000);
    expect(ended).toMatchObject({ type: 'census', status: 'finished', files: 2, bytes: 7, census: { names: ['a.txt', 'b.txt'], repo: local } });
    // Only the status answer carries the result; the list stays Baricadr's shape.
    const listed = (await glacis.get('/tasks')).body as Array<Record<string, unknown>>;
    expect(listed.find((task) => task.task_id === id)).not.toHaveProperty('census');
    expect((await glacis.get(`/tasks/log/${id}`)).body.logs).toContain('counted 2 files');
    const metrics = await fetch(`${glacis.url}/metrics`).then((response) => response.text());
    expect(metrics).toMatch(/^glacis_counted_bytes 7$/m);
    const openApi = (await glacis.get('/openapi.json')).body;
    expect(openApi.paths['/census'].post).toMatchObject({ operationId: 'census', summary: 'Count the local files under path' });
    expect(openApi.components.schemas.CensusRequest.properties).toHaveProperty('dry_run');
  });

  it('is refused where its refusedIn says, and its body is checked like Baricadr\'s', async () => {
    const { glacis, local } = await setup({ freezable: false });
    const refused = await glacis.post('/census', { path: local });
    expect(refused).toEqual({ status: 400, body: { error: `census needs freezable: true in ${local}` } });
    const unknown = await glacis.post('/census', { path: local, force: true });
    expect(unknown).toEqual({ status: 400, body: { error: 'Unknown field: "force"' } });
    expect((await glacis.get('/tasks')).body).toEqual([]);
  });
});
