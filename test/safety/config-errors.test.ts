/**
 * Broken configuration (issue 7, suite 7): `glacis serve`, run as users run it (the built
 * bin, in its own process), on broken `repos.yaml` and `local.cfg` variants. Each must end
 * with exit code 2 and exactly one line on stderr, `glacis: configuration error: …`, naming
 * the file (or the environment), the repo and the key at fault, without showing a secret,
 * and without starting anything.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { quote } from '../../src/config/errors.js';
import { freePort } from '../harness/ports.js';
import { sharedServices } from '../harness/services.js';
import { tempDir } from '../helpers/remotes.js';
import { BROKEN_CONFIGS, type BrokenConfig } from './corpus/broken-configs.js';

const BIN = path.resolve('bin/glacis.js');
/** Far longer than a refusal takes; a process still running then has started despite its config. */
const EXIT_WITHIN_MS = 20_000;
const PARALLEL = 4;

interface Outcome {
  readonly config: BrokenConfig;
  readonly code: number | null;
  readonly started: boolean;
  readonly stdout: string;
  readonly errorLines: string[];
  readonly stderr: string;
}

async function runServe(config: BrokenConfig): Promise<Outcome> {
  const dir = tempDir('badcfg');
  mkdirSync(path.join(dir, 'repo'));
  mkdirSync(path.join(dir, 'remote'));
  const port = await freePort();
  const files: Record<string, string> = {
    'repos.yaml': './repo:\n  backend: local\n  path: ./remote\n',
    ...config.files,
    // A working base (its own port and Redis prefix), then the variant's lines, which win.
    'local.cfg': `REPOS_CONF = './repos.yaml'\nPORT = ${port}\nQUEUE_PREFIX = 'badcfg${port}'\n${config.files['local.cfg'] ?? ''}`,
  };
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  // A real Redis: whatever is not refused really starts, and is caught starting.
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, REDIS_URL: sharedServices().redisUrl, ...config.env };
  const child = spawn(process.execPath, [BIN, 'serve'], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([exit, new Promise<'running'>((resolve) => (timer = setTimeout(() => resolve('running'), EXIT_WITHIN_MS)))]);
  clearTimeout(timer);
  if (code === 'running') {
    child.kill('SIGKILL');
    await exit;
  }
  const errorLines = stderr.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('warning:'));
  return { config, code: code === 'running' ? null : code, started: code === 'running', stdout, errorLines, stderr };
}

/** Why an outcome is not the one clear refusal it should be (empty when it is). */
function problemsWith(outcome: Outcome): string[] {
  const { config, code, started, errorLines } = outcome;
  const problems: string[] = [];
  if (started) problems.push(`still running after ${EXIT_WITHIN_MS} ms: it started`);
  else if (code !== 2) problems.push(`exit code ${code}`);
  if (outcome.stdout !== '') problems.push(`wrote to stdout: ${outcome.stdout.slice(0, 200)}`);
  if (errorLines.length !== 1) problems.push(`${errorLines.length} lines on stderr`);
  const line = errorLines.join(' | ');
  if (!line.startsWith(`glacis: configuration error: ${config.file}: `)) problems.push(`does not start by naming ${config.file}`);
  const expected = [
    ...(config.line === undefined ? [] : [`line ${config.line}`]),
    ...(config.repo === undefined ? [] : [`repo ${quote(config.repo)}`]),
    ...(config.key === undefined ? [] : [quote(config.key)]),
  ];
  for (const part of expected) if (!line.includes(part)) problems.push(`does not name ${part.trim()}`);
  if (/\n\s+at |node_modules|\.js:\d+/.test(outcome.stderr)) problems.push('shows a stack trace');
  if (config.secret !== undefined && outcome.stderr.includes(config.secret)) problems.push('shows the secret');
  return problems.length === 0 ? [] : [`${config.what}: ${problems.join('; ')} — stderr: ${outcome.stderr.trim().slice(0, 300)}`];
}

it('refuses each broken repos.yaml and local.cfg with one line naming the repo and the key, and exit code 2', async () => {
  const outcomes: Outcome[] = [];
  const queue = [...BROKEN_CONFIGS];
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      for (let config = queue.shift(); config; config = queue.shift()) outcomes.push(await runServe(config));
    }),
  );
  const failures = outcomes.flatMap(problemsWith);
  const count = (file: string): number => BROKEN_CONFIGS.filter((c) => c.source === file).length;
  console.log(
    `config: ${outcomes.length} broken configurations (${count('repos.yaml')} repos.yaml, ${count('local.cfg')} local.cfg, ` +
      `${count('environment')} environment, ${count('runtime')} unusable paths); ` +
      `${outcomes.length - failures.length} refused with one line naming the key and exit code 2; ` +
      `${outcomes.filter((o) => o.started).length} started anyway`,
  );
  expect(BROKEN_CONFIGS.length).toBeGreaterThanOrEqual(60);
  expect(failures).toEqual([]);
}, 300_000);
