/**
 * A push killed with SIGKILL mid-transfer leaves the remote with whole files only (issue 18):
 * rclone 1.60 writes SFTP files in place, so push uploads into the versions store's incoming
 * area and moves only whole files under their final names. Every file under the remote's
 * root is afterwards either its old content or its new one, never a part; the killed push's
 * upload area goes when a worker sweeps it (src/workers/incoming.ts), and a new push then
 * completes the tree. Runs the built code in a child process (npm run build first).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { removeStaleIncoming } from '../../src/workers/incoming.js';
import { runPush } from '../../src/workers/push.js';
import { makeRemote, tempDir, writeFixture } from '../helpers/remotes.js';
import { bytesBelow, exited, hashOf, rcloneProcessesMentioning, until, writeBigFile } from '../helpers/worker-process.js';
import { pushContext, rclone, repoOf } from './push-helpers.js';

const BIG = ['big/part0.bin', 'big/part1.bin', 'big/part2.bin', 'big/part3.bin'];
const children: Array<ReturnType<typeof spawn>> = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

it('SIGKILL mid-push: every remote file whole (old or new), the replaced ones kept, a new push completes', async () => {
  const remote = await makeRemote('sftp');
  // On the remote: old versions of two of the files; the other two are new.
  writeBigFile(path.join(remote.root!, BIG[0]!), 8, 100);
  writeBigFile(path.join(remote.root!, BIG[1]!), 8, 101);
  const local = tempDir('push-crash');
  writeFixture(local, 'symlink');
  BIG.forEach((name, i) => writeBigFile(path.join(local, name), 64, i + 1));
  const settings = { pushable: true, push_change_limit: 100 };
  const repo = repoOf(local, remote, settings);

  const hashes = async (dir: string): Promise<Map<string, string>> => new Map(await Promise.all(BIG.filter((n) => existsSync(path.join(dir, n))).map(async (n) => [n, await hashOf(path.join(dir, n))] as [string, string])));
  const oldHashes = await hashes(remote.root!);
  const newHashes = await hashes(local);
  const store = `${remote.root!}.glacis-versions`;
  const incoming = path.join(store, '.incoming');

  const yaml = `${JSON.stringify(local)}: ${JSON.stringify({ ...remote.settings, ...settings })}\n`;
  const taskId = randomUUID();
  const child = spawn(process.execPath, [path.resolve('test/push/push-child.mjs'), local, taskId], { env: { ...process.env, PUSH_CHILD_REPOS: yaml }, stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  await until(() => bytesBelow(incoming) > 0, 60_000, () => 'the push never started uploading');
  child.kill('SIGKILL');
  await exited(child);
  await until(() => rcloneProcessesMentioning(store).length === 0, 10_000, () => `orphaned rclone: ${rcloneProcessesMentioning(store).join('\n')}`);

  // Whole files only under the remote's root: each big file old, new, or absent (never pushed yet).
  const after = await hashes(remote.root!);
  expect(after.size).toBeLessThanOrEqual(BIG.length);
  for (const [name, hash] of after) expect([oldHashes.get(name), newHashes.get(name)], name).toContain(hash);
  expect([...after.values()].filter((hash) => [...newHashes.values()].includes(hash)).length, 'killed before every file was pushed').toBeLessThan(BIG.length);
  // An old version moved aside is whole in the versions store.
  for (const dir of readdirSync(store).filter((d) => d !== '.incoming')) {
    for (const [name, hash] of await hashes(path.join(store, dir))) expect(hash, `version ${dir}/${name}`).toBe(oldHashes.get(name));
  }

  // The killed push's upload area stays on the remote, until a worker starts and sweeps it
  // (the task no longer runs): only that area goes, whole files and versions stay.
  expect(bytesBelow(path.join(incoming, taskId))).toBeGreaterThan(0);
  const beforeSweep = await hashes(remote.root!);
  expect(await removeStaleIncoming(repo, rclone, async () => false)).toEqual([taskId]);
  expect(existsSync(path.join(incoming, taskId))).toBe(false);
  expect(await hashes(remote.root!)).toEqual(beforeSweep);

  // A new push completes the tree: every file new, each replaced one kept as a version.
  const { context } = pushContext(repo);
  await runPush(context);
  expect(await hashes(remote.root!)).toEqual(newHashes);
  const kept = new Map<string, string>();
  for (const dir of readdirSync(store).filter((d) => d !== '.incoming')) for (const [name, hash] of await hashes(path.join(store, dir))) kept.set(name, hash);
  expect(kept).toEqual(oldHashes);
}, 180_000);

it('a push cancelled mid-upload leaves the remote unchanged and removes its part from the incoming area', async () => {
  const remote = await makeRemote('sftp');
  const local = tempDir('push-cancel');
  writeFixture(local, 'symlink');
  BIG.forEach((name, i) => writeBigFile(path.join(local, name), 64, i + 11));
  const repo = repoOf(local, remote);
  const before = readdirSync(remote.root!, { recursive: true }).sort();
  const store = `${remote.root!}.glacis-versions`;
  const abort = new AbortController();
  const { context } = pushContext(repo);
  const pushing = runPush({ ...context, signal: abort.signal });
  await until(() => bytesBelow(path.join(store, '.incoming')) > 0, 60_000, () => 'the push never started uploading');
  abort.abort('cancelled');
  await expect(pushing).rejects.toBeDefined();
  expect(readdirSync(remote.root!, { recursive: true }).sort()).toEqual(before);
  expect(existsSync(path.join(store, '.incoming', context.task.taskId))).toBe(false);
}, 120_000);
