/**
 * Test-side access to the run-wide services started by test/global-setup.ts.
 *
 * @example
 * ```ts
 * const { redisUrl, sftp, s3 } = sharedServices();
 * ```
 */
import { inject } from 'vitest';
import { SHARED_SERVICES_KEY, type SharedServices } from './provided.js';

export type { SharedS3, SharedServices, SharedSftp } from './provided.js';

export function sharedServices(): SharedServices {
  const services = inject(SHARED_SERVICES_KEY);
  if (services === undefined) {
    throw new Error(
      'Shared test services are missing: run the tests through vitest with vitest.config.ts, ' +
        'whose globalSetup (test/global-setup.ts) starts redis-server, the SFTP server, s3rver and PostgreSQL.',
    );
  }
  return services;
}
