/**
 * The versions store beside the remote (src/push/versions.ts) and the two rclone calls that
 * may remove something on a remote, which refuse a remote's root (issue 18).
 */
import { describe, expect, it } from 'vitest';
import { expiredVersionDirs, versionDirName, versionDirTime, versionsRemote } from '../../src/push/versions.js';
import { Rclone } from '../../src/rclone/index.js';

describe('versions store', () => {
  it('is a sibling of the remote root, never inside it', () => {
    expect(versionsRemote({ backend: 'local', path: '/mnt/cold/lab1/' }).path).toBe('/mnt/cold/lab1.glacis-versions');
    expect(versionsRemote({ backend: 's3', provider: 'Other', path: '/bucket/lab1' }).path).toBe('bucket/lab1.glacis-versions');
    expect(versionsRemote({ backend: 'sftp', host: 'h', user: 'u', path: 'backup/lab1' }).path).toBe('backup/lab1.glacis-versions');
    expect(() => versionsRemote({ backend: 'local', path: '/' })).toThrow(/no place beside it/);
  });

  it('names version directories by UTC time and task, and expires only those past the limit', () => {
    const name = versionDirName(new Date('2026-12-01T13:52:22.123Z'), 'ab12-cd');
    expect(name).toBe('2026-12-01T135222Z-ab12-cd');
    expect(versionDirTime(name)).toBe(Date.parse('2026-12-01T13:52:22Z'));
    const now = Date.parse('2026-12-31T00:00:00Z');
    expect(expiredVersionDirs([name, '2026-12-20T000000Z-x', '.incoming', 'mine', '2026-13-45T000000Z-bad'], now, 20)).toEqual([name]);
    expect(expiredVersionDirs([name], now, 30)).toEqual([]);
  });

  it('purge and rmdirs refuse a remote root', async () => {
    const rclone = new Rclone({ executable: '/usr/bin/rclone' });
    const remote = { backend: 'local', path: '/nonexistent-glacis' } as const;
    await expect(rclone.purge(remote, '')).rejects.toThrow(/purge of a remote root refused/);
    await expect(rclone.purge(remote, '/./')).rejects.toThrow(/purge of a remote root refused/);
    await expect(rclone.removeEmptyDirs(remote, '')).rejects.toThrow(/rmdirs of a remote root refused/);
  });
});
