#!/usr/bin/env node
/**
 * Pull overhead: a Glacis pull (POST /pull → queue → `glacis worker` → rclone → staging →
 * final place) against `rclone copy` run directly with the same flags, over SFTP on
 * loopback (`rclone serve sftp`), in the same run:
 *
 *   (a) one big file (default 1 GB),
 *   (b) many small files (default 20,000 of 4 KB, 200 a directory),
 *
 * and, on (b), Glacis against Baricadr's transfer (plain `rclone copy --links
 * --ignore-existing`, rclone's default concurrency): the speed-up of Glacis's tuned flags.
 * Three ratios: (a) and (b) Glacis / direct copy, and Baricadr's flags / Glacis on (b).
 *
 *   npm run bench:pull [-- --quick] [--big-mb 1024] [--small-files 20000] [--small-kb 4]
 *                      [--rounds 3] [--only all|a|b] [--rtt-ms 0] [--compare-find] [--keep]
 *
 * --compare-find adds to (b) direct copies from a list of every file (what a pull of a
 * fully frozen directory asks rclone), once per way rclone can find the listed files:
 * `lookup` (`--no-traverse`, one request a file, at Glacis's --checkers and at 32) and
 * `listing` (rclone reads the directories and keeps the listed names). That is the
 * measurement behind workers/pull.ts's chooseFind.
 *
 * "Same flags" is literal: rclone is started through a wrapper that records the argv
 * Glacis gives it; the baseline reuses the copy's flags (minus `--files-from-raw`, which
 * only Glacis needs) and the same remote configuration (environment, as Glacis sets it).
 * Each round runs every contestant once, in a rotating order, after `sync`; the summary
 * uses medians. Wall time is what counts; CPU seconds (client, server and Glacis's own
 * processes) are recorded too, as they are less disturbed by other jobs on the machine.
 *
 * --rtt-ms puts a user-space relay that delays every chunk by half the RTT each way
 * between the clients and the SFTP server: loopback has no latency, and latency is what
 * concurrency (`--transfers`, `--checkers`) is for.
 */
import { createWriteStream, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  api, dist, freePort, glacisEnv, median, options, rcloneBinary, round, run, startGlacis, startRedis, startSftp, stopAll, waitForTask, writeResult,
} from './lib.mjs';

const opts = options(
  { bigMb: 1024, smallFiles: 20_000, smallKb: 4, rounds: 3, only: 'all', rttMs: 0, compareFind: false, keep: false },
  { bigMb: 64, smallFiles: 2_000, rounds: 1 },
);
// Only (b): no need to write a big file nobody reads.
if (opts.only === 'b') opts.bigMb = 0;
const { childEnv } = await dist('src/rclone/index.js');
const { loadRepos } = await dist('src/config/repos.js');

/** Baricadr's transfer (backends/*.py): `rclone copy --links --ignore-existing`, nothing else. */
const BARICADR_FLAGS = ['--links', '--ignore-existing'];
// On loopback, (b) is CPU-bound and Glacis's own work (log parsing, linking) shows; with
// latency, round trips dominate and issue 13 holds a pull of many small files to 1.10x.
const TARGETS = { a: 1.1, b: opts.rttMs > 0 ? 1.1 : 1.25 };

const base = mkdtempSync(path.join(tmpdir(), 'glacis-bench-pull-'));
const served = path.join(base, 'remote');
const local = path.join(base, 'local');
let relay;
try {
  mkdirSync(local);
  process.stderr.write(`generating ${opts.bigMb} MB + ${opts.smallFiles} files of ${opts.smallKb} KB in ${base}…\n`);
  await generate();

  const sftp = await startSftp(served, path.join(base, 'sftp'));
  relay = opts.rttMs > 0 ? await startRelay(sftp.port, opts.rttMs) : undefined;
  const redis = await startRedis(path.join(base, 'redis'));
  const argvDir = path.join(base, 'argv');
  const wrapper = writeArgvWrapper(argvDir);
  const repos = {
    [local]: { backend: 'sftp', url: '127.0.0.1:', port: relay?.port ?? sftp.port, user: sftp.user, password: sftp.password },
  };
  const env = await glacisEnv(path.join(base, 'glacis'), repos, redis.url, { RCLONE_EXECUTABLE: wrapper });
  const serve = await startGlacis('serve', path.join(base, 'glacis'), env);
  const worker = await startGlacis('worker', path.join(base, 'glacis'), env);
  const baseUrl = `http://127.0.0.1:${env.PORT}`;
  // The remote exactly as Glacis configures it for rclone: environment variables, obscured password.
  const remote = loadRepos(env.REPOS_CONF)[0].remote;
  const rcloneEnv = childEnv(process.env, remote).env;
  const cpuOf = { glacis: () => cpuSeconds(serve.pid) + cpuSeconds(worker.pid), server: () => cpuSeconds(sftp.pid) + cpuSeconds(redis.pid) };

  const glacisPull = (what, expectFiles) => async () => {
    const started = Date.now();
    const { task } = await api(baseUrl, 'POST', '/pull', { path: path.join(local, what) });
    // Timed here, when the end is seen: the record's `finished` is to the second (Baricadr's
    // format), which made a sub-second pull read negative (test/bench/smoke.test.ts found it).
    // Polling every 100 ms adds at most that to Glacis's time.
    const done = await waitForTask(baseUrl, task, { pollMs: 100 });
    if (done.files !== expectFiles) throw new Error(`Glacis pulled ${done.files} files, expected ${expectFiles}`);
    const seconds = (Date.now() - started) / 1000;
    rmSync(path.join(local, what), { recursive: true, force: true });
    return seconds;
  };
  const rcloneCopy = (source, flags, expectFiles) => async () => {
    const dest = path.join(base, 'baseline');
    rmSync(dest, { recursive: true, force: true });
    const started = process.hrtime.bigint();
    await run(rcloneBinary, ['copy', `glacisremote:${source}`, dest, ...flags()], { env: rcloneEnv });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const files = readdirSync(dest, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
    if (files !== expectFiles) throw new Error(`rclone copied ${files} files, expected ${expectFiles}`);
    rmSync(dest, { recursive: true, force: true });
    return seconds;
  };

  // A first Glacis pull of each kind warms the services (and page cache, JIT, VFS
  // directory cache) for everyone and shows the flags Glacis uses.
  const sameFlags = () => glacisCopyFlags(argvDir);
  const results = {};
  for (const part of ['a', 'b']) {
    if (opts.only !== 'all' && opts.only !== part) continue;
    const what = part === 'a' ? 'big/big.bin' : 'small';
    const files = part === 'a' ? 1 : opts.smallFiles;
    process.stderr.write(`(${part}) warm-up…\n`);
    await glacisPull(what, files)();
    const flagsOfPart = sameFlags();
    const contestants = {
      glacis: { run: glacisPull(what, files), cpu: cpuOf.glacis },
      rcloneSameFlags: { run: rcloneCopy(what, () => flagsOfPart, files), cpu: () => 0 },
      ...(part === 'b' ? { rcloneBaricadrFlags: { run: rcloneCopy(what, () => BARICADR_FLAGS, files), cpu: () => 0 } } : {}),
      ...(part === 'b' && opts.compareFind ? findContestants(flagsOfPart, files, rcloneCopy) : {}),
    };
    results[part] = await rounds(contestants, cpuOf.server);
    const r = results[part];
    r.glacisCopyFlags = flagsOfPart;
    r.ratio = round(r.glacis.medianSeconds / r.rcloneSameFlags.medianSeconds);
    r.cpuRatio = round(r.glacis.medianCpuSeconds / r.rcloneSameFlags.medianCpuSeconds);
    r.target = TARGETS[part];
    if (part === 'b') r.speedUpOverBaricadrFlags = round(r.rcloneBaricadrFlags.medianSeconds / r.glacis.medianSeconds);
    if (part === 'b' && opts.compareFind) {
      r.findRatios = Object.fromEntries(
        Object.keys(r).filter((k) => k.startsWith('rcloneList')).map((k) => [k, round(r[k].medianSeconds / r.rcloneSameFlags.medianSeconds)]),
      );
    }
  }

  const result = {
    bigMb: opts.bigMb,
    smallFiles: opts.smallFiles,
    smallKb: opts.smallKb,
    rounds: opts.rounds,
    rttMs: opts.rttMs,
    server: 'rclone serve sftp on 127.0.0.1',
    baricadrFlags: BARICADR_FLAGS,
    ...results,
  };
  // A run with latency (--rtt-ms) keeps its own file: it answers another question than the loopback run.
  writeResult(`pull-overhead${opts.rttMs > 0 ? `.rtt${opts.rttMs}ms` : ''}${opts.quick ? '.quick' : ''}`, result);
  const line = [`pull over SFTP${opts.rttMs ? ` (RTT ${opts.rttMs} ms)` : ''}`];
  if (results.a) line.push(`(a) ${opts.bigMb} MB: Glacis ${results.a.glacis.medianSeconds} s vs rclone ${results.a.rcloneSameFlags.medianSeconds} s, ratio ${results.a.ratio}x (target ≤ ${TARGETS.a}x)`);
  if (results.b) {
    line.push(
      `(b) ${opts.smallFiles} × ${opts.smallKb} KB: Glacis ${results.b.glacis.medianSeconds} s vs rclone ${results.b.rcloneSameFlags.medianSeconds} s, ratio ${results.b.ratio}x (target ≤ ${TARGETS.b}x); ` +
        `vs Baricadr's flags ${results.b.rcloneBaricadrFlags.medianSeconds} s: speed-up ${results.b.speedUpOverBaricadrFlags}x`,
    );
    if (results.b.findRatios) {
      line.push(`direct copies of a list of every file / direct copy: ${Object.entries(results.b.findRatios).map(([k, v]) => `${k} ${v}x`).join(', ')}`);
    }
  }
  console.log(line.join('; '));
} finally {
  relay?.close();
  await stopAll();
  if (opts.keep) process.stderr.write(`kept ${base}\n`);
  else rmSync(base, { recursive: true, force: true });
}

/**
 * Direct copies of (b) from a list of every file, with Glacis's flags otherwise: how
 * long each way of finding listed files takes, against the same direct copy of the
 * directory (rcloneSameFlags).
 */
function findContestants(flags, files, rcloneCopy) {
  const listFile = path.join(base, 'every-small-file.list');
  const names = readdirSync(path.join(served, 'small'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(path.join(served, 'small'), path.join(e.parentPath ?? e.path, e.name)));
  writeFileSync(listFile, `${names.join('\n')}\n`);
  const plain = flags.filter((f) => f !== '--no-traverse' && !f.startsWith('--checkers='));
  const checkers = flags.find((f) => f.startsWith('--checkers=')) ?? '--checkers=8';
  const copy = (extra) => ({ run: rcloneCopy('small', () => [...plain, `--files-from-raw=${listFile}`, ...extra], files), cpu: () => 0 });
  return {
    rcloneListLookup: copy(['--no-traverse', checkers]),
    rcloneListLookup32Checkers: copy(['--no-traverse', '--checkers=32']),
    rcloneListListing: copy([checkers]),
  };
}

/** Runs each contestant once a round, rotating who goes first; medians of wall and CPU seconds. */
async function rounds(contestants, serverCpu) {
  const names = Object.keys(contestants);
  const samples = Object.fromEntries(names.map((n) => [n, { seconds: [], cpuSeconds: [] }]));
  for (let r = 0; r < opts.rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + r) % names.length];
      await run('sync', []);
      await sleep(500);
      const cpuBefore = ownChildrenCpu() + contestants[name].cpu() + serverCpu();
      const seconds = await contestants[name].run();
      const cpuSpent = ownChildrenCpu() + contestants[name].cpu() + serverCpu() - cpuBefore;
      samples[name].seconds.push(round(seconds));
      samples[name].cpuSeconds.push(round(cpuSpent));
      process.stderr.write(`  round ${r + 1}: ${name} ${seconds.toFixed(2)} s, ${cpuSpent.toFixed(2)} CPU-s\n`);
    }
  }
  return Object.fromEntries(
    names.map((n) => [n, { medianSeconds: round(median(samples[n].seconds)), medianCpuSeconds: round(median(samples[n].cpuSeconds)), ...samples[n] }]),
  );
}

async function generate() {
  mkdirSync(path.join(served, 'big'), { recursive: true });
  const big = createWriteStream(path.join(served, 'big/big.bin'));
  const chunk = randomBytes(1 << 20);
  for (let i = 0; i < opts.bigMb; i++) {
    // A different first byte a MB, so no two blocks are alike (nothing here dedupes, but cheaply honest).
    chunk[0] = i & 0xff;
    if (!big.write(Buffer.from(chunk))) await new Promise((resolve) => big.once('drain', resolve));
  }
  await new Promise((resolve, reject) => big.end((error) => (error ? reject(error) : resolve())));
  const perDir = 200;
  for (let i = 0; i < opts.smallFiles; i++) {
    const dir = path.join(served, 'small', `d${String(Math.floor(i / perDir)).padStart(3, '0')}`);
    if (i % perDir === 0) mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `f${String(i).padStart(6, '0')}.dat`), randomBytes(opts.smallKb * 1024));
  }
  await run('sync', []);
}

/**
 * An rclone that writes its argv (NUL-separated, one file per call) before exec'ing the
 * real one. Glacis then runs it exactly as it would the real rclone; the cost is one
 * `sh` exec a call (three calls a pull).
 */
function writeArgvWrapper(dir) {
  mkdirSync(dir);
  const wrapper = path.join(dir, 'rclone');
  writeFileSync(wrapper, `#!/bin/sh\nprintf '%s\\0' "$@" > ${JSON.stringify(dir)}/argv.$$\nexec ${JSON.stringify(rcloneBinary)} "$@"\n`, { mode: 0o755 });
  return wrapper;
}

/** The flags of the last `rclone copy` Glacis ran, without its `--files-from-raw` list. */
function glacisCopyFlags(dir) {
  // Newest last: a pull of one file and one of a directory may ask rclone differently.
  const calls = readdirSync(dir)
    .filter((f) => f.startsWith('argv.'))
    .map((f) => ({ f, mtimeMs: statSync(path.join(dir, f)).mtimeMs }))
    .sort((x, y) => x.mtimeMs - y.mtimeMs)
    .map(({ f }) => readFileSync(path.join(dir, f), 'utf8').split('\0').slice(0, -1))
    .filter((argv) => argv[0] === 'copy');
  if (calls.length === 0) throw new Error('Glacis ran no rclone copy: cannot tell its flags');
  return calls[calls.length - 1].filter((a) => a.startsWith('-') && !a.startsWith('--files-from-raw'));
}

/** CPU seconds of a process and of the children it has waited for (rclone, for the worker). */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // utime, stime, cutime, cstime: fields 14–17 of stat(5), here 11–14 after the command name.
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / 100;
}

function ownChildrenCpu() {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/** A TCP relay delaying each chunk by rtt/2 in each direction, in order (one queue and timer a direction). */
async function startRelay(targetPort, rttMs) {
  const delay = rttMs / 2;
  const pipeDelayed = (from, to) => {
    const queue = [];
    let timer;
    let ended = false;
    const flush = () => {
      timer = undefined;
      while (queue.length > 0 && queue[0].due <= Date.now()) to.write(queue.shift().data);
      if (queue.length > 0) timer = setTimeout(flush, queue[0].due - Date.now());
      else if (ended) to.end();
    };
    from.on('data', (data) => {
      queue.push({ due: Date.now() + delay, data });
      timer ??= setTimeout(flush, delay);
    });
    from.on('end', () => {
      ended = true;
      timer ??= setTimeout(flush, 0);
    });
    from.on('error', () => to.destroy());
    to.on('error', () => from.destroy());
  };
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    pipeDelayed(client, upstream);
    pipeDelayed(upstream, client);
  });
  const port = await freePort();
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { port, close: () => server.close() };
}
