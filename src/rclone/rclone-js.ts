/**
 * Typed access to rclone.js's base function (the package is CommonJS and ships no types).
 *
 * rclone.js reads `RCLONE_EXECUTABLE` once, when the module is evaluated, and spawns that
 * path forever after. Glacis lets each {@link Rclone} instance name its executable, so
 * instead of depending on whoever imported rclone.js first, a private copy of the module
 * is evaluated per executable with the variable set for the duration of that synchronous
 * `require`. Only the base function is used: its `promises` API resolves without looking
 * at the exit code and rejects on any stderr text.
 */
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { createRequire } from 'node:module';

/**
 * The child-process options this module hands rclone.js (it forwards them to `spawn`).
 *
 * @example
 * ```ts
 * const options: RcloneJsChildOptions = { env, stdio: ['ignore', 'pipe', 'pipe'] };
 * ```
 */
export interface RcloneJsChildOptions {
  env: NodeJS.ProcessEnv;
  stdio: StdioOptions;
}

/**
 * rclone.js's `api(...args, options)`: spawns rclone with `args` verbatim. This module
 * hands it ready-made `--flag=value` strings rather than a flags object (which it would
 * expand with `false` → `--no-flag` and JSON-quoted values), so the argv is what the
 * code shows.
 *
 * @example
 * ```ts
 * const api: RcloneJsApi = rcloneJsFor('/usr/bin/rclone');
 * api('lsjson', '--stat', 'glacisremote:x', { env, stdio: ['ignore', 'pipe', 'pipe'] });
 * ```
 */
export type RcloneJsApi = (...args: [...string[], RcloneJsChildOptions]) => ChildProcess;

const require = createRequire(import.meta.url);
const loaded = new Map<string, RcloneJsApi>();

/**
 * Returns rclone.js's base function bound to `executable`.
 *
 * @example
 * ```ts
 * const api = rcloneJsFor('/usr/bin/rclone');
 * const child = api('version', { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
 * ```
 */
export function rcloneJsFor(executable: string): RcloneJsApi {
  const cached = loaded.get(executable);
  if (cached) return cached;

  const resolved = require.resolve('rclone.js');
  const previousEnv = process.env.RCLONE_EXECUTABLE;
  const previousModule = require.cache[resolved];
  process.env.RCLONE_EXECUTABLE = executable;
  delete require.cache[resolved];
  let api: unknown;
  try {
    api = require('rclone.js');
  } finally {
    if (previousEnv === undefined) delete process.env.RCLONE_EXECUTABLE;
    else process.env.RCLONE_EXECUTABLE = previousEnv;
    // Leave the shared cache as we found it so another importer is not handed our copy.
    if (previousModule) require.cache[resolved] = previousModule;
    else delete require.cache[resolved];
  }
  if (typeof api !== 'function') throw new TypeError('rclone.js did not export its base function');
  loaded.set(executable, api as RcloneJsApi);
  return api as RcloneJsApi;
}
