/**
 * A real, throw-away `redis-server` for tests: no config file, no persistence, loopback
 * only, on a port chosen at run time. `restart()` brings it back on the same port so a
 * test can take Redis down and watch the service recover.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, LOOPBACK } from './ports.js';
import {
  removeOnExit,
  requireBinary,
  retryOnPortClash,
  spawnService,
  waitUntilReady,
  type ServiceProcess,
} from './process.js';

export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** SIGTERM and wait for exit (a clean shutdown). */
  stop(): Promise<void>;
  /** SIGKILL without waiting: Redis crashes. */
  kill(): void;
  /** Stops it if still running, then starts it again on the same port; resolves once PING answers. */
  restart(): Promise<void>;
}

export interface StartRedisOptions {
  /** Working directory for redis-server; a fresh temp dir (removed by `stop()`) by default. */
  readonly dir?: string;
  /**
   * Persist every write (`appendonly yes`, `appendfsync always`), as `glacis up`'s own Redis
   * does: queued jobs and path locks then survive `restart()`. Default: no persistence.
   */
  readonly appendOnly?: boolean;
}

const STARTUP_TIMEOUT_MS = 15_000;

/** One RESP `PING` over a raw socket: true on `+PONG`. Avoids a client's reconnect logic. */
export function pingRedis(port: number, host: string = LOOPBACK, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let reply = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

function redisArgs(port: number, dir: string, appendOnly: boolean): string[] {
  return [
    '--port', String(port),
    '--bind', LOOPBACK,
    '--save', '',
    '--appendonly', appendOnly ? 'yes' : 'no',
    ...(appendOnly ? ['--appendfsync', 'always'] : []),
    '--dir', dir,
    '--daemonize', 'no',
    // log to stdout, which the harness captures for error messages
    '--logfile', '',
  ];
}

/** Spawns redis-server and waits for its own "ready" line plus a PING answered on the port. */
async function launch(binary: string, port: number, dir: string, appendOnly: boolean): Promise<ServiceProcess> {
  mkdirSync(dir, { recursive: true });
  const proc = spawnService('redis-server', binary, redisArgs(port, dir, appendOnly));
  // The log line proves *this* process bound the port; PING alone could reach a stranger.
  await waitUntilReady(
    proc,
    async () => /Ready to accept connections/.test(proc.output()) && (await pingRedis(port)),
    STARTUP_TIMEOUT_MS,
  );
  return proc;
}

export async function startRedis(opts: StartRedisOptions = {}): Promise<RedisServer> {
  const binary = requireBinary('redis-server');
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), 'glacis-redis-'));
  // Also removed at process exit, in case stop() is never called (restart() may recreate it).
  if (ownDir) removeOnExit(dir);

  let port = 0;
  let proc = await retryOnPortClash(async () => {
    port = await freePort();
    return launch(binary, port, dir, opts.appendOnly ?? false);
  });

  const stop = async (): Promise<void> => {
    await proc.terminate();
  };

  return {
    url: `redis://${LOOPBACK}:${port}`,
    port,
    stop: async () => {
      await stop();
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
    kill: () => proc.kill(),
    restart: async () => {
      await stop();
      // Same port on purpose: clients hold the URL and must reconnect to it.
      proc = await launch(binary, port, dir, opts.appendOnly ?? false);
    },
  };
}
