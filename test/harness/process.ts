/**
 * Spawning and reaping the test services' processes.
 *
 * Three layers keep a run from leaving orphan servers behind:
 *  1. `stop()` / teardown terminate each service (SIGTERM, then SIGKILL).
 *  2. A process 'exit' hook SIGKILLs every service still running (a test that forgot).
 *  3. On Linux each service is started through util-linux `setpriv --pdeathsig KILL`,
 *     so the kernel kills it even when the owning Node process itself is SIGKILLed
 *     (a vitest worker killed on timeout, CI cancelling the job) and no hook can run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** How each binary the harness needs is installed on Debian/Ubuntu. */
const INSTALL_HINTS: Readonly<Record<string, string>> = {
  'redis-server': 'apt-get install redis-server   (or: apt-get install rclone redis-server)',
  rclone: 'apt-get install rclone   (or: apt-get install rclone redis-server)',
  setpriv: 'apt-get install util-linux',
};

/** How much of a service's stdout+stderr is kept for error messages. */
const OUTPUT_LIMIT = 64 * 1024;

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A spawned service process whose output is captured and whose exit can be awaited. */
export interface ServiceProcess {
  readonly name: string;
  readonly pid: number;
  /** The last 64 KiB of stdout and stderr, interleaved. */
  output(): string;
  hasExited(): boolean;
  /** Settles when the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  /** SIGTERM, then SIGKILL if it is still alive after `graceMs`; resolves once it has exited. */
  terminate(graceMs?: number): Promise<ExitInfo>;
  /** SIGKILL now, without waiting: simulates a crash. */
  kill(): void;
}

export interface SpawnServiceOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

const live = new Set<ChildProcess>();
const exitCleanups = new Set<() => void>();
let exitHookInstalled = false;

/** Kills what is still running and runs sync cleanups when this Node process exits. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const cleanup of exitCleanups) {
      try {
        cleanup();
      } catch {
        // best effort at exit
      }
    }
  });
}

/** Removes `dir` when this process exits, unless `cancel()` was called first. */
export function removeOnExit(dir: string): { cancel(): void } {
  installExitHook();
  const cleanup = (): void => rmSync(dir, { recursive: true, force: true });
  exitCleanups.add(cleanup);
  return { cancel: () => exitCleanups.delete(cleanup) };
}

/**
 * Absolute path of `name` on PATH, or undefined. PATH entries inside node_modules are
 * skipped: npm/npx put node_modules/.bin first, and the rclone.js dependency installs an
 * `rclone` shim there that wraps a binary its (skipped) postinstall never downloaded.
 */
export function findBinary(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '' || dir.split(path.sep).includes('node_modules')) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * Absolute path of a binary the tests need. Throws (never skips) with the install command
 * when it is missing, so the failure says exactly what to do.
 */
export function requireBinary(name: string): string {
  const found = findBinary(name);
  if (found !== undefined) return found;
  const hint = INSTALL_HINTS[name] ?? `install ${name}`;
  throw new Error(
    `Glacis tests need the "${name}" binary, which is not on PATH (${process.env.PATH ?? ''}). ` +
      `Install it: ${hint}`,
  );
}

/**
 * The argv prefix that makes the kernel SIGKILL a child when its parent dies; empty where
 * `setpriv` is unavailable (non-Linux), leaving the exit hook as the safety net.
 */
export function deathSignalPrefix(): string[] {
  if (process.platform !== 'linux') return [];
  const setpriv = findBinary('setpriv');
  return setpriv === undefined ? [] : [setpriv, '--pdeathsig', 'KILL', '--'];
}

/**
 * Spawns `command` (an absolute path from {@link requireBinary}) as a service. `setpriv`
 * execs the command, so `pid` is the service itself and signals reach it directly.
 */
export function spawnService(
  name: string,
  command: string,
  args: readonly string[],
  options: SpawnServiceOptions = {},
): ServiceProcess {
  installExitHook();
  const [file, ...prefixArgs] = [...deathSignalPrefix(), command];
  const child = spawn(file ?? command, [...prefixArgs, ...args], {
    env: options.env ?? process.env,
    cwd: options.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  live.add(child);

  let output = '';
  const capture = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', capture);
  child.stderr?.on('data', capture);

  let exitInfo: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('error', (err) => {
      // spawn failure (ENOENT, EACCES): no 'exit' event follows
      capture(Buffer.from(`\n[harness] failed to spawn ${command}: ${err.message}\n`));
      if (child.pid === undefined) {
        exitInfo = { code: null, signal: null };
        live.delete(child);
        resolve(exitInfo);
      }
    });
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      live.delete(child);
      resolve(exitInfo);
    });
  });

  // A forgotten server must not keep a test process alive: the exit hook reaps it.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    (stream as { unref?: () => void } | null)?.unref?.();
  }

  const kill = (): void => {
    if (exitInfo === undefined) child.kill('SIGKILL');
  };

  return {
    name,
    pid: child.pid ?? -1,
    output: () => output,
    hasExited: () => exitInfo !== undefined,
    exited,
    kill,
    terminate: async (graceMs = 5_000) => {
      if (exitInfo !== undefined) return exitInfo;
      child.kill('SIGTERM');
      const timer = setTimeout(kill, graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Builds the error thrown when a service does not start: says which, why, and its output. */
export function startupError(proc: ServiceProcess, reason: string): Error {
  const tail = proc.output().trim().split('\n').slice(-30).join('\n');
  return new Error(`${proc.name} (pid ${proc.pid}) did not start: ${reason}\n--- ${proc.name} output ---\n${tail}`);
}

/**
 * Polls `ready` until it returns true. Fails fast if the process exits first, and fails
 * after `timeoutMs`; both errors carry the service's output.
 */
export async function waitUntilReady(
  proc: ServiceProcess,
  ready: () => Promise<boolean> | boolean,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.hasExited()) {
      const info = await proc.exited;
      throw startupError(proc, `it exited early (code ${String(info.code)}, signal ${String(info.signal)})`);
    }
    if (await ready()) return;
    if (Date.now() >= deadline) {
      proc.kill();
      throw startupError(proc, `not ready within ${timeoutMs} ms`);
    }
    await sleep(50);
  }
}

/** True when a startup failure was a port clash, which is worth retrying on another port. */
export function isAddressInUse(err: unknown): boolean {
  return err instanceof Error && /address already in use|EADDRINUSE/i.test(err.message);
}

/** Runs `attempt` up to `tries` times while it fails with "address in use". */
export async function retryOnPortClash<T>(attempt: () => Promise<T>, tries = 3): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      if (i >= tries || !isAddressInUse(err)) throw err;
    }
  }
}
