/**
 * The `redis-server` that `glacis up` starts when no `REDIS_URL` is configured, so one
 * command runs the whole service on a fresh machine. Loopback only, data under `dir`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { freePort, waitForPort } from './ports.js';

export interface EmbeddedRedis {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * @example
 * ```ts
 * const redis = await startEmbeddedRedis('./data/redis');
 * // … use redis.url …
 * await redis.stop();
 * ```
 */
export async function startEmbeddedRedis(dir: string, executable = 'redis-server'): Promise<EmbeddedRedis> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const child = spawn(executable, ['--port', String(port), '--bind', '127.0.0.1', '--dir', path.resolve(dir), '--appendonly', 'yes', '--save', ''], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(new Error(error.code === 'ENOENT' ? `${executable} not found: install it (apt-get install redis-server) or set REDIS_URL` : error.message)),
    );
    child.once('exit', (code) => reject(new Error(`${executable} exited at start (code ${code})`)));
  });
  await Promise.race([waitForPort(port, 10_000), failed]);
  return { url: `redis://127.0.0.1:${port}`, stop: () => stopChild(child) };
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
