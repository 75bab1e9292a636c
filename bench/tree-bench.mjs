/**
 * What the tree benchmarks (freeze-decision.mjs, report.mjs) share: the generated tree, the
 * baseline (`find -atime` + `rclone lsf -R` in one shell), running Glacis's side in a child
 * through bash, and the wall and CPU figures of both. Standalone: no service, no dist import.
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, utimesSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';

/** `count` files under `dir` (1,000 a directory, 100 directories a level), last read in 2020, one in 7 not empty. */
export function generateTree(dir, count) {
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

/** The baseline, in one shell whose `times` gives the CPU (user + sys) of find and rclone together. */
export function timeBaseline(local, rclone, remote) {
  return timed(() => run('bash', ['-c', 'find "$1" -type f -atime +180; "$2" lsf -R --config /dev/null "$3"; times >&2', 'bash', local, rclone, remote]));
}

/**
 * Runs `script` again as a child with `GLACIS_BENCH_CHILD` set to `config`, through bash, whose
 * `times` counts the child and any rclone it runs. The child's last stdout line is JSON: it
 * comes back with `seconds` (wall, the spawn included) and `cpuSeconds`.
 */
export async function timedChild(script, config) {
  const started = process.hrtime.bigint();
  const { stdout, stderr } = await run('bash', ['-c', '"$@"; times >&2', 'bash', process.execPath, script], { GLACIS_BENCH_CHILD: JSON.stringify(config) });
  const cpuSeconds = cpuOf(stderr);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { ...JSON.parse(stdout.trim().split('\n').pop()), seconds, cpuSeconds };
}

/**
 * The result fields both scripts write: wall and CPU (user + sys of each side's processes:
 * Glacis's every thread and its rclone children; find and rclone), their ratios, and the load
 * average (on a loaded machine the CPU figures are the ones to read: wall times are the
 * scheduler's).
 */
export function comparison(baseline, glacis) {
  return {
    baselineSeconds: round(baseline.seconds),
    glacisSeconds: round(glacis.seconds),
    ratio: round(glacis.seconds / baseline.seconds),
    baselineCpuSeconds: round(baseline.cpuSeconds),
    glacisCpuSeconds: round(glacis.cpuSeconds),
    cpuRatio: round(glacis.cpuSeconds / baseline.cpuSeconds),
    loadAverage: loadavg().map((x) => round(x)),
  };
}

export function round(x) {
  return Math.round(x * 100) / 100;
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
