/**
 * The `glacis` command on PATH, as an administrator installs it: scripts/install-command.sh
 * (what scripts/setup.sh runs) links it into npm's global bin directory; `npm pack` makes a
 * package that installs it on a machine without the repository. Both are checked from a
 * directory outside the repository, with only the install prefix's bin and the system's on
 * PATH. The package is packed from the compiled code in dist/ (`npm run build`; `npm pack`
 * alone builds it first through `prepack`).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { freePort } from '../harness/ports.js';
import { tempDir } from '../helpers/remotes.js';
import { REPO_ROOT } from './deploy-files.js';

const run = promisify(execFile);
const VERSION = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
/** Node and the system's commands, nothing of the repository (no node_modules/.bin). */
const SYSTEM_PATH = [path.dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':');

/** Runs `glacis ARGS` as a shell finds it on PATH, from a directory outside the repository. */
async function glacisOnPath(prefix: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: `${path.join(prefix, 'bin')}:${SYSTEM_PATH}`, HOME: tempDir('install-home') };
  try {
    const { stdout, stderr } = await run('sh', ['-c', 'exec glacis "$@"', 'glacis', ...args], { cwd: tempDir('install-cwd'), env });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

async function expectWorkingCommand(prefix: string): Promise<void> {
  expect(await glacisOnPath(prefix, ['--version'])).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  const help = await glacisOnPath(prefix, ['--help']);
  expect(help.code).toBe(0);
  expect(help.stdout).toMatch(/^Usage: glacis /);
  expect(help.stdout).toMatch(/\n {2}file +pull, freeze, push and list files/);
  // A client command runs, and says in one line that no server answers.
  const port = await freePort();
  const unreachable = await glacisOnPath(prefix, ['task', 'list', '--server', `http://127.0.0.1:${port}`]);
  expect(unreachable.code).toBe(3);
  expect(unreachable.stderr).toBe(`glacis: cannot reach http://127.0.0.1:${port}: is "glacis serve" running?\n`);
}

it('scripts/install-command.sh (run by setup.sh) puts glacis on PATH, linked to the clone', async () => {
  const prefix = tempDir('install-link');
  const { stdout } = await run('bash', [path.join(REPO_ROOT, 'scripts/install-command.sh')], {
    env: { ...process.env, npm_config_prefix: prefix },
  });
  expect(stdout).toContain(`The glacis command is installed: ${prefix}/bin/glacis`);
  expect(stdout).toContain(`Add ${prefix}/bin to PATH`);
  await expectWorkingCommand(prefix);
  expect(readFileSync(path.join(REPO_ROOT, 'scripts/setup.sh'), 'utf8')).toMatch(/\nbash scripts\/install-command\.sh\n/);
}, 120_000);

it('npm pack makes a package holding dist and bin that installs the glacis command without the repository', async () => {
  expect(existsSync(path.join(REPO_ROOT, 'dist/src/cli/main.js')), 'run "npm run build" first').toBe(true);
  const out = tempDir('install-pack');
  // dist is built already: the prepack build is not run again here.
  const { stdout: packed } = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', out], { cwd: REPO_ROOT });
  const tarball = path.join(out, packed.trim().split('\n').at(-1)!);
  const { stdout: listing } = await run('tar', ['tzf', tarball]);
  const files = listing.split('\n').filter(Boolean);
  expect(files).toContain('package/bin/glacis.js');
  expect(files).toContain('package/dist/src/cli/main.js');
  expect(files).toContain('package/dist/src/workers/index.js');
  expect(files).toContain('package/repos.example.yaml');
  expect(files.filter((file) => file.startsWith('package/test/') || file.startsWith('package/src/') || file.includes('node_modules'))).toEqual([]);
  expect(JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).scripts.prepack).toBe('npm run build');

  // As docs/production.md says: install scripts skipped (rclone.js's would download an rclone).
  const prefix = tempDir('install-prefix');
  await run('npm', ['install', '-g', '--prefix', prefix, '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: out });
  expect(existsSync(path.join(prefix, 'lib/node_modules/glacis/dist/src/cli/main.js'))).toBe(true);
  await expectWorkingCommand(prefix);
}, 300_000);
