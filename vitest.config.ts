import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One redis-server, SFTP server and s3rver for the whole run (see test/global-setup.ts).
    globalSetup: ['test/global-setup.ts'],
    // Tests talk to real services and spawn real rclone processes.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    // Child processes (not worker threads): tests spawn servers and rclone, and a worker
    // that is killed takes its servers with it (setpriv --pdeathsig, see harness/process.ts).
    pool: 'forks',
    // 2-core machine: two test files at a time, the shared services take the rest.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
