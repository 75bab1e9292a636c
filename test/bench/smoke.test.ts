/**
 * Every benchmark script runs, at its smallest size: it exits 0 and prints its ratio line.
 * Nothing ran them, and they broke silently: the freeze benchmark crashed for days after task
 * events landed (`log.event is not a function`). The figures of such a tiny run mean nothing;
 * that each script still works end to end (its services, Glacis from dist/, its baseline, its
 * result file) is what is checked.
 *
 * The scripts run the compiled code (`npm run build` first; `npm test` does). Their results go
 * to a temporary directory ($BENCH_RESULTS_DIR): bench/results holds measured runs, which a
 * smoke run must never overwrite. Three run at a time: most of a tiny run is starting services
 * and waiting on them.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const BENCH = path.join(ROOT, 'bench');
const MEASURED = path.join(BENCH, 'results');
/** Longest a tiny run may take on a loaded machine before it is stopped (it cleans up on SIGTERM). */
const RUN_DEADLINE_MS = 240_000;

/** Each benchmark at its smallest size (a script and its arguments), its ratio line (a number, then x) and result file. */
const SMOKE: Readonly<Record<string, { readonly args: readonly string[]; readonly ratio: RegExp; readonly result: string }>> = {
  'freeze-decision.mjs': { args: ['--files', '200'], ratio: /^freeze decision, 200 files: .*Glacis dry-run freeze .*ratio \d+(\.\d+)?x/m, result: 'freeze-decision.json' },
  'freeze-decision.mjs --watermark': {
    args: ['--files', '200', '--watermark'],
    ratio: /^freeze decision, 200 files: .*Glacis dry-run watermark freeze .*ratio \d+(\.\d+)?x/m,
    result: 'freeze-decision.watermark.json',
  },
  'report.mjs': { args: ['--files', '200'], ratio: /^report, 200 files .*ratio \d+(\.\d+)?x/m, result: 'report.json' },
  'lru-selection.mjs': { args: ['--files', '2000', '--rounds', '1'], ratio: /^LRU selection, 2000 files.*time ratio \d+(\.\d+)?x/m, result: 'lru-selection.json' },
  'push.mjs': { args: ['--big-mb', '1', '--small-files', '5', '--small-kb', '1', '--files', '200', '--rounds', '1'], ratio: /^push over SFTP; \(a\) .*ratio \d+(\.\d+)?x.*\(b\) .*ratio \d+(\.\d+)?x/m, result: 'push.json' },
  'pull-overhead.mjs': { args: ['--big-mb', '1', '--small-files', '5', '--small-kb', '1', '--rounds', '1'], ratio: /^pull over SFTP; \(a\) .*ratio \d+(\.\d+)?x.*\(b\) .*ratio \d+(\.\d+)?x/m, result: 'pull-overhead.json' },
  'api.mjs': {
    args: ['--tasks', '10', '--clients', '2', '--requests', '10', '--claims', '10', '--timed-claims', '10', '--rounds', '1', '--warmup', '2'],
    ratio: /^lock claim with .* ratio \d+(\.\d+)?x/m,
    result: 'api.json',
  },
  'memory.mjs': { args: ['--tasks', '4', '--batch', '2', '--warmup', '2'], ratio: /^memory, 4 pulls, .*\(\d+(\.\d+)?x\).*worker RSS .*\(\d+(\.\d+)?x\)/m, result: 'memory.json' },
};
/** Not benchmarks: the shared helpers, and the script that runs every benchmark at its measured size. */
const NOT_BENCHMARKS = ['lib.mjs', 'tree-bench.mjs', 'all.mjs'];

const resultsDir = mkdtempSync(path.join(tmpdir(), 'glacis-bench-smoke-'));
afterAll(() => rmSync(resultsDir, { recursive: true, force: true }));

/** bench/results as it was: each file and its modification time. */
function measured(): Record<string, number> {
  return Object.fromEntries(readdirSync(MEASURED).map((name) => [name, statSync(path.join(MEASURED, name)).mtimeMs]));
}
const before = measured();

/** At most `slots` runs at once. */
function limiter(slots: number): <T>(run: () => Promise<T>) => Promise<T> {
  let free = slots;
  const waiting: (() => void)[] = [];
  return async (run) => {
    if (free === 0) await new Promise<void>((resolve) => waiting.push(resolve));
    else free--;
    try {
      return await run();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else free++;
    }
  };
}
const slot = limiter(3);

function runBenchmark(script: string, args: readonly string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(BENCH, script), ...args], {
      cwd: ROOT,
      env: { ...process.env, BENCH_RESULTS_DIR: resultsDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // SIGTERM: the script stops the services it started (bench/lib.mjs).
    const deadline = setTimeout(() => child.kill('SIGTERM'), RUN_DEADLINE_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(deadline);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe('every benchmark has a smoke run', () => {
  it('lists every script of bench/', () => {
    const scripts = readdirSync(BENCH).filter((name) => name.endsWith('.mjs') && !NOT_BENCHMARKS.includes(name));
    expect(scripts.sort()).toEqual([...new Set(Object.keys(SMOKE).map((name) => name.split(' ')[0]!))].sort());
  });
});

describe.concurrent('each benchmark at its smallest size', () => {
  it.each(Object.entries(SMOKE))('%s exits 0 and prints its ratio line', async (name, smoke) => {
    const script = name.split(' ')[0]!;
    expect(existsSync(path.join(ROOT, 'dist/src/cli/main.js')), 'run "npm run build" first').toBe(true);
    const { code, signal, stdout, stderr } = await slot(() => runBenchmark(script, smoke.args));
    expect({ code, signal }, `${script}\n${stdout}\n${stderr.slice(-4000)}`).toEqual({ code: 0, signal: null });
    expect(stdout).toMatch(smoke.ratio);
    expect(stdout).not.toMatch(/NaN|Infinity/);
    const result = JSON.parse(readFileSync(path.join(resultsDir, smoke.result), 'utf8')) as Record<string, unknown>;
    expect(result).toBeTypeOf('object');
    // The measured results are left as they were.
    expect(measured()).toEqual(before);
  }, 2 * RUN_DEADLINE_MS + 30_000);
});
