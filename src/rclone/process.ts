/**
 * One rclone child process, start to cleanup: spawning through rclone.js (and the
 * death-signal launcher, see rclone-js.ts), stdout as lines, draining stderr into a
 * redacted tail, a stall watchdog, abort handling (SIGTERM, then SIGKILL), turning the
 * exit into an error, and never returning while the child lives. {@link rcloneLines} is
 * the one way the driver (rclone.ts) runs a command.
 *
 * Internal to src/rclone: the rest of Glacis goes through {@link Rclone}.
 */
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { abortError, RcloneError, RemoteNotFoundError } from './errors.js';
import { spawnRclone } from './rclone-js.js';
import type { Redactor } from './redact.js';

/**
 * Grace period between SIGTERM and SIGKILL.
 *
 * @example
 * ```ts
 * setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
 * ```
 */
export const KILL_GRACE_MS = 2000;
const TAIL_LINES = 30;
const TAIL_LINE_MAX = 2000;

// rclone's documented exit codes for "directory not found" and "file not found".
const NOT_FOUND_EXIT_CODES = new Set([3, 4]);

// rclone's words (1.60) for an SFTP host key that `known_hosts_file` refuses, and what they
// mean for whoever reads the task's error (test/workers/host-key.test.ts).
const EXPLAINED_FAILURES: readonly { readonly pattern: RegExp; readonly meaning: string }[] = [
  {
    pattern: /knownhosts: key mismatch/,
    meaning: "the SFTP server's host key is not the one in known_hosts_file: the server's key changed, or this is not the server (check its fingerprint with its administrator before updating the file)",
  },
  {
    pattern: /knownhosts: key is unknown/,
    meaning: "the SFTP server's host key is not in known_hosts_file (add it: ssh-keyscan -p PORT host >> the file)",
  },
];

/**
 * How to start one rclone command.
 *
 * @example
 * ```ts
 * const opts: StartOptions = { executable: '/usr/bin/rclone', command: 'lsjson', args: ['lsjson', 'glacisremote:'], env, redact, stdout: 'pipe' };
 * ```
 */
export interface StartOptions {
  /** The rclone program (a path, or a name looked up on `PATH`). */
  readonly executable: string;
  /** The subcommand, for error messages. */
  readonly command: string;
  /** Full argument list, subcommand first. Must hold no secret. */
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly redact: Redactor;
  readonly signal?: AbortSignal | undefined;
  /** Written to rclone's stdin, which is then closed; stdin is /dev/null otherwise. */
  readonly stdin?: string | undefined;
  readonly stdout: 'pipe' | 'ignore';
  /**
   * Sees every stderr line (not yet redacted) and returns the text to keep in the error
   * tail, or undefined to keep nothing for it. Default: the line itself. It calls
   * `progressed` when the line shows the command advancing (see {@link StartOptions.stall}).
   */
  readonly onStderrLine?: ((line: string, progressed: () => void) => string | undefined) | undefined;
  /**
   * Fails the command (killing rclone) once it has not advanced for `timeoutMs`: a stdout
   * line, or a `progressed` call from {@link onStderrLine}, is advancing. Time a consumer
   * spends holding a line of {@link rcloneLines} does not count: rclone then waits for us.
   */
  readonly stall?: { readonly timeoutMs: number; readonly message: string } | undefined;
}

/**
 * How to read a non-zero exit: whether rclone's "not found" codes (3, 4) mean a missing
 * path ({@link RemoteNotFoundError}); a function is asked once rclone has exited.
 *
 * @example
 * ```ts
 * const end: FinishOptions = { notFoundMeansMissing: () => yielded === 0 };
 * ```
 */
export interface FinishOptions {
  readonly notFoundMeansMissing?: boolean | (() => boolean);
}

/**
 * How a child ended.
 *
 * @example
 * ```ts
 * const { code, signal }: ExitInfo = await proc.exited;
 * ```
 */
export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

// A Node process that exits while a transfer runs must not leave rclone behind.
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

/**
 * A running rclone command.
 *
 * @example
 * ```ts
 * const proc = RcloneProcess.start({ executable, command: 'version', args: ['version'], env, redact, stdout: 'pipe' });
 * try {
 *   for await (const line of proc.lines()) console.log(line);
 *   await proc.finish();
 * } finally {
 *   await proc.close();
 * }
 * ```
 */
export class RcloneProcess {
  readonly child: ChildProcess;
  /** Resolves once the child has exited and its pipes are closed; never rejects. */
  readonly exited: Promise<ExitInfo>;
  private readonly options: StartOptions;
  private readonly tail: string[] = [];
  private exitInfo: ExitInfo | undefined;
  private spawnError: Error | undefined;
  private failure: { error: unknown } | undefined;
  private aborted = false;
  private killTimer: NodeJS.Timeout | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  private lastProgress = Date.now();
  private held = false;
  private readonly onAbort = (): void => {
    this.aborted = true;
    this.kill();
  };

  private constructor(options: StartOptions, child: ChildProcess) {
    this.options = options;
    this.child = child;
    this.exited = new Promise<ExitInfo>((resolve) => {
      // `on`, not `once`: an 'error' without a listener (a failed kill, say) would crash Node.
      child.on('error', (err) => {
        // Only a failure to start means no 'close' will follow for sure.
        if (child.pid === undefined) {
          this.spawnError = err;
          this.settle({ code: null, signal: null }, resolve);
        }
      });
      child.once('close', (code, signal) => this.settle({ code, signal }, resolve));
    });
    if (child.pid !== undefined) {
      live.add(child);
      installExitHook();
    }
    this.drainStderr();
    if (options.signal) options.signal.addEventListener('abort', this.onAbort, { once: true });
    if (options.stall && child.pid !== undefined) this.watchStall(options.stall);
  }

  /**
   * Spawns rclone; throws an AbortError without spawning when `signal` already aborted.
   */
  static start(options: StartOptions): RcloneProcess {
    if (options.signal?.aborted) throw abortError(options.signal);
    let child: ChildProcess;
    try {
      child = spawnRclone(options.executable, options.args, {
        env: options.env,
        stdio: [options.stdin === undefined ? 'ignore' : 'pipe', options.stdout, 'pipe'],
      });
    } catch (err) {
      // Node's spawn errors quote offending env values, which may be secrets.
      const message = options.redact(err instanceof Error ? err.message : String(err));
      throw new RcloneError(`Could not start rclone ${options.command}: ${message}`, {
        exitCode: null,
        command: options.command,
      });
    }
    const proc = new RcloneProcess(options, child);
    if (options.stdin !== undefined && child.stdin) {
      // EPIPE when rclone exits early is reported through the exit code, not here.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.stdin);
    }
    return proc;
  }

  /**
   * rclone's stdout as UTF-8 lines (none when started with `stdout: 'ignore'`). Each line
   * is progress for the stall watchdog, whose clock stops while the consumer holds it.
   */
  async *lines(): AsyncGenerator<string, void, undefined> {
    const stdout = this.child.stdout;
    if (!stdout) return;
    for await (const line of readLines(stdout)) {
      this.progressed();
      this.held = true;
      try {
        yield line;
      } finally {
        this.held = false;
        this.progressed();
      }
    }
  }

  /** Restarts the stall clock (see {@link StartOptions.stall}). */
  progressed(): void {
    this.lastProgress = Date.now();
  }

  /** The redactor of this child's remote, for text the caller derives from its output. */
  get redact(): Redactor {
    return this.options.redact;
  }

  /** True once the child has exited. */
  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  /** Makes sure the child is gone (killing it if needed) and its watchdog stopped. Never rejects. */
  async close(): Promise<void> {
    this.stopWatchdog();
    if (!this.hasExited) {
      this.kill();
      await this.exited;
    }
  }

  /** SIGTERM now, SIGKILL after {@link KILL_GRACE_MS} if it is still alive. Idempotent. */
  kill(): void {
    if (this.exitInfo || this.killTimer) return;
    this.child.kill('SIGTERM');
    this.killTimer = setTimeout(() => {
      if (!this.exitInfo) this.child.kill('SIGKILL');
    }, KILL_GRACE_MS);
    this.killTimer.unref();
  }

  /**
   * Stops the child because the caller hit an error of its own (bad output, a throwing
   * callback); {@link finish} then rejects with that error.
   */
  fail(error: unknown): void {
    if (!this.failure) this.failure = { error };
    this.kill();
  }

  /** The kept stderr lines, redacted. */
  stderrTail(): string {
    return this.tail.join('\n');
  }

  /**
   * Waits for the exit and throws what it means: the caller's own failure, an AbortError,
   * {@link RemoteNotFoundError} for exit codes 3/4 when `notFoundMeansMissing`, or
   * {@link RcloneError} for any other non-zero exit.
   */
  async finish(opts: FinishOptions = {}): Promise<void> {
    const { code, signal } = await this.exited;
    this.stopWatchdog();
    const command = this.options.command;
    if (this.failure) throw this.failure.error;
    if (this.aborted) throw abortError(this.options.signal);
    const stderrTail = this.stderrTail();
    if (this.spawnError) {
      throw new RcloneError(`Could not start rclone ${command}: ${this.options.redact(this.spawnError.message)}`, {
        exitCode: null,
        stderrTail,
        command,
        cause: this.spawnError,
      });
    }
    if (code === 0) return;
    // rclone's own timestamp adds nothing to a message that is logged with its own.
    const last = this.tail.at(-1)?.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d /, '');
    const why = `${code === null ? `killed by ${signal ?? 'a signal'}` : `exit code ${code}`}${last ? `: ${last}` : ''}`;
    const details = { exitCode: code, stderrTail, command };
    const missing = typeof opts.notFoundMeansMissing === 'function' ? opts.notFoundMeansMissing() : opts.notFoundMeansMissing;
    if (code !== null && NOT_FOUND_EXIT_CODES.has(code) && missing) {
      throw new RemoteNotFoundError(`rclone ${command}: not found on the remote (${why})`, details);
    }
    const explained = EXPLAINED_FAILURES.find((f) => this.tail.some((line) => f.pattern.test(line)));
    throw new RcloneError(`rclone ${command} failed${explained ? `: ${explained.meaning}` : ''} (${why})`, details);
  }

  private watchStall(stall: { readonly timeoutMs: number; readonly message: string }): void {
    this.stallTimer = setInterval(() => {
      if (this.held || Date.now() - this.lastProgress < stall.timeoutMs) return;
      this.stopWatchdog();
      this.fail(new RcloneError(stall.message, { exitCode: null, command: this.options.command, stderrTail: this.stderrTail() }));
    }, Math.min(1000, stall.timeoutMs));
    this.stallTimer.unref();
  }

  private stopWatchdog(): void {
    if (this.stallTimer) clearInterval(this.stallTimer);
    this.stallTimer = undefined;
  }

  private settle(info: ExitInfo, resolve: (info: ExitInfo) => void): void {
    if (this.exitInfo) return;
    this.exitInfo = info;
    live.delete(this.child);
    if (this.killTimer) clearTimeout(this.killTimer);
    this.stopWatchdog();
    this.options.signal?.removeEventListener('abort', this.onAbort);
    resolve(info);
  }

  private drainStderr(): void {
    const stderr = this.child.stderr;
    if (!stderr) return;
    stderr.on('error', () => undefined);
    const decoder = new StringDecoder('utf8');
    let pending = '';
    const handle = (line: string): void => {
      if (line === '') return;
      let kept: string | undefined = line;
      if (this.options.onStderrLine) {
        try {
          kept = this.options.onStderrLine(line, () => this.progressed());
        } catch (err) {
          this.fail(err);
        }
      }
      if (kept === undefined || kept === '') return;
      const safe = this.options.redact(kept);
      this.tail.push(safe.length > TAIL_LINE_MAX ? `${safe.slice(0, TAIL_LINE_MAX)}…` : safe);
      if (this.tail.length > TAIL_LINES) this.tail.shift();
    };
    stderr.on('data', (chunk: Buffer) => {
      pending += decoder.write(chunk);
      let start = 0;
      let nl: number;
      while ((nl = pending.indexOf('\n', start)) !== -1) {
        handle(pending.slice(start, nl).replace(/\r$/, ''));
        start = nl + 1;
      }
      pending = pending.slice(start);
    });
    stderr.on('end', () => {
      pending += decoder.end();
      if (pending !== '') handle(pending);
      pending = '';
    });
  }
}

/**
 * Runs one rclone command, start to cleanup, yielding its stdout lines: the command ends
 * normally only when rclone exited 0 (else the error {@link RcloneProcess.finish} gives);
 * breaking out of the loop or throwing in it kills rclone, and nothing returns while
 * rclone still runs.
 *
 * @example
 * ```ts
 * for await (const line of rcloneLines({ executable, command: 'version', args: ['version'], env, redact, stdout: 'pipe' })) {
 *   console.log(line);
 * }
 * ```
 */
export async function* rcloneLines(options: StartOptions, end: FinishOptions = {}): AsyncGenerator<string, void, undefined> {
  const proc = RcloneProcess.start(options);
  try {
    yield* proc.lines();
    await proc.finish(end);
  } finally {
    await proc.close();
  }
}

/**
 * Splits a byte stream into UTF-8 lines as it arrives, with the stream's backpressure:
 * nothing more is read while the consumer is busy with a line.
 *
 * @example
 * ```ts
 * for await (const line of readLines(child.stdout)) handle(line);
 * ```
 */
export async function* readLines(stream: Readable): AsyncGenerator<string, void, undefined> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    pending += decoder.write(chunk);
    let start = 0;
    let nl: number;
    while ((nl = pending.indexOf('\n', start)) !== -1) {
      yield pending.slice(start, nl);
      start = nl + 1;
    }
    pending = pending.slice(start);
  }
  pending += decoder.end();
  if (pending !== '') yield pending;
}
