/**
 * A report (issue 16 §2) as people read it in a terminal: the filesystem, bytes by last
 * access with a bar each (the part safe on the remote drawn solid), what a freeze would
 * free at each age, the unprotected files, and the frozen files the remote lost, first
 * when there are any. Unicode blocks on a terminal; plain ASCII when piped or asked.
 */
import type { RepoReport } from '../../tasks/kinds/report.js';
import { plural } from '../../text/plural.js';
import { formatBytes, table } from './output.js';

/** Characters of the longest bar. */
export const BAR_WIDTH = 24;

export interface ReportStyle {
  /** Unicode blocks (`█░`) or ASCII (`#.`). */
  readonly unicode: boolean;
  /** Unprotected and lost paths listed before "… and N more". */
  readonly listed?: number;
}

/**
 * A bar of `width` cells: `safe` of `total` drawn solid, the rest light, scaled to `max`.
 *
 * @example
 * ```ts
 * bar(30, 10, 60, 8, true); // '█▒▒▒    ' (half the width, a third of it solid)
 * ```
 */
export function bar(total: number, safe: number, max: number, width: number, unicode: boolean): string {
  if (max <= 0 || total <= 0) return ' '.repeat(width);
  const cells = Math.max(1, Math.round((total / max) * width));
  const solid = Math.min(cells, Math.round((safe / total) * cells));
  const [full, light] = unicode ? ['█', '░'] : ['#', '.'];
  return (full.repeat(solid) + light.repeat(cells - solid)).padEnd(width);
}

/**
 * @example
 * ```ts
 * print(...renderReport(report, { unicode: process.stdout.isTTY === true }));
 * ```
 */
export function renderReport(report: RepoReport, style: ReportStyle): string[] {
  const listed = style.listed ?? 20;
  const out: string[] = [];
  const { frozen } = report;
  out.push(`Report of ${report.path} (freeze_age ${report.freezeAgeDays} days)`);
  if (frozen.lost.files > 0) {
    out.push(
      '',
      `DATA LOSS: the remote no longer holds ${plural(frozen.lost.files, 'frozen file')} (${formatBytes(frozen.lost.bytes)}); their local copies were frozen:`,
      ...frozen.lost.listed.slice(0, listed).map((file) => `  ${file.state.padEnd(8)} ${file.path}`),
      ...more(frozen.lost.files, Math.min(listed, frozen.lost.listed.length)),
    );
  }
  if (report.filesystem) {
    const fs = report.filesystem;
    const room = fs.used + fs.free;
    out.push('', `Filesystem: ${formatBytes(fs.used)} used of ${formatBytes(fs.size)} (${room === 0 ? 0 : Math.round((fs.used / room) * 100)} %), ${formatBytes(fs.free)} free`);
  }
  const max = Math.max(0, ...report.byAge.map((row) => row.bytes));
  out.push(
    '',
    `Local: ${plural(report.local.files, 'file')}, ${formatBytes(report.local.bytes)}${report.excluded.files > 0 ? ` (${plural(report.excluded.files, 'excluded file')}, ${formatBytes(report.excluded.bytes)})` : ''}`,
    ...table(
      ['LAST READ', 'FILES', 'SIZE', `BYTES (${style.unicode ? '█' : '#'} safe on the remote)`],
      report.byAge.map((row) => [row.bucket, String(row.files), formatBytes(row.bytes), bar(row.bytes, row.safe.bytes, max, BAR_WIDTH, style.unicode)]),
    ).map((line) => `  ${line}`),
  );
  const freeable = [
    [`at ${report.freezeAgeDays} days (freeze_age)`, report.freeable.atFreezeAge] as const,
    ...report.freeable.atBounds.filter((at) => at.days !== report.freezeAgeDays).map((at) => [`at ${at.days} days`, at] as const),
  ];
  out.push('', 'A freeze would free now:', ...table(['', 'FILES', 'SIZE'], freeable.map(([label, at]) => [label, String(at.files), formatBytes(at.bytes)])).slice(1).map((line) => `  ${line}`));
  const { unprotected } = report;
  out.push('', `Unprotected (cold, the only copy is local): ${plural(unprotected.files, 'file')}, ${formatBytes(unprotected.bytes)}`);
  out.push(...unprotected.paths.slice(0, listed).map((p) => `  ${p}`), ...more(unprotected.files, Math.min(listed, unprotected.paths.length)));
  out.push(
    '',
    `Frozen: ${plural(frozen.files, 'file')}, ${formatBytes(frozen.bytes)}; ${frozen.lost.files === 0 ? 'the remote holds them all' : `the remote holds ${frozen.held.files}, lost ${frozen.lost.files}`}`,
  );
  return out;
}

function more(total: number, shown: number): string[] {
  return total > shown ? [`  … and ${total - shown} more`] : [];
}
