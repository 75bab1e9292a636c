/**
 * Load: many concurrent clients posting pull, freeze and list on overlapping paths of one
 * repository for a while, against `glacis serve` and two `glacis worker` processes (the
 * built bin, as users run them). Then: no deadlock (every task ends, the API answers, no
 * lock or job is left), and the locking invariant holds on the record — no two tasks on
 * overlapping paths (one equal to or inside the other) were ever between `started` and
 * `finished` at the same time. Reports POST /pull latency (p50, p99).
 *
 * CI: 50 clients for 10 s. GLACIS_SOAK=1: the issue's 200 clients for 60 s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { pathsOverlap } from '../../src/paths/index.js';
import { ENDED_STATUSES, type Task } from '../../src/store/index.js';
import { freePort } from '../harness/ports.js';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { makeRemote, tempDir, writeFixture } from '../helpers/remotes.js';
import { exited, killWorkerProcesses, startWorkerProcess } from '../helpers/worker-process.js';
import { quantile, seededRandom, sized } from './seeded-random.js';

const CLIENTS = sized(50, 200);
const DURATION_MS = sized(10_000, 60_000);
/** How long the tasks left at the end may take to drain before it counts as a deadlock. */
const DRAIN_MS = sized(120_000, 600_000);
/** Paths of the fixture tree, many of them inside one another. */
const TARGETS = ['', 'subdir', 'subdir/subsubdir', 'subdir/subsubdir2', 'subdir/subfile.txt', 'subdir/subsubdir2/poutrelle.xml', 'big', 'big/large.bin', 'file1.txt', 'links'];
const OPERATIONS = ['pull', 'pull', 'pull', 'freeze', 'freeze', 'list'] as const;
type Operation = (typeof OPERATIONS)[number];

const children: ChildProcess[] = [];
const instances: TestGlacis[] = [];
afterEach(async () => {
  killWorkerProcesses();
  for (const child of children.splice(0)) {
    child.kill('SIGTERM');
    await exited(child);
  }
  await Promise.all(instances.splice(0).map((g) => g.stop()));
});

it(`${CLIENTS} concurrent clients for ${DURATION_MS / 1000} s: no deadlock, no two tasks on overlapping paths at once`, async () => {
  const random = seededRandom();
  const remote = await makeRemote('local');
  const local = tempDir('load-repo');
  writeFixture(local, 'symlink');
  // This process only reads the records and Redis; the API and the workers are processes of their own.
  const glacis = await startGlacis({ repos: { [local]: { ...remote.settings, freezable: true } }, worker: false });
  instances.push(glacis);
  const url = await startApiProcess(glacis.env);
  startWorkerProcess(glacis.env);
  startWorkerProcess(glacis.env);

  const pullLatencies: number[] = [];
  const counts: Record<Operation, number> = { pull: 0, freeze: 0, list: 0 };
  const failures: string[] = [];
  const deadline = Date.now() + DURATION_MS;
  const client = async (): Promise<void> => {
    while (Date.now() < deadline) {
      const operation = random.pick(OPERATIONS);
      const target = path.join(local, random.pick(TARGETS));
      const body = operation === 'freeze' ? { path: target, force: random.chance(0.5) } : operation === 'list' ? { path: target, max_depth: 2 } : { path: target };
      const started = performance.now();
      const response = await fetch(`${url}/${operation}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const text = await response.text();
      const elapsed = performance.now() - started;
      counts[operation]++;
      if (operation === 'pull') pullLatencies.push(elapsed);
      if (response.status !== 200 && failures.length < 20) failures.push(`${operation} ${target}: ${response.status} ${text.slice(0, 200)}`);
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));

  // No deadlock: whatever was left running or waiting ends, and the API still answers.
  const drainedBy = Date.now() + DRAIN_MS;
  let tasks = await allTasks(glacis);
  while (tasks.some((t) => !ENDED_STATUSES.includes(t.status)) && Date.now() < drainedBy) {
    await new Promise((r) => setTimeout(r, 250));
    tasks = await allTasks(glacis);
  }
  const stuck = tasks.filter((t) => !ENDED_STATUSES.includes(t.status));
  const version = await fetch(`${url}/version`);
  const lockKeys = await glacis.runtime.redis.keys(`${glacis.env.QUEUE_PREFIX}:locks:*`);
  const jobs = await glacis.runtime.queue.queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized');
  const { violations, serialized } = lockingInvariant(tasks);
  const byStatus = new Map<string, number>();
  for (const t of tasks) byStatus.set(`${t.type} ${t.status}`, (byStatus.get(`${t.type} ${t.status}`) ?? 0) + 1);
  const requests = counts.pull + counts.freeze + counts.list;

  console.log(
    `load: ${CLIENTS} clients for ${DURATION_MS / 1000} s, ${requests} requests (${counts.pull} pull, ${counts.freeze} freeze, ${counts.list} list; ` +
      `${Math.round(requests / (DURATION_MS / 1000))}/s), ${failures.length} refused; POST /pull p50 ${Math.round(quantile(pullLatencies, 0.5))} ms, ` +
      `p99 ${Math.round(quantile(pullLatencies, 0.99))} ms; ${tasks.length} tasks (${[...byStatus].map(([k, n]) => `${n} ${k}`).join(', ')}), ` +
      `${stuck.length} stuck; ${serialized} pairs on overlapping paths ran one after the other, ${violations.length} at once (seed ${random.seed})`,
  );
  expect(failures).toEqual([]);
  expect(stuck.map((t) => `${t.type} ${t.path} ${t.status}`), 'tasks that never ended (a deadlock)').toEqual([]);
  expect(version.status).toBe(200);
  expect(lockKeys).toEqual([]);
  expect(jobs).toEqual({ active: 0, waiting: 0, delayed: 0, prioritized: 0 });
  expect(violations).toEqual([]);
  // Tasks on overlapping paths did run (else the invariant was never at stake).
  expect(serialized).toBeGreaterThan(0);
}, DURATION_MS + DRAIN_MS + 120_000);

/** Every task record, a page at a time. */
async function allTasks(glacis: TestGlacis): Promise<Task[]> {
  const all: Task[] = [];
  for (let page = await glacis.runtime.store.list({ offset: 0 }); page.length > 0; page = await glacis.runtime.store.list({ offset: all.length })) all.push(...page);
  return all;
}

/** Starts `glacis serve` (the built bin) on a fresh port; resolves with its URL once it answers. */
async function startApiProcess(env: NodeJS.ProcessEnv): Promise<string> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.resolve('bin/glacis.js'), 'serve'], { env: { ...env, PORT: String(port) }, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let output = '';
  child.stderr?.on('data', (d: Buffer) => {
    output = (output + d.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  for (const deadline = Date.now() + 30_000; ; ) {
    if (child.exitCode !== null) throw new Error(`glacis serve exited (${child.exitCode}): ${output}`);
    const up = await fetch(`${url}/health`).then((r) => r.ok, () => false);
    if (up) return url;
    if (Date.now() > deadline) throw new Error(`glacis serve did not answer within 30 s: ${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The locking invariant on the record: pairs of tasks on overlapping paths whose
 * started–finished spans intersect (violations), and how many such pairs ran at all.
 */
function lockingInvariant(tasks: readonly Task[]): { violations: string[]; serialized: number } {
  const spans = tasks
    .filter((t) => t.started !== null && t.finished !== null)
    .map((t) => ({ task: t, start: Date.parse(t.started!), end: Date.parse(t.finished!) }));
  const violations: string[] = [];
  let serialized = 0;
  for (let i = 0; i < spans.length; i++) {
    for (let j = i + 1; j < spans.length; j++) {
      const a = spans[i]!;
      const b = spans[j]!;
      if (!pathsOverlap(a.task.path, b.task.path)) continue;
      if (a.start < b.end && b.start < a.end) violations.push(`${a.task.type} ${a.task.path} ${a.task.started}–${a.task.finished} and ${b.task.type} ${b.task.path} ${b.task.started}–${b.task.finished}`);
      else serialized++;
    }
  }
  return { violations, serialized };
}
