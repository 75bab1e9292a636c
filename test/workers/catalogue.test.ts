/**
 * The catalogue of frozen files, fed by the tasks themselves (issue 16 §1): a freeze
 * records each file it deleted (and nothing for a dry run or a kept file), a pull removes
 * each file it placed back. A real Glacis against a real SFTP remote.
 */
import { lstatSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FrozenFile } from '../../src/store/catalogue.js';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { FIXTURE_FILES, FIXTURE_MTIME, makeRemote, tempDir, writeFixture } from '../helpers/remotes.js';

const running: TestGlacis[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => g.stop()));
});

async function catalogued(glacis: TestGlacis, repo: string, subtree = ''): Promise<FrozenFile[]> {
  const out: FrozenFile[] = [];
  for await (const file of glacis.runtime.store.catalogue.stream(repo, subtree)) out.push(file);
  return out;
}

describe('the catalogue of frozen files', () => {
  it('records what a freeze deleted, nothing for a dry run or a kept file, and forgets what a pull brings back', async () => {
    const remote = await makeRemote('sftp');
    const local = tempDir('catalogue-repo');
    writeFixture(local, 'symlink');
    writeFileSync(path.join(local, 'subdir/local-only.txt'), 'never backed up');
    utimesSync(path.join(local, 'subdir/local-only.txt'), FIXTURE_MTIME, FIXTURE_MTIME);
    const glacis = await startGlacis({ repos: { [local]: { ...remote.settings, freezable: true } } });
    running.push(glacis);
    const submit = async (route: string, rel: string, extra: Record<string, unknown> = {}) => {
      const { status, body } = await glacis.post(route, { path: path.join(local, rel), ...extra });
      expect(status, JSON.stringify(body)).toBe(200);
      return glacis.waitForTask(body.task as string);
    };

    expect(await submit('/freeze', 'subdir', { dry_run: true })).toMatchObject({ status: 'finished', files: 4 });
    expect(await catalogued(glacis, local)).toEqual([]);

    const before = lstatSync(path.join(local, 'subdir/subfile.txt'));
    const frozen = await submit('/freeze', 'subdir');
    expect(frozen).toMatchObject({ status: 'finished', files: 4 });
    const rows = await catalogued(glacis, local);
    const names = ['subdir/subfile.txt', 'subdir/subsubdir/poutrelle.tsv', 'subdir/subsubdir2/poutrelle.xml', 'subdir/subsubdir2/subsubfile.txt'];
    expect(rows.map((r) => r.path)).toEqual(names); // not local-only.txt: kept
    for (const row of rows) {
      expect(row).toMatchObject({ kind: 'file', size: Buffer.byteLength(FIXTURE_FILES[row.path]!), hash: null, taskId: frozen.task_id });
      expect(Date.parse(row.frozenAt)).toBeGreaterThanOrEqual(Date.parse(frozen.started));
    }
    expect(rows[0]!.mtimeMs).toBe(before.mtimeMs);

    expect(await submit('/freeze', 'links')).toMatchObject({ status: 'finished', files: 3 });
    expect((await catalogued(glacis, local, 'links')).map((r) => [r.path, r.kind])).toEqual([
      ['links/absolute.txt', 'symlink'],
      ['links/dangling', 'symlink'],
      ['links/relative.txt', 'symlink'],
    ]);

    expect(await submit('/pull', 'subdir/subsubdir2')).toMatchObject({ status: 'finished', files: 2 });
    expect((await catalogued(glacis, local, 'subdir')).map((r) => r.path)).toEqual(['subdir/subfile.txt', 'subdir/subsubdir/poutrelle.tsv']);
    expect(await submit('/pull', 'subdir/subfile.txt')).toMatchObject({ status: 'finished', files: 1 });
    expect((await catalogued(glacis, local, 'subdir')).map((r) => r.path)).toEqual(['subdir/subsubdir/poutrelle.tsv']);
    expect(await catalogued(glacis, local, 'links')).toHaveLength(3);
  });
});
