/**
 * Glacis configuration: service settings from Baricadr's `local.cfg` plus the environment,
 * and repositories from Baricadr's repos YAML.
 *
 * @example
 * ```ts
 * import { loadRepos, loadSettings } from './config/index.js';
 * const settings = loadSettings({ env: process.env });
 * const repos = loadRepos(settings.reposConf);
 * ```
 */
export { ConfigError, describeType, describeValue, quote, type ConfigErrorContext } from './errors.js';
export { parseLocalCfg, type LocalCfgValue } from './local-cfg.js';
export { loadSettings, type LoadSettingsOptions } from './settings.js';
export { loadRepos, parseRepos } from './repos.js';
export type {
  AutoFreezeMail,
  GenericRcloneRemote,
  LogFormat,
  LocalRemote,
  RemoteSpec,
  Repo,
  RunMode,
  S3Remote,
  Settings,
  SftpRemote,
  VerifyMode,
} from './types.js';
