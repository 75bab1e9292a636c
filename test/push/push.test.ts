/**
 * Push end to end against the real rclone and the local, SFTP and S3 test remotes
 * (issue 18): new and changed files reach the remote, each replaced remote file stays
 * readable as a version, the anomaly guard holds a truncated file and stops a mass change
 * with the remote unchanged, a non-pushable repo is refused, and freeze succeeds at once
 * after a push. The kind's `run` is called directly, with a real rclone.
 */
import { mkdirSync, mkdtempSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JsonValue } from '../../src/tasks/kind.js';
import { pushKind } from '../../src/tasks/kinds/push.js';
import { runFreeze } from '../../src/workers/freeze.js';
import { versionsRemote } from '../../src/push/versions.js';
import { FIXTURE_FILES, FIXTURE_LINKS, makeRemote, REMOTE_KINDS, tempDir, writeFixture } from '../helpers/remotes.js';
import { pushContext, rclone, readRemote, remoteSnapshot, repoOf } from './push-helpers.js';

const REMOTE_FILES = Object.keys(FIXTURE_FILES).length + Object.keys(FIXTURE_LINKS).length;
const run = pushKind.run!;
const field = (result: JsonValue | undefined, key: string): JsonValue | undefined => (result as Record<string, JsonValue>)[key];

/** A local tree equal to the remote's fixture, edited by `edit`. */
function localTree(edit: (dir: string) => void = () => undefined): string {
  const dir = tempDir('push-local');
  writeFixture(dir, 'symlink');
  edit(dir);
  return dir;
}

function edit(dir: string, name: string, content: string): void {
  mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
  writeFileSync(path.join(dir, name), content);
  // Minutes after the fixture: a real edit, not clock noise.
  const later = new Date('2026-06-01T10:00:00Z');
  utimesSync(path.join(dir, name), later, later);
}

describe.each(REMOTE_KINDS)('push on a %s remote', (kind) => {
  it('pushes new and changed files, keeps the replaced one as a readable version, and freeze then succeeds at once', async () => {
    const remote = await makeRemote(kind);
    const local = localTree((dir) => {
      edit(dir, 'file1.txt', 'file one, edited since the backup\n');
      edit(dir, 'new/added.txt', 'a new file\n');
    });
    const repo = repoOf(local, remote);
    const { context, lines, events, running } = pushContext(repo);

    const result = await run(context);
    expect(result.files, lines.join('\n')).toBe(2);
    // One event a file in place (what the mails list), none for the unchanged ones.
    expect(events.filter((e) => e.kind === 'pushed').sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { kind: 'pushed', path: 'file1.txt', bytes: 34, replaced: true },
      { kind: 'pushed', path: 'new/added.txt', bytes: 11, replaced: false },
    ]);
    expect(field(result.result, 'new')).toBe(1);
    expect(field(result.result, 'replaced')).toBe(1);
    expect(field(result.result, 'unchanged')).toBe(REMOTE_FILES - 1);
    expect(field(result.result, 'held')).toBe(0);
    expect(running()).toBe(true);
    expect(await readRemote(repo.remote, 'file1.txt')).toBe('file one, edited since the backup\n');
    expect(await readRemote(repo.remote, 'new/added.txt')).toBe('a new file\n');

    // The replaced remote file is still there, as a version beside the remote.
    const versions = versionsRemote(repo.remote);
    const versionDir = field(result.result, 'versions_dir') as string;
    expect(versionDir).toMatch(/^\d{4}-\d\d-\d\dT\d{6}Z-/);
    expect(await readRemote(versions, `${versionDir}/file1.txt`)).toBe(FIXTURE_FILES['file1.txt']);
    // Only that version is kept: no upload left behind in the incoming area.
    expect(Object.keys(await remoteSnapshot(versions))).toEqual([`${versionDir}/file1.txt`]);

    // A second push finds nothing to do.
    const again = await run(pushContext(repo).context);
    expect(again.files).toBe(0);
    expect(field(again.result, 'unchanged')).toBe(REMOTE_FILES + 1);

    // Freeze right after: the remote holds every file with the local size and mtime.
    const freezeRepo = { ...repo, freezable: true };
    const freezeLines: string[] = [];
    const frozen = await runFreeze({
      ...pushContext(freezeRepo).context,
      repo: freezeRepo,
      task: { taskId: 'f', type: 'freeze', path: local, dryRun: false, force: true },
      rclone,
      log: { line: (t) => void freezeLines.push(t), event: () => undefined, flush: async () => undefined, close: async () => undefined },
      signal: new AbortController().signal,
      atime: { supported: true },
      progress: () => undefined,
      onFreezeStart: async () => undefined,
    });
    expect(frozen.unprotected, freezeLines.join('\n')).toBe(0);
    expect(frozen.files).toBe(REMOTE_FILES + 1);
  }, 60_000);

  it('holds a truncated file (failing the task, naming it) and pushes the rest; the remote copy stays whole', async () => {
    const remote = await makeRemote(kind);
    const local = localTree((dir) => {
      edit(dir, 'file2.xml', '<xml>two, edited</xml>\n');
      truncateSync(path.join(dir, 'big/large.bin'), 1000);
    });
    const repo = repoOf(local, remote);
    const { context, lines, events } = pushContext(repo);
    await expect(run(context)).rejects.toThrow(/pushed 1 file, but held 1 file that shrank by more than push_shrink_limit 50 % or became empty, compared with the remote copy: big\/large\.bin \(1000 bytes, the remote copy 3145728 bytes\)/);
    expect(lines).toContain('held big/large.bin: 1000 bytes, the remote copy 3145728 bytes');
    expect(events).toContainEqual({ kind: 'held', path: 'big/large.bin', reason: 'shrank', bytes: 1000, remoteBytes: 3145728 });
    expect(events.filter((e) => e.kind === 'pushed')).toEqual([{ kind: 'pushed', path: 'file2.xml', bytes: 23, replaced: true }]);
    expect(await readRemote(repo.remote, 'file2.xml')).toBe('<xml>two, edited</xml>\n');
    expect(Buffer.byteLength(await readRemote(repo.remote, 'big/large.bin'), 'latin1')).toBeGreaterThan(1000);
    expect((await remoteSnapshot(repo.remote))['big/large.bin']).toMatch(/^3145728 /);
  }, 60_000);

  it('stops a mass change: nothing pushed, the remote unchanged, the task failed saying why', async () => {
    const remote = await makeRemote(kind);
    // 3 of the 10 remote files changed: 30 % > push_change_limit 20 %.
    const local = localTree((dir) => {
      for (const name of ['file1.txt', 'file2.xml', 'subdir/subfile.txt']) edit(dir, name, `encrypted ${name} ${'x'.repeat(40)}\n`);
      edit(dir, 'new.txt', 'new\n');
    });
    const repo = repoOf(local, remote);
    const before = await remoteSnapshot(repo.remote);
    const { context, running } = pushContext(repo);
    await expect(run(context)).rejects.toThrow(/push stopped: it would replace 3 of the 10 remote files under .* \(more than push_change_limit 20 %\).*nothing was pushed/);
    expect(running()).toBe(false);
    expect(await remoteSnapshot(repo.remote)).toEqual(before);
    expect(await remoteSnapshot(versionsRemote(repo.remote))).toEqual({});
  }, 60_000);

  it('is refused where the repo is not pushable, and the remote is unchanged', async () => {
    const remote = await makeRemote(kind);
    const local = localTree((dir) => edit(dir, 'file1.txt', 'changed\n'));
    const repo = repoOf(local, remote, {});
    expect(pushKind.refusedIn!(repo)).toBe(`the remote of repository ${local} is read-only (pushable: false)`);
    expect(pushKind.refusedIn!(repoOf(local, remote))).toBeUndefined();
    const before = await remoteSnapshot(repo.remote);
    await expect(run(pushContext(repo).context)).rejects.toThrow(/push refused: the remote of repository .* is read-only \(pushable: false\)/);
    expect(await remoteSnapshot(repo.remote)).toEqual(before);
  }, 60_000);
});

describe('push on a local remote', () => {
  it('a dry run says what would be pushed and writes nothing', async () => {
    const remote = await makeRemote('local');
    const local = localTree((dir) => edit(dir, 'new.txt', 'new\n'));
    const repo = repoOf(local, remote);
    const before = await remoteSnapshot(repo.remote);
    const { context, lines, events, running } = pushContext(repo, { dryRun: true });
    const result = await run(context);
    expect(result.files).toBe(1);
    expect(lines).toContain('would push new.txt');
    expect(events.filter((e) => e.kind === 'pushed')).toEqual([{ kind: 'pushed', path: 'new.txt', bytes: 4, replaced: false, dryRun: true }]);
    expect(running()).toBe(false);
    expect(await remoteSnapshot(repo.remote)).toEqual(before);
  });

  it('pushes a single file, and with force a held one (its remote copy kept as a version)', async () => {
    const remote = await makeRemote('local');
    const local = localTree((dir) => writeFileSync(path.join(dir, 'subdir/subfile.txt'), ''));
    const repo = repoOf(local, remote);
    const file = path.join(local, 'subdir/subfile.txt');
    await expect(run(pushContext(repo, { path: file }).context)).rejects.toThrow(/held 1 file .*subdir\/subfile\.txt \(empty, the remote copy has 9 bytes\)/);
    const forced = await run(pushContext(repo, { path: file, force: true }).context);
    expect(forced.files).toBe(1);
    expect(await readRemote(repo.remote, 'subdir/subfile.txt')).toBe('');
    const versionDir = field(forced.result, 'versions_dir') as string;
    expect(await readRemote(versionsRemote(repo.remote), `${versionDir}/subdir/subfile.txt`)).toBe('sub file\n');
  });

  it('removes versions older than push_keep_versions_days, and nothing else there', async () => {
    const remote = await makeRemote('local');
    const store = `${remote.root!}.glacis-versions`;
    for (const name of ['2020-01-01T000000Z-old/a.txt', '2999-01-01T000000Z-future/b.txt', 'not-a-version/c.txt', '.incoming/other-task/d.txt']) {
      mkdirSync(path.dirname(path.join(store, name)), { recursive: true });
      writeFileSync(path.join(store, name), name);
    }
    const local = localTree((dir) => edit(dir, 'file1.txt', 'file one, a longer edit\n'));
    const repo = repoOf(local, remote, { pushable: true, push_keep_versions_days: 7 });
    const result = await run(pushContext(repo).context);
    expect(field(result.result, 'versions_removed')).toBe(1);
    const left = Object.keys(await remoteSnapshot(versionsRemote(repo.remote)));
    expect(left).toEqual(expect.arrayContaining(['2999-01-01T000000Z-future/b.txt', 'not-a-version/c.txt', '.incoming/other-task/d.txt']));
    expect(left.some((name) => name.startsWith('2020-01-01'))).toBe(false);
    expect(left).toHaveLength(4);
  });

  it('with verify: hash, pushes a file whose content changed but not its size nor mtime', async () => {
    const remote = await makeRemote('local');
    const remoteFile = path.join(remote.root!, 'file1.txt');
    writeFileSync(remoteFile, 'FILE ONE\n');
    utimesSync(remoteFile, new Date('2020-01-02T03:04:05Z'), new Date('2020-01-02T03:04:05Z'));
    const local = localTree();
    const bySize = await run(pushContext(repoOf(local, remote)).context);
    expect(bySize.files).toBe(0);
    const byHash = await run(pushContext(repoOf(local, remote, { pushable: true, verify: 'hash' })).context);
    expect(byHash.files).toBe(1);
    expect(await readRemote(repoOf(local, remote).remote, 'file1.txt')).toBe('file one\n');
  });

  it('excluded files are neither pushed nor counted', async () => {
    const remote = await makeRemote('local');
    const local = localTree((dir) => edit(dir, 'scratch.tmp', 'scratch\n'));
    mkdtempSync(path.join(local, 'empty-'));
    const result = await run(pushContext(repoOf(local, remote, { pushable: true, exclude: '*.tmp' })).context);
    expect(result.files).toBe(0);
  });
});
