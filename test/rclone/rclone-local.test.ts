/**
 * The rclone driver against the real rclone and a `local` remote, plus fake rclone
 * executables for the failure modes a real one will not produce on demand.
 */
import { createHash } from 'node:crypto';
import {
  chmodSync, closeSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync,
  readlinkSync, realpathSync, rmSync, symlinkSync, writeFileSync, writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRemote, RemoteSpec } from '../../src/config/types.js';
import {
  isAbortError, Rclone, RcloneError, RemoteNotFoundError, type CopyProgress, type RemoteEntry,
} from '../../src/rclone/index.js';
import { requireBinary } from '../harness/process.js';

const RCLONE = requireBinary('rclone');
const MiB = 1024 * 1024;

const dirs: string[] = [];
function tempDir(label: string): string {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), `glacis-rclone-${label}-`)));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function write(root: string, name: string, content: string | Buffer): void {
  mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
  writeFileSync(path.join(root, name), content);
}

/** A file of `size` bytes of pseudo-random data, written in chunks. */
function writeBigFile(file: string, size: number): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(MiB);
  for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE((i * 2654435761) >>> 0, i);
  for (let written = 0; written < size; written += chunk.length) writeSync(fd, chunk, 0, Math.min(chunk.length, size - written));
  closeSync(fd);
}

async function collect(it: AsyncIterable<RemoteEntry>): Promise<RemoteEntry[]> {
  const out: RemoteEntry[] = [];
  for await (const e of it) out.push(e);
  return out;
}

const pathsOf = (entries: RemoteEntry[]): string[] => entries.map((e) => e.path).sort();

/** Processes whose command line mentions `needle`, from /proc (any parent). */
function processesMentioning(needle: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (args.includes(needle)) found.push(`${pid}: ${args}`);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

function rcloneChildren(): string[] {
  return readdirSync('/proc').filter((pid) => {
    if (!/^\d+$/.test(pid)) return false;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      return ppid === process.pid && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('rclone');
    } catch {
      return false;
    }
  });
}

/** A fake rclone: a shell script; `$1` is the subcommand. */
function fakeRclone(body: string): string {
  const file = path.join(tempDir('fake'), 'rclone');
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

describe('Rclone against a local remote', () => {
  const rclone = new Rclone({ executable: RCLONE });
  let root: string;
  let remote: LocalRemote;

  beforeAll(() => {
    root = tempDir('remote');
    write(root, 'a.txt', 'hello\n');
    write(root, 'sub/b.txt', 'world!\n');
    write(root, 'sub/deep/c.txt', 'deep\n');
    write(root, 'sub/deep/skip.tmp', 'tmp\n');
    mkdirSync(path.join(root, 'emptydir'));
    symlinkSync('a.txt', path.join(root, 'link'));
    symlinkSync('../a.txt', path.join(root, 'sub/l2'));
    remote = { backend: 'local', path: root };
  });

  it('reports its version', async () => {
    expect(await rclone.version()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('lists one level, symlinks as .rclonelink files', async () => {
    const entries = await collect(rclone.list(remote, ''));
    expect(pathsOf(entries)).toEqual(['a.txt', 'emptydir', 'link.rclonelink', 'sub']);
    const byPath = new Map(entries.map((e) => [e.path, e]));
    expect(byPath.get('a.txt')).toMatchObject({ name: 'a.txt', size: 6, isDir: false });
    expect(byPath.get('sub')).toMatchObject({ isDir: true });
    expect(byPath.get('link.rclonelink')).toMatchObject({ name: 'link.rclonelink', size: 'a.txt'.length, isDir: false });
    expect(Date.parse(byPath.get('a.txt')!.modTime)).not.toBeNaN();
  });

  it('lists recursively, to a depth, files only, with excludes', async () => {
    expect(pathsOf(await collect(rclone.list(remote, '', { recursive: true })))).toEqual([
      'a.txt', 'emptydir', 'link.rclonelink', 'sub', 'sub/b.txt', 'sub/deep', 'sub/deep/c.txt', 'sub/deep/skip.tmp', 'sub/l2.rclonelink',
    ]);
    expect(pathsOf(await collect(rclone.list(remote, '', { recursive: true, maxDepth: 2 })))).toEqual([
      'a.txt', 'emptydir', 'link.rclonelink', 'sub', 'sub/b.txt', 'sub/deep', 'sub/l2.rclonelink',
    ]);
    expect(pathsOf(await collect(rclone.list(remote, '', { recursive: true, filesOnly: true, exclude: ['*.tmp', 'b.txt'] })))).toEqual([
      'a.txt', 'link.rclonelink', 'sub/deep/c.txt', 'sub/l2.rclonelink',
    ]);
  });

  it('lists a subdirectory relative to itself, with hashes when asked', async () => {
    const entries = await collect(rclone.list(remote, '/sub//', { recursive: true, filesOnly: true, hash: true, hashTypes: ['md5'] }));
    expect(pathsOf(entries)).toEqual(['b.txt', 'deep/c.txt', 'deep/skip.tmp', 'l2.rclonelink']);
    const b = entries.find((e) => e.path === 'b.txt')!;
    expect(b.hashes).toEqual({ md5: createHash('md5').update('world!\n').digest('hex') });
  });

  it('throws RemoteNotFoundError for a missing directory, never an empty listing', async () => {
    const err = await collect(rclone.list(remote, 'no/such/dir')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteNotFoundError);
    expect(err).toBeInstanceOf(RcloneError);
    expect((err as RcloneError).exitCode).toBe(3);
    await expect(collect(rclone.list({ backend: 'local', path: path.join(root, 'gone') }, ''))).rejects.toBeInstanceOf(RemoteNotFoundError);
  });

  it('lists an empty directory as empty', async () => {
    expect(await collect(rclone.list(remote, 'emptydir', { recursive: true }))).toEqual([]);
  });

  it('stats files, directories, symlinks and missing paths', async () => {
    expect(await rclone.stat(remote, 'sub/b.txt')).toMatchObject({ path: 'sub/b.txt', name: 'b.txt', size: 7, isDir: false });
    expect(await rclone.stat(remote, 'sub/')).toMatchObject({ path: 'sub', name: 'sub', isDir: true });
    expect(await rclone.stat(remote, '')).toMatchObject({ path: '', name: '', isDir: true });
    expect(await rclone.stat(remote, 'nope')).toBeNull();
    expect(await rclone.stat(remote, 'no/such/file.txt')).toBeNull();
    // Under --links the symlink exists only by its .rclonelink name.
    expect(await rclone.stat(remote, 'link')).toBeNull();
    expect(await rclone.stat(remote, 'link.rclonelink')).toMatchObject({ path: 'link.rclonelink', name: 'link.rclonelink', size: 5, isDir: false });
    expect(await rclone.stat(remote, 'sub/l2.rclonelink')).toMatchObject({ name: 'l2.rclonelink', size: '../a.txt'.length });
    expect(await rclone.stat(remote, 'sub/nope.rclonelink')).toBeNull();
    const hashed = await rclone.stat(remote, 'a.txt', { hash: true, hashTypes: ['sha1'] });
    expect(hashed?.hashes).toEqual({ sha1: createHash('sha1').update('hello\n').digest('hex') });
  });

  it('copies listed files into a local directory, symlinks as symlinks', async () => {
    const dest = tempDir('dest');
    const listFile = path.join(tempDir('list'), 'files.txt');
    writeFileSync(listFile, ['a.txt', 'link.rclonelink', 'sub/b.txt', 'sub/l2.rclonelink', ''].join('\n'));
    const copied: string[] = [];
    const logs: string[] = [];
    const result = await rclone.copyFiles(remote, {
      sourceDir: '', filesFrom: listFile, destDir: dest,
      onCopied: (name) => copied.push(name), onLog: (line) => logs.push(line),
    });
    expect(result).toEqual({ files: 4, bytes: 6 + 5 + 7 + 8, errors: 0, unchanged: 0 });
    expect(copied.sort()).toEqual(['a.txt', 'link.rclonelink', 'sub/b.txt', 'sub/l2.rclonelink']);
    expect(readFileSync(path.join(dest, 'a.txt'), 'utf8')).toBe('hello\n');
    expect(lstatSync(path.join(dest, 'link')).isSymbolicLink()).toBe(true);
    expect(readlinkSync(path.join(dest, 'link'))).toBe('a.txt');
    expect(readlinkSync(path.join(dest, 'sub/l2'))).toBe('../a.txt');
    expect(readdirSync(dest).sort()).toEqual(['a.txt', 'link', 'sub']);
    expect(logs).toContain('INFO: sub/b.txt: Copied (new)');
    expect(logs.some((l) => l.startsWith('Transferred:'))).toBe(true);

    const again = await rclone.copyFiles(remote, { sourceDir: '', filesFrom: listFile, destDir: dest });
    expect(again).toEqual({ files: 0, bytes: 0, errors: 0, unchanged: 4 });
  });

  it('copies from a subdirectory with names relative to it', async () => {
    const dest = tempDir('dest');
    const listFile = path.join(tempDir('list'), 'files.txt');
    writeFileSync(listFile, 'deep/c.txt\n');
    const result = await rclone.copyFiles(remote, { sourceDir: 'sub', filesFrom: listFile, destDir: path.join(dest, 'x') });
    expect(result.files).toBe(1);
    expect(readFileSync(path.join(dest, 'x/deep/c.txt'), 'utf8')).toBe('deep\n');
  });

  describe('with a large file', () => {
    const size = 64 * MiB;
    let big: RemoteSpec;
    let listFile: string;

    beforeAll(() => {
      const bigRoot = tempDir('big');
      writeBigFile(path.join(bigRoot, 'big.bin'), size);
      big = { backend: 'local', path: bigRoot };
      listFile = path.join(tempDir('list'), 'files.txt');
      writeFileSync(listFile, 'big.bin\n');
    });

    it('reports progress about every second, with totals and the current file', async () => {
      const dest = tempDir('dest');
      const seen: Array<CopyProgress & { at: number }> = [];
      const result = await rclone.copyFiles(big, {
        sourceDir: '', filesFrom: listFile, destDir: dest, bwLimit: '20M',
        onProgress: (p) => seen.push({ ...p, at: Date.now() }),
      });
      expect(result).toEqual({ files: 1, bytes: size, errors: 0, unchanged: 0 });
      expect(seen.length).toBeGreaterThanOrEqual(3);
      const inFlight = seen.filter((p) => p.currentFile === 'big.bin');
      expect(inFlight.length).toBeGreaterThanOrEqual(2);
      expect(inFlight[0]).toMatchObject({ totalBytes: size, totalTransfers: 1, transfers: 0 });
      expect(inFlight[0]!.bytes).toBeGreaterThan(0);
      expect(inFlight[0]!.bytes).toBeLessThan(size);
      const gaps = seen.slice(1).map((p, i) => p.at - seen[i]!.at);
      expect(Math.max(...gaps)).toBeLessThan(2000);
      expect(seen.at(-1)).toMatchObject({ bytes: size, totalBytes: size, transfers: 1 });
    }, 30_000);

    it('kills rclone when aborted and rejects with an AbortError once it is gone', async () => {
      const dest = tempDir('dest-abort');
      const controller = new AbortController();
      let abortedAt = 0;
      const err = await rclone
        .copyFiles(big, {
          sourceDir: '', filesFrom: listFile, destDir: dest, bwLimit: '4M', signal: controller.signal,
          onProgress: () => {
            if (!abortedAt) {
              abortedAt = Date.now();
              controller.abort(new Error('user cancelled'));
            }
          },
        })
        .catch((e: unknown) => e);
      expect(isAbortError(err)).toBe(true);
      expect((err as Error).cause).toEqual(new Error('user cancelled'));
      // SIGTERM suffices for rclone; the SIGKILL fallback comes at 2 s.
      expect(Date.now() - abortedAt).toBeLessThan(3500);
      expect(processesMentioning(dest)).toEqual([]);
      expect(rcloneChildren()).toEqual([]);
    }, 30_000);

    it('does not start rclone when the signal is already aborted', async () => {
      const dest = path.join(tempDir('dest-pre'), 'never');
      const err = await rclone
        .copyFiles(big, { sourceDir: '', filesFrom: listFile, destDir: dest, signal: AbortSignal.abort() })
        .catch((e: unknown) => e);
      expect(isAbortError(err)).toBe(true);
      expect(() => lstatSync(dest)).toThrow();
    });
  });

  describe('with a large listing', () => {
    let many: RemoteSpec;

    beforeAll(() => {
      const manyRoot = tempDir('many');
      for (let d = 0; d < 20; d++) for (let f = 0; f < 200; f++) write(manyRoot, `d${d}/file-${f}.txt`, `${d}/${f}`);
      many = { backend: 'local', path: manyRoot };
    });

    it('streams, and kills rclone when the caller stops early', async () => {
      let n = 0;
      for await (const e of rclone.list(many, '', { recursive: true, filesOnly: true })) {
        expect(e.isDir).toBe(false);
        if (++n === 10) {
          // rclone cannot have finished: 4000 entries do not fit in the pipe.
          expect(rcloneChildren()).toHaveLength(1);
          break;
        }
      }
      expect(rcloneChildren()).toEqual([]);
    });

    it('stops with an AbortError when the signal aborts mid-listing', async () => {
      const controller = new AbortController();
      let n = 0;
      const err = await (async () => {
        for await (const _ of rclone.list(many, '', { recursive: true, signal: controller.signal })) {
          if (++n === 5) controller.abort();
        }
      })().catch((e: unknown) => e);
      expect(isAbortError(err)).toBe(true);
      expect(n).toBeLessThan(4000);
      expect(rcloneChildren()).toEqual([]);
    });

    it('yields every entry when left alone', async () => {
      expect((await collect(rclone.list(many, '', { recursive: true, filesOnly: true }))).length).toBe(4000);
    });
  });

  it('ignores RCLONE_* variables and AWS_CA_BUNDLE of the parent environment', async () => {
    const hostile = new Rclone({
      executable: RCLONE,
      baseEnv: {
        ...process.env,
        RCLONE_CONFIG_GLACISREMOTE_TYPE: 'sftp',
        RCLONE_CONFIG_GLACISREMOTE_HOST: '192.0.2.1',
        RCLONE_EXCLUDE: '*.txt',
        RCLONE_MAX_DEPTH: '1',
        AWS_CA_BUNDLE: '/etc/ssl/certs/ca-certificates.crt',
      },
    });
    expect(pathsOf(await collect(hostile.list(remote, 'sub', { recursive: true, filesOnly: true })))).toEqual([
      'b.txt', 'deep/c.txt', 'deep/skip.tmp', 'l2.rclonelink',
    ]);
  });
});

describe('Rclone with other executables', () => {
  const remote: RemoteSpec = { backend: 'sftp', host: '127.0.0.1', path: 'x', user: 'u', password: 'topsecret-pw' };

  it('runs the configured executable, each instance its own, through one rclone.js loaded once', async () => {
    const log = path.join(tempDir('fake-log'), 'argv');
    const wrapper = fakeRclone(`echo "$@" >> ${log}\nexec ${RCLONE} "$@"`);
    const viaWrapper = new Rclone({ executable: wrapper });
    const direct = new Rclone({ executable: RCLONE });
    expect(await viaWrapper.version()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(await direct.version()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(await viaWrapper.version()).toMatch(/^\d+\.\d+\.\d+$/);
    expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(2);
    // rclone.js's documented surface: RCLONE_EXECUTABLE names the launcher (setpriv here),
    // set once; each call names its rclone as the launcher's argument.
    expect(process.env.RCLONE_EXECUTABLE).toMatch(/\/setpriv$/);
  });

  it('parses the version line', async () => {
    expect(await new Rclone({ executable: fakeRclone('echo "rclone v1.99.2-beta.7"; echo "- os/version: x"') }).version()).toBe('1.99.2');
  });

  it('fails clearly when the executable does not exist', async () => {
    const err = await new Rclone({ executable: '/nonexistent/rclone' }).version().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RcloneError);
    expect((err as RcloneError).exitCode).toBeNull();
    expect((err as Error).message).toMatch(/ENOENT/);
  });

  it('throws after a partial listing when rclone fails, with secrets redacted', async () => {
    const fake = fakeRclone([
      'echo "["',
      'echo \'{"Path":"a","Name":"a","Size":1,"ModTime":"2026-01-01T00:00:00Z","IsDir":false},\'',
      'echo "ERROR : login topsecret-pw / $RCLONE_CONFIG_GLACISREMOTE_PASS refused" >&2',
      'exit 1',
    ].join('\n'));
    const seen: string[] = [];
    const err = await (async () => {
      for await (const e of new Rclone({ executable: fake }).list(remote, '')) seen.push(e.path);
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['a']);
    expect(err).toBeInstanceOf(RcloneError);
    expect(err).not.toBeInstanceOf(RemoteNotFoundError);
    const { exitCode, stderrTail, message } = err as RcloneError;
    expect(exitCode).toBe(1);
    expect(stderrTail).toBe('ERROR : login *** / *** refused');
    expect(message).toContain('ERROR : login *** / *** refused');
    expect(message).not.toContain('topsecret');
  });

  it('fails a listing rclone stops answering, but not one whose reader is slow', async () => {
    const entry = (name: string) => `echo '{"Path":"${name}","Name":"${name}","Size":1,"ModTime":"2026-01-01T00:00:00Z","IsDir":false},'`;
    // rclone 1.60 over SFTP, once the server has gone: one entry, then silence for ever.
    const hanging = fakeRclone(['echo "["', entry('a'), 'exec sleep 611'].join('\n'));
    const seen: string[] = [];
    const err = await (async () => {
      for await (const e of new Rclone({ executable: hanging, stallTimeoutMs: 1000 }).list(remote, '')) seen.push(e.path);
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['a']);
    expect(err).toBeInstanceOf(RcloneError);
    expect(String(err)).toMatch(/gave no answer for 1 s/);
    // The hung process was stopped, not left behind.
    expect(processesMentioning('sleep 611')).toEqual([]);

    // A reader that keeps each entry 1.5 s (a slow HTTP client) holds rclone up itself.
    const steady = fakeRclone(['echo "["', entry('a'), entry('b'), entry('c'), 'echo "]"'].join('\n'));
    const read: string[] = [];
    for await (const e of new Rclone({ executable: steady, stallTimeoutMs: 1000 }).list(remote, '')) {
      read.push(e.path);
      await new Promise((resolve) => setTimeout(resolve, 1500));
    }
    expect(read).toEqual(['a', 'b', 'c']);
  });

  it('reports exit 3 with nothing listed as RemoteNotFoundError, and exit 3 mid-listing as a failure', async () => {
    const missing = fakeRclone('echo "["; echo "directory not found" >&2; exit 3');
    await expect(collect(new Rclone({ executable: missing }).list(remote, ''))).rejects.toBeInstanceOf(RemoteNotFoundError);
    expect(await new Rclone({ executable: missing }).stat(remote, 'x')).toBeNull();
    const vanished = fakeRclone('echo "["; echo \'{"Path":"a","Name":"a","Size":1,"ModTime":"t","IsDir":false},\'; exit 3');
    const err = await collect(new Rclone({ executable: vanished }).list(remote, '')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RcloneError);
    expect(err).not.toBeInstanceOf(RemoteNotFoundError);
  });

  it('refuses output that is not lsjson', async () => {
    const garbage = fakeRclone('echo "["; echo "hello there"; exec sleep 5');
    const started = Date.now();
    const err = await collect(new Rclone({ executable: garbage }).list(remote, '')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RcloneError);
    expect((err as Error).message).toMatch(/Unreadable rclone lsjson output/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('rejects a failed copy with the error lines, redacted', async () => {
    const fake = fakeRclone([
      'echo \'{"level":"info","msg":"Copied (new)","object":"ok.txt"}\' >&2',
      'echo \'{"level":"error","msg":"Failed to copy: auth topsecret-pw","object":"bad.txt"}\' >&2',
      // printf, not echo: dash's echo would turn the JSON's \n into a real newline.
      'printf \'%s\\n\' \'{"level":"info","msg":"\\nTransferred: 1","stats":{"bytes":3,"errors":1,"totalBytes":3}}\' >&2',
      'exit 1',
    ].join('\n'));
    const copied: string[] = [];
    const logs: string[] = [];
    const err = await new Rclone({ executable: fake })
      .copyFiles(remote, { sourceDir: '', filesFrom: '/dev/null', destDir: tempDir('dest'), onCopied: (n) => copied.push(n), onLog: (l) => logs.push(l) })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RcloneError);
    expect((err as RcloneError).stderrTail).toBe('ERROR: bad.txt: Failed to copy: auth ***');
    expect(copied).toEqual(['ok.txt']);
    expect(logs).toContain('ERROR: bad.txt: Failed to copy: auth ***');
    expect(logs.join('\n')).not.toContain('topsecret');
  });

  it('stops rclone and rejects with the error when a callback throws', async () => {
    const fake = fakeRclone([
      'echo \'{"level":"info","msg":"Copied (new)","object":"ok.txt"}\' >&2',
      'exec sleep 10',
    ].join('\n'));
    const started = Date.now();
    const err = await new Rclone({ executable: fake })
      .copyFiles(remote, {
        sourceDir: '', filesFrom: '/dev/null', destDir: tempDir('dest'),
        onCopied: () => {
          throw new Error('disk full');
        },
      })
      .catch((e: unknown) => e);
    expect(err).toEqual(new Error('disk full'));
    expect(Date.now() - started).toBeLessThan(4000);
    expect(rcloneChildren()).toEqual([]);
  });
});
