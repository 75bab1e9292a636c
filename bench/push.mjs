#!/usr/bin/env node
/**
 * Push overhead (issue 18): Glacis's push of a local tree to an empty SFTP remote
 * (`rclone serve sftp` on loopback) against `rclone copy` run directly with the same flags,
 * in the same run:
 *
 *   (a) one big file (default 1 GB),
 *   (b) many small files (default 20,000 of 4 KB, 200 a directory),
 *   (c) memory at scale: a tree of `--files` files (default 200,000; 1,000 a directory)
 *       that the remote (a `local` backend: Glacis's own work, not a network) already
 *       holds but for 1 % of them, against `rclone copy` of the same tree onto the same
 *       remote state; Glacis's peak RSS (its own process, rclone's apart) and rclone's
 *       (`/usr/bin/time`), and the time ratio. One round.
 *
 *   npm run bench:push [-- --quick] [--big-mb 1024] [--small-files 20000] [--small-kb 4] [--files 200000] [--rounds 3] [--only all|a|b|c] [--keep]
 *
 * Glacis's push is the push kind's `run` (src/workers/push.ts, from the compiled tree), as
 * a worker runs it: walk the local tree, list the remote, judge every file, upload to the
 * versions store's incoming area, move the whole files into place (a rename on SFTP), look
 * for expired versions. The queue and the API are left out (bench/pull-overhead.mjs
 * measures those for pull; they do not depend on the kind).
 *
 * "Same flags" is literal: Glacis runs rclone through a wrapper recording its argv, and the
 * baseline reuses the upload's flags (minus `--files-from-raw`, which only Glacis needs)
 * with the same remote configuration. Each round runs both, in a rotating order, after
 * `sync`, each into a fresh remote directory; the summary uses medians.
 */
import { createWriteStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { dist, median, options, rcloneBinary, round, run, startSftp, stopAll, writeResult } from './lib.mjs';

const { childEnv, Rclone } = await dist('src/rclone/index.js');
const { parseRepos } = await dist('src/config/repos.js');
const { runPush } = await dist('src/workers/push.js');
if (process.env.GLACIS_BENCH_PUSH_CHILD) {
  await pushInChild(JSON.parse(process.env.GLACIS_BENCH_PUSH_CHILD));
  process.exit(0);
}
const opts = options(
  { bigMb: 1024, smallFiles: 20_000, smallKb: 4, files: 200_000, rounds: 3, only: 'all', keep: false },
  { bigMb: 64, smallFiles: 2_000, files: 20_000, rounds: 1 },
);

const TARGETS = { a: 1.1, b: 1.25 };
const base = mkdtempSync(path.join(tmpdir(), 'glacis-bench-push-'));
const served = path.join(base, 'remote');
const local = path.join(base, 'local');
try {
  mkdirSync(served);
  const wants = (part) => opts.only === 'all' || opts.only === part;
  if (wants('a') || wants('b')) {
    process.stderr.write(`generating ${opts.bigMb} MB + ${opts.smallFiles} files of ${opts.smallKb} KB in ${base}…\n`);
    await generate();
  }
  const sftp = await startSftp(served, path.join(base, 'sftp'));
  const argvDir = path.join(base, 'argv');
  const wrapper = writeArgvWrapper(argvDir);
  const rclone = new Rclone({ executable: wrapper });

  /** A pushable repo over `remoteDir` (relative to the served directory); the remote as Glacis configures it. */
  const repoFor = (source, remoteDir) => {
    const settings = { backend: 'sftp', url: `127.0.0.1:${remoteDir}`, port: sftp.port, user: sftp.user, password: sftp.password, pushable: true };
    return parseRepos(`${JSON.stringify(source)}: ${JSON.stringify(settings)}\n`, 'repos.yaml', '/')[0];
  };
  const fresh = () => `run-${randomUUID().slice(0, 8)}/tree`;
  const clean = () => {
    for (const e of readdirSync(served)) rmSync(path.join(served, e), { recursive: true, force: true });
  };

  const glacisPush = (what, expectFiles) => async () => {
    clean();
    const repo = repoFor(path.join(local, what), fresh());
    const started = process.hrtime.bigint();
    const result = await runPush({
      task: { taskId: randomUUID(), type: 'push', path: repo.localPath, dryRun: false, force: false },
      repo,
      rclone,
      log: { line: () => undefined, event: () => undefined, flush: async () => undefined, close: async () => undefined },
      signal: new AbortController().signal,
      progress: () => undefined,
      enterRunning: async () => undefined,
      atime: undefined,
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (result.files !== expectFiles) throw new Error(`Glacis pushed ${result.files} files, expected ${expectFiles}`);
    return seconds;
  };
  const rcloneCopy = (what, flags, expectFiles) => async () => {
    clean();
    const dir = fresh();
    const repo = repoFor(path.join(local, what), dir);
    const { env } = childEnv(process.env, repo.remote);
    const started = process.hrtime.bigint();
    await run(rcloneBinary, ['copy', repo.localPath, `glacisremote:${dir}`, ...flags()], { env });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const files = readdirSync(path.join(served, dir), { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
    if (files !== expectFiles) throw new Error(`rclone copied ${files} files, expected ${expectFiles}`);
    return seconds;
  };

  const results = {};
  for (const part of ['a', 'b']) {
    if (!wants(part)) continue;
    const what = part === 'a' ? 'big' : 'small';
    const files = part === 'a' ? 1 : opts.smallFiles;
    process.stderr.write(`(${part}) warm-up…\n`);
    await glacisPush(what, files)();
    const flags = uploadFlags(argvDir);
    const contestants = { glacis: glacisPush(what, files), rcloneSameFlags: rcloneCopy(what, () => flags, files) };
    const r = await rounds(contestants);
    r.glacisUploadFlags = flags;
    r.ratio = round(r.glacis.medianSeconds / r.rcloneSameFlags.medianSeconds);
    r.target = TARGETS[part];
    results[part] = r;
  }
  clean();
  const quick = opts.quick ? '.quick' : '';
  if (results.a || results.b) {
    writeResult(`push${quick}`, { bigMb: opts.bigMb, smallFiles: opts.smallFiles, smallKb: opts.smallKb, rounds: opts.rounds, server: 'rclone serve sftp on 127.0.0.1', ...results });
  }
  if (wants('c')) {
    results.c = await atScale(path.join(base, 'scale'));
    writeResult(`push-scale${quick}`, { files: opts.files, remote: 'local backend', ...results.c });
  }
  const line = [results.a || results.b ? 'push over SFTP' : 'push'];
  if (results.a) line.push(`(a) ${opts.bigMb} MB: Glacis ${results.a.glacis.medianSeconds} s vs rclone copy ${results.a.rcloneSameFlags.medianSeconds} s, ratio ${results.a.ratio}x (target ≤ ${TARGETS.a}x)`);
  if (results.b) line.push(`(b) ${opts.smallFiles} × ${opts.smallKb} KB: Glacis ${results.b.glacis.medianSeconds} s vs rclone copy ${results.b.rcloneSameFlags.medianSeconds} s, ratio ${results.b.ratio}x (target ≤ ${TARGETS.b}x)`);
  if (results.c) {
    const c = results.c;
    line.push(`(c) ${opts.files} files, ${c.newFiles} new: Glacis ${c.glacisSeconds} s, peak RSS ${c.glacisPeakRssMB} MB; rclone copy ${c.rcloneSeconds} s, peak RSS ${c.rclonePeakRssMB} MB; time ratio ${c.ratio}x`);
  }
  console.log(line.join('; '));
} finally {
  await stopAll();
  if (opts.keep) process.stderr.write(`kept ${base}\n`);
  else rmSync(base, { recursive: true, force: true });
}

/**
 * (c): the tree, two remotes holding all of it but every 100th file (hard links: same sizes
 * and mtimes, no extra data), Glacis's push onto one in a child process of its own (its
 * peak RSS is its own), `rclone copy` onto the other.
 */
async function atScale(dir) {
  const local = path.join(dir, 'local');
  process.stderr.write(`(c) generating ${opts.files} files…\n`);
  const old = new Date('2020-01-01T00:00:00Z');
  for (let i = 0; i < opts.files; i++) {
    const sub = path.join(local, `d${Math.floor(i / 100_000)}`, `d${Math.floor(i / 1000) % 100}`);
    if (i % 1000 === 0) mkdirSync(sub, { recursive: true });
    const file = path.join(sub, `f${i}.dat`);
    writeFileSync(file, i % 7 === 0 ? 'x'.repeat(i % 97) : '');
    utimesSync(file, old, old);
  }
  const remotes = {};
  for (const who of ['glacis', 'rclone']) {
    remotes[who] = path.join(dir, `remote-${who}`);
    await run('cp', ['-al', local, remotes[who]]);
  }
  let newFiles = 0;
  for (let i = 0; i < opts.files; i += 100, newFiles++) {
    for (const remote of Object.values(remotes)) rmSync(path.join(remote, `d${Math.floor(i / 100_000)}`, `d${Math.floor(i / 1000) % 100}`, `f${i}.dat`));
  }
  await run('sync', []);
  process.stderr.write('(c) Glacis…\n');
  const glacis = JSON.parse((await run(process.execPath, [fileURLToPath(import.meta.url)], {
    // The rclone to run goes by name: this process's RCLONE_EXECUTABLE is rclone.js's launcher
    // once (a) or (b) ran (src/rclone/rclone-js.ts), which the child would take for rclone.
    env: { ...process.env, GLACIS_BENCH_PUSH_CHILD: JSON.stringify({ local, remote: remotes.glacis, rclone: rcloneBinary }) },
    capture: true,
  })).trim().split('\n').pop());
  if (glacis.files !== newFiles) throw new Error(`Glacis pushed ${glacis.files} files, expected ${newFiles}`);
  process.stderr.write(`  Glacis ${glacis.seconds.toFixed(2)} s, peak RSS ${Math.round(glacis.maxRssKB / 1024)} MB\n(c) rclone copy…\n`);
  await run('sync', []);
  const started = process.hrtime.bigint();
  const timeOut = path.join(dir, 'rclone-time');
  await run('/usr/bin/time', ['-f', '%M', '-o', timeOut, rcloneBinary, 'copy', '--config', '/dev/null', '--links', local, remotes.rclone]);
  const rcloneSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const rcloneMaxRssKB = Number(readFileSync(timeOut, 'utf8').trim().split('\n').pop());
  const copied = readdirSync(remotes.rclone, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
  if (copied !== opts.files) throw new Error(`rclone left ${copied} files on the remote, expected ${opts.files}`);
  return {
    newFiles,
    glacisSeconds: round(glacis.seconds),
    glacisPeakRssMB: Math.round(glacis.maxRssKB / 1024),
    rcloneSeconds: round(rcloneSeconds),
    rclonePeakRssMB: Math.round(rcloneMaxRssKB / 1024),
    ratio: round(glacis.seconds / rcloneSeconds),
  };
}

/** (c)'s Glacis side, in a process of its own: the push kind's run, and this process's peak RSS. */
async function pushInChild({ local, remote, rclone }) {
  const repo = parseRepos(`${JSON.stringify(local)}: ${JSON.stringify({ backend: 'local', path: remote, pushable: true })}\n`, 'repos.yaml', '/')[0];
  let events = 0;
  const started = process.hrtime.bigint();
  const result = await runPush({
    task: { taskId: randomUUID(), type: 'push', path: local, dryRun: false, force: false },
    repo,
    rclone: new Rclone({ executable: rclone }),
    log: { line: () => undefined, event: () => void events++, flush: async () => undefined, close: async () => undefined },
    signal: new AbortController().signal,
    progress: () => undefined,
    enterRunning: async () => undefined,
    atime: undefined,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(JSON.stringify({ files: result.files, events, seconds, maxRssKB: process.resourceUsage().maxRSS }));
}

/** Runs each contestant once a round, rotating who goes first; medians of wall seconds. */
async function rounds(contestants) {
  const names = Object.keys(contestants);
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < opts.rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + r) % names.length];
      await run('sync', []);
      await sleep(500);
      const seconds = await contestants[name]();
      samples[name].push(round(seconds));
      process.stderr.write(`  round ${r + 1}: ${name} ${seconds.toFixed(2)} s\n`);
    }
  }
  return Object.fromEntries(names.map((n) => [n, { medianSeconds: round(median(samples[n])), seconds: samples[n] }]));
}

async function generate() {
  mkdirSync(path.join(local, 'big'), { recursive: true });
  const big = createWriteStream(path.join(local, 'big/big.bin'));
  const chunk = randomBytes(1 << 20);
  for (let i = 0; i < opts.bigMb; i++) {
    chunk[0] = i & 0xff;
    if (!big.write(Buffer.from(chunk))) await new Promise((resolve) => big.once('drain', resolve));
  }
  await new Promise((resolve, reject) => big.end((error) => (error ? reject(error) : resolve())));
  const perDir = 200;
  for (let i = 0; i < opts.smallFiles; i++) {
    const dir = path.join(local, 'small', `d${String(Math.floor(i / perDir)).padStart(3, '0')}`);
    if (i % perDir === 0) mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `f${String(i).padStart(6, '0')}.dat`), randomBytes(opts.smallKb * 1024));
  }
  await run('sync', []);
}

/** An rclone that writes its argv (NUL-separated, one file a call) before exec'ing the real one. */
function writeArgvWrapper(dir) {
  mkdirSync(dir);
  const wrapper = path.join(dir, 'rclone');
  writeFileSync(wrapper, `#!/bin/sh\nprintf '%s\\0' "$@" > ${JSON.stringify(dir)}/argv.$$\nexec ${JSON.stringify(rcloneBinary)} "$@"\n`, { mode: 0o755 });
  return wrapper;
}

/** The flags of the last upload (`rclone copy`) Glacis ran, without its `--files-from-raw` list. */
function uploadFlags(dir) {
  const calls = readdirSync(dir)
    .filter((f) => f.startsWith('argv.'))
    .map((f) => ({ f, mtimeMs: statSync(path.join(dir, f)).mtimeMs }))
    .sort((x, y) => x.mtimeMs - y.mtimeMs)
    .map(({ f }) => readFileSync(path.join(dir, f), 'utf8').split('\0').slice(0, -1))
    .filter((argv) => argv[0] === 'copy');
  if (calls.length === 0) throw new Error('Glacis ran no rclone copy: cannot tell its flags');
  return calls[calls.length - 1].filter((a) => a.startsWith('-') && !a.startsWith('--files-from-raw'));
}
