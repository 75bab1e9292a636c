/**
 * Crash: `glacis worker` processes SIGKILLed at random moments during a series of pulls
 * of a tree of large files on an SFTP remote (before a job is taken, while listing,
 * transferring or placing, between tasks, while a fresh worker starts up). After a last
 * restart and a re-pull: every file is byte-identical to the remote, no staging is left,
 * every task has ended (finished or failed), and no path lock or job is left in Redis.
 *
 * Extends test/workers/crash.test.ts (one kill mid-transfer) to many kills in many states.
 * GLACIS_SEED replays a run; GLACIS_SOAK=1 runs more pulls on a larger tree.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { makeRemote, tempDir } from '../helpers/remotes.js';
import { bytesBelow, exited, hashOf, killWorkerProcesses, rcloneProcessesMentioning, startWorkerProcess, until, writeBigFile } from '../helpers/worker-process.js';
import { seededRandom, sized } from './seeded-random.js';

const PULLS = sized(20, 100);
/** Directories of the tree, each with big files and a few small ones. */
const DIRS = sized(4, 6);
const BIG_FILES_PER_DIR = 2;
/** MiB per big file: with the 1 MiB small files, CI 4 × (2 × 12 + 6) = 120 MiB, soak 6 × (2 × 40 + 6) = 516 MiB. */
const BIG_FILE_MB = sized(12, 40);
const SMALL_FILES_PER_DIR = 6;
/** A kill comes at a uniformly random moment this long after the pull was submitted. */
const KILL_WINDOW_MS = sized(3500, 6000);
const ENDED = ['finished', 'failed'];

const instances: TestGlacis[] = [];
afterEach(async () => {
  killWorkerProcesses();
  await Promise.all(instances.splice(0).map((g) => g.stop()));
});

it(`SIGKILLed workers during ${PULLS} pulls: after a restart and a re-pull, files identical, no staging, tasks ended, no lock`, async () => {
  const random = seededRandom();
  const remote = await makeRemote('sftp');
  const remoteTree = path.join(remote.root!, 'tree');
  for (let d = 0; d < DIRS; d++) {
    for (let b = 0; b < BIG_FILES_PER_DIR; b++) writeBigFile(path.join(remoteTree, `d${d}`, `big${b}.bin`), BIG_FILE_MB, 100 * d + b + 1);
    for (let s = 0; s < SMALL_FILES_PER_DIR; s++) writeBigFile(path.join(remoteTree, `d${d}`, 'small', `s${s}.dat`), 1, 1000 * d + s);
  }
  const remoteFiles = filesBelow(remoteTree).map((full) => path.relative(remoteTree, full));
  const remoteBytes = remoteFiles.reduce((sum, rel) => sum + statSync(path.join(remoteTree, rel)).size, 0);
  const local = tempDir('crash-safety');
  const localTree = path.join(local, 'tree');
  const glacis = await startGlacis({ repos: { [local]: remote.settings }, worker: false });
  instances.push(glacis);
  const staging = path.join(local, '.glacis-staging');

  const taskIds = new Set<string>();
  const truncated: string[] = [];
  let kills = 0;
  let killsWhileRunning = 0;
  let worker: ChildProcess = startWorkerProcess(glacis.env);
  const targets = ['tree', ...Array.from({ length: DIRS }, (_, d) => `tree/d${d}`), 'tree/d0/big0.bin', 'tree/d1/small'];

  for (let i = 0; i < PULLS; i++) {
    // A file under its final name is complete (a pull never replaces it, so a truncated
    // one would stay): check before the test itself deletes files.
    for (const rel of presentLocally(localTree, remoteFiles)) {
      if (statSync(path.join(localTree, rel)).size !== statSync(path.join(remoteTree, rel)).size) truncated.push(`${rel} after pull ${i}`);
    }
    const target = random.pick(targets);
    const under = remoteFiles.filter((rel) => `tree/${rel}` === target || `tree/${rel}`.startsWith(`${target}/`));
    const present = presentLocally(localTree, under);
    for (const rel of random.sample(present, random.int(1, Math.max(1, present.length)))) rmSync(path.join(localTree, rel));

    const { status, body } = await glacis.post('/pull', { path: path.join(local, target) });
    expect(status, JSON.stringify(body)).toBe(200);
    taskIds.add(body.task);

    if (random.chance(0.25)) {
      // Some pulls run to their end undisturbed (the others' kills then hit placing too).
      await glacis.waitForTask(body.task, 120_000);
      continue;
    }
    await new Promise((r) => setTimeout(r, random.int(0, KILL_WINDOW_MS)));
    const running = (await glacis.runtime.store.list({})).filter((t) => ['started', 'pulling'].includes(t.status)).length;
    worker.kill('SIGKILL');
    await exited(worker);
    kills++;
    if (running > 0) killsWhileRunning++;
    worker = startWorkerProcess(glacis.env);
  }

  // The restart: a last kill, then one fresh worker that finishes (or fails) what is left.
  worker.kill('SIGKILL');
  await exited(worker);
  await until(() => rcloneProcessesMentioning(local).length === 0, 10_000, () => `orphaned rclone: ${rcloneProcessesMentioning(local).join('\n')}`);
  startWorkerProcess(glacis.env);
  const outcomes = new Map<string, number>();
  for (const id of taskIds) {
    const ended = await glacis.waitForTask(id, 180_000);
    expect(ENDED, `task ${id}: ${JSON.stringify(ended)}`).toContain(ended.status);
    outcomes.set(ended.status, (outcomes.get(ended.status) ?? 0) + 1);
  }

  const again = await glacis.post('/pull', { path: localTree });
  const repulled = await glacis.waitForTask(again.body.task, 180_000);
  expect(repulled.status, JSON.stringify(repulled)).toBe('finished');

  const mismatches: string[] = [];
  for (const rel of remoteFiles) {
    const file = path.join(localTree, rel);
    if (!existsSync(file)) mismatches.push(`${rel}: missing`);
    else if ((await hashOf(file)) !== (await hashOf(path.join(remoteTree, rel)))) mismatches.push(`${rel}: differs`);
  }
  const leftovers = existsSync(staging) ? readdirSync(staging) : [];
  const lockKeys = await glacis.runtime.redis.keys(`${glacis.env.QUEUE_PREFIX}:locks:*`);
  const jobs = await glacis.runtime.queue.queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized');
  const unfinished = (await glacis.runtime.store.list({})).filter((t) => !ENDED.includes(t.status));

  console.log(
    `crash: ${PULLS} pulls (${taskIds.size} tasks, ${Math.round(remoteBytes / 2 ** 20)} MiB tree, seed ${random.seed}), ` +
      `${kills} kills (${killsWhileRunning} while a task ran), ${outcomes.get('finished') ?? 0} finished, ${outcomes.get('failed') ?? 0} failed, ` +
      `${mismatches.length + truncated.length} mismatches, ${leftovers.length} staging leftovers, ${lockKeys.length} locks left`,
  );
  expect(truncated, 'files under their final name with another size than the remote').toEqual([]);
  expect(mismatches).toEqual([]);
  expect(leftovers, 'staging leftovers').toEqual([]);
  expect(lockKeys, 'path-lock keys left in Redis').toEqual([]);
  expect(jobs, 'jobs left in the queue').toEqual({ active: 0, waiting: 0, delayed: 0, prioritized: 0 });
  expect(unfinished.map((t) => `${t.id} ${t.status}`)).toEqual([]);
  expect(kills).toBeGreaterThan(0);
}, sized(600_000, 3_600_000));

it('a task BullMQ gives up on (killed mid-transfer on each of its attempts) leaves no staging behind', async () => {
  const remote = await makeRemote('sftp');
  for (let i = 0; i < 4; i++) writeBigFile(path.join(remote.root!, 'big', `part${i}.bin`), 48, i + 1);
  const local = tempDir('crash-abandoned');
  const glacis = await startGlacis({ repos: { [local]: remote.settings }, worker: false });
  instances.push(glacis);
  const staging = path.join(local, '.glacis-staging');
  const { body } = await glacis.post('/pull', { path: path.join(local, 'big') });
  const attemptsSeen = new Set<string>();
  // BullMQ retries a job whose worker died twice (maxStalledCount 2), and fails it at the third stall.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const worker = startWorkerProcess(glacis.env);
    const newAttempt = (): string | undefined =>
      (existsSync(staging) ? readdirSync(staging) : []).find((name) => !attemptsSeen.has(name) && !name.endsWith('.files') && bytesBelow(path.join(staging, name)) > 0);
    await until(() => newAttempt() !== undefined, 60_000, () => `attempt ${attempt} never transferred anything`);
    attemptsSeen.add(newAttempt()!);
    worker.kill('SIGKILL');
    await exited(worker);
  }
  // This worker starts while the dead attempt still holds the path (its staging is kept),
  // then sees the job stall a third time.
  startWorkerProcess(glacis.env);
  const ended = await glacis.waitForTask(body.task, 60_000);
  expect(ended).toMatchObject({ status: 'failed', error: expect.stringMatching(/terminated prematurely: .*stalled/) });
  await until(() => !existsSync(staging) || readdirSync(staging).length === 0, 10_000, () => `staging left: ${readdirSync(staging).join(', ')}`);
  expect(await glacis.runtime.redis.keys(`${glacis.env.QUEUE_PREFIX}:locks:*`)).toEqual([]);
}, 180_000);

function filesBelow(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesBelow(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

function presentLocally(localTree: string, rels: readonly string[]): string[] {
  return rels.filter((rel) => lstatSync(path.join(localTree, rel), { throwIfNoEntry: false }) !== undefined);
}
