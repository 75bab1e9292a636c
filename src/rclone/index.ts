/**
 * Glacis's rclone driver. Everything that runs rclone goes through {@link Rclone}.
 *
 * @example
 * ```ts
 * import { Rclone, RemoteNotFoundError } from '../rclone/index.js';
 * const rclone = new Rclone({ executable: settings.rcloneExecutable });
 * console.log(await rclone.version()); // '1.60.1'
 * ```
 */
export { Rclone, RCLONELINK_SUFFIX, STAT_STALL_MS, TRANSFER_STALL_MS, localNameOf } from './rclone.js';
export { RcloneError, RemoteNotFoundError, abortError, explainRemoteFailure, isAbortError } from './errors.js';
export type { AbortErrorLike, FailedRepo, RcloneErrorDetails } from './errors.js';
export {
  REMOTE_NAME,
  childEnv,
  isBucketBased,
  normalizeRelPath,
  remoteEnv,
  secretsOf,
  secretSettings,
  remotePath,
  remoteRoot,
} from './remote-env.js';
export type { ChildEnv, RemoteEnv, SecretSetting } from './remote-env.js';
export { makeRedactor, MIN_REDACTED_LENGTH, REDACTED } from './redact.js';
export type { Redactor } from './redact.js';
export { obscure, reveal } from './obscure.js';
export type {
  CopyFilesOptions,
  CopyProgress,
  CopyResult,
  FileListOptions,
  ListedFiles,
  ListOptions,
  PushFilesOptions,
  RcloneOptions,
  RemoteEntry,
  StatOptions,
} from './types.js';
