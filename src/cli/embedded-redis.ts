/**
 * The `redis-server` that `glacis up` starts when no `REDIS_URL` is configured, so one
 * command runs the whole service on a fresh machine. Loopback only, data under `dir`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import path from 'node:path';

export interface EmbeddedRedis {
  readonly url: string;
  stop(): Promise<void>;
}

/** A TCP port free on 127.0.0.1 right now. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
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
  const port = await freeLoopbackPort();
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

function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`nothing listens on 127.0.0.1:${port}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
