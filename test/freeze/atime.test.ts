/**
 * The atime probe on real filesystems: a normal one, and a tmpfs mounted noatime
 * (mounting needs root, which the test machines and CI have).
 */
import { readdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { checkAtimeSupport } from '../../src/freeze/atime.js';
import { mountTmpfs, unmountAll } from '../helpers/mounts.js';
import { tempDir } from '../helpers/remotes.js';

afterAll(unmountAll);

describe('checkAtimeSupport', () => {
  it('finds atime moving on an ordinary directory, and leaves no probe file behind', async () => {
    const dir = tempDir('atime');
    expect(await checkAtimeSupport(dir)).toEqual({ supported: true });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('finds atime moving on a relatime tmpfs', async () => {
    expect(await checkAtimeSupport(mountTmpfs('relatime'))).toEqual({ supported: true });
  });

  it('finds atime frozen on a noatime tmpfs, and says what to do', async () => {
    const dir = mountTmpfs('noatime');
    const support = await checkAtimeSupport(dir);
    expect(support.supported).toBe(false);
    expect(!support.supported && support.reason).toMatch(/noatime.*disable_atime_test/);
    expect(readdirSync(dir)).toEqual([]);
  });
});
