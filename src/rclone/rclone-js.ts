/**
 * rclone.js, through its documented surface only: `RCLONE_EXECUTABLE` read once, when the
 * module is loaded, and its base function `api(...args, childOptions)`.
 *
 * Glacis runs several rclone programs in one process (each {@link Rclone} names its own,
 * tests use wrappers) and wants the kernel to kill rclone when its worker dies. So the
 * program rclone.js spawns is a launcher that execs the rclone named in its arguments:
 * `setpriv --pdeathsig KILL --` (util-linux) where it exists, else `env --`. Its path is put
 * in `RCLONE_EXECUTABLE` once, right before the one load of rclone.js, and stays there:
 * rclone.js never reads it again, and Glacis's own setting of that name was read into its
 * settings at start (children get their environment from `childEnv`, which drops
 * `RCLONE_*`). Only the base function is used: its `promises` API resolves without
 * looking at the exit code and rejects on any stderr text.
 */
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
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

type RcloneJsApi = (...args: [...string[], RcloneJsChildOptions]) => ChildProcess;

interface Launcher {
  readonly executable: string;
  /** Arguments before the rclone program's path. */
  readonly args: readonly string[];
}

const require = createRequire(import.meta.url);
let api: RcloneJsApi | undefined;
let launcher: Launcher | undefined;

/**
 * `setpriv --pdeathsig KILL` (Linux): the kernel kills rclone if its worker dies, even by
 * SIGKILL, when no exit hook can run. An orphaned rclone would go on writing into staging
 * and keep the remote busy (test/workers/crash.test.ts). Elsewhere `env` just execs it.
 */
function findLauncher(): Launcher {
  if (process.platform === 'linux') {
    for (const candidate of ['/usr/bin/setpriv', '/bin/setpriv']) {
      if (existsSync(candidate)) return { executable: candidate, args: ['--pdeathsig', 'KILL', '--'] };
    }
  }
  return { executable: '/usr/bin/env', args: ['--'] };
}

function load(): { api: RcloneJsApi; launcher: Launcher } {
  if (!api || !launcher) {
    launcher = findLauncher();
    process.env.RCLONE_EXECUTABLE = launcher.executable;
    const loaded: unknown = require('rclone.js');
    if (typeof loaded !== 'function') throw new TypeError('rclone.js did not export its base function');
    api = loaded as RcloneJsApi;
  }
  return { api, launcher };
}

/**
 * Spawns `executable` (an rclone program) with `args` verbatim through rclone.js and the
 * launcher. rclone.js is handed ready-made `--flag=value` strings rather than a flags
 * object (which it would expand with `false` → `--no-flag` and JSON-quoted values), so
 * the argv is what the code shows. A missing program fails like `spawn` would (ENOENT),
 * not as the launcher's exit 127.
 *
 * @example
 * ```ts
 * const child = spawnRclone('/usr/bin/rclone', ['version'], { env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
 * ```
 */
export function spawnRclone(executable: string, args: readonly string[], options: RcloneJsChildOptions): ChildProcess {
  if (executable.includes('/') && !existsSync(executable)) {
    throw Object.assign(new Error(`spawn ${executable} ENOENT`), { code: 'ENOENT' });
  }
  const { api: run, launcher: via } = load();
  return run(...via.args, executable, ...args, options);
}

