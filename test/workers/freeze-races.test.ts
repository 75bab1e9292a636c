/**
 * What happens between judging a file and deleting it. `onFreezeStart` is the moment
 * the worker moves the task to `freezing`: after the remote listing and the judging of
 * the first batch, before that batch is re-checked and deleted.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { Repo } from '../../src/config/types.js';
import { Rclone } from '../../src/rclone/index.js';
import { renderEvent } from '../../src/store/task-events.js';
import type { TaskLogWriter } from '../../src/store/task-logs.js';
import { runFreeze, type FreezeContext } from '../../src/workers/freeze.js';
import { startSftp, type SftpServer } from '../harness/sftp.js';
import { FIXTURE_FILES, tempDir, writeFixture } from '../helpers/remotes.js';

const servers: SftpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
});

const rclone = new Rclone({ executable: '/usr/bin/rclone' });
const lines: string[] = [];
const log: TaskLogWriter = { line: (t) => void lines.push(t), event: (e) => void lines.push(renderEvent(e)), flush: async () => undefined, close: async () => undefined };

function repoFor(local: string, remote: Repo['remote']): Repo {
  return { localPath: local, name: local, remote, exclude: [], freezable: true, freezeAge: 180, autoFreeze: false, autoFreezeInterval: 7, disableAtimeTest: false, verify: 'size' };
}

function context(repo: Repo, onFreezeStart: () => Promise<void>): FreezeContext {
  return {
    repo,
    task: { taskId: randomUUID(), type: 'freeze', path: repo.localPath, dryRun: false, force: false },
    rclone,
    log,
    signal: new AbortController().signal,
    atime: { supported: true },
    progress: () => undefined,
    onFreezeStart,
  };
}

function files(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name), base) : [path.relative(base, path.join(dir, e.name))]))
    .sort();
}

it('keeps a file read, and a file modified, between judgement and deletion', async () => {
  const remoteDir = tempDir('race-remote');
  const local = tempDir('race-local');
  writeFixture(remoteDir, 'symlink');
  writeFixture(local, 'symlink');
  const result = await runFreeze(
    context(repoFor(local, { backend: 'local', path: remoteDir }), async () => {
      readFileSync(path.join(local, 'file1.txt')); // a user reads it: atime moves
      const changed = path.join(local, 'subdir/subfile.txt');
      const { atime } = statSync(changed);
      writeFileSync(changed, 'SUB FILE\n'); // same size, new content and mtime
      utimesSync(changed, atime, new Date());
    }),
  );
  const left = files(local);
  expect(left).toEqual(['file1.txt', 'subdir/subfile.txt']);
  expect(result.files).toBe(Object.keys(FIXTURE_FILES).length + 3 - 2);
  expect(lines.filter((l) => /it was read or changed while the freeze ran/.test(l))).toHaveLength(2);
});

it('the remote becoming unreachable after the listing deletes nothing, and fails the task', async () => {
  const sftpRoot = tempDir('race-sftp');
  writeFixture(path.join(sftpRoot, 'tree'), 'rclonelink');
  const server = await startSftp({ root: sftpRoot });
  servers.push(server);
  const local = tempDir('race-local2');
  writeFixture(local, 'symlink');
  const before = files(local);
  const repo = repoFor(local, { backend: 'sftp', host: server.host, port: server.port, path: 'tree', user: server.user, password: server.password });
  await expect(runFreeze(context(repo, () => server.stop()))).rejects.toThrow(/the remote stopped answering while freezing; nothing more was deleted/);
  expect(files(local)).toEqual(before);
  expect(existsSync(path.join(local, 'big/large.bin'))).toBe(true);
}, 60_000);
