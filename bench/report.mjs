#!/usr/bin/env node
/**
 * Report at scale (issue 16 §5): Glacis's report task (src/workers/report.ts) on a tree
 * of N files, with N/10 more frozen (on the remote only, in the catalogue), against the
 * baseline `find DIR -type f -atime +N` plus `rclone lsf -R REMOTE` on the same trees,
 * measured in the same run. The baseline neither matches the two sides nor reads the
 * catalogue: the ratio is what all the report's figures cost over merely listing both.
 * Prints the ratio and Glacis's peak RSS, and writes bench/results/report.json.
 *
 *   npm run build && node bench/report.mjs [--quick] [--files 1000000] [--keep] [--tree DIR]
 *
 * --quick: 100,000 files, result in report.quick.json. Code from $GLACIS_DIST
 * (default ./dist).
 * --keep leaves the generated trees and prints where; --tree reuses them (generating a
 * million files takes longer than the measurement).
 *
 * The remote is a `local` backend (a directory): the comparison is about Glacis's own
 * work (streaming, hash map, walk, batching), not a network.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, closeSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// $BENCH_RESULTS_DIR: the smoke test's runs (test/bench/smoke.test.ts) leave bench/results alone.
const resultsDir = process.env.BENCH_RESULTS_DIR ?? path.join(root, 'bench/results');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const files = Number(args[args.indexOf('--files') + 1] ?? 0) || (quick ? 100_000 : 1_000_000);
const distDir = path.resolve(process.env.GLACIS_DIST ?? path.join(root, 'dist'));
const keep = args.includes('--keep');
const reuse = args.includes('--tree') ? path.resolve(args[args.indexOf('--tree') + 1]) : undefined;

if (process.env.GLACIS_BENCH_CHILD) {
  await runGlacisReport(JSON.parse(process.env.GLACIS_BENCH_CHILD));
} else {
  await main();
}

async function main() {
  const base = reuse ?? mkdtempSync(path.join(tmpdir(), 'glacis-bench-report-'));
  const local = path.join(base, 'local');
  const remote = path.join(base, 'remote');
  try {
    if (!reuse) {
      process.stderr.write(`generating ${files} files…\n`);
      generateTree(local, files);
      // The remote: the same tree (hard links: same sizes and mtimes, no extra data).
      execFileSync('cp', ['-al', local, remote]);
      // Frozen files: on the remote only.
      generateTree(path.join(remote, 'frozen'), Math.floor(files / 10));
    }
    const rclone = process.env.RCLONE_EXECUTABLE ?? '/usr/bin/rclone';

    // In one shell, whose `times` gives the CPU (user + sys) of find and rclone together.
    const baseline = await timed(() => run('bash', ['-c', 'find "$1" -type f -atime +180; "$2" lsf -R --config /dev/null "$3"; times >&2', 'bash', local, rclone, remote]));
    const glacis = await timedChild({ local, remote, rclone, frozen: Math.floor(files / 10) });
    const result = {
      benchmark: 'report',
      files,
      baselineSeconds: round(baseline.seconds),
      glacisSeconds: round(glacis.seconds),
      ratio: round(glacis.seconds / baseline.seconds),
      // CPU (user + sys) of each side's processes (Glacis's every thread and its rclone
      // children; find and rclone): the figure to read on a loaded machine, where wall times
      // are the scheduler's.
      baselineCpuSeconds: round(baseline.cpuSeconds),
      glacisCpuSeconds: round(glacis.cpuSeconds),
      cpuRatio: round(glacis.cpuSeconds / baseline.cpuSeconds),
      loadAverage: loadavg().map((x) => round(x)),
      glacisPeakRssMB: Math.round(glacis.maxRssKB / 1024),
      glacisLocalFiles: glacis.files,
      glacisFrozenChecked: glacis.frozen,
      when: new Date().toISOString(),
    };
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(path.join(resultsDir, `report${quick ? '.quick' : ''}.json`), `${JSON.stringify(result, null, 2)}\n`);
    console.log(
      `report, ${files} files (+${glacis.frozen} frozen): baseline (find + rclone lsf) ${result.baselineSeconds} s, ` +
        `Glacis report ${result.glacisSeconds} s, ratio ${result.ratio}x, peak RSS ${result.glacisPeakRssMB} MB (target < 300 MB); ` +
        `CPU ${result.baselineCpuSeconds} s vs ${result.glacisCpuSeconds} s, ${result.cpuRatio}x; load average ${result.loadAverage.join(' ')}`,
    );
  } finally {
    if (keep) process.stderr.write(`trees kept: --tree ${base}\n`);
    else if (!reuse) rmSync(base, { recursive: true, force: true });
  }
}

/** 1,000 files a directory, 100 directories a level: a realistic fan-out. */
function generateTree(dir, count) {
  const old = new Date('2020-01-01T00:00:00Z');
  for (let i = 0; i < count; i++) {
    const sub = path.join(dir, `d${Math.floor(i / 100_000)}`, `d${Math.floor(i / 1000) % 100}`);
    if (i % 1000 === 0) mkdirSync(sub, { recursive: true });
    const file = path.join(sub, `f${i}.dat`);
    closeSync(openSync(file, 'w'));
    if (i % 7 === 0) writeFileSync(file, 'x'.repeat(i % 97));
    utimesSync(file, old, old);
  }
}

async function timedChild(config) {
  const started = process.hrtime.bigint();
  // Through bash too, whose `times` counts the child and any rclone it runs (cpuOf).
  const { stdout: output, stderr } = await run('bash', ['-c', '"$@"; times >&2', 'bash', process.execPath, fileURLToPath(import.meta.url)], { GLACIS_BENCH_CHILD: JSON.stringify(config) });
  const cpuSeconds = cpuOf(stderr);
  const spawnedSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  // The child's own timing leaves out filling the catalogue (set-up, not the report).
  const child = JSON.parse(output.trim().split('\n').pop());
  return { ...child, seconds: spawnedSeconds - child.fillSeconds, cpuSeconds: cpuSeconds - child.fillCpuSeconds };
}

async function runGlacisReport({ local, remote, rclone, frozen }) {
  const { runReport } = await import(path.join(distDir, 'src/workers/report.js'));
  const { Rclone } = await import(path.join(distDir, 'src/rclone/index.js'));
  const { openTaskStore } = await import(path.join(distDir, 'src/store/index.js'));
  const store = await openTaskStore(path.join(path.dirname(local), 'bench.sqlite'));
  const taskId = '00000000-0000-4000-8000-000000000000';
  // The catalogue as freezes would have filled it (filled before the clock starts counting
  // in a real deployment too: the report only reads it).
  const fillStarted = process.hrtime.bigint();
  const fillCpu = process.cpuUsage();
  const now = new Date().toISOString();
  const old = Date.parse('2020-01-01T00:00:00Z');
  const batch = [];
  for (let i = 0; i < frozen; i++) {
    batch.push({ path: `frozen/d${Math.floor(i / 100_000)}/d${Math.floor(i / 1000) % 100}/f${i}.dat`, kind: 'file', size: i % 7 === 0 ? i % 97 : 0, mtimeMs: old, hash: null, frozenAt: now, taskId });
    if (batch.length === 10_000 || i === frozen - 1) await store.catalogue.record(local, batch.splice(0));
  }
  const fillSeconds = Number(process.hrtime.bigint() - fillStarted) / 1e9;
  const filled = process.cpuUsage(fillCpu);
  const repo = {
    localPath: local, name: local, remote: { backend: 'local', path: remote }, exclude: [], freezable: true,
    freezeAge: 180, autoFreeze: false, autoFreezeInterval: 7, disableAtimeTest: false, verify: 'size',
  };
  const result = await runReport({
    repo,
    task: { taskId, type: 'report', path: local, dryRun: false, force: false },
    rclone: new Rclone({ executable: rclone }),
    log: { line: () => undefined, event: () => undefined, flush: async () => undefined, close: async () => undefined },
    signal: new AbortController().signal,
    atime: undefined,
    progress: () => undefined,
    enterRunning: async () => undefined,
    catalogue: store.catalogue,
    alert: async () => undefined,
  });
  await store.close();
  if (result.result.frozen.lost.files !== 0) throw new Error('the bench remote lost frozen files: the tree is wrong');
  const fillCpuSeconds = (filled.user + filled.system) / 1e6;
  console.log(JSON.stringify({ files: result.files, frozen: result.result.frozen.files, fillSeconds, fillCpuSeconds, maxRssKB: process.resourceUsage().maxRSS }));
}

async function timed(fn) {
  const started = process.hrtime.bigint();
  const { stderr } = await fn();
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, cpuSeconds: cpuOf(stderr) };
}

/** CPU seconds (user + sys) of a shell's children, from its `times` (the last line of `stderr`); the rest of `stderr` is passed on. */
function cpuOf(stderr) {
  const lines = stderr.trim().split('\n');
  const [user, sys] = lines.pop().split(' ').map((t) => {
    const [, minutes, seconds] = /^(\d+)m([\d.]+)s$/.exec(t);
    return Number(minutes) * 60 + Number(seconds);
  });
  lines.pop(); // the shell's own
  if (lines.length > 0) process.stderr.write(`${lines.join('\n')}\n`);
  return user + sys;
}

function run(command, argv, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { env: { ...process.env, ...env, AWS_CA_BUNDLE: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      // The baselines' listings are discarded as they stream, as a pipe to /dev/null would.
      if (env.GLACIS_BENCH_CHILD) out += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve({ stdout: out, stderr }) : reject(new Error(`${command} exited with ${code}: ${stderr.slice(-500)}`))));
  });
}

function round(x) {
  return Math.round(x * 100) / 100;
}
