import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openTaskStore, type NewTask, type TaskStore } from '../../src/store/index.js';
import { TaskLogs, isTaskId } from '../../src/store/task-logs.js';

const stores: TaskStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

async function freshStore(): Promise<{ store: TaskStore; file: string }> {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'glacis-store-')), 'sub', 'glacis.sqlite');
  const store = await openTaskStore(file);
  stores.push(store);
  return { store, file };
}

function newTask(p: string, overrides: Partial<NewTask> = {}): NewTask {
  return { id: randomUUID(), type: 'pull', path: p, dryRun: false, force: false, email: null, origin: 'user', ...overrides };
}

describe('task store (SQLite)', () => {
  it('creates a waiting task and reads it back', async () => {
    const { store } = await freshStore();
    const created = await store.create(newTask('/repo/a', { email: 'a@b.org', dryRun: true }));
    expect(created).toMatchObject({ status: 'waiting', dryRun: true, email: 'a@b.org', started: null, files: null });
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
    for (const p of ['/repo/ab', '/repo/ab/c', '/repo/abc', '/repo/x']) await store.create(newTask(p));
    await store.create(newTask('/repo/ab/f', { type: 'freeze' }));
    expect((await store.list({ pathPrefix: '/repo/ab' })).map((t) => t.path)).toEqual(['/repo/ab', '/repo/ab/c', '/repo/ab/f']);
    expect((await store.list({ type: 'freeze' })).map((t) => t.path)).toEqual(['/repo/ab/f']);
    expect((await store.list({ limit: 2, offset: 1 })).map((t) => t.path)).toEqual(['/repo/ab/c', '/repo/abc']);
  });

  it('keeps records across reopening (migrations run once)', async () => {
    const { store, file } = await freshStore();
    const { id } = await store.create(newTask('/repo/a'));
    await store.close();
    stores.pop();
    const again = await openTaskStore(file);
    stores.push(again);
    expect((await again.get(id))?.path).toBe('/repo/a');
    expect(await again.delete(id)).toBe(true);
    expect(await again.delete(id)).toBe(false);
  });
});

describe('task logs', () => {
  it('appends timestamped lines and reads them back; refuses non-uuid names', async () => {
    const logs = new TaskLogs(mkdtempSync(path.join(tmpdir(), 'glacis-logs-')));
    const id = randomUUID();
    expect(await logs.read(id)).toBeUndefined();
    const writer = await logs.open(id);
    writer.line('first');
    writer.line('second\nwith a newline');
    await writer.close();
    const text = (await logs.read(id))!;
    expect(text).toMatch(/^\d{4}-\d\d-\d\dT.* first\n.* second\n {4}with a newline\n$/);
    await logs.remove(id);
    expect(await logs.read(id)).toBeUndefined();
    expect(isTaskId('../../etc/passwd')).toBe(false);
    await expect(logs.read('../../etc/passwd')).rejects.toThrow(/not a task id/);
  });
});
