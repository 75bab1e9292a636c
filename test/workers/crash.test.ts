/**
 * A worker killed with SIGKILL in the middle of a pull must never leave a truncated
 * file under its final name (a later pull would skip it as "present"), and the task
 * must end and free its path once a worker runs again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { makeRemote, tempDir } from '../helpers/remotes.js';

const BIG_FILES = 4;
const BIG_FILE_BYTES = 48 * 1024 * 1024;
const children: ChildProcess[] = [];
const instances: TestGlacis[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await Promise.all(instances.splice(0).map((g) => g.stop()));
});

function startWorkerProcess(env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, [path.resolve('bin/glacis.js'), 'worker'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (d: Buffer) => process.stderr.write(`[worker] ${d.toString()}`));
  children.push(child);
  return child;
}

/** Distinct pseudo-random content per file, written in chunks (no 48 MB buffer). */
function writeBigFile(file: string, seed: number): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < BIG_FILE_BYTES / chunk.length; i++) {
    createHash('sha512').update(`${seed}:${i}`).digest().copy(chunk);
    chunk.fill(seed + i, 64);
    writeSync(fd, chunk);
  }
  closeSync(fd);
}

function hashOf(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

function stagedBytes(stagingRoot: string): number {
  if (!existsSync(stagingRoot)) return 0;
  let total = 0;
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile()) total += statSync(full).size;
    }
  };
  walk(stagingRoot);
  return total;
}

it('SIGKILL mid-transfer: no partial file under a final name, task ends, lock released, re-pull complete', async () => {
  const remote = await makeRemote('sftp');
  for (let i = 0; i < BIG_FILES; i++) writeBigFile(path.join(remote.root!, 'big', `part${i}.bin`), i + 1);
  const local = tempDir('crash-repo');
  const glacis = await startGlacis({ repos: { [local]: remote.settings }, worker: false });
  instances.push(glacis);
  const staging = path.join(local, '.glacis-staging');

  const worker = startWorkerProcess(glacis.env);
  const { body } = await glacis.post('/pull', { path: path.join(local, 'big') });
  const taskId: string = body.task;
  expect(taskId, JSON.stringify(body)).toBeDefined();

  // Kill once some bytes are staged but the transfer is not done.
  const deadline = Date.now() + 30_000;
  while (stagedBytes(staging) === 0) {
    if (Date.now() > deadline) throw new Error(`the pull never started transferring: ${JSON.stringify((await glacis.get(`/tasks/status/${taskId}`)).body)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  worker.kill('SIGKILL');
  await new Promise((r) => worker.once('exit', r));

  const remoteHashes = new Map<string, string>();
  for (let i = 0; i < BIG_FILES; i++) remoteHashes.set(`part${i}.bin`, hashOf(path.join(remote.root!, 'big', `part${i}.bin`)));
  const checkNoPartialFile = (): number => {
    let complete = 0;
    for (const [name, hash] of remoteHashes) {
      const file = path.join(local, 'big', name);
      if (!existsSync(file)) continue;
      expect(hashOf(file), `${name} under its final name`).toBe(hash);
      complete++;
    }
    return complete;
  };
  const completeAtKill = checkNoPartialFile();
  expect(completeAtKill).toBeLessThan(BIG_FILES);

  // A new worker: the killed task is retried once its job lock expires.
  startWorkerProcess(glacis.env);
  const ended = await glacis.waitForTask(taskId, 60_000);
  expect(['finished', 'failed']).toContain(ended.status);
  checkNoPartialFile();

  // The path is free again (a new task, not the old id), and pulling completes the tree.
  const again = await glacis.post('/pull', { path: path.join(local, 'big') });
  expect(again.body.task).not.toBe(taskId);
  expect((await glacis.waitForTask(again.body.task, 60_000)).status).toBe('finished');
  expect(checkNoPartialFile()).toBe(BIG_FILES);
  expect(existsSync(staging) ? readdirSync(staging) : []).toEqual([]);
}, 150_000);
