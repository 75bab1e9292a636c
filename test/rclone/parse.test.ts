import { describe, expect, it } from 'vitest';
import { parseCopyLogLine, parseLsjsonLine } from '../../src/rclone/parse.js';

describe('parseLsjsonLine', () => {
  it('reads entries with or without the trailing comma, skips brackets', () => {
    expect(parseLsjsonLine('[')).toBeUndefined();
    expect(parseLsjsonLine(']')).toBeUndefined();
    expect(parseLsjsonLine('')).toBeUndefined();
    const line = '{"Path":"sub/b.txt","Name":"b.txt","Size":6,"MimeType":"text/plain","ModTime":"2026-11-23T11:05:44.884029437Z","IsDir":false},';
    expect(parseLsjsonLine(line)).toEqual({
      path: 'sub/b.txt', name: 'b.txt', size: 6, modTime: '2026-11-23T11:05:44.884029437Z', isDir: false, mimeType: 'text/plain',
    });
    expect(parseLsjsonLine(line.slice(0, -1))?.path).toBe('sub/b.txt');
  });

  it('keeps non-empty hashes', () => {
    const e = parseLsjsonLine('{"Path":"a","Name":"a","Size":1,"ModTime":"t","IsDir":false,"Hashes":{"md5":"abc","sha1":""}}');
    expect(e?.hashes).toEqual({ md5: 'abc' });
  });

  it('throws on output that is not an lsjson entry', () => {
    expect(() => parseLsjsonLine('{"Path":"a"}')).toThrow(TypeError);
    expect(() => parseLsjsonLine('Failed to lsjson')).toThrow(SyntaxError);
  });
});

describe('parseCopyLogLine', () => {
  it('recognises copied files, symlinks included', () => {
    expect(parseCopyLogLine('{"level":"info","msg":"Copied (new)","object":"link.rclonelink","objectType":"*local.Object"}')).toEqual({
      kind: 'copied', object: 'link.rclonelink', replaced: false, text: 'INFO: link.rclonelink: Copied (new)',
    });
    expect(parseCopyLogLine('{"level":"info","msg":"Copied (replaced existing)","object":"a"}')).toMatchObject({ kind: 'copied', replaced: true });
    // rclone 1.60's words for a file above --multi-thread-cutoff, copied in parallel streams.
    expect(parseCopyLogLine('{"level":"info","msg":"Multi-thread Copied (new)","object":"big.bin"}')).toEqual({
      kind: 'copied', object: 'big.bin', replaced: false, text: 'INFO: big.bin: Multi-thread Copied (new)',
    });
    expect(parseCopyLogLine('{"level":"info","msg":"Multi-thread Copied (replaced existing)","object":"big.bin"}')).toMatchObject({ kind: 'copied', replaced: true });
  });

  it('turns stats into progress', () => {
    const line = JSON.stringify({
      level: 'info', msg: '\nTransferred: ...\n',
      stats: { bytes: 10, totalBytes: 40, transfers: 1, totalTransfers: 4, speed: 5.5, eta: 6, errors: 0, checks: 2,
        transferring: [{ name: 'big.bin', bytes: 3, size: 30 }] },
    });
    expect(parseCopyLogLine(line)).toMatchObject({
      kind: 'stats',
      progress: { bytes: 10, totalBytes: 40, transfers: 1, totalTransfers: 4, speed: 5.5, etaSeconds: 6, currentFile: 'big.bin' },
      totals: { bytes: 10, errors: 0, checks: 2 },
    });
    const idle = parseCopyLogLine(JSON.stringify({ level: 'info', msg: '', stats: { eta: null } }));
    expect(idle).toMatchObject({ kind: 'stats', progress: { bytes: 0, etaSeconds: null } });
    expect(idle.kind === 'stats' && 'currentFile' in idle.progress).toBe(false);
  });

  it('passes other lines through as log text', () => {
    expect(parseCopyLogLine('{"level":"error","msg":"Failed to copy: boom","object":"x"}')).toEqual({
      kind: 'log', level: 'error', text: 'ERROR: x: Failed to copy: boom',
    });
    expect(parseCopyLogLine('2026/11/23 Failed to load filters: nope')).toEqual({
      kind: 'log', level: 'unknown', text: '2026/11/23 Failed to load filters: nope',
    });
  });
});
