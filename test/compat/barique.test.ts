/**
 * The real `barique` client (0.1.4, `../shared/barique`, run with Debian's python3 and its
 * packages: see .ci/run), every recorded command, against a real Glacis on the reference
 * tree: same exit code and output shape as on Baricadr (the `barique` entries of
 * answers.json), apart from the deliberate differences named below.
 */
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { tempDir } from '../helpers/remotes.js';
import { differences, fill, loadAnswers, referenceSetup, shapeDifferences, sharedDir, type ReferenceSetup } from './reference.js';

const ENTRIES = loadAnswers().filter((e) => e.group === 'barique');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Deliberate differences, by entry name: why, and what barique shows with Glacis instead.
 * OUTSIDE: a path in no repo is refused at submission (400), so barique exits 1 with the
 * message; Baricadr accepted it (exit 0, a task id) and the task failed later.
 */
const DELIBERATE: Record<string, { readonly reason: string; readonly rc: number; readonly err: RegExp }> = {
  'file pull outside repo': {
    reason: 'A path outside every repo is refused at submission with 400: barique exits 1 saying so',
    rc: 1,
    err: /^API call returned the following error: '.*\/etc\/hostname.*'$/,
  },
};

interface Run {
  readonly rc: number;
  readonly out: string;
  readonly err: string;
}

describe('the real barique client against Glacis', () => {
  let glacis: TestGlacis;
  let ref: ReferenceSetup;
  let config: string;

  const barique = (args: string[]): Promise<Run> =>
    new Promise((resolve) => {
      const shared = sharedDir();
      execFile(
        '/usr/bin/python3',
        ['-c', 'from barique.cli import barique; barique()', ...args],
        {
          env: {
            PATH: process.env.PATH,
            PYTHONPATH: `${path.join(shared, 'barique/src')}:${path.join(shared, 'barique/shim')}`,
            BARIQUE_GLOBAL_CONFIG_PATH: config,
            HOME: tempDir('barique-home'),
          },
          timeout: 60_000,
        },
        (error, stdout, stderr) => resolve({ rc: error ? (typeof error.code === 'number' ? error.code : -1) : 0, out: stdout, err: stderr }),
      );
    });

  beforeAll(async () => {
    ref = referenceSetup();
    // Mail on (composed, not sent): Baricadr's recording had mail, and Glacis refuses an
    // `email` it cannot honour (`barique file pull --email` would exit 1 here otherwise).
    glacis = await startGlacis({ repos: ref.repos, env: { MAIL_SUPPRESS_SEND: 'True' } });
    config = path.join(tempDir('barique'), 'barique.yml');
    writeFileSync(config, `__default: local\nlocal:\n    url: "${glacis.url}"\n`);
  });
  afterAll(async () => {
    await glacis?.stop();
  });

  it('every recorded barique command: same exit code and output shape', async () => {
    const R = ref.root;
    const ids: string[] = [];
    let removed = '';
    const problems: Array<{ name: string; problem: string }> = [];
    const fail = (name: string, problem: string): void => {
      problems.push({ name, problem });
    };

    // The read-only commands (listings, before any pull; unknown tasks) do not depend on one
    // another: run a few at a time, since each starts a Python interpreter.
    const independent = ENTRIES.filter((e) => /^(file list|file tree)/.test(e.name) || e.name.endsWith(' unknown'));
    const early = new Map<string, Promise<Run>>();
    for (let i = 0; i < independent.length; i += 4) {
      const batch = independent.slice(i, i + 4).map((e) => [e.name, barique(fill(e.request, R).split(' ').slice(1))] as const);
      await Promise.all(batch.map(([, run]) => run));
      for (const [name, run] of batch) early.set(name, run);
    }

    for (const entry of ENTRIES) {
      const recorded = entry.baricadr;
      if (entry.name === 'file pull (file exists after)') {
        // `barique file pull <file>`, then the file is there once the task ended.
        const run = await barique(['file', 'pull', `${R}/test_repo/subdir/subfile.txt`]);
        await glacis.waitForTask(run.out.trim());
        if (existsSync(`${R}/test_repo/subdir/subfile.txt`) !== recorded) fail(entry.name, 'file not pulled');
        continue;
      }
      const words = fill(entry.request, R).split(' ').slice(1);
      if (words.includes('<id>')) words.splice(words.indexOf('<id>'), 1, entry.name === 'task show after remove' ? removed : ids[0]!);
      if (entry.name === 'task remove') removed = ids[0]!;
      const run = await (early.get(entry.name) ?? barique(words));
      // barique prints the traceback, then the message: the recording kept the message.
      const lastErrLine = run.err.trim().split('\n').at(-1) ?? '';
      const known = DELIBERATE[entry.name];
      if (known) {
        if (run.rc !== known.rc || !known.err.test(lastErrLine)) fail(entry.name, `deliberate difference (${known.reason}) not as expected: ${JSON.stringify(run)}`);
        continue;
      }
      if (run.rc !== recorded.rc) {
        fail(entry.name, `exit ${run.rc}, expected ${recorded.rc}: ${JSON.stringify(run)}`);
        continue;
      }
      if ('out' in recorded && recorded.out === '<ID>') {
        if (!UUID.test(run.out.trim())) fail(entry.name, `expected a task id, got ${JSON.stringify(run.out)}`);
        else ids.push(run.out.trim());
      }
      if ('err' in recorded && recorded.err !== '') {
        // The sentence after the prefix is Glacis's own (it names the path and the rule).
        const prefix = 'API call returned the following error: ';
        if (!lastErrLine.startsWith(prefix)) fail(entry.name, `expected "${prefix}…" on stderr, got ${JSON.stringify(run.err)}`);
      }
      if ('json' in recorded) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(run.out);
        } catch {
          fail(entry.name, `not JSON: ${run.out}`);
          continue;
        }
        // An {"error"} answer printed as is: its sentence is Glacis's own, its keys Baricadr's.
        const json = recorded.json as Record<string, unknown>;
        const expected = typeof json.error === 'string' && json.error !== '' ? Object.fromEntries(Object.keys(json).map((k) => [k, k === 'error' ? (parsed as Record<string, unknown>)?.error : json[k]])) : json;
        const diff = differences(expected, parsed, R);
        if (diff.length) fail(entry.name, diff.join('; '));
      }
      if ('lines' in recorded) {
        const lines = run.out.split('\n').filter((l) => l.trim() !== '').sort();
        const want = (recorded.lines as string[]).map((l) => fill(l, R)).sort();
        if (JSON.stringify(lines) !== JSON.stringify(want)) fail(entry.name, `tree lines: expected ${JSON.stringify(want)}, got ${JSON.stringify(lines)}`);
      }
      if ('shape' in recorded) {
        const parsed = JSON.parse(run.out) as unknown;
        const shape = recorded.shape as unknown;
        if (Array.isArray(shape)) {
          // ["list", shape of a waiting task, shape of an ended one]: each entry fits one.
          const recordedShapes = shape.slice(1).map((s: string) => JSON.parse(s) as Record<string, string>);
          // Baricadr's recording caught tasks waiting or ended; a task running at that moment has
          // the waiting shape with its `started` date set (as on Baricadr, whose `started` is set
          // when a worker takes it), so that shape fits too (the CI run of 1af7e22 listed one).
          const running = recordedShapes.filter((s) => s.started === 'null').map((s) => ({ ...s, started: 'str:http-date' }));
          const shapes = [...recordedShapes, ...running];
          if (!Array.isArray(parsed) || parsed.length === 0) fail(entry.name, `expected a list, got ${run.out}`);
          else for (const task of parsed) if (shapes.every((s) => shapeDifferences(s, task).length > 0)) fail(entry.name, `no recorded shape fits ${JSON.stringify(task)}`);
        } else {
          const diff = shapeDifferences(shape as Record<string, string>, parsed);
          if (diff.length) fail(entry.name, diff.join('; '));
        }
      }
    }
    expect(problems).toEqual([]);
    // Each command starts a Python interpreter: about a second each on a loaded machine.
  }, 300_000);
});
