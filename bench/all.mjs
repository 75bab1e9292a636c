#!/usr/bin/env node
/**
 * Every benchmark, one after the other (they would disturb each other's timings if run
 * together), each printing its summary line and writing bench/results/<name>.json.
 *
 *   npm run bench [-- --quick]
 *
 * --quick runs each at a small size (freeze decision: 100,000 files) to check that they
 * work; the sizes the README quotes are the defaults. One failing benchmark does not stop
 * the others; the exit code says whether any failed.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const quick = process.argv.includes('--quick');
const unknown = process.argv.slice(2).filter((a) => a !== '--quick');
if (unknown.length > 0) {
  console.error(`unknown option ${unknown[0]}: only --quick; run a single benchmark for its own options`);
  process.exit(2);
}

const benchmarks = [
  ['pull-overhead.mjs', quick ? ['--quick'] : []],
  ['api.mjs', quick ? ['--quick'] : []],
  ['memory.mjs', quick ? ['--quick'] : []],
  ['freeze-decision.mjs', quick ? ['--quick'] : []],
  ['push.mjs', quick ? ['--quick'] : []],
];
const failed = [];
for (const [script, args] of benchmarks) {
  console.error(`\n== ${script} ${args.join(' ')}`);
  const { status, signal } = spawnSync(process.execPath, [path.join(here, script), ...args], { stdio: 'inherit' });
  if (signal === 'SIGINT') process.exit(130);
  if (status !== 0) failed.push(script);
}
if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(', ')}`);
  process.exit(1);
}
