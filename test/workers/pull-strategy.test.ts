/**
 * How a pull asks rclone to find the missing files (workers/pull.ts, chooseFind): by
 * reading the remote directories and keeping the listed names, or by looking each name up
 * (`--no-traverse`). Either way the guarantee holds: only the listed (missing, not
 * excluded) files are copied, and a local file is never replaced, even one created after
 * the listing, while rclone copies (link() refuses it).
 *
 * rclone runs through a wrapper script that records its argv (the way the pull went) and,
 * when asked, creates a local file right before the copy starts: the race, made certain.
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { chooseFind } from '../../src/workers/pull.js';
import { requireBinary } from '../harness/process.js';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { FIXTURE_FILES, FIXTURE_LINKS, REMOTE_KINDS, makeRemote, tempDir, type RemoteKind } from '../helpers/remotes.js';

const running: TestGlacis[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => g.stop()));
});

/** 40 files in one directory: enough that a pull of all of them reads the directory. */
const MANY: Record<string, string> = Object.fromEntries(
  Array.from({ length: 40 }, (_, i) => [`many/f${String(i).padStart(2, '0')}.dat`, `remote content ${i}\n`]),
);

interface Wrapper {
  readonly executable: string;
  /** argv of every `rclone copy` the pull ran. */
  copies(): string[][];
}

/**
 * An rclone that records its argv and, on `copy`, first writes `raceFile` (if given):
 * the listing is done by then, the copy not begun.
 */
function rcloneWrapper(raceFile?: { path: string; content: string }): Wrapper {
  const dir = tempDir('rclone-wrapper');
  const executable = path.join(dir, 'rclone-wrapper');
  const race = raceFile
    ? `if [ "$1" = copy ]; then mkdir -p ${JSON.stringify(path.dirname(raceFile.path))} && printf '%s' ${JSON.stringify(raceFile.content)} > ${JSON.stringify(raceFile.path)}; fi\n`
    : '';
  writeFileSync(
    executable,
    `#!/bin/sh\nprintf '%s\\0' "$@" > ${JSON.stringify(dir)}/argv.$$\n${race}exec ${JSON.stringify(requireBinary('rclone'))} "$@"\n`,
    { mode: 0o755 },
  );
  return {
    executable,
    copies: () =>
      readdirSync(dir)
        .filter((f) => f.startsWith('argv.'))
        .map((f) => readFileSync(path.join(dir, f), 'utf8').split('\0').slice(0, -1))
        .filter((argv) => argv[0] === 'copy'),
  };
}

async function setup(kind: RemoteKind, wrapper: Wrapper, repoExtra: Record<string, unknown> = {}) {
  const remote = await makeRemote(kind, MANY);
  const local = tempDir('repo');
  const glacis = await startGlacis({ repos: { [local]: { ...remote.settings, ...repoExtra } }, env: { RCLONE_EXECUTABLE: wrapper.executable } });
  running.push(glacis);
  const pull = async (rel: string): Promise<{ task: any; log: string }> => {
    const { status, body } = await glacis.post('/pull', { path: path.join(local, rel) });
    expect(status, JSON.stringify(body)).toBe(200);
    const task = await glacis.waitForTask(body.task as string);
    const log = (await glacis.get(`/tasks/log/${task.task_id}`)).body.logs as string;
    expect(task.status, log).toBe('finished');
    return { task, log };
  };
  return { local, pull };
}

/** Every file under dir, relative, skipping Glacis's own staging directory. */
function tree(dir: string, base = dir): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => {
      const full = path.join(dir, e.name);
      if (e.name === '.glacis-staging') return [];
      return e.isDirectory() ? tree(full, base) : [path.relative(base, full)];
    })
    .sort();
}

/** Names rclone said it copied, from the task log (`rclone: INFO: <name>: Copied (new)`). */
function copiedByRclone(log: string): string[] {
  return [...log.matchAll(/rclone: INFO: (.+?): Copied/g)].map((m) => m[1]!).sort();
}

function writeLocal(local: string, rel: string, content: string): void {
  mkdirSync(path.dirname(path.join(local, rel)), { recursive: true });
  writeFileSync(path.join(local, rel), content);
}

describe('chooseFind: reading directories when that asks the remote less than looking each file up', () => {
  it('reads the directories when most of them is wanted, looks files up when few are', () => {
    for (const backend of ['sftp', 's3'] as const) {
      expect(chooseFind(backend, { files: 2000, listedFiles: 2000, listedDirs: 10 })).toBe('listing');
      expect(chooseFind(backend, { files: 200, listedFiles: 2000, listedDirs: 10 })).toBe('listing');
      expect(chooseFind(backend, { files: 3, listedFiles: 2000, listedDirs: 10 })).toBe('lookup');
      // One file a directory: a directory read costs more than the lookup.
      expect(chooseFind(backend, { files: 1000, listedFiles: 1000, listedDirs: 1000 })).toBe('lookup');
      // A pull of one file: its own lookup.
      expect(chooseFind(backend, { files: 1, listedFiles: 1, listedDirs: 1 })).toBe('lookup');
    }
  });

  it('always looks files up on local and generic rclone remotes (rclone 1.60 drops local symlinks from a filtered directory read)', () => {
    expect(chooseFind('local', { files: 2000, listedFiles: 2000, listedDirs: 10 })).toBe('lookup');
    expect(chooseFind('rclone', { files: 2000, listedFiles: 2000, listedDirs: 10 })).toBe('lookup');
  });
});

describe.each(REMOTE_KINDS)('pull strategies on a %s remote', (kind) => {
  // What a pull of mostly missing files does on this kind of remote (see chooseFind).
  const mostlyMissing = kind === 'local' ? 'looking each file up on the remote' : 'reading the remote directories';

  it('a pull of mostly missing files copies only the missing, not excluded files, symlinks included; local files stay', async () => {
    const wrapper = rcloneWrapper();
    const { local, pull } = await setup(kind, wrapper, { exclude: '*xml' });
    writeLocal(local, 'file1.txt', 'changed locally');
    writeLocal(local, 'many/f07.dat', 'changed locally');
    const { task, log } = await pull('');

    expect(log).toContain(mostlyMissing);
    const copies = wrapper.copies();
    expect(copies).toHaveLength(1);
    expect(copies[0]!.includes('--no-traverse')).toBe(kind === 'local');

    const notExcluded = [...Object.keys(FIXTURE_FILES), ...Object.keys(MANY)].filter((f) => !f.endsWith('xml'));
    const pulled = [...notExcluded, ...Object.keys(FIXTURE_LINKS)].filter((f) => f !== 'file1.txt' && f !== 'many/f07.dat').sort();
    // rclone read whole directories but copied nothing else: not the excluded files, not the local ones.
    const remoteName = (f: string) => (f in FIXTURE_LINKS ? `${f}.rclonelink` : f);
    expect(copiedByRclone(log)).toEqual(pulled.map(remoteName).sort());
    expect(task.files).toBe(pulled.length);
    expect(tree(local)).toEqual([...pulled, 'file1.txt', 'many/f07.dat'].sort());
    expect(readFileSync(path.join(local, 'file1.txt'), 'utf8')).toBe('changed locally');
    expect(readFileSync(path.join(local, 'many/f07.dat'), 'utf8')).toBe('changed locally');
    expect(readFileSync(path.join(local, 'many/f08.dat'), 'utf8')).toBe(MANY['many/f08.dat']);
    for (const [name, target] of Object.entries(FIXTURE_LINKS)) {
      expect(lstatSync(path.join(local, name)).isSymbolicLink(), name).toBe(true);
      expect(readlinkSync(path.join(local, name))).toBe(target);
    }
  });

  it('a pull of a few files of a large directory looks each one up', async () => {
    const wrapper = rcloneWrapper();
    const { local, pull } = await setup(kind, wrapper);
    for (const [name, content] of Object.entries(MANY)) if (name !== 'many/f03.dat' && name !== 'many/f30.dat') writeLocal(local, name, `local ${content}`);
    const { task, log } = await pull('many');

    expect(log).toMatch(/looking each file up on the remote/);
    expect(wrapper.copies()[0]).toContain('--no-traverse');
    expect(copiedByRclone(log)).toEqual(['f03.dat', 'f30.dat']);
    expect(task.files).toBe(2);
    expect(readFileSync(path.join(local, 'many/f03.dat'), 'utf8')).toBe(MANY['many/f03.dat']);
    expect(readFileSync(path.join(local, 'many/f04.dat'), 'utf8')).toBe(`local ${MANY['many/f04.dat']}`);
  });

  it.each([
    ['all missing', false],
    ['a few missing', true],
  ] as const)('a file created locally after the listing, during the copy, is kept (%s)', async (_, mostlyPresent) => {
    const raced = 'many/f01.dat';
    const repoDir = tempDir('repo-parent');
    // The wrapper needs the repo's path before Glacis starts: the repo is a fixed subdirectory.
    const local = path.join(repoDir, 'repo');
    mkdirSync(local);
    const wrapper = rcloneWrapper({ path: path.join(local, raced), content: 'made locally meanwhile' });
    const remote = await makeRemote(kind, MANY);
    const glacis = await startGlacis({ repos: { [local]: remote.settings }, env: { RCLONE_EXECUTABLE: wrapper.executable } });
    running.push(glacis);
    const missing = mostlyPresent ? ['many/f00.dat', raced] : Object.keys(MANY);
    for (const [name, content] of Object.entries(MANY)) if (!missing.includes(name)) writeLocal(local, name, `local ${content}`);

    const { body } = await glacis.post('/pull', { path: path.join(local, 'many') });
    const task = await glacis.waitForTask(body.task as string);
    const log = (await glacis.get(`/tasks/log/${task.task_id}`)).body.logs as string;
    expect(task.status, log).toBe('finished');
    expect(log).toContain(mostlyPresent ? 'looking each file up on the remote' : mostlyMissing);
    // rclone did fetch it (it was missing when listed), and link() refused to replace the local one.
    expect(copiedByRclone(log)).toContain('f01.dat');
    expect(log).toContain(`kept the local ${raced}: it appeared during the pull`);
    expect(readFileSync(path.join(local, raced), 'utf8')).toBe('made locally meanwhile');
    expect(task.files).toBe(missing.length - 1);
    expect(readFileSync(path.join(local, 'many/f00.dat'), 'utf8')).toBe(MANY['many/f00.dat']);
    expect(tree(local)).toEqual(Object.keys(MANY).sort());
  });
});
