/**
 * The rclone driver: the only code in Glacis that runs rclone.
 *
 * Every call configures the remote through the child's environment (see remote-env.ts),
 * checks rclone's exit code itself, and redacts stderr before it escapes. The remote is
 * only ever read: listings, stats, and copies whose source is the remote.
 */
import { existsSync } from 'node:fs';
import { posix, resolve as resolvePath } from 'node:path';
import type { RemoteSpec } from '../config/types.js';
import { RcloneError, RemoteNotFoundError } from './errors.js';
import { parseCopyLogLine, parseLsjsonLine, toRemoteEntry, type StatsTotals } from './parse.js';
import { RcloneProcess, readLines } from './process.js';
import { rcloneJsFor } from './rclone-js.js';
import { childEnv, isBucketBased, normalizeRelPath, remotePath, remoteRoot } from './remote-env.js';
import type {
  CopyFilesOptions,
  CopyResult,
  ListOptions,
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

interface StartSpec {
  readonly remote?: RemoteSpec | undefined;
  readonly args: readonly string[];
  readonly signal?: AbortSignal | undefined;
  readonly stdin?: string | undefined;
  readonly stdout: 'pipe' | 'ignore';
  readonly onStderrLine?: ((line: string, redact: (s: string) => string) => string | undefined) | undefined;
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

  constructor(options: RcloneOptions) {
    if (options.executable === '') throw new TypeError('RcloneOptions.executable must not be empty');
    this.executable = options.executable;
    this.baseEnv = options.baseEnv;
    this.stallTimeoutMs = options.stallTimeoutMs ?? STAT_STALL_MS;
    if (!(this.stallTimeoutMs > 0)) throw new TypeError(`RcloneOptions.stallTimeoutMs must be positive: ${this.stallTimeoutMs}`);
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
    const proc = this.start('version', { args: [], signal: opts.signal, stdout: 'pipe' });
    let first: string | undefined;
    try {
      for await (const line of readLines(proc.stdout!)) first ??= line;
      await proc.finish();
    } finally {
      await this.reap(proc);
    }
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
   * Copies the files named in `opts.filesFrom` from `remote:sourceDir` into the local
   * `opts.destDir`, symlinks (`x.rclonelink` on the remote) becoming local symlinks. The
   * remote is always the source: this never writes to it. Rejects with
   * {@link RcloneError} on a non-zero exit, with an AbortError when `opts.signal` aborts
   * (after rclone has exited), or with whatever a callback threw.
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
      // Look up each listed name instead of listing whole directories on either side.
      '--no-traverse',
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

    let files = 0;
    let replaced = 0;
    let totals: StatsTotals | undefined;
    let finalSummary: string | undefined;
    const proc = this.start('copy', {
      remote,
      args,
      signal: opts.signal,
      stdout: 'ignore',
      onStderrLine: (line, redact) => {
        const event = parseCopyLogLine(line);
        switch (event.kind) {
          case 'copied':
            files += 1;
            if (event.replaced) replaced += 1;
            opts.onCopied?.(event.object);
            opts.onLog?.(redact(event.text));
            return undefined;
          case 'stats':
            totals = event.totals;
            finalSummary = event.text;
            opts.onProgress?.(event.progress);
            return undefined;
          case 'log':
            opts.onLog?.(redact(event.text));
            // Routine info lines would push the errors out of the error's tail.
            return event.level === 'info' ? undefined : event.text;
        }
      },
    });
    await proc.finish({ notFoundMeansMissing: true });
    if (finalSummary !== undefined && opts.onLog) {
      for (const l of finalSummary.split('\n')) if (l.trim() !== '') opts.onLog(proc.redact(l.trimEnd()));
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

    const proc = this.start('lsjson', { remote, args, signal: opts.signal, stdout: 'pipe', lazyGc: true });
    // rclone 1.60 can hang here too once an SFTP server stops mid-listing (with --hash).
    const watchdog = this.watchStall(proc);
    let yielded = 0;
    try {
      for await (const line of readLines(proc.stdout!)) {
        watchdog.answered();
        let entry: RemoteEntry | undefined;
        try {
          entry = parseLsjsonLine(line);
        } catch (err) {
          proc.fail(outputError('lsjson', err));
          break;
        }
        if (entry === undefined) continue;
        yielded += 1;
        watchdog.holding(true);
        yield entry;
        watchdog.holding(false);
      }
      // Exit 3 after entries were produced is a subdirectory vanishing mid-listing, not a missing root.
      await proc.finish({ notFoundMeansMissing: yielded === 0 });
    } finally {
      watchdog.stop();
      await this.reap(proc);
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
    const proc = this.start('lsjson', { remote, args, signal, stdout: 'pipe' });
    let out = '';
    try {
      for await (const line of readLines(proc.stdout!)) {
        out += `${line}\n`;
        if (out.length > STAT_OUTPUT_MAX) {
          proc.fail(outputError('lsjson', new Error('output too large for --stat')));
          break;
        }
      }
      await proc.finish({ notFoundMeansMissing: true });
    } catch (err) {
      if (err instanceof RemoteNotFoundError) return null;
      throw err;
    } finally {
      await this.reap(proc);
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
    const proc = this.start('lsjson', { remote, args, signal: opts.signal, stdin: `${names.join('\n')}\n`, stdout: 'pipe' });
    const watchdog = this.watchStall(proc);
    try {
      for await (const line of readLines(proc.stdout!)) {
        watchdog.answered();
        try {
          const entry = parseLsjsonLine(line);
          if (entry && !entry.isDir) found.set(entry.path, entry);
        } catch (err) {
          proc.fail(outputError('lsjson', err));
          break;
        }
      }
      await proc.finish({ notFoundMeansMissing: true });
    } catch (err) {
      if (err instanceof RemoteNotFoundError) return new Map();
      throw err;
    } finally {
      watchdog.stop();
      await this.reap(proc);
    }
    return found;
  }

  /**
   * Fails `proc` once rclone has said nothing for {@link stallTimeoutMs} while its caller
   * waits for it (see {@link STAT_STALL_MS}). Time the caller spends away (`holding`, e.g.
   * a slow HTTP client reading a listing) does not count: rclone is then held up by us.
   */
  private watchStall(proc: RcloneProcess): { answered(): void; holding(held: boolean): void; stop(): void } {
    let answered = Date.now();
    let held = false;
    const stallSeconds = Math.round(this.stallTimeoutMs / 1000);
    const timer = setInterval(() => {
      if (held || Date.now() - answered < this.stallTimeoutMs) return;
      proc.fail(new RcloneError(`rclone lsjson gave no answer for ${stallSeconds} s: the remote stopped answering`, { exitCode: null, command: 'lsjson' }));
    }, Math.min(1000, this.stallTimeoutMs));
    timer.unref();
    return {
      answered: () => {
        answered = Date.now();
      },
      holding: (value) => {
        held = value;
        answered = Date.now();
      },
      stop: () => clearInterval(timer),
    };
  }

  /** Whether anything at all lies directly under `rel` (stops rclone at the first entry). */
  private async hasAnyEntry(remote: RemoteSpec, rel: string, signal: AbortSignal | undefined): Promise<boolean> {
    const args = ['--links', '--no-mimetype', '--no-modtime', remoteRoot(remote, rel)];
    const proc = this.start('lsjson', { remote, args, signal, stdout: 'pipe' });
    try {
      for await (const line of readLines(proc.stdout!)) {
        const t = line.trim();
        if (t !== '' && t !== '[' && t !== ']') return true;
      }
      await proc.finish({ notFoundMeansMissing: true });
      return false;
    } catch (err) {
      if (err instanceof RemoteNotFoundError) return false;
      throw err;
    } finally {
      await this.reap(proc);
    }
  }

  private start(command: string, spec: StartSpec): RcloneProcess {
    const { env, args: globalArgs, redact } = childEnv(this.baseEnv ?? process.env, spec.remote);
    if (spec.lazyGc) env.GOGC ??= LISTING_GOGC;
    const onStderrLine = spec.onStderrLine;
    // A missing executable must keep failing as ENOENT (a clear message), not as setpriv's 127.
    const launcher = existsSync(this.executable) ? deathSignalLauncher() : undefined;
    return RcloneProcess.start({
      api: rcloneJsFor(launcher?.executable ?? this.executable),
      command,
      args: [...(launcher ? [...launcher.args, this.executable] : []), command, ...globalArgs, ...spec.args],
      env,
      redact,
      signal: spec.signal,
      stdin: spec.stdin,
      stdout: spec.stdout,
      onStderrLine: onStderrLine && ((line) => onStderrLine(line, redact)),
    });
  }

  /** Makes sure the child is gone before a call returns or throws. */
  private async reap(proc: RcloneProcess): Promise<void> {
    if (!proc.hasExited) {
      proc.kill();
      await proc.exited;
    }
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

let launcherLookup: { executable: string; args: string[] } | null | undefined;

/**
 * `setpriv --pdeathsig KILL --` when available (Linux, util-linux): the kernel then kills
 * rclone if its worker dies, even by SIGKILL, when no exit hook can run. An orphaned
 * rclone would go on writing into staging and keep the remote busy.
 */
function deathSignalLauncher(): { executable: string; args: string[] } | undefined {
  if (launcherLookup === undefined) {
    launcherLookup = null;
    if (process.platform === 'linux') {
      for (const candidate of ['/usr/bin/setpriv', '/bin/setpriv']) {
        if (existsSync(candidate)) {
          launcherLookup = { executable: candidate, args: ['--pdeathsig', 'KILL', '--'] };
          break;
        }
      }
    }
  }
  return launcherLookup ?? undefined;
}
