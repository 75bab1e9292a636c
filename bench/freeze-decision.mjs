#!/usr/bin/env node
/**
 * Freeze decision at scale: Glacis's dry-run freeze of a tree of N files against the
 * baseline `find DIR -type f -atime +N` plus `rclone lsf -R REMOTE` on the same trees,
 * measured in the same run. Prints the ratio and Glacis's peak RSS, and writes
 * bench/results/freeze-decision.json.
 *
 *   npm run build && node bench/freeze-decision.mjs [--quick] [--files 1000000] [--keep] [--tree DIR] [--watermark]
 *
 * --quick: 100,000 files, result in freeze-decision.quick.json. Code from $GLACIS_DIST
 * (default ./dist).
 * --keep leaves the generated trees and prints where; --tree reuses them (generating a
 * million files takes longer than the measurement).
 *
 * --watermark: Glacis runs a watermark freeze instead (origin `watermark`, dry run, marks
 * so low that every old file is wanted: the least-recently-read selection of issue 16 §5
 * over every file, walking twice as a tree this large needs); result in
 * freeze-decision.watermark[.quick].json.
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
const watermark = args.includes('--watermark');

if (process.env.GLACIS_BENCH_CHILD) {
  await runGlacisDryRun(JSON.parse(process.env.GLACIS_BENCH_CHILD));
} else {
  await main();
}

async function main() {
  const base = reuse ?? mkdtempSync(path.join(tmpdir(), 'glacis-bench-freeze-'));
  const local = path.join(base, 'local');
  const remote = path.join(base, 'remote');
  try {
    if (!reuse) {
      process.stderr.write(`generating ${files} files…\n`);
      generateTree(local, files);
      // The remote: the same tree (hard links: same sizes and mtimes, no extra data).
      execFileSync('cp', ['-al', local, remote]);
    }
    const rclone = process.env.RCLONE_EXECUTABLE ?? '/usr/bin/rclone';

    // In one shell, whose `times` gives the CPU (user + sys) of find and rclone together.
    const baseline = await timed(() => run('bash', ['-c', 'find "$1" -type f -atime +180; "$2" lsf -R --config /dev/null "$3"; times >&2', 'bash', local, rclone, remote]));
    const glacis = await timedChild({ local, remote, rclone, watermark });
    const result = {
      benchmark: watermark ? 'freeze-decision (watermark freeze)' : 'freeze-decision',
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
      glacisFrozenInDryRun: glacis.files,
      when: new Date().toISOString(),
    };
    mkdirSync(resultsDir, { recursive: true });
    writeFileSync(path.join(resultsDir, `freeze-decision${watermark ? '.watermark' : ''}${quick ? '.quick' : ''}.json`), `${JSON.stringify(result, null, 2)}\n`);
    console.log(
      `freeze decision, ${files} files: baseline (find + rclone lsf) ${result.baselineSeconds} s, ` +
        `Glacis dry-run ${watermark ? 'watermark ' : ''}freeze ${result.glacisSeconds} s, ratio ${result.ratio}x (target ≤ 1.5x), peak RSS ${result.glacisPeakRssMB} MB (target < 300 MB); ` +
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
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, ...JSON.parse(output.trim().split('\n').pop()), cpuSeconds };
}

async function runGlacisDryRun({ local, remote, rclone, watermark }) {
  const { runFreeze } = await import(path.join(distDir, 'src/workers/freeze.js'));
  const { Rclone } = await import(path.join(distDir, 'src/rclone/index.js'));
  const repo = {
    localPath: local, name: local, remote: { backend: 'local', path: remote }, exclude: [], freezable: true,
    freezeAge: 180, autoFreeze: false, autoFreezeInterval: 7, disableAtimeTest: false, verify: 'size',
    // Any used disk is above 0.001 %: the freeze wants every old file, the largest selection.
    ...(watermark ? { watermarks: { high: 0.001, low: 0.0005 }, watermarkMinAge: 1 } : {}),
  };
  const result = await runFreeze({
    repo,
    task: { taskId: '00000000-0000-4000-8000-000000000000', type: 'freeze', path: local, dryRun: true, force: false, ...(watermark ? { origin: 'watermark' } : {}) },
    rclone: new Rclone({ executable: rclone }),
    log: { line: (text) => /^(remote listing|selected|watermark freeze)/.test(text) && process.stderr.write(`${text}\n`), event: () => undefined, flush: async () => undefined, close: async () => undefined },
    signal: new AbortController().signal,
    atime: { supported: true },
    progress: () => undefined,
    onFreezeStart: async () => undefined,
  });
  console.log(JSON.stringify({ files: result.files, maxRssKB: process.resourceUsage().maxRSS }));
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
