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

    const baseline = await timeBaseline(local, rclone, remote);
    const glacis = await timedChild(fileURLToPath(import.meta.url), { local, remote, rclone, watermark });
    const result = {
      benchmark: watermark ? 'freeze-decision (watermark freeze)' : 'freeze-decision',
      files,
      ...comparison(baseline, glacis),
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




