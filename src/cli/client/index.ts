/**
 * The client half of the `glacis` command: `init`, `file …`, `task …`, `repo …` and `completion`,
 * talking to a Glacis server's REST API as barique talks to Baricadr's.
 */
import type { Command } from 'commander';
import { registerCompletionCommand } from './completion.js';
import { registerFileCommands } from './file.js';
import { registerInitCommand } from './init.js';
import { registerRepoCommands } from './repo.js';
import { registerTaskCommands } from './task.js';

export { CliError, EXIT } from './exit.js';

/**
 * Adds the client commands to the program (after the server ones, so `completion` sees them all).
 *
 * @example
 * ```ts
 * registerClientCommands(program);
 * await program.parseAsync(process.argv);
 * ```
 */
export function registerClientCommands(program: Command): void {
  registerInitCommand(program);
  registerFileCommands(program);
  registerTaskCommands(program);
  registerRepoCommands(program);
  registerCompletionCommand(program);
}
