/**
 * A `glacis worker` in its own process (the built bin, as users run it), and big
 * files to make transfers last long enough to interrupt.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, createReadStream, existsSync, mkdirSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';

const children = new Set<ChildProcess>();

/**
 * Starts `node bin/glacis.js worker`; its stderr is forwarded with a prefix for diagnosis.
 * `ownGroup`: in a process group of its own (its id is the worker's), to kill it with its
 * rclone children at once, as a host dying would.
 */
export function startWorkerProcess(env: NodeJS.ProcessEnv, options: { ownGroup?: boolean } = {}): ChildProcess {
  const child = spawn(process.execPath, [GLACIS_BIN, 'worker'], { env, stdio: ['ignore', 'ignore', 'pipe'], detached: options.ownGroup === true });
  child.stderr?.on('data', (d: Buffer) => process.stderr.write(`[worker ${child.pid}] ${d.toString()}`));
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** The built bin, as users run it. */
export const GLACIS_BIN = path.resolve('bin/glacis.js');

/**
 * Starts `glacis ARGS` in `cwd` with only PATH and HOME from this environment, plus `env`;
 * `running` collects the child for the test file's clean-up. Stdout is drained, stderr kept.
 */
export function runGlacis(args: string[], env: NodeJS.ProcessEnv, cwd: string, running: ChildProcess[]): { child: ChildProcess; stderr: () => string } {
  const child = spawn(process.execPath, [GLACIS_BIN, ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout?.resume();
  return { child, stderr: () => stderr };
}

/** SIGKILLs every worker process still running (for afterEach). */
export function killWorkerProcesses(): void {
  for (const child of children) child.kill('SIGKILL');
}

export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Writes a file of distinct pseudo-random content, 1 MiB at a time. */
export function writeBigFile(file: string, megabytes: number, seed: number): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < megabytes; i++) {
    createHash('sha512').update(`${seed}:${i}`).digest().copy(chunk);
    chunk.fill((seed * 31 + i) % 256, 64);
    writeSync(fd, chunk);
  }
  closeSync(fd);
}

export async function hashOf(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Bytes currently in regular files below `dir` (0 if it does not exist). */
export function bytesBelow(dir: string): number {
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) total += bytesBelow(full);
    else if (e.isFile()) total += statSync(full).size;
  }
  return total;
}

/** Polls `condition` every 10 ms until true; throws `message()` after `timeoutMs`. */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs: number, message: () => string | Promise<string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(await message());
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Command lines of running rclone processes that mention `needle`. */
export function rcloneProcessesMentioning(needle: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let args: string;
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    if (/\brclone\b/.test(args) && args.includes(needle)) found.push(args);
  }
  return found;
}
