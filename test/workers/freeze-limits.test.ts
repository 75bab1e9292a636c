/**
 * Limits on every freeze (issue 16 §4): `max_files_per_run` and `max_bytes_per_run` stop a
 * freeze when reached, saying so; a remote failing more than 10 % of its re-checks after
 * 100 files stops the deleting and fails the task ("remote in trouble").
 */
import { randomUUID } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { Repo } from '../../src/config/types.js';
import { Rclone } from '../../src/rclone/index.js';
import { renderEvent } from '../../src/store/task-events.js';
import type { TaskLogWriter } from '../../src/store/task-logs.js';
import { runFreeze, type FreezeContext } from '../../src/workers/freeze.js';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { tempDir } from '../helpers/remotes.js';

const running: TestGlacis[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => g.stop()));
});

const OLD = new Date('2020-01-02T03:04:05Z');

/** `count` files of `size` bytes, the same in each of `dirs`, last read and written in 2020. Returns their names in walk order. */
function writeTree(dirs: readonly string[], count: number, size: number): string[] {
  const names = Array.from({ length: count }, (_, i) => `f${String(i).padStart(4, '0')}.bin`);
  for (const dir of dirs) {
    mkdirSync(dir, { recursive: true });
    for (const name of names) {
      writeFileSync(path.join(dir, name), Buffer.alloc(size, name));
      utimesSync(path.join(dir, name), OLD, OLD);
    }
  }
  return names;
}

async function freezeThroughApi(repoExtra: Record<string, unknown>, count: number, size: number) {
  const remote = tempDir('limits-remote');
  const local = tempDir('limits-repo');
  writeTree([remote, local], count, size);
  const glacis = await startGlacis({ repos: { [local]: { backend: 'local', path: remote, freezable: true, ...repoExtra } } });
  running.push(glacis);
  const freeze = async (): Promise<{ task: any; log: string }> => {
    const { status, body } = await glacis.post('/freeze', { path: local });
    expect(status, JSON.stringify(body)).toBe(200);
    const task = await glacis.waitForTask(body.task);
    return { task, log: (await glacis.get(`/tasks/log/${body.task}`)).body.logs as string };
  };
  return { local, remote, freeze };
}

it('max_files_per_run: a freeze stops after that many files and says so; the next run goes on', async () => {
  const { local, remote, freeze } = await freezeThroughApi({ max_files_per_run: 3 }, 10, 100);
  const first = await freeze();
  expect(first.task, JSON.stringify(first.task)).toMatchObject({ status: 'finished', files: 3, bytes: 300 });
  expect(first.log).toMatch(/stopped early: max_files_per_run \(3\) is reached/);
  expect(first.task.freeze).toEqual({ stopped: 'max_files_per_run (3) is reached' });
  expect(readdirSync(local)).toHaveLength(7);
  const second = await freeze();
  expect(second.task).toMatchObject({ status: 'finished', files: 3 });
  expect(readdirSync(local)).toHaveLength(4);
  expect(readdirSync(remote)).toHaveLength(10);
});

it('max_bytes_per_run: a freeze stops before a file would take it past the limit, and says so', async () => {
  const { local, freeze } = await freezeThroughApi({ max_bytes_per_run: 2500 }, 10, 1000);
  const { task, log } = await freeze();
  expect(task, JSON.stringify(task)).toMatchObject({ status: 'finished', files: 2, bytes: 2000 });
  expect(log).toMatch(/stopped early: max_bytes_per_run \(2500\) is reached/);
  expect(readdirSync(local)).toHaveLength(8);
});

it('without limits, the same tree is frozen whole (the limits above are what stopped it)', async () => {
  const { local, freeze } = await freezeThroughApi({}, 10, 1000);
  const { task, log } = await freeze();
  expect(task).toMatchObject({ status: 'finished', files: 10 });
  expect(log).not.toMatch(/stopped early/);
  expect(task).not.toHaveProperty('freeze'); // nothing more to say than the counters (Baricadr's answer unchanged)
  expect(readdirSync(local)).toHaveLength(0);
});

// ---------------------------------------------------------------------------------------------
// Re-checks: the remote changes for real between the listing and the re-check (onFreezeStart
// runs after the listing and judging, before the first batch is re-checked).

const rclone = new Rclone({ executable: '/usr/bin/rclone' });

function context(local: string, remote: string, lines: string[], onFreezeStart: () => Promise<void>): FreezeContext {
  const repo: Repo = { localPath: local, name: local, remote: { backend: 'local', path: remote }, exclude: [], freezable: true, freezeAge: 180, autoFreeze: false, autoFreezeInterval: 7, disableAtimeTest: false, verify: 'size' };
  const log: TaskLogWriter = { line: (t) => void lines.push(t), event: (e) => void lines.push(renderEvent(e)), flush: async () => undefined, close: async () => undefined };
  return {
    repo,
    task: { taskId: randomUUID(), type: 'freeze', path: local, dryRun: false, force: false },
    rclone,
    log,
    signal: new AbortController().signal,
    atime: { supported: true },
    progress: () => undefined,
    onFreezeStart,
  };
}

it('a remote failing more than 10 % of its re-checks after 100 files: deleting stops, the task fails saying so', async () => {
  const remote = tempDir('trouble-remote');
  const local = tempDir('trouble-local');
  const names = writeTree([remote, local], 300, 10);
  const lines: string[] = [];
  // Every other file changes on the remote after the listing: about half the re-checks fail
  // (whatever order the walk takes the files in).
  const changed = names.filter((_, i) => i % 2 === 1);
  await expect(runFreeze(context(local, remote, lines, async () => changed.forEach((name) => appendFileSync(path.join(remote, name), 'x'))))).rejects.toThrow(
    /^remote in trouble: stop deleting \(it failed \d+ of 100 re-checks, more than 10 %; \d+ files were frozen before\)$/,
  );
  expect(lines.at(-1)).toMatch(/^remote in trouble: stop deleting/);
  // The re-checked files, in order, from the log: exactly 100, then nothing more.
  const rechecked = lines.flatMap((l) => /^(?:froze|kept) (\S+?)(?::| \()/.exec(l)?.[1] ?? []);
  expect(rechecked).toHaveLength(100);
  const frozen = lines.filter((l) => l.startsWith('froze ')).length;
  expect(frozen).toBeLessThan(90);
  const left = new Set(readdirSync(local));
  expect(left.size).toBe(300 - frozen);
  for (const name of names.filter((n) => !rechecked.includes(n))) expect(left.has(name), name).toBe(true);
  for (const name of changed) expect(existsSync(path.join(local, name)), name).toBe(true);
});

it('a few re-check failures (10 % or less) keep those files and let the freeze finish', async () => {
  const remote = tempDir('few-remote');
  const local = tempDir('few-local');
  const names = writeTree([remote, local], 200, 10);
  const lines: string[] = [];
  const changed = names.filter((_, i) => i % 10 === 9); // 10 %: not more than 10 %
  const result = await runFreeze(context(local, remote, lines, async () => changed.forEach((name) => appendFileSync(path.join(remote, name), 'x'))));
  expect(result.files).toBe(180);
  expect(readdirSync(local).sort()).toEqual(changed);
  expect(lines.filter((l) => /the remote copy changed or vanished since it was listed/.test(l))).toHaveLength(20);
});
