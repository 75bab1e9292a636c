#!/usr/bin/env node
/**
 * Least-recently-accessed selection at scale (issue 16 §5): choosing which of N files a
 * watermark freeze frees, oldest read first, until a byte target. Glacis's bounded
 * selection (src/policy/lru-selection.ts: two passes, a fixed histogram and a bounded
 * heap) against the baseline, every file held in memory and sorted by atime, on the same
 * synthetic files in the same run. Each runs in its own child process so that its peak
 * RSS is its own. Prints the time ratio and both peak RSS, checks both chose the same
 * files and bytes, and writes bench/results/lru-selection.json.
 *
 *   npm run build && node bench/lru-selection.mjs [--quick] [--files 1000000] [--rounds 3] [--target-percent 20]
 *
 * --quick: 100,000 files, one round, result in lru-selection.quick.json. Code from
 * $GLACIS_DIST (default ./dist).
 *
 * The files are generated (a seeded PRNG: path, atime, size), not walked: the comparison
 * is the selection's own cost and memory. The bounded selection generates them twice, as
 * its caller walks twice; the baseline once. Each selected file's path is produced and
 * dropped, as a caller handing it to the freeze would; the baseline holds every path.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// $BENCH_RESULTS_DIR: the smoke test's runs (test/bench/smoke.test.ts) leave bench/results alone.
const resultsDir = process.env.BENCH_RESULTS_DIR ?? path.join(root, 'bench/results');
const distDir = path.resolve(process.env.GLACIS_DIST ?? path.join(root, 'dist'));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const option = (name, fallback) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const files = option('--files', quick ? 100_000 : 1_000_000);
const rounds = option('--rounds', quick ? 1 : 3);
const targetPercent = option('--target-percent', 20);
for (const arg of args.filter((a) => a.startsWith('--'))) {
  if (!['--quick', '--files', '--rounds', '--target-percent'].includes(arg)) {
    console.error(`unknown option ${arg}; known: --quick --files N --rounds N --target-percent P`);
    process.exit(2);
  }
}

const DAY_MS = 86_400_000;
const NOW = Date.parse('2026-06-01T00:00:00Z');

if (process.env.GLACIS_BENCH_CHILD) {
  const config = JSON.parse(process.env.GLACIS_BENCH_CHILD);
  const started = process.hrtime.bigint();
  const result = config.mode === 'bounded' ? await bounded(config) : fullSort(config);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(JSON.stringify({ ...result, seconds, maxRssKB: process.resourceUsage().maxRSS }));
} else {
  await main();
}

async function main() {
  const totalBytes = sumBytes(files);
  const config = { files, targetBytes: Math.floor((totalBytes * targetPercent) / 100), minAgeDays: 1 };
  const runs = { bounded: [], fullSort: [] };
  for (let round = 0; round < rounds; round++) {
    // Alternate which goes first: the machines are shared and their load drifts.
    const order = round % 2 === 0 ? ['bounded', 'fullSort'] : ['fullSort', 'bounded'];
    for (const mode of order) runs[mode].push(await child({ ...config, mode }));
  }
  const median = (list, key) => list.map((r) => r[key]).sort((a, b) => a - b)[Math.floor(list.length / 2)];
  const [b, s] = [runs.bounded[0], runs.fullSort[0]];
  if (b.selectedFiles !== s.selectedFiles || b.selectedBytes !== s.selectedBytes || !b.exact) {
    throw new Error(`the selections differ: bounded ${b.selectedFiles} files ${b.selectedBytes} B (exact ${b.exact}), full sort ${s.selectedFiles} files ${s.selectedBytes} B`);
  }
  const result = {
    benchmark: 'lru-selection',
    files,
    targetBytes: config.targetBytes,
    selectedFiles: b.selectedFiles,
    selectedBytes: b.selectedBytes,
    rounds,
    boundedSeconds: round2(median(runs.bounded, 'seconds')),
    fullSortSeconds: round2(median(runs.fullSort, 'seconds')),
    ratio: round2(median(runs.bounded, 'seconds') / median(runs.fullSort, 'seconds')),
    boundedPeakRssMB: Math.round(Math.max(...runs.bounded.map((r) => r.maxRssKB)) / 1024),
    fullSortPeakRssMB: Math.round(Math.max(...runs.fullSort.map((r) => r.maxRssKB)) / 1024),
    when: new Date().toISOString(),
  };
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(path.join(resultsDir, `lru-selection${quick ? '.quick' : ''}.json`), `${JSON.stringify(result, null, 2)}\n`);
  console.log(
    `LRU selection, ${files} files, target ${targetPercent}% of bytes (${result.selectedFiles} files chosen): ` +
      `bounded ${result.boundedSeconds} s, peak RSS ${result.boundedPeakRssMB} MB (target < 300 MB); ` +
      `full sort ${result.fullSortSeconds} s, peak RSS ${result.fullSortPeakRssMB} MB; time ratio ${result.ratio}x, ` +
      `RSS ratio ${round2(result.boundedPeakRssMB / result.fullSortPeakRssMB)}x (medians of ${rounds})`,
  );
}

/**
 * The synthetic tree, walked: the same files in the same order for the same count.
 * Atimes over three years, most on a few thousand "bulk" instants (copies, scans: many
 * ties), 5% read within the last day; sizes log-spread from 0 to ~100 MB.
 */
function* walk(count) {
  let state = 12345;
  const random = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < count; i++) {
    const r = random();
    const atimeMs = r < 0.05 ? NOW - Math.floor(random() * DAY_MS) : r < 0.6 ? NOW - (1 + Math.floor(random() * 3000)) * 31_536_000 : NOW - Math.floor(random() * 3 * 365 * DAY_MS);
    const bytes = Math.floor(2 ** (random() * 27)) - 1;
    yield { path: `d${i >> 16}/d${(i >> 10) & 63}/f${i}.dat`, atimeMs, bytes };
  }
}

function sumBytes(count) {
  let total = 0;
  for (const f of walk(count)) total += f.bytes;
  return total;
}

async function bounded({ files: count, targetBytes, minAgeDays }) {
  const { LruSelection } = await import(path.join(distDir, 'src/policy/lru-selection.js'));
  const lru = new LruSelection({ targetBytes, nowMs: NOW, minAgeDays });
  for (const f of walk(count)) lru.count(f.atimeMs, f.bytes);
  const pass = lru.secondPass();
  let selectedFiles = 0;
  for (const f of walk(count)) {
    // Each chosen path is handed on (to a freeze batch), not kept.
    selectedFiles += pass.consider(f.atimeMs, f.bytes, f.path).length;
  }
  const outcome = pass.finish();
  selectedFiles += outcome.held.length;
  if (selectedFiles !== outcome.selectedFiles) throw new Error('bounded: counts disagree');
  return { selectedFiles, selectedBytes: outcome.selectedBytes, exact: outcome.exact };
}

function fullSort({ files: count, targetBytes, minAgeDays }) {
  const all = [];
  for (const f of walk(count)) if (NOW - f.atimeMs >= minAgeDays * DAY_MS) all.push(f);
  // Stable: ties stay in walk order, as the bounded selection breaks them.
  all.sort((a, b) => a.atimeMs - b.atimeMs);
  let selectedFiles = 0;
  let selectedBytes = 0;
  for (const f of all) {
    if (selectedBytes >= targetBytes) break;
    selectedFiles++;
    selectedBytes += f.bytes;
  }
  return { selectedFiles, selectedBytes, exact: true };
}

function child(config) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [fileURLToPath(import.meta.url)], { env: { ...process.env, GLACIS_BENCH_CHILD: JSON.stringify(config) }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.on('error', reject);
    proc.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop())) : reject(new Error(`${config.mode} child exited with ${code}`))));
  });
}

function round2(x) {
  return Math.round(x * 100) / 100;
}
