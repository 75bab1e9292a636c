/**
 * Starts ONE redis-server, ONE SFTP server, ONE s3rver and ONE PostgreSQL server for the whole vitest run and hands
 * their coordinates to test files (read them with `sharedServices()` from
 * test/harness/services.ts). Tests isolate themselves with fresh key prefixes / queue
 * names, fresh sub-directories of the SFTP root, fresh buckets and fresh databases.
 *
 * A missing binary fails the run with the install command; nothing is skipped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { buildWebPage } from '../scripts/build-web.mjs';
import { removeOnExit } from './harness/process.js';
import { SHARED_SERVICES_KEY } from './harness/provided.js';
import { startPostgres, type PostgresServer } from './harness/postgres.js';
import { startRedis, type RedisServer } from './harness/redis.js';
import { startS3, type S3Server } from './harness/s3.js';
import { startSftp, type SftpServer } from './harness/sftp.js';

interface Running {
  readonly redis: RedisServer | undefined;
  readonly sftp: SftpServer | undefined;
  readonly s3: S3Server | undefined;
  readonly postgres: PostgresServer | undefined;
}

function valueOf<T>(result: PromiseSettledResult<T>): T | undefined {
  return result.status === 'fulfilled' ? result.value : undefined;
}

function reasonOf(result: PromiseSettledResult<unknown>): string | undefined {
  if (result.status === 'fulfilled') return undefined;
  return result.reason instanceof Error ? result.reason.message : String(result.reason);
}

async function stopAll(running: Running, baseDir: string): Promise<void> {
  // allSettled: one service failing to stop must not leave the others running.
  await Promise.allSettled([running.redis?.stop(), running.sftp?.stop(), running.s3?.stop(), running.postgres?.stop()]);
  rmSync(baseDir, { recursive: true, force: true });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The web page served at / is built from web/: tests see the current sources.
  await buildWebPage();
  const baseDir = mkdtempSync(path.join(os.tmpdir(), 'glacis-services-'));
  removeOnExit(baseDir);
  // In parallel, so startup is paid once; settled, so every failure is reported at once
  // (e.g. both rclone and redis-server missing) and whatever did start gets stopped.
  const [redisResult, sftpResult, s3Result, postgresResult] = await Promise.allSettled([
    startRedis({ dir: path.join(baseDir, 'redis') }),
    startSftp({ root: path.join(baseDir, 'sftp-root') }),
    startS3({ root: path.join(baseDir, 's3-root') }),
    startPostgres(),
  ]);
  const running: Running = { redis: valueOf(redisResult), sftp: valueOf(sftpResult), s3: valueOf(s3Result), postgres: valueOf(postgresResult) };
  const { redis, sftp, s3, postgres } = running;
  if (redis === undefined || sftp === undefined || s3 === undefined || postgres === undefined) {
    await stopAll(running, baseDir);
    const reasons = [reasonOf(redisResult), reasonOf(sftpResult), reasonOf(s3Result), reasonOf(postgresResult)].filter(Boolean);
    throw new Error(`Glacis test services failed to start:\n\n${reasons.join('\n\n')}`);
  }

  project.provide(SHARED_SERVICES_KEY, {
    redisUrl: redis.url,
    postgresUrl: postgres.adminUrl,
    sftp: { host: sftp.host, port: sftp.port, user: sftp.user, password: sftp.password, root: sftp.root },
    s3: { endpoint: s3.endpoint, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, root: s3.root },
  });

  return () => stopAll(running, baseDir);
}
