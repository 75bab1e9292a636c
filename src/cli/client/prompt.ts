/**
 * Questions asked on the terminal (for `glacis init`): prompts on stderr, answers from
 * stdin, secrets not echoed, Ctrl-C and Ctrl-D end the command cleanly.
 */
import { Writable } from 'node:stream';
import { createInterface } from 'node:readline/promises';
import { CliError, EXIT } from './exit.js';

/**
 * One question: the answer, trimmed; `fallback` when it is left empty.
 *
 * @param secret the answer is not echoed (a token).
 * @throws CliError (exit 130) on Ctrl-C or end of input.
 * @example
 * ```ts
 * const url = await ask('Server URL', { fallback: 'http://127.0.0.1:9100' });
 * ```
 */
export async function ask(question: string, options: { readonly fallback?: string; readonly secret?: boolean } = {}): Promise<string> {
  const shownFallback = options.fallback && !options.secret ? ` [${options.fallback}]` : '';
  const prompt = `${question}${shownFallback}: `;
  // A secret is typed into a readline whose echo goes nowhere; the prompt is written apart.
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({ input: process.stdin, output: options.secret ? sink : process.stderr, terminal: process.stdin.isTTY === true });
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  rl.on('SIGINT', abort);
  // Ctrl-D: the input ended without an answer.
  rl.on('close', abort);
  try {
    if (options.secret) process.stderr.write(prompt);
    const answer = (await rl.question(options.secret ? '' : prompt, { signal: controller.signal })).trim();
    if (options.secret) process.stderr.write('\n');
    return answer === '' ? (options.fallback ?? '') : answer;
  } catch {
    process.stderr.write('\n');
    throw new CliError('cancelled: nothing was saved', EXIT.interrupted);
  } finally {
    // Only ours: readline's own 'close' listener detaches it from stdin (or it would echo on).
    rl.off('close', abort);
    rl.close();
  }
}

/**
 * A yes/no question; Enter gives `fallback`.
 *
 * @example
 * ```ts
 * if (await confirm('Does the server require a token?', false)) token = await ask('Token', { secret: true });
 * ```
 */
export async function confirm(question: string, fallback: boolean): Promise<boolean> {
  for (;;) {
    const answer = (await ask(`${question} [${fallback ? 'Y/n' : 'y/N'}]`)).toLowerCase();
    if (answer === '') return fallback;
    if (['y', 'yes'].includes(answer)) return true;
    if (['n', 'no'].includes(answer)) return false;
    process.stderr.write('please answer y or n\n');
  }
}
