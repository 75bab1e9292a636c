/**
 * Public shapes of the rclone wrapper's API.
 */

/**
 * How to run rclone.
 *
 * @example
 * ```ts
 * const options: RcloneOptions = { executable: settings.rcloneExecutable };
 * ```
 */
export interface RcloneOptions {
  /** Path or PATH-resolved name of the rclone binary. */
  executable: string;
  /** Environment the child's is derived from (minus `RCLONE_*`); default `process.env`, read at each call. */
  baseEnv?: NodeJS.ProcessEnv;
  /** How long `statMany` and `list` wait for rclone's next answer before failing; default `STAT_STALL_MS` (5 minutes). */
  stallTimeoutMs?: number;
  /**
   * How long `copyFiles` runs with no file and no byte moving before failing; default
   * `TRANSFER_STALL_MS` (2 minutes), `TRANSFER_STALL_TIMEOUT` in the settings.
   */
  transferStallTimeoutMs?: number;
}

/**
 * One file or directory on a remote, as rclone's `lsjson` reports it.
 *
 * @example
 * ```ts
 * const e: RemoteEntry = { path: 'sub/b.txt', name: 'b.txt', size: 6, modTime: '2026-11-23T11:05:44.884029437Z', isDir: false };
 * ```
 */
export interface RemoteEntry {
  /**
   * Relative to the listed directory, `/`-separated, as rclone reports it. Symlinks keep
   * their `.rclonelink` suffix. For {@link Rclone.stat} it is the normalized path asked for.
   */
  path: string;
  name: string;
  /** Bytes; for directories rclone reports -1 or 0, which mean nothing. */
  size: number;
  /** RFC 3339 with rclone's precision (nanoseconds locally, seconds over sftp). Meaningless for directories. */
  modTime: string;
  isDir: boolean;
  /** Hash type (`md5`, `sha1`, ...) to lowercase hex, when hashes were asked for and the remote has them. */
  hashes?: Readonly<Record<string, string>>;
  /** rclone's MimeType (from the name, or the object's metadata), when asked for (`mimeType`). */
  mimeType?: string;
}

/**
 * What {@link Rclone.list} lists.
 *
 * @example
 * ```ts
 * const opts: ListOptions = { recursive: true, filesOnly: true, exclude: repo.exclude };
 * ```
 */
export interface ListOptions {
  /** Descend into subdirectories; otherwise only the directory's own entries. */
  recursive?: boolean;
  /** With `recursive`: how many levels (1 = the directory's own entries); 0 or undefined = unlimited. */
  maxDepth?: number;
  /** Leave directories out of the output (they are still descended into). */
  filesOnly?: boolean;
  /**
   * rclone filter patterns. Anchored patterns (`/x`) are relative to the listed
   * directory, not to the repository root.
   */
  exclude?: readonly string[];
  /** Ask for hashes (`RemoteEntry.hashes`); can be slow: local remotes read every file. */
  hash?: boolean;
  /** With `hash`: only these types (e.g. `['md5']`), rather than every type the remote supports. */
  hashTypes?: readonly string[];
  /** Ask for `RemoteEntry.mimeType` (`/list` with `full` shows it, as Baricadr does). */
  mimeType?: boolean;
  signal?: AbortSignal;
}

/**
 * What {@link Rclone.listFiles} asks for.
 *
 * @example
 * ```ts
 * const opts: FileListOptions = { hash: true, hashTypes: ['md5'], signal };
 * ```
 */
export interface FileListOptions {
  /** Ask for hashes (then rclone lists, whatever the backend). */
  hash?: boolean;
  hashTypes?: readonly string[];
  signal?: AbortSignal;
}

/**
 * Files of a listing in bulk, as the direct walk of a `local` remote gives them
 * (src/rclone/local-walk.ts): no names, each file known by the `pathHash`
 * (src/text/path-hash.ts) of its local name (`x` for `x.rclonelink`, as `localNameOf`),
 * with what the freeze decision reads of it.
 *
 * @example
 * ```ts
 * for (let i = 0; i < files.count; i++) index.addFile(files.hashHi[i]!, files.hashLo[i]!, files.sizes[i]!, files.mtimesMs[i]!, files.links[i] === 1);
 * ```
 */
export interface ListedFiles {
  readonly count: number;
  readonly hashHi: Uint32Array;
  readonly hashLo: Uint32Array;
  readonly sizes: Float64Array;
  /** rclone's ModTime as `Date.parse` reads it: milliseconds, the rest of the nanoseconds dropped. */
  readonly mtimesMs: Float64Array;
  /** 1 for a `.rclonelink` (a symlink, or a file so named, as rclone lists it). */
  readonly links: Uint8Array;
}

/**
 * What {@link Rclone.stat} asks for.
 *
 * @example
 * ```ts
 * await rclone.stat(remote, 'a/b.txt', { hash: true, hashTypes: ['md5'] });
 * ```
 */
export interface StatOptions {
  signal?: AbortSignal;
  /** Ask for hashes of a file. */
  hash?: boolean;
  /** With `hash`: only these types. */
  hashTypes?: readonly string[];
  /** Ask for `RemoteEntry.mimeType`. */
  mimeType?: boolean;
}

/**
 * A snapshot of a running copy, from rclone's once-a-second stats.
 *
 * @example
 * ```ts
 * onProgress: (p: CopyProgress) => console.log(`${p.bytes}/${p.totalBytes} ${p.currentFile ?? ''}`)
 * ```
 */
export interface CopyProgress {
  bytes: number;
  totalBytes: number;
  /** Files finished. */
  transfers: number;
  totalTransfers: number;
  /** Bytes per second. */
  speed: number;
  etaSeconds: number | null;
  /** The first file in flight, if any. */
  currentFile?: string;
}

/**
 * A copy from a remote directory to a local one, restricted to a list of names.
 *
 * @example
 * ```ts
 * const opts: CopyFilesOptions = { sourceDir: 'sub', filesFrom: '/tmp/list.txt', destDir: '/data/lab1/sub' };
 * ```
 */
export interface CopyFilesOptions {
  /** Remote directory, relative to the remote's root (repo-relative). */
  sourceDir: string;
  /**
   * Local file listing names relative to `sourceDir`, one per line, taken raw (no
   * comments, no filter syntax). Symlinks are named with their `.rclonelink` suffix.
   * Names that do not exist on the remote are skipped silently by rclone: compare
   * {@link CopyResult} with what was asked for.
   */
  filesFrom: string;
  /** Local destination directory; created if needed. */
  destDir: string;
  /**
   * How rclone finds the listed files on the remote. `'lookup'` (the default,
   * `--no-traverse`): one request a listed name, best when few files of large directories
   * are wanted. `'listing'`: rclone reads each directory holding a listed file (and their
   * parents) and copies only the listed names: a few requests a directory instead of one a
   * file, best when most of a directory is wanted. Either way nothing but the listed names
   * is copied.
   */
  find?: 'lookup' | 'listing';
  signal?: AbortSignal;
  /** Called with every stats line (about once a second, and once at the end). */
  onProgress?: (p: CopyProgress) => void;
  /** Called once per file written, with its name as rclone reports it (keeps `.rclonelink`). */
  onCopied?: (relativeName: string) => void;
  /** rclone's log lines as readable text, already redacted; the final stats summary comes last. */
  onLog?: (line: string) => void;
  /** `--transfers`; default by backend: 16 for sftp, 4 otherwise (rclone's). */
  transfers?: number;
  /** `--checkers`, default 8 (rclone's). */
  checkers?: number;
  /** `--bwlimit` value, e.g. `'10M'` or `'08:00,512k 19:00,off'`. */
  bwLimit?: string;
}

/**
 * A push of local files to a remote (see {@link Rclone.pushFiles}).
 *
 * @example
 * ```ts
 * const opts: PushFilesOptions = { localDir: '/data/lab1', remoteDir: '', filesFrom: '/tmp/list', incomingDir: '.incoming/t1', backupDir: '2026-12-01T135222Z-t1' };
 * ```
 */
export interface PushFilesOptions {
  /** Local directory the names in `filesFrom` are relative to. */
  localDir: string;
  /** The matching directory on the remote, repo-relative. */
  remoteDir: string;
  /** Names to push, one per line, raw; a symlink named with its `.rclonelink` suffix. */
  filesFrom: string;
  /** Upload area in the versions store (outside the repo's remote), unique to the task. */
  incomingDir: string;
  /** Where replaced remote files go, in the versions store. */
  backupDir: string;
  signal?: AbortSignal;
  onProgress?: (p: CopyProgress) => void;
  onCopied?: (relativeName: string) => void;
  onLog?: (line: string) => void;
  transfers?: number;
  checkers?: number;
}

/**
 * What a finished copy did.
 *
 * @example
 * ```ts
 * const { files, bytes } = await rclone.copyFiles(remote, opts);
 * ```
 */
export interface CopyResult {
  /** Files (and symlinks) written to the destination. */
  files: number;
  /** Bytes transferred, from rclone's final stats. */
  bytes: number;
  /** Errors rclone counted (non-zero makes {@link Rclone.copyFiles} reject, so 0 on success). */
  errors: number;
  /** Files already identical at the destination, hence not copied. */
  unchanged: number;
}
