import { describe, expect, it } from 'vitest';
import { compileExcludes, ExcludePatternError } from '../../src/paths/exclude.js';

describe('compileExcludes (rclone glob semantics)', () => {
  it("matches Baricadr's suffix patterns at any depth", () => {
    const isExcluded = compileExcludes(['*xml', '*tsv']);
    expect(isExcluded('a.xml')).toBe(true);
    expect(isExcluded('deep/dir/b.tsv')).toBe(true);
    expect(isExcluded('deep/dir/b.txt')).toBe(false);
    expect(isExcluded('xml/file.txt')).toBe(false);
  });

  it('keeps * within one path segment and lets ** cross them', () => {
    expect(compileExcludes(['raw/*.fastq'])('x/raw/a.fastq')).toBe(true);
    expect(compileExcludes(['raw/*.fastq'])('raw/sub/a.fastq')).toBe(false);
    expect(compileExcludes(['raw/**'])('raw/sub/a.fastq')).toBe(true);
  });

  it('anchors a leading slash at the repository root', () => {
    const isExcluded = compileExcludes(['/tmp/**']);
    expect(isExcluded('tmp/a')).toBe(true);
    expect(isExcluded('x/tmp/a')).toBe(false);
  });

  it('supports ?, classes, alternatives, escapes and directory patterns', () => {
    expect(compileExcludes(['file?.txt'])('file1.txt')).toBe(true);
    expect(compileExcludes(['file?.txt'])('file/.txt')).toBe(false);
    expect(compileExcludes(['[ab].txt'])('b.txt')).toBe(true);
    expect(compileExcludes(['[!ab].txt'])('b.txt')).toBe(false);
    expect(compileExcludes(['*.{bam,sam}'])('x/y.sam')).toBe(true);
    expect(compileExcludes(['\\*.txt'])('*.txt')).toBe(true);
    expect(compileExcludes(['\\*.txt'])('a.txt')).toBe(false);
    expect(compileExcludes(['cache/'])('a/cache/x/y')).toBe(true);
    expect(compileExcludes(['a.b'])('axb')).toBe(false);
  });

  it('excludes nothing without patterns, and refuses broken ones', () => {
    expect(compileExcludes([])('anything')).toBe(false);
    expect(() => compileExcludes(['[abc'])).toThrow(ExcludePatternError);
    expect(() => compileExcludes(['{a,b'])).toThrow(ExcludePatternError);
  });
});
