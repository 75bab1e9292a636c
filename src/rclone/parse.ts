/**
 * Readers for rclone's machine output: `lsjson` entries and `--use-json-log` lines.
 */
import type { CopyProgress, RemoteEntry } from './types.js';

/**
 * Turns one `lsjson` object into a {@link RemoteEntry}; throws a TypeError when the
 * object does not have the expected shape (rclone changed, or something else talked).
 *
 * @example
 * ```ts
 * toRemoteEntry({ Path: 'a', Name: 'a', Size: 1, ModTime: 't', IsDir: false }).path; // 'a'
 * ```
 */
export function toRemoteEntry(raw: unknown): RemoteEntry {
  if (typeof raw !== 'object' || raw === null) throw new TypeError('lsjson entry is not an object');
  const o = raw as Record<string, unknown>;
  const { Path, Name, Size, ModTime, IsDir, Hashes, MimeType } = o;
  if (typeof Path !== 'string' || typeof Name !== 'string' || typeof Size !== 'number' ||
      typeof ModTime !== 'string' || typeof IsDir !== 'boolean') {
    throw new TypeError('lsjson entry lacks Path/Name/Size/ModTime/IsDir');
  }
  const entry: RemoteEntry = { path: Path, name: Name, size: Size, modTime: ModTime, isDir: IsDir };
  if (typeof MimeType === 'string' && MimeType !== '') entry.mimeType = MimeType;
  if (typeof Hashes === 'object' && Hashes !== null) {
    const hashes: Record<string, string> = {};
    for (const [k, v] of Object.entries(Hashes)) if (typeof v === 'string' && v !== '') hashes[k] = v;
    entry.hashes = Object.freeze(hashes);
  }
  return entry;
}

/**
 * Reads one line of streamed `lsjson` output (`[`, `{...},`, `{...}`, `]`); undefined for
 * the brackets and blank lines.
 *
 * @example
 * ```ts
 * parseLsjsonLine('{"Path":"a","Name":"a","Size":1,"ModTime":"t","IsDir":false},')?.name; // 'a'
 * ```
 */
export function parseLsjsonLine(line: string): RemoteEntry | undefined {
  let text = line.trim();
  if (text === '' || text === '[' || text === ']') return undefined;
  if (text.endsWith(',')) text = text.slice(0, -1);
  return toRemoteEntry(JSON.parse(text));
}

/**
 * The counters of a stats line that the result needs besides the progress.
 *
 * @example
 * ```ts
 * const unchanged = totals.checks - replaced;
 * ```
 */
export interface StatsTotals {
  readonly bytes: number;
  readonly errors: number;
  readonly checks: number;
}

/**
 * One stderr line of `rclone copy --use-json-log -v`.
 *
 * @example
 * ```ts
 * const event: CopyLogEvent = parseCopyLogLine(line);
 * if (event.kind === 'copied') onCopied(event.object);
 * ```
 */
export type CopyLogEvent =
  | { readonly kind: 'copied'; readonly object: string; readonly replaced: boolean; readonly text: string }
  /** `move` on one remote: a server-side rename or copy, or the backup of a replaced file. */
  | { readonly kind: 'moved'; readonly object: string; readonly text: string }
  | { readonly kind: 'stats'; readonly progress: CopyProgress; readonly totals: StatsTotals; readonly text: string }
  | { readonly kind: 'log'; readonly level: string; readonly text: string };

/**
 * Classifies a stderr line of a JSON-logging copy. `text` is a readable rendering
 * (`LEVEL: object: message`), NOT yet redacted. Lines that are not JSON (rclone prints
 * some before logging is set up) come back as `log` with the raw text.
 *
 * @example
 * ```ts
 * parseCopyLogLine('{"level":"info","msg":"Copied (new)","object":"a.txt"}');
 * // { kind: 'copied', object: 'a.txt', replaced: false, text: 'INFO: a.txt: Copied (new)' }
 * ```
 */
export function parseCopyLogLine(line: string): CopyLogEvent {
  let raw: unknown;
  try {
    raw = line.startsWith('{') ? JSON.parse(line) : undefined;
  } catch {
    raw = undefined;
  }
  if (typeof raw !== 'object' || raw === null) return { kind: 'log', level: 'unknown', text: line };
  const o = raw as Record<string, unknown>;
  const level = typeof o.level === 'string' ? o.level : 'info';
  const msg = typeof o.msg === 'string' ? o.msg : '';
  const object = typeof o.object === 'string' && o.object !== '' ? o.object : undefined;
  const text = `${level.toUpperCase()}: ${object === undefined ? '' : `${object}: `}${msg.trim()}`;

  if (typeof o.stats === 'object' && o.stats !== null) {
    const s = o.stats as Record<string, unknown>;
    const transferring = Array.isArray(s.transferring) ? (s.transferring as unknown[]) : [];
    const first = transferring[0];
    const currentFile =
      typeof first === 'object' && first !== null && typeof (first as { name?: unknown }).name === 'string'
        ? (first as { name: string }).name
        : undefined;
    const progress: CopyProgress = {
      bytes: num(s.bytes),
      totalBytes: num(s.totalBytes),
      transfers: num(s.transfers),
      totalTransfers: num(s.totalTransfers),
      speed: num(s.speed),
      etaSeconds: typeof s.eta === 'number' ? s.eta : null,
    };
    if (currentFile !== undefined) progress.currentFile = currentFile;
    return {
      kind: 'stats',
      progress,
      totals: { bytes: num(s.bytes), errors: num(s.errors), checks: num(s.checks) },
      text,
    };
  }
  // Files above --multi-thread-cutoff (250 MiB) are reported as "Multi-thread Copied (new)".
  if (object !== undefined && /^(?:Multi-thread )?Copied \(/.test(msg)) {
    return { kind: 'copied', object, replaced: msg.includes('replaced'), text };
  }
  if (object !== undefined && /^Moved \(/.test(msg)) return { kind: 'moved', object, text };
  return { kind: 'log', level, text };
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}
