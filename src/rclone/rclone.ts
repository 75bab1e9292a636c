/**
 * The rclone driver: the only code in Glacis that runs rclone.
 *
 * Every call configures the remote through the child's environment (see remote-env.ts),
 * checks rclone's exit code itself, and redacts stderr before it escapes. A repo's remote
 * is only ever read (listings, stats, copies whose source is the remote) except by
 * {@link Rclone.pushFiles} and {@link Rclone.purge}, which push alone calls.
 */
import { posix, resolve as resolvePath } from 'node:path';
import type { RemoteSpec } from '../config/types.js';
import { RcloneError, RemoteNotFoundError } from './errors.js';
import { walkLocalRemote } from './local-walk.js';
import { parseCopyLogLine, parseLsjsonLine, toRemoteEntry, type StatsTotals } from './parse.js';
import { rcloneLines, type FinishOptions, type StartOptions } from './process.js';
import { childEnv, isBucketBased, normalizeRelPath, remotePath, remoteRoot } from './remote-env.js';
import type {
  CopyFilesOptions,
  CopyResult,
  FileListOptions,
  ListedFiles,
  ListOptions,
  PushFilesOptions,
  RcloneOptions,
  RemoteEntry,
  StatOptions,
} from './types.js';

/**
 * rclone's name suffix for symlinks stored as regular files (`--links`).
 *
 * @example
 * ```ts
 * const isLink = entry.path.endsWith(RCLONELINK_SUFFIX);
 * ```
 */
export const RCLONELINK_SUFFIX = '.rclonelink';

/**
 * The local name of a remote entry: `x.rclonelink` is the symlink `x`.
 *
 * @example
 * ```ts
 * localNameOf('runs/latest.rclonelink'); // 'runs/latest'
 * ```
 */
export function localNameOf(remoteName: string): string {
  return remoteName.endsWith(RCLONELINK_SUFFIX) ? remoteName.slice(0, -RCLONELINK_SUFFIX.length) : remoteName;
}

/**
 * Copy concurrency by backend, unless the caller chooses. rclone's defaults (4 transfers,
 * 8 checkers: what Baricadr runs) leave a remote with latency waiting: a small file over
 * SFTP costs about ten round trips (open, read, close, times, hash) and a check one, so
 * files a second grow with the transfers in flight. With 10 ms of round trip, 1,000 files
 * of 4 KB took 76 s at 4 transfers, 38 s at 8, 20 s at 16 (16 checkers: 18 s); on
 * loopback, with no latency to hide, all ran alike (bench/pull-overhead.mjs). Each one in
 * flight is an SSH connection: OpenSSH with its default MaxStartups served 32 transfers
 * and 32 checkers here without refusing one. A local remote is bound by its disks; S3
 * and generic remotes keep rclone's defaults until measured. Big files keep rclone's
 * multi-thread download (4 streams above 250 MiB), which SFTP supports.
 */
const COPY_CONCURRENCY: Readonly<Record<RemoteSpec['backend'], { readonly transfers: number; readonly checkers: number }>> = {
  local: { transfers: 4, checkers: 8 },
  sftp: { transfers: 16, checkers: 8 },
  s3: { transfers: 4, checkers: 8 },
  rclone: { transfers: 4, checkers: 8 },
};
// `lsjson --stat` prints one object; anything far larger is not rclone talking.
const STAT_OUTPUT_MAX = 1 << 20;

/**
 * How long {@link Rclone.statMany} and {@link Rclone.list} wait for rclone's next answer
 * before giving up.
 * rclone 1.60 (Debian 12's) never exits from `lsjson --files-from --no-traverse` once a
 * lookup fails with more than twice `--checkers` names left (its feeding loop blocks on a
 * channel nobody reads; fixed upstream later): a remote that stops answering during
 * freeze's re-check would otherwise hang the task, and its path lock, for ever.
 * test/safety/freeze-faults.test.ts found it. Each answer restarts the clock, so only a
 * call that makes no progress at all is stopped.
 *
 * @example
 * ```ts
 * const impatient = new Rclone({ executable: 'rclone', stallTimeoutMs: STAT_STALL_MS / 10 });
 * ```
 */
export const STAT_STALL_MS = 5 * 60_000;

/**
 * How long {@link Rclone.copyFiles} lets a copy run with no file and no byte moving before
 * failing it (`TRANSFER_STALL_TIMEOUT`'s default). A server that stops answering without
 * closing the connection (frozen, or a network black hole) otherwise held a pull, and its
 * path lock, for ever: rclone 1.60 waited on it for more than 7 minutes.
 *
 * @example
 * ```ts
 * const rclone = new Rclone({ executable: 'rclone', transferStallTimeoutMs: TRANSFER_STALL_MS });
 * ```
 */
export const TRANSFER_STALL_MS = 120_000;

interface StartSpec {
  readonly remote?: RemoteSpec | undefined;
  readonly args: readonly string[];
  readonly signal?: AbortSignal | undefined;
  readonly stdin?: string | undefined;
  readonly stdout: 'pipe' | 'ignore';
  readonly onStderrLine?: StartOptions['onStderrLine'];
  /** See {@link StartOptions.stall}. */
  readonly stall?: StartOptions['stall'];
  /**
   * Trade memory for CPU in Go's collector. A listing allocates a little per entry and
   * keeps almost nothing, so collecting less often saves about a fifth of its CPU.
   */
  readonly lazyGc?: boolean;
}

/** Go's GOGC for {@link StartSpec.lazyGc} (the default is 100); an operator's own GOGC wins. */
const LISTING_GOGC = '400';

/**
 * Runs rclone against Glacis remotes.
 *
 * @example
 * ```ts
 * const rclone = new Rclone({ executable: settings.rcloneExecutable });
 * for await (const e of rclone.list(repo.remote, '', { recursive: true, filesOnly: true })) {
 *   console.log(e.path, e.size);
 * }
 * ```
 */
export class Rclone {
  private readonly executable: string;
  private readonly baseEnv: NodeJS.ProcessEnv | undefined;
  private readonly stallTimeoutMs: number;
  private readonly transferStallTimeoutMs: number;

  constructor(options: RcloneOptions) {
    if (options.executable === '') throw new TypeError('RcloneOptions.executable must not be empty');
    this.executable = options.executable;
    this.baseEnv = options.baseEnv;
    this.stallTimeoutMs = options.stallTimeoutMs ?? STAT_STALL_MS;
    if (!(this.stallTimeoutMs > 0)) throw new TypeError(`RcloneOptions.stallTimeoutMs must be positive: ${this.stallTimeoutMs}`);
    this.transferStallTimeoutMs = options.transferStallTimeoutMs ?? TRANSFER_STALL_MS;
    if (!(this.transferStallTimeoutMs > 0)) {
      throw new TypeError(`RcloneOptions.transferStallTimeoutMs must be positive: ${this.transferStallTimeoutMs}`);
    }
  }

  /**
   * The rclone version, from the first line of `rclone version` (`rclone v1.60.1-DEV` → `1.60.1`).
   *
   * @example
   * ```ts
   * if ((await rclone.version()) < '1.60') throw new Error('rclone too old');
   * ```
   */
  async version(opts: { signal?: AbortSignal } = {}): Promise<string> {
    let first: string | undefined;
    for await (const line of this.run('version', { args: [], signal: opts.signal, stdout: 'pipe' })) first ??= line;
    const match = /^rclone v?(\d+\.\d+\.\d+)/.exec(first ?? '');
    if (!match?.[1]) {
      throw new RcloneError(`Unexpected \`rclone version\` output: ${JSON.stringify(first ?? '')}`, {
        exitCode: 0,
        command: 'version',
      });
    }
    return match[1];
  }

  /**
   * Describes one path of the remote, or returns null when it does not exist.
   *
   * The entry's `path` is `relPath` normalized (`''` for the root) and `name` its last
   * segment. On bucket-based stores (S3...) a directory exists only while some object
   * lies under it; an empty prefix is reported as missing.
   *
   * @example
   * ```ts
   * const e = await rclone.stat(repo.remote, 'sub/b.txt');
   * if (e && !e.isDir && e.size === localSize) console.log('safe on the remote');
   * ```
   */
  async stat(remote: RemoteSpec, relPath: string, opts: StatOptions = {}): Promise<RemoteEntry | null> {
    const rel = normalizeRelPath(relPath);
    const args = ['--stat', '--links', ...(opts.mimeType ? [] : ['--no-mimetype']), ...hashArgs(opts), remoteRoot(remote, rel)];
    const out = await this.collect(remote, args, opts.signal);
    let entry = out === null ? null : parseStat(out);
    // rclone 1.60's local backend cannot stat a symlink by its ".rclonelink" name
    // ("directory not found"); fetching that one name from its parent works.
    if (entry === null && rel.endsWith(RCLONELINK_SUFFIX)) entry = await this.statByListing(remote, rel, opts);
    if (entry === null) return null;
    if (entry.isDir && isBucketBased(remote) && !isBucketRoot(remote, rel)) {
      if (!(await this.hasAnyEntry(remote, rel, opts.signal))) return null;
    }
    return { ...entry, path: rel, name: rel === '' ? '' : posix.basename(rel) };
  }

  /**
   * Streams the entries under `relPath` as rclone produces them (never buffering the whole
   * listing). Iteration ends normally only when rclone exited 0: a failure throws
   * {@link RcloneError} after the entries already yielded, and a missing directory throws
   * {@link RemoteNotFoundError}, so an incomplete listing can never pass for a complete one.
   * Breaking out of the loop kills rclone.
   *
   * Symlinks appear as `name.rclonelink` files (`--links`).
   *
   * @example
   * ```ts
   * for await (const e of rclone.list(remote, 'sub', { recursive: true, exclude: ['*.tmp'] })) {
   *   if (!e.isDir) await record(e);
   * }
   * ```
   */
  list(remote: RemoteSpec, relPath: string, opts: ListOptions = {}): AsyncIterable<RemoteEntry> {
    return this.listEntries(remote, relPath, opts);
  }

  /**
   * Every file under `relPath` (recursive, files only, symlinks as `.rclonelink`), for a
   * caller that matches them by name: {@link list}'s entries, or, from a `local` remote when
   * no hash is asked for, batches read by Glacis itself in a worker thread
   * (src/rclone/local-walk.ts: the same files, sizes and mtimes as rclone's, for a fraction
   * of the CPU). As with {@link list}, an incomplete listing never ends normally.
   *
   * @example
   * ```ts
   * for await (const item of rclone.listFiles(repo.remote, 'sub', { signal })) {
   *   if ('count' in item) matcher.remoteFiles(item); else matcher.remote(item);
   * }
   * ```
   */
  listFiles(remote: RemoteSpec, relPath: string, opts: FileListOptions = {}): AsyncIterable<RemoteEntry | ListedFiles> {
    const byRclone: ListOptions = { ...opts, recursive: true, filesOnly: true };
    if (remote.backend === 'local' && !opts.hash) {
      const rel = normalizeRelPath(relPath);
      const walked = walkLocalRemote(resolvePath(remotePath(remote, rel)), {
        signal: opts.signal,
        delegate: (dir) => this.listEntries(remote, posix.join(rel, dir), byRclone),
      });
      // Not a plain directory (missing, a file, a symlink): rclone says what it is.
      if (walked) return walked;
    }
    return this.listEntries(remote, relPath, byRclone);
  }

  /**
   * Copies the files named in `opts.filesFrom` from `remote:sourceDir` into the local
   * `opts.destDir`, symlinks (`x.rclonelink` on the remote) becoming local symlinks. The
   * remote is always the source: this never writes to it. Rejects with
   * {@link RcloneError} on a non-zero exit or once no file and no byte has moved for
   * `transferStallTimeoutMs` (see {@link TRANSFER_STALL_MS}), with an AbortError when
   * `opts.signal` aborts (after rclone has exited), or with whatever a callback threw.
   *
   * An aborted or failed copy may leave partially written destination files (rclone 1.60
   * writes local files in place); a later copy replaces them.
   *
   * @example
   * ```ts
   * const result = await rclone.copyFiles(repo.remote, {
   *   sourceDir: 'sub', filesFrom: listPath, destDir: join(repo.localPath, 'sub'),
   *   onProgress: (p) => task.progress(p.bytes, p.totalBytes),
   *   onLog: (line) => task.log(line),
   * });
   * ```
   */
  async copyFiles(remote: RemoteSpec, opts: CopyFilesOptions): Promise<CopyResult> {
    const tuned = COPY_CONCURRENCY[remote.backend];
    const transfers = positiveInt(opts.transfers ?? tuned.transfers, 'transfers');
    const checkers = positiveInt(opts.checkers ?? tuned.checkers, 'checkers');
    const args = [
      remoteRoot(remote, opts.sourceDir),
      resolvePath(opts.destDir),
      `--files-from-raw=${resolvePath(opts.filesFrom)}`,
      // 'lookup': each listed name on its own instead of listing whole directories on either
      // side. 'listing': rclone lists only the directories leading to listed names (1.60 too).
      ...(opts.find === 'listing' ? [] : ['--no-traverse']),
      '--links',
      '--use-json-log',
      '-v',
      '--stats=1s',
      '--stats-log-level=INFO',
      // One attempt: the caller owns retries, and a retry would re-report totals.
      '--retries=1',
      `--transfers=${transfers}`,
      `--checkers=${checkers}`,
    ];
    if (opts.bwLimit !== undefined) args.push(`--bwlimit=${opts.bwLimit}`);
    return this.transfer('copy', remote, args, opts);
  }

  /**
   * Copies the local files named in `opts.filesFrom` (relative to `opts.localDir`) to
   * `remoteDir` of `remote`: the only call that writes a repo's remote, used by push alone.
   * Never deletes there: a remote file about to be replaced is moved to `opts.backupDir`
   * of `versions` first (`--backup-dir`), and rclone is run with neither `sync` nor
   * `delete` on the repo's remote.
   *
   * Crash-safe on every backend: rclone 1.60 writes SFTP and local files in place (its
   * partial-file names came in 1.63), so an upload killed mid-file would leave a truncated
   * file under its final name. Files are therefore uploaded to `opts.incomingDir` of
   * `versions` (outside the repo's remote) and only then moved, server side, under their
   * final names: a rename on SFTP and local, an atomic copy on S3. `move` deletes only
   * those uploaded copies, from the incoming area (test/push/push.test.ts "SIGKILL").
   *
   * @example
   * ```ts
   * await rclone.pushFiles(repo.remote, versionsRemote(repo.remote), {
   *   localDir: repo.localPath, remoteDir: '', filesFrom: listPath,
   *   incomingDir: '.incoming/<task>', backupDir: '2026-12-01T135222Z-<task>',
   * });
   * ```
   */
  async pushFiles(remote: RemoteSpec, versions: RemoteSpec, opts: PushFilesOptions): Promise<CopyResult> {
    const tuned = COPY_CONCURRENCY[remote.backend];
    const transfers = positiveInt(opts.transfers ?? tuned.transfers, 'transfers');
    const checkers = positiveInt(opts.checkers ?? tuned.checkers, 'checkers');
    const incoming = normalizeRelPath(opts.incomingDir);
    const backup = normalizeRelPath(opts.backupDir);
    if (incoming === '' || backup === '') throw new TypeError('pushFiles needs an incoming and a backup directory inside the versions store');
    const common = ['--links', '--use-json-log', '-v', '--stats=1s', '--stats-log-level=INFO', '--retries=1', `--transfers=${transfers}`, `--checkers=${checkers}`];
    const uploaded = await this.transfer('copy', remote, [
      resolvePath(opts.localDir),
      remoteRoot(versions, incoming),
      `--files-from-raw=${resolvePath(opts.filesFrom)}`,
      ...common,
    ], opts);
    if (uploaded.files === 0) return uploaded;
    // --ignore-times: every uploaded file is to be pushed, even one whose size and mtime
    // match the remote's (verify: hash found its content different).
    await this.transfer('move', remote, [
      remoteRoot(versions, incoming),
      remoteRoot(remote, opts.remoteDir),
      `--backup-dir=${remoteRoot(versions, backup)}`,
      '--ignore-times',
      '--delete-empty-src-dirs',
      ...common,
    ], { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.onLog ? { onLog: opts.onLog } : {}) });
    await this.removeEmptyDirs(versions, incoming, opts.signal);
    return uploaded;
  }

  /**
   * Removes `relPath` of `remote` and everything under it: push's expiry of old versions,
   * never called on a repo's remote (only on its versions store, test/push/push.test.ts).
   *
   * @example
   * ```ts
   * await rclone.purge(versionsRemote(repo.remote), '2020-01-01T000000Z-ab12');
   * ```
   */
  async purge(remote: RemoteSpec, relPath: string, signal?: AbortSignal): Promise<void> {
    const rel = normalizeRelPath(relPath);
    if (rel === '') throw new TypeError('purge of a remote root refused');
    for await (const _nothing of this.run('purge', { remote, args: [remoteRoot(remote, rel)], signal, stdout: 'ignore' })) {
      // No output.
    }
  }

  /** Removes the empty directories under (and including) `relPath`; a missing one is no error. */
  async removeEmptyDirs(remote: RemoteSpec, relPath: string, signal?: AbortSignal): Promise<void> {
    const rel = normalizeRelPath(relPath);
    if (rel === '') throw new TypeError('rmdirs of a remote root refused');
    try {
      for await (const _nothing of this.run('rmdirs', { remote, args: [remoteRoot(remote, rel)], signal, stdout: 'ignore' }, { notFoundMeansMissing: true })) {
        // No output.
      }
    } catch (error) {
      if (!(error instanceof RemoteNotFoundError)) throw error;
    }
  }

  /** One `copy` or `move` with JSON logs: counts files, reports progress, fails when stalled. */
  private async transfer(
    command: 'copy' | 'move',
    remote: RemoteSpec,
    args: readonly string[],
    opts: Pick<CopyFilesOptions, 'signal' | 'onProgress' | 'onCopied' | 'onLog'>,
  ): Promise<CopyResult> {
    let files = 0;
    let replaced = 0;
    let totals: StatsTotals | undefined;
    let finalSummary: string | undefined;
    let advanced = { files: 0, bytes: 0, checks: 0 };
    const { redact, run } = this.prepare(remote);
    const stallSeconds = Math.round(this.transferStallTimeoutMs / 1000);
    const copying = run(command, {
      args,
      signal: opts.signal,
      stdout: 'ignore',
      // rclone keeps printing its stats once a second while a frozen server holds every
      // transfer, so only files and bytes moving count (test/workers/stall.test.ts).
      stall: { timeoutMs: this.transferStallTimeoutMs, message: `no byte and no file moved for ${stallSeconds} s: the remote stopped answering` },
      onStderrLine: (line, progressed) => {
        const event = parseCopyLogLine(line);
        switch (event.kind) {
          case 'moved':
            progressed();
            opts.onLog?.(redact(event.text));
            return undefined;
          case 'copied':
            files += 1;
            if (event.replaced) replaced += 1;
            progressed();
            opts.onCopied?.(event.object);
            opts.onLog?.(redact(event.text));
            return undefined;
          case 'stats': {
            totals = event.totals;
            finalSummary = event.text;
            const now = { files, bytes: totals.bytes, checks: totals.checks };
            if (now.bytes > advanced.bytes || now.checks > advanced.checks || now.files > advanced.files) progressed();
            advanced = now;
            opts.onProgress?.(event.progress);
            return undefined;
          }
          case 'log':
            opts.onLog?.(redact(event.text));
            // Routine info lines would push the errors out of the error's tail.
            return event.level === 'info' ? undefined : event.text;
        }
      },
    }, { notFoundMeansMissing: true });
    for await (const _nothing of copying) {
      // stdout is ignored: the copy reports on stderr, handled above.
    }
    if (finalSummary !== undefined && opts.onLog) {
      for (const l of finalSummary.split('\n')) if (l.trim() !== '') opts.onLog(redact(l.trimEnd()));
    }
    return {
      files,
      bytes: totals?.bytes ?? 0,
      errors: totals?.errors ?? 0,
      unchanged: Math.max(0, (totals?.checks ?? 0) - replaced),
    };
  }

  private async *listEntries(remote: RemoteSpec, relPath: string, opts: ListOptions): AsyncGenerator<RemoteEntry> {
    const rel = normalizeRelPath(relPath);
    const args = ['--links', ...(opts.mimeType ? [] : ['--no-mimetype'])];
    if (opts.recursive) {
      args.push('-R');
      const depth = opts.maxDepth ?? 0;
      if (!Number.isInteger(depth) || depth < 0) throw new TypeError(`maxDepth must be a non-negative integer: ${depth}`);
      if (depth > 0) args.push(`--max-depth=${depth}`);
    }
    if (opts.filesOnly) args.push('--files-only');
    for (const pattern of opts.exclude ?? []) args.push(`--exclude=${pattern}`);
    args.push(...hashArgs(opts), remoteRoot(remote, rel));

    let yielded = 0;
    // rclone 1.60 can hang here too once an SFTP server stops mid-listing (with --hash).
    const lines = this.run(
      'lsjson',
      { remote, args, signal: opts.signal, stdout: 'pipe', lazyGc: true, stall: this.answerStall() },
      // Exit 3 after entries were produced is a subdirectory vanishing mid-listing, not a missing root.
      { notFoundMeansMissing: () => yielded === 0 },
    );
    for await (const line of lines) {
      const entry = parseListed(line);
      if (entry === undefined) continue;
      yielded += 1;
      yield entry;
    }
    if (yielded === 0 && isBucketBased(remote) && !isBucketRoot(remote, rel)) {
      if (!(await this.hasAnyEntry(remote, rel, opts.signal))) {
        throw new RemoteNotFoundError(`rclone lsjson: nothing under ${remoteRoot(remote, rel)} on the remote`, {
          exitCode: 0,
          command: 'lsjson',
        });
      }
    }
  }

  /** Runs `lsjson` and returns its stdout, or null when rclone says the path is missing. */
  private async collect(remote: RemoteSpec, args: readonly string[], signal: AbortSignal | undefined): Promise<string | null> {
    let out = '';
    try {
      for await (const line of this.run('lsjson', { remote, args, signal, stdout: 'pipe' }, { notFoundMeansMissing: true })) {
        out += `${line}\n`;
        if (out.length > STAT_OUTPUT_MAX) throw outputError('lsjson', new Error('output too large for --stat'));
      }
    } catch (err) {
      if (err instanceof RemoteNotFoundError) return null;
      throw err;
    }
    return out;
  }

  /** Finds one file by name in its parent directory without listing the whole directory. */
  private async statByListing(remote: RemoteSpec, rel: string, opts: StatOptions): Promise<RemoteEntry | null> {
    const parent = posix.dirname(rel) === '.' ? '' : posix.dirname(rel);
    const name = posix.basename(rel);
    const found = await this.statMany(remote, parent, [name], opts);
    return found.get(name) ?? null;
  }

  /**
   * Looks up named files under `dir` (paths relative to it, `.rclonelink` included) in one
   * rclone call, without listing the rest of the directory tree: what freeze re-checks
   * right before deleting. Names the remote does not hold are absent from the result.
   *
   * @example
   * ```ts
   * const found = await rclone.statMany(repo.remote, 'runs', ['a.fastq', 'sub/b.fastq']);
   * found.get('a.fastq')?.size;
   * ```
   */
  async statMany(remote: RemoteSpec, dir: string, names: readonly string[], opts: StatOptions = {}): Promise<Map<string, RemoteEntry>> {
    const found = new Map<string, RemoteEntry>();
    if (names.length === 0) return found;
    const args = ['-R', '--links', '--no-mimetype', '--no-traverse', '--files-from-raw=-', ...hashArgs(opts), remoteRoot(remote, dir)];
    const stdin = `${names.join('\n')}\n`;
    try {
      for await (const line of this.run('lsjson', { remote, args, signal: opts.signal, stdin, stdout: 'pipe', stall: this.answerStall() }, { notFoundMeansMissing: true })) {
        const entry = parseListed(line);
        if (entry && !entry.isDir) found.set(entry.path, entry);
      }
    } catch (err) {
      if (err instanceof RemoteNotFoundError) return new Map();
      throw err;
    }
    return found;
  }

  /**
   * The watchdog of calls that wait for rclone's next answer (see {@link STAT_STALL_MS}).
   * Time the caller spends away (a slow HTTP client reading a listing) does not count.
   */
  private answerStall(): StartOptions['stall'] {
    return {
      timeoutMs: this.stallTimeoutMs,
      message: `rclone lsjson gave no answer for ${Math.round(this.stallTimeoutMs / 1000)} s: the remote stopped answering`,
    };
  }

  /** Whether anything at all lies directly under `rel` (stops rclone at the first entry). */
  private async hasAnyEntry(remote: RemoteSpec, rel: string, signal: AbortSignal | undefined): Promise<boolean> {
    const args = ['--links', '--no-mimetype', '--no-modtime', remoteRoot(remote, rel)];
    try {
      for await (const line of this.run('lsjson', { remote, args, signal, stdout: 'pipe' }, { notFoundMeansMissing: true })) {
        const t = line.trim();
        if (t !== '' && t !== '[' && t !== ']') return true;
      }
      return false;
    } catch (err) {
      if (err instanceof RemoteNotFoundError) return false;
      throw err;
    }
  }

  /** One rclone command, start to cleanup (see {@link rcloneLines}): its stdout lines. */
  private run(command: string, spec: StartSpec, end?: FinishOptions): AsyncGenerator<string, void, undefined> {
    return this.prepare(spec.remote).run(command, spec, end);
  }

  /** The child environment for `remote`, its redactor, and a runner using both. */
  private prepare(remote: RemoteSpec | undefined): {
    redact: (text: string) => string;
    run: (command: string, spec: Omit<StartSpec, 'remote'>, end?: FinishOptions) => AsyncGenerator<string, void, undefined>;
  } {
    const { env: baseChildEnv, args: globalArgs, redact } = childEnv(this.baseEnv ?? process.env, remote);
    return {
      redact,
      run: (command, spec, end) => {
        const env = { ...baseChildEnv };
        if (spec.lazyGc) env.GOGC ??= LISTING_GOGC;
        return rcloneLines(
          {
            executable: this.executable,
            command,
            args: [command, ...globalArgs, ...spec.args],
            env,
            redact,
            signal: spec.signal,
            stdin: spec.stdin,
            stdout: spec.stdout,
            onStderrLine: spec.onStderrLine,
            stall: spec.stall,
          },
          end,
        );
      },
    };
  }
}

/** One line of `lsjson` output as an entry (undefined for the array's brackets). */
function parseListed(line: string): RemoteEntry | undefined {
  try {
    return parseLsjsonLine(line);
  } catch (err) {
    throw outputError('lsjson', err);
  }
}

function parseStat(out: string): RemoteEntry | null {
  let raw: unknown;
  try {
    raw = JSON.parse(out);
  } catch (err) {
    throw outputError('lsjson', err);
  }
  // rclone prints `null` (exit 0) for a name its backend maps to nothing, e.g. a symlink's
  // on-disk name under --links.
  if (raw === null) return null;
  try {
    return toRemoteEntry(raw);
  } catch (err) {
    throw outputError('lsjson', err);
  }
}

function hashArgs(opts: { hash?: boolean | undefined; hashTypes?: readonly string[] | undefined }): string[] {
  if (!opts.hash) return [];
  return ['--hash', ...(opts.hashTypes ?? []).map((t) => `--hash-type=${t}`)];
}

// The bucket itself (or the account root): rclone reports a missing one with exit 3, so
// its answer can be trusted there, unlike for prefixes.
function isBucketRoot(remote: RemoteSpec, rel: string): boolean {
  return !remotePath(remote, rel).includes('/');
}

function outputError(command: string, cause: unknown): RcloneError {
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new RcloneError(`Unreadable rclone ${command} output: ${detail}`, { exitCode: null, command, cause });
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new TypeError(`${name} must be a positive integer: ${value}`);
  return value;
}
