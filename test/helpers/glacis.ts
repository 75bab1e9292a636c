/**
 * A real Glacis (API + worker, in this process) on the shared Redis, with its own
 * queue prefix, database and task log directory, for end-to-end tests.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadRepos } from '../../src/config/repos.js';
import { loadSettings } from '../../src/config/settings.js';
import { createLogger } from '../../src/log/index.js';
import { openRuntime, startApi, startTaskWorker, type Runtime } from '../../src/runtime/index.js';
import type { RunningWorker } from '../../src/workers/index.js';
import { freePort } from '../harness/ports.js';
import { sharedServices } from '../harness/services.js';
import { tempDir } from './remotes.js';

export interface TestGlacis {
  readonly url: string;
  readonly runtime: Runtime;
  /** The API's HTTP server; its request listener is the express app. */
  readonly server: Server;
  /** Environment that configures the same instance (for a `glacis worker` child process). */
  readonly env: NodeJS.ProcessEnv;
  readonly logLines: string[];
  post(route: string, body: unknown): Promise<{ status: number; body: any }>;
  get(route: string): Promise<{ status: number; body: any }>;
  /** Polls the task until it has ended; returns its record as the API shows it. */
  waitForTask(taskId: string, timeoutMs?: number): Promise<any>;
  /** Starts the in-process worker (when started with `worker: false`). */
  startWorker(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Repos YAML map (local path → settings). */
  readonly repos: Record<string, unknown>;
  /** Start an in-process worker (default true). */
  readonly worker?: boolean;
  readonly redisUrl?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * @example
 * ```ts
 * const glacis = await startGlacis({ repos: { [local]: remote.settings } });
 * const { body } = await glacis.post('/pull', { path: local });
 * await glacis.waitForTask(body.task);
 * ```
 */
export async function startGlacis(options: StartOptions): Promise<TestGlacis> {
  const dir = tempDir('instance');
  const reposFile = path.join(dir, 'repos.yaml');
  writeFileSync(reposFile, stringify(options.repos));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    REPOS_CONF: reposFile,
    REDIS_URL: options.redisUrl ?? sharedServices().redisUrl,
    DATABASE_URL: path.join(dir, 'glacis.sqlite'),
    QUEUE_PREFIX: `t${randomUUID().slice(0, 8)}`,
    PORT: String(await freePort()),
    RUN_MODE: 'test',
    WORKER_LOCK_DURATION: '5',
    WORKER_SHUTDOWN_GRACE: '5',
    ...options.env,
  };
  const logLines: string[] = [];
  const settings = loadSettings({ env, warn: (m) => logLines.push(m) });
  const runtime = await openRuntime(settings, loadRepos(reposFile), createLogger('test', (l) => logLines.push(l)));
  const server: Server = await startApi(runtime);
  let worker: RunningWorker | undefined = options.worker === false ? undefined : await startTaskWorker(runtime);
  const url = `http://127.0.0.1:${settings.port}`;

  const call = async (method: string, route: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const response = await fetch(url + route, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // left as text: the test asserts on it
    }
    return { status: response.status, body: parsed };
  };

  return {
    url,
    runtime,
    server,
    env,
    logLines,
    post: (route, body) => call('POST', route, body),
    get: (route) => call('GET', route),
    async waitForTask(taskId, timeoutMs = 45_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { body } = await call('GET', `/tasks/status/${taskId}`);
        if (['finished', 'failed', 'cancelled'].includes(body.status)) return body;
        if (Date.now() > deadline) throw new Error(`task ${taskId} still ${body.status} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async startWorker() {
      worker ??= await startTaskWorker(runtime);
    },
    async stop() {
      await worker?.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await runtime.close();
    },
  };
}
