/**
 * Loopback TCP port helpers: a port chosen free at run time, and waiting for a server to
 * listen on one. Used by `glacis up` (its own redis-server) and by the test services.
 */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** The only interface these helpers bind to or probe by default. */
export const LOOPBACK = '127.0.0.1';

/**
 * A port that was free a moment ago: the kernel picks it for a throw-away listener,
 * which is closed before returning. Another process could grab it before the caller
 * binds it, so callers that spawn a server retry on "address in use".
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: LOOPBACK, port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`freePort: unexpected listener address ${String(address)}`));
        return;
      }
      server.close((err) => (err ? reject(err) : resolve(address.port)));
    });
  });
}

/** True when something accepts a TCP connection on host:port right now. */
export function isPortOpen(port: number, host: string = LOOPBACK, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Resolves once host:port accepts connections; rejects after `timeoutMs` with a message
 * naming the port, so a test failure says which service never came up.
 */
export async function waitForPort(port: number, timeoutMs = 10_000, host: string = LOOPBACK): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await isPortOpen(port, host, Math.min(1_000, timeoutMs))) return;
    if (Date.now() >= deadline) {
      throw new Error(`waitForPort: nothing accepted connections on ${host}:${port} within ${timeoutMs} ms`);
    }
    await sleep(50);
  }
}
