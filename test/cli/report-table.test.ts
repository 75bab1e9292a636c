/** The report as the CLI prints it (src/cli/client/report.ts): bars, ASCII when asked, losses first. */
import { describe, expect, it } from 'vitest';
import { bar, renderReport } from '../../src/cli/client/report.js';
import { DAY_MS } from '../../src/policy/age.js';
import { ReportAccumulator } from '../../src/policy/report.js';
import type { RepoReport } from '../../src/tasks/kinds/report.js';

const NOW = Date.parse('2026-06-01T00:00:00Z');
function sample(lost: number): RepoReport {
  const acc = new ReportAccumulator({ freezeAgeDays: 30, verify: 'size', nowMs: NOW });
  const file = (days: number, size: number) => ({ kind: 'file' as const, size, mtimeMs: 0, atimeMs: NOW - days * DAY_MS });
  acc.add({ path: 'hot.dat', local: file(1, 1000), remote: { size: 1000, mtimeMs: 0, isLink: false }, excluded: false });
  acc.add({ path: 'old.dat', local: file(400, 4000), remote: { size: 4000, mtimeMs: 0, isLink: false }, excluded: false });
  acc.add({ path: 'only-here.dat', local: file(400, 4000), remote: undefined, excluded: false });
  const listed = Array.from({ length: lost }, (_, i) => ({ path: `gone/${i}.dat`, state: 'missing' as const, size: 10, frozenAt: '2026-01-01T00:00:00.000Z' }));
  const none = { files: 0, bytes: 0 };
  return {
    repo: '/data/a',
    path: '/data/a',
    verifiedBy: 'size',
    ...acc.result({ size: 1000_000, used: 600_000, free: 400_000 }),
    frozen: {
      files: 2 + lost,
      bytes: 20 + lost * 10,
      held: { files: 2, bytes: 20 },
      lost: { files: lost, bytes: lost * 10, byState: { missing: { files: lost, bytes: lost * 10 }, shrunk: none, changed: none }, listed, unlisted: 0 },
      localAgain: 0,
    },
  };
}

describe('the CLI report table', () => {
  it('draws bars scaled to the largest bucket, the safe part solid', () => {
    expect(bar(30, 10, 60, 12, true)).toBe('██░░░░      ');
    expect(bar(30, 10, 60, 12, false)).toBe('##....      ');
    expect(bar(0, 0, 60, 4, true)).toBe('    ');
    expect(bar(1, 1, 1_000_000, 4, false)).toBe('#   '); // never invisible
  });

  it('shows figures by age, freeable, unprotected and frozen; ASCII only when asked', () => {
    const lines = renderReport(sample(0), { unicode: false });
    const text = lines.join('\n');
    expect(text).toMatch(/^Report of \/data\/a \(freeze_age 30 days\)/);
    expect(text).toContain('Filesystem: 586 KiB used of 977 KiB (60 %), 391 KiB free');
    expect(text).toMatch(/<7d +1 +1000 B +##/);
    expect(text).toMatch(/>365d +2 +7\.8 KiB +#{12}\.{12}/);
    expect(text).toMatch(/at 30 days \(freeze_age\) +1 +3\.9 KiB/);
    expect(text).toContain('Unprotected (cold, the only copy is local): 1 file, 3.9 KiB\n  only-here.dat');
    expect(text).toContain('Frozen: 2 files, 20 B; the remote holds them all');
    expect(text).not.toContain('DATA LOSS');
    expect(text).toMatch(/^[\x20-\x7e\n]*$/); // plain ASCII
    expect(renderReport(sample(0), { unicode: true }).join('\n')).toContain('█');
  });

  it('puts a data loss first, capped with a count of the rest', () => {
    const lines = renderReport(sample(25), { unicode: true, listed: 3 });
    expect(lines.slice(1, 7)).toEqual([
      '',
      'DATA LOSS: the remote no longer holds 25 frozen files (250 B); their local copies were frozen:',
      '  missing  gone/0.dat',
      '  missing  gone/1.dat',
      '  missing  gone/2.dat',
      '  … and 22 more',
    ]);
  });
});
