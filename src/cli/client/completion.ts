/**
 * `glacis completion bash|zsh`: a completion script generated from the command tree
 * itself, so it always offers the commands and options this version has.
 */
import { Argument, type Command } from 'commander';

const SHELLS = ['bash', 'zsh'] as const;
type Shell = (typeof SHELLS)[number];

/**
 * Registers `glacis completion` on the program; call it after every other command.
 *
 * @example
 * ```ts
 * registerCompletionCommand(program);
 * ```
 */
export function registerCompletionCommand(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script: source <(glacis completion bash)')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .action((shell: Shell) => {
      process.stdout.write(completionScript(program, shell));
    });
}

interface CommandWords {
  /** Words typed so far that name the command, e.g. `glacis file pull`. */
  readonly path: string;
  readonly subcommands: readonly string[];
  readonly options: readonly string[];
  /** Options that take a value → the values offered (none: file names). */
  readonly values: ReadonlyMap<string, readonly string[]>;
}

function collect(command: Command, path: string, into: CommandWords[]): CommandWords[] {
  const options: string[] = ['--help'];
  const values = new Map<string, readonly string[]>();
  for (const option of command.options) {
    if (option.hidden) continue;
    // barique's underscore spellings are accepted, not offered.
    const flags = [option.short, option.long].filter((flag): flag is string => flag !== undefined && !flag.includes('_'));
    options.push(...flags);
    if (option.required || option.optional) for (const flag of flags) values.set(flag, option.argChoices ?? []);
  }
  if (path === command.name() && command.version()) options.push('--version');
  const argumentChoices = command.registeredArguments.flatMap((argument) => argument.argChoices ?? []);
  const subcommands = command.commands.map((sub) => sub.name());
  into.push({ path, subcommands: [...subcommands, ...argumentChoices], options, values });
  for (const sub of command.commands) collect(sub, `${path} ${sub.name()}`, into);
  return into;
}

/**
 * The completion script for `shell`.
 *
 * @example
 * ```ts
 * process.stdout.write(completionScript(program, 'bash'));
 * ```
 */
export function completionScript(program: Command, shell: Shell): string {
  const commands = collect(program, program.name(), []);
  const known = new Set(commands.map((c) => c.path));
  // Words that lead from one command to its subcommand (option values never match one).
  const steps = commands.flatMap((c) =>
    c.subcommands.filter((sub) => known.has(`${c.path} ${sub}`)).map((sub) => `      "${c.path} ${sub}") cmd="${c.path} ${sub}" ;;`),
  );
  // After an option that takes a value: its choices, or nothing so that file names are offered.
  const valueCases = commands.flatMap((c) =>
    [...c.values].map(([flag, choices]) => `    "${c.path}|${flag}") ${choices.length > 0 ? `COMPREPLY=($(compgen -W "${choices.join(' ')}" -- "$cur")); ` : ''}return ;;`),
  );
  const wordCases = commands.map((c) => `    "${c.path}") subs="${c.subcommands.join(' ')}"; opts="${c.options.join(' ')}" ;;`);
  const bash = `# ${shell} completion for ${program.name()}; to enable it, add this line to ~/.${shell}rc:
#   source <(${program.name()} completion ${shell})
_${program.name()}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} cmd=${program.name()} subs="" opts="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "$cmd \${COMP_WORDS[i]}" in
${steps.join('\n')}
    esac
  done
  COMPREPLY=()
  case "$cmd|$prev" in
${valueCases.join('\n')}
  esac
  case "$cmd" in
${wordCases.join('\n')}
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$subs" -- "$cur"))
  fi
}
complete -o default -F _${program.name()} ${program.name()}
`;
  // zsh runs the same function through its bash-completion emulation.
  const zshPreamble = `#compdef ${program.name()}
(( $+functions[compdef] )) || { autoload -U +X compinit && compinit; }
autoload -U +X bashcompinit && bashcompinit
`;
  return shell === 'zsh' ? zshPreamble + bash : bash;
}
