/**
 * A worker killed mid-push leaves its upload area (`<remote>.glacis-versions/.incoming/<task>`)
 * on the remote; a worker sweeps the areas of tasks that no longer run when it starts, and
 * nothing else (issue 18: the remote is never deleted from but for old versions). Before
 * the sweep, such an area stayed until the same task was retried, which a task lost for
 * good never is. Real rclone, on the local, SFTP and S3 test remotes.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { versionsRemote } from '../../src/push/versions.js';
import { childEnv, remoteRoot } from '../../src/rclone/index.js';
import type { RemoteSpec } from '../../src/config/types.js';
import { removeStaleIncoming } from '../../src/workers/incoming.js';
import { rcloneOk } from '../harness/rclone-env.js';
import { startGlacis } from '../helpers/glacis.js';
import { makeRemote, REMOTE_KINDS, tempDir, writeFixture } from '../helpers/remotes.js';
import { until } from '../helpers/worker-process.js';
import { rclone, remoteSnapshot, repoOf } from './push-helpers.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Writes `files` (path → content) under the versions store of `remote`, through rclone (S3 has no directory to write in). */
async function putInVersions(remote: RemoteSpec, files: Record<string, string>): Promise<void> {
  const dir = tempDir('incoming-put');
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  const versions = versionsRemote(remote);
  const { env, args } = childEnv(process.env, versions);
  await rcloneOk(['copy', ...args, dir, remoteRoot(versions, '')], env);
}

describe.each(REMOTE_KINDS)('on a %s remote', (kind) => {
  it('removes the incoming areas of tasks not running, and nothing else: not a live task\'s, not a version, not the remote', async () => {
    const remote = await makeRemote(kind);
    const local = tempDir('incoming-local');
    writeFixture(local, 'symlink');
    const repo = repoOf(local, remote);
    const [dead, live] = [randomUUID(), randomUUID()];
    await putInVersions(repo.remote, {
      [`.incoming/${dead}/sub/part.bin`]: 'half an upload',
      [`.incoming/${dead}/whole.txt`]: 'a whole file not yet moved',
      [`.incoming/${live}/uploading.bin`]: 'a running push',
      '.incoming/not-a-task/kept.txt': 'someone else put this here',
      [`2026-11-01T000000Z-${dead}/file1.txt`]: 'a version',
    });
    const versions = versionsRemote(repo.remote);
    const remoteBefore = await remoteSnapshot(repo.remote);
    const versionsBefore = Object.keys(await remoteSnapshot(versions));

    const asked: string[] = [];
    const removed = await removeStaleIncoming(repo, rclone, async (taskId) => {
      asked.push(taskId);
      return taskId === live;
    });
    expect(removed).toEqual([dead]);
    expect(asked.sort()).toEqual([dead, live].sort());
    expect(Object.keys(await remoteSnapshot(versions)).sort()).toEqual(versionsBefore.filter((name) => !name.startsWith(`.incoming/${dead}/`)).sort());
    expect(await remoteSnapshot(repo.remote)).toEqual(remoteBefore);
  }, 60_000);
});

it('does nothing in a repo that is not pushable, nor where push never wrote', async () => {
  const remote = await makeRemote('local');
  const local = tempDir('incoming-local');
  const stale = randomUUID();
  await putInVersions(repoOf(local, remote).remote, { [`.incoming/${stale}/a.bin`]: 'x' });
  expect(await removeStaleIncoming(repoOf(local, remote, {}), rclone, async () => false)).toEqual([]);
  expect(Object.keys(await remoteSnapshot(versionsRemote(repoOf(local, remote).remote)))).toEqual([`.incoming/${stale}/a.bin`]);
  // A pushable repo without a versions store yet: nothing to sweep, no error.
  for (const kind of REMOTE_KINDS) expect(await removeStaleIncoming(repoOf(local, await makeRemote(kind)), rclone, async () => false), kind).toEqual([]);
});

it('a worker sweeps a killed push\'s incoming area when it starts', async () => {
  const remote = await makeRemote('sftp');
  const local = tempDir('incoming-worker');
  writeFixture(local, 'symlink');
  const repo = repoOf(local, remote);
  const stale = randomUUID();
  await putInVersions(repo.remote, { [`.incoming/${stale}/part.bin`]: 'left by a killed worker', 'not-a-version/keep.txt': 'kept' });
  const remoteBefore = await remoteSnapshot(repo.remote);
  const glacis = await startGlacis({ repos: { [local]: { ...remote.settings, pushable: true } } });
  cleanups.push(() => glacis.stop());
  const versions = versionsRemote(repo.remote);
  let left: string[] = [];
  await until(async () => {
    left = Object.keys(await remoteSnapshot(versions));
    return !left.some((name) => name.startsWith('.incoming/'));
  }, 60_000, () => `still there: ${left.join(', ')}`);
  expect(left).toEqual(['not-a-version/keep.txt']);
  expect(await remoteSnapshot(repo.remote)).toEqual(remoteBefore);
}, 90_000);
