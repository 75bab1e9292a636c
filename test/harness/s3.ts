/**
 * A real S3 endpoint for tests: s3rver (npm), run in a child process so it can be stopped
 * independently of the test and never shares the test's event loop.
 *
 * Credentials are s3rver's built-in `S3RVER` / `S3RVER`. Note what s3rver checks: an
 * unknown access key id is rejected (InvalidAccessKeyId), but SigV4 signatures are NOT
 * verified (a wrong secret is accepted) and unsigned requests are allowed, which is what
 * {@link S3Server.createBucket} and {@link S3Server.putObject} rely on.
 */
import os from 'node:os';
import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { LOOPBACK } from './ports.js';
import { spawnService, waitUntilReady, type ServiceProcess } from './process.js';

export interface S3Server {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly port: number;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** s3rver's data directory: one sub-directory per bucket. */
  readonly root: string;
  /** Creates a bucket; fails if it already exists (tests use fresh names). */
  createBucket(name: string): Promise<void>;
  /** Stores an object with a plain (unsigned) PUT: for seeding fixtures without rclone. */
  putObject(bucket: string, key: string, body: string | Uint8Array): Promise<void>;
  stop(): Promise<void>;
}

export interface StartS3Options {
  /** s3rver's data directory; created if missing, never deleted by the harness. */
  readonly root: string;
}

/** s3rver's hard-coded account. */
export const S3RVER_ACCESS_KEY_ID = 'S3RVER';
export const S3RVER_SECRET_ACCESS_KEY = 'S3RVER';

const STARTUP_TIMEOUT_MS = 20_000;
const SERVER_SCRIPT = fileURLToPath(new URL('./s3-server-process.mjs', import.meta.url));

/** The port announced by the child's `S3RVER_LISTENING <port>` line, once printed. */
function announcedPort(proc: ServiceProcess): number | undefined {
  const match = /^S3RVER_LISTENING (\d+)$/m.exec(proc.output());
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** Encodes an object key for a path-style URL, keeping its `/` separators. */
function encodeKey(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/');
}

async function expectOk(response: Response, what: string): Promise<void> {
  if (response.ok) return;
  const body = await response.text();
  throw new Error(`s3rver: ${what} failed with HTTP ${response.status}: ${body.slice(0, 500)}`);
}

/** Fails clearly (never skips) when the s3rver package is not installed. */
function requireS3rverPackage(): void {
  try {
    createRequire(import.meta.url).resolve('s3rver');
  } catch {
    throw new Error(
      'Glacis tests need the "s3rver" npm package (a devDependency), which is not installed. ' +
        'Install it: npm install --ignore-scripts --save-dev s3rver@3.7.1',
    );
  }
}

/**
 * Creates a bucket on any s3rver endpoint (e.g. the shared one, known only by coordinates)
 * with an unsigned PUT; fails if it exists already.
 */
export async function s3CreateBucket(endpoint: string, name: string): Promise<void> {
  const response = await fetch(`${endpoint}/${encodeURIComponent(name)}`, { method: 'PUT' });
  await expectOk(response, `create bucket "${name}"`);
}

/** Stores an object on any s3rver endpoint with an unsigned PUT (no rclone metadata). */
export async function s3PutObject(
  endpoint: string,
  bucket: string,
  key: string,
  body: string | Uint8Array,
): Promise<void> {
  const response = await fetch(`${endpoint}/${encodeURIComponent(bucket)}/${encodeKey(key)}`, {
    method: 'PUT',
    body,
  });
  await expectOk(response, `put "${bucket}/${key}"`);
}

export async function startS3(opts: StartS3Options): Promise<S3Server> {
  requireS3rverPackage();
  const root = path.resolve(opts.root);
  mkdirSync(root, { recursive: true });
  const proc = spawnService(
    's3rver',
    process.execPath,
    ['--openssl-legacy-provider', SERVER_SCRIPT, root],
    { cwd: os.tmpdir() },
  );
  await waitUntilReady(proc, () => announcedPort(proc) !== undefined, STARTUP_TIMEOUT_MS);
  const port = announcedPort(proc) ?? 0;
  const endpoint = `http://${LOOPBACK}:${port}`;

  return {
    endpoint,
    port,
    accessKeyId: S3RVER_ACCESS_KEY_ID,
    secretAccessKey: S3RVER_SECRET_ACCESS_KEY,
    root,
    createBucket: (name) => s3CreateBucket(endpoint, name),
    putObject: (bucket, key, body) => s3PutObject(endpoint, bucket, key, body),
    stop: async () => {
      await proc.terminate();
    },
  };
}
