import { mkdirSync, mkdtempSync, realpathSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  findRepo,
  isSameOrInside,
  normalizeRequestPath,
  PathError,
  pathsOverlap,
  relativeToRepo,
  resolveRequestPath,
  selfAndAncestors,
} from '../../src/paths/index.js';

describe('normalizeRequestPath', () => {
  it('resolves dot segments, repeated and trailing slashes', () => {
    expect(normalizeRequestPath('/data/lab1//runs/../raw/')).toBe('/data/lab1/raw');
    expect(normalizeRequestPath('/data/./lab1/.')).toBe('/data/lab1');
    expect(normalizeRequestPath('/../../etc')).toBe('/etc');
  });

  it.each([
    ['relative', 'data/lab1'],
    ['empty', ''],
    ['NUL byte', '/data/lab1\0/x'],
    ['too long', `/${'a'.repeat(5000)}`],
    ['not a string', 42],
    ['an array', ['/data']],
  ])('refuses a %s path', (_what, input) => {
    expect(() => normalizeRequestPath(input)).toThrow(PathError);
  });
});

describe('containment goes by path segment', () => {
  it('a path is inside its parent and itself, not inside a sibling sharing a prefix', () => {
    expect(isSameOrInside('/repo/a/b', '/repo/a')).toBe(true);
    expect(isSameOrInside('/repo/a', '/repo/a')).toBe(true);
    expect(isSameOrInside('/repo/abc', '/repo/ab')).toBe(false);
    expect(isSameOrInside('/repo/ab', '/repo/abc')).toBe(false);
    expect(isSameOrInside('/anything', '/')).toBe(true);
  });

  it('overlap is symmetric', () => {
    expect(pathsOverlap('/repo/a', '/repo/a/b')).toBe(true);
    expect(pathsOverlap('/repo/a/b', '/repo/a')).toBe(true);
    expect(pathsOverlap('/repo/ab', '/repo/abc')).toBe(false);
  });

  it('lists a path and its ancestors, deepest first', () => {
    expect(selfAndAncestors('/a/b/c')).toEqual(['/a/b/c', '/a/b', '/a', '/']);
    expect(selfAndAncestors('/')).toEqual(['/']);
  });

  it('finds the repo and the relative path', () => {
    const repos = [{ localPath: '/data/ab' }, { localPath: '/data/abc' }];
    expect(findRepo(repos, '/data/abc/x')).toBe(repos[1]);
    expect(findRepo(repos, '/data/abcd')).toBeUndefined();
    expect(relativeToRepo(repos[0]!, '/data/ab/x/y')).toBe('x/y');
    expect(relativeToRepo(repos[0]!, '/data/ab')).toBe('');
  });
});

describe('resolveRequestPath', () => {
  const root = realpathSync(mkdtempSync(path.join(tmpdir(), 'glacis-paths-')));
  const repoDir = path.join(root, 'repo');
  const outside = path.join(root, 'outside');
  mkdirSync(path.join(repoDir, 'sub'), { recursive: true });
  mkdirSync(outside);
  symlinkSync(outside, path.join(repoDir, 'escape'));
  symlinkSync(path.join(repoDir, 'sub'), path.join(repoDir, 'inner-link'));
  symlinkSync('loop-b', path.join(repoDir, 'loop-a'));
  symlinkSync('loop-a', path.join(repoDir, 'loop-b'));
  const repos = [{ localPath: repoDir }];

  it('accepts paths inside a repo, existing or not', async () => {
    await expect(resolveRequestPath(repos, `${repoDir}/sub/../sub/`)).resolves.toMatchObject({ path: `${repoDir}/sub`, relativePath: 'sub' });
    await expect(resolveRequestPath(repos, `${repoDir}/missing/deeper/file`)).resolves.toMatchObject({ relativePath: 'missing/deeper/file' });
    await expect(resolveRequestPath(repos, `${repoDir}/inner-link/x`)).resolves.toMatchObject({ relativePath: 'inner-link/x' });
  });

  it('refuses paths in no repo, also after ..', async () => {
    await expect(resolveRequestPath(repos, outside)).rejects.toThrow(/not in any configured repository/);
    await expect(resolveRequestPath(repos, `${repoDir}/../outside`)).rejects.toThrow(PathError);
  });

  it('refuses a symlink inside the repo that leads out of it, and what lies below it', async () => {
    await expect(resolveRequestPath(repos, `${repoDir}/escape`)).rejects.toThrow(/outside its repository/);
    await expect(resolveRequestPath(repos, `${repoDir}/escape/not/yet/there`)).rejects.toThrow(/outside its repository/);
  });

  it('refuses a symlink loop with a PathError, not a crash', async () => {
    await expect(resolveRequestPath(repos, `${repoDir}/loop-a/x`)).rejects.toThrow(PathError);
  });
});
