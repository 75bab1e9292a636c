/**
 * A task's log is complete when its record says it ended: whoever sees `finished` or
 * `failed` (the CLI's `--wait`, the web page, a script polling the status) and then reads
 * the log must find the closing line. The worker used to record the end first and write
 * the closing line after, buffered until the log was closed.
 */
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { TaskStore } from '../../src/store/types.js';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { makeRemote, tempDir } from '../helpers/remotes.js';

const running: TestGlacis[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => g.stop()));
});

/** Reads the task's log at the moment its record is moved to an ended status (the real store, observed). */
function logAtEnd(glacis: TestGlacis): Map<string, string> {
  const seen = new Map<string, string>();
  const store: TaskStore = glacis.runtime.store;
  const transition = store.transition.bind(store);
  store.transition = async (id, from, patch) => {
    const moved = await transition(id, from, patch);
    if (moved && ['finished', 'failed'].includes(patch.status)) seen.set(id, (await glacis.runtime.logs.read(id)) ?? '');
    return moved;
  };
  return seen;
}

describe('the task log when the record ends', () => {
  it('holds the closing line of a finished pull and of a failed one', async () => {
    const remote = await makeRemote('local');
    const local = tempDir('repo');
    const glacis = await startGlacis({ repos: { [local]: remote.settings } });
    running.push(glacis);
    const seen = logAtEnd(glacis);

    const pulled = await glacis.post('/pull', { path: local });
    expect(pulled.status).toBe(200);
    expect(await glacis.waitForTask(pulled.body.task)).toMatchObject({ status: 'finished' });
    expect(seen.get(pulled.body.task)).toMatch(/finished: \d+ files?/);

    // A directory the remote lacks: the pull fails, and says so in its last line.
    const missing = path.join(local, 'no-such-dir');
    writeFileSync(path.join(local, 'marker'), 'local');
    const failed = await glacis.post('/pull', { path: missing });
    expect(failed.status).toBe(200);
    expect(await glacis.waitForTask(failed.body.task)).toMatchObject({ status: 'failed' });
    expect(seen.get(failed.body.task)).toMatch(/failed: /);
  });
});
