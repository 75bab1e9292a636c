/**
 * Start-up checks of the settings that name things on disk. `loadSettings` only checks
 * that values are well-formed; a `RCLONE_EXECUTABLE` that does not exist would otherwise let
 * the service start and every task fail later, and an unusable `DATABASE_URL` would stop it
 * with a bare system error that names no key. Each becomes one {@link ConfigError} naming its key.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { ConfigError, quote } from './errors.js';
import type { Settings } from './types.js';

/**
 * Where the checked values came from: the settings file or the environment; the values
 * are valid as such, so which one is not known here any more.
 */
const SOURCE = 'settings';

/**
 * The usable-or-not problem of one key, as a ConfigError.
 *
 * @example
 * ```ts
 * throw unusableSetting('DATABASE_URL', 'a SQLite file Glacis can create and open', './data/glacis.sqlite', error);
 * ```
 */
export function unusableSetting(key: string, allowed: string, value: string, cause: unknown): ConfigError {
  const reason = (cause as NodeJS.ErrnoException | undefined)?.code ?? (cause instanceof Error ? cause.message : String(cause));
  return ConfigError.invalidValue({ file: SOURCE }, key, allowed, `${quote(value)}: ${reason}`);
}

/**
 * Checks that `RCLONE_EXECUTABLE` is an executable file.
 *
 * @throws ConfigError naming the first key that is not usable.
 * @example
 * ```ts
 * await checkSettingsUsable(settings); // ConfigError: settings: key "RCLONE_EXECUTABLE" must be …
 * ```
 */
export async function checkSettingsUsable(settings: Settings): Promise<void> {
  try {
    await access(settings.rcloneExecutable, constants.X_OK);
    if (!(await stat(settings.rcloneExecutable)).isFile()) throw Object.assign(new Error('not a file'), { code: 'not a file' });
  } catch (error) {
    throw unusableSetting('RCLONE_EXECUTABLE', 'the rclone program, executable (default: the first rclone on PATH)', settings.rcloneExecutable, error);
  }
}
