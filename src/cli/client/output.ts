/**
 * How the client shows things to people: sizes, times, aligned tables; and JSON for
 * scripts. Results go to stdout; progress, hints and errors to stderr.
 */

/**
 * Writes `value` as JSON on one line (with `--json`).
 *
 * @example
 * ```ts
 * printJson({ task: id }); // {"task":"…"}
 * ```
 */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/**
 * Writes lines to stdout.
 *
 * @example
 * ```ts
 * print('pull of /data/x submitted');
 * ```
 */
export function print(...lines: string[]): void {
  process.stdout.write(lines.map((line) => `${line}\n`).join(''));
}

/**
 * Writes a hint or note to stderr, so that stdout stays the command's result.
 *
 * @example
 * ```ts
 * note('follow it with: glacis task log ID --follow');
 * ```
 */
export function note(line: string): void {
  process.stderr.write(`${line}\n`);
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/**
 * @example
 * ```ts
 * formatBytes(1536); // '1.5 KiB'
 * ```
 */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

/**
 * Seconds as `m:ss` or `h:mm:ss`.
 *
 * @example
 * ```ts
 * formatDuration(75); // '1:15'
 * ```
 */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/**
 * An ISO time in the local time zone, to the second; '' for none.
 *
 * @example
 * ```ts
 * formatTime('2024-05-01T10:00:00.000Z'); // '2024-05-01 12:00:00' in Paris
 * ```
 */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/**
 * Rows aligned under their headers; the last column is left unpadded (it holds paths).
 *
 * @example
 * ```ts
 * print(...table(['ID', 'STATUS'], [[id, 'finished']]));
 * ```
 */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string[] {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)];
}

/**
 * Wraps `text` in an ANSI colour when stdout is a terminal that wants colour (`NO_COLOR` unset).
 *
 * @example
 * ```ts
 * print(`${name}  ${colour('yellow', '(missing)')}`);
 * ```
 */
export function colour(name: 'yellow' | 'red' | 'green' | 'dim', text: string): string {
  if (!process.stdout.isTTY || process.env.NO_COLOR) return text;
  const code = { yellow: 33, red: 31, green: 32, dim: 2 }[name];
  return `\u001b[${code}m${text}\u001b[0m`;
}
