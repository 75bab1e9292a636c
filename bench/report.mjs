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
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { comparison, generateTree, timeBaseline, timedChild } from './tree-bench.mjs';

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

    const baseline = await timeBaseline(local, rclone, remote);
    const measured = await timedChild(fileURLToPath(import.meta.url), { local, remote, rclone, frozen: Math.floor(files / 10) });
    // The child's own timing leaves out filling the catalogue (set-up, not the report).
    const glacis = { ...measured, seconds: measured.seconds - measured.fillSeconds, cpuSeconds: measured.cpuSeconds - measured.fillCpuSeconds };
    const result = {
      benchmark: 'report',
      files,
      ...comparison(baseline, glacis),
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




