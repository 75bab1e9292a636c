/**
 * A freeze's task log says what it kept and why (issue 15, bug 4): a freeze of recently
 * read files froze nothing, said nothing about why, and logged "remote listing: 3 files not
 * in the local tree" although all 3 were local.
 */
import { statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freezeSummary, noneKept } from '../../src/freeze/summary.js';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { makeRemote, tempDir, writeFixture } from '../helpers/remotes.js';

const running: TestGlacis[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => g.stop()));
});

async function setup(repoExtra: Record<string, unknown> = {}) {
  const remote = await makeRemote('local');
  const local = tempDir('freeze-summary');
  writeFixture(local, 'symlink');
  const glacis = await startGlacis({ repos: { [local]: { ...remote.settings, freezable: true, ...repoExtra } } });
  running.push(glacis);
  const freeze = async (rel: string, extra: Record<string, unknown> = {}): Promise<{ task: any; log: string }> => {
    const { status, body } = await glacis.post('/freeze', { path: path.join(local, rel), ...extra });
    expect(status, JSON.stringify(body)).toBe(200);
    const task = await glacis.waitForTask(body.task);
    return { task, log: (await glacis.get(`/tasks/log/${body.task}`)).body.logs as string };
  };
  return { local, freeze };
}

/** Marks a local file as read now (warm) without reading it. */
function warm(file: string): void {
  utimesSync(file, new Date(), statSync(file).mtime);
}

it('every file recently read: nothing frozen, the count kept as recent, the hint about force, no remote file said missing locally; one file in the singular', async () => {
  const { local, freeze } = await setup();
  const files = ['subdir/subfile.txt', 'subdir/subsubdir/poutrelle.tsv', 'subdir/subsubdir2/subsubfile.txt', 'subdir/subsubdir2/poutrelle.xml'];
  for (const file of files) warm(path.join(local, file));
  const { task, log } = await freeze('subdir');
  expect(task).toMatchObject({ status: 'finished', files: 0 });
  expect(log).toContain('froze 0 files, 0 bytes; kept 4 files: 4 read within freeze_age (180 days)');
  expect(log).toContain('hint: nothing was frozen because 4 files were read within freeze_age (180 days); force: true sets the age aside');
  expect(log).toContain('remote listing: 0 files not in the local tree');
  expect(log).not.toMatch(/remote listing: 4 files/);

  const one = await freeze('subdir/subfile.txt', { force: true });
  expect(one.task).toMatchObject({ files: 1 });
  expect(one.log).toMatch(/froze 1 file, \d+ bytes\n/);
  expect(one.log).toMatch(/finished: 1 file, \d+ bytes/);

  const forced = await freeze('subdir', { force: true });
  expect(forced.task).toMatchObject({ status: 'finished', files: 3 });
  expect(forced.log).toContain('froze 3 files, ');
  expect(forced.log).not.toContain('hint:');
});

it('counts each reason a file was kept: recent, excluded, missing on the remote, different, changed locally', async () => {
  const { local, freeze } = await setup({ exclude: '*xml , *tsv', freeze_age: 30 });
  warm(path.join(local, 'subdir/subfile.txt'));
  writeFileSync(path.join(local, 'file1.txt'), 'FILE ONE\n'); // same size, newer mtime
  utimesSync(path.join(local, 'file1.txt'), new Date('2020-01-01'), new Date());
  writeFileSync(path.join(local, 'big/large.bin'), 'shorter now');
  utimesSync(path.join(local, 'big/large.bin'), new Date('2020-01-01'), new Date('2020-01-01'));
  writeFileSync(path.join(local, 'local-only.txt'), 'never backed up');
  utimesSync(path.join(local, 'local-only.txt'), new Date('2020-01-01'), new Date('2020-01-01'));
  symlinkSync('./also-nowhere', path.join(local, 'links/local-dangling')); // just made: read within freeze_age

  const { task, log } = await freeze('');
  expect(task.status, JSON.stringify(task)).toBe('finished');
  const summary = log.split('\n').find((line) => /^(froze|would freeze) /.test(line.replace(/^\S+ /, '')) && line.includes('kept'));
  expect(summary, log).toBeDefined();
  expect(summary).toContain(`froze ${task.files} files`);
  expect(summary).toContain('kept 8 files: 2 read within freeze_age (30 days), 3 excluded, 1 missing on the remote, 1 different on the remote, 1 changed locally since the last backup');
  expect(log).toContain('3 cold files are not safe on the remote and were kept');
  expect(log).not.toContain('hint:');
  expect(log).toContain('remote listing: 0 files not in the local tree');

});

describe('freezeSummary', () => {
  it('lists only the reasons that kept files, and hints at force only when age alone freed nothing', () => {
    expect(freezeSummary({ dryRun: true, files: 1, bytes: 1, kept: noneKept(), freezeAgeDays: 2, force: false })).toEqual(['would freeze 1 file, 1 byte']);
    expect(freezeSummary({ dryRun: false, files: 0, bytes: 0, kept: { ...noneKept(), recent: 1, changed: 2 }, freezeAgeDays: 1, force: false })).toEqual([
      'froze 0 files, 0 bytes; kept 3 files: 1 read within freeze_age (1 day), 2 read or changed during the run',
      'hint: nothing was frozen because 1 file was read within freeze_age (1 day); force: true sets the age aside',
    ]);
    expect(freezeSummary({ dryRun: false, files: 2, bytes: 10, kept: { ...noneKept(), recent: 1 }, freezeAgeDays: 9, force: false })).toHaveLength(1);
  });
});
