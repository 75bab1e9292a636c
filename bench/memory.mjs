#!/usr/bin/env node
/**
 * Memory over time: 10,000 pull tasks through one `glacis serve` and one `glacis worker`
 * (separate processes, as deployed). Each task pulls one 4 KB file from a local-backend
 * remote (the cheapest rclone: the subject is the Node processes, not the transfer).
 * RSS (VmRSS from /proc) of each process after a warm-up and at the end; the baseline is
 * the process itself after warm-up, so the ratio end/start is the growth (target ≤ 1.2).
 * RSS jumps by several MB with each garbage collection, so start and end are the medians
 * of the once-a-second samples over the tenth of the run after warm-up and over the last
 * tenth; the instant values are recorded too.
 *
 *   npm run bench:memory [-- --quick] [--tasks 10000] [--batch 100] [--warmup 500]
 *
 * Tasks are submitted a batch at a time, the next batch once the previous one has ended,
 * like steady traffic rather than one burst; the RSS of both processes is sampled every
 * second and kept (one sample in ten) in the result.
 */
import { closeSync, fstatSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { api, glacisEnv, median, options, round, startGlacis, startRedis, stopAll, writeResult } from './lib.mjs';

const opts = options({ tasks: 10_000, batch: 100, warmup: 500 }, { tasks: 1_000, warmup: 100 });
const TARGET_GROWTH = 1.2;
const FILES_PER_DIR = 1000;

const base = mkdtempSync(path.join(tmpdir(), 'glacis-bench-memory-'));
let sampler;
try {
  const local = path.join(base, 'local');
  const remote = path.join(base, 'remote');
  mkdirSync(local);
  for (let i = 0; i < opts.tasks; i++) {
    if (i % FILES_PER_DIR === 0) mkdirSync(path.join(remote, dirOf(i)), { recursive: true });
    writeFileSync(path.join(remote, dirOf(i), `f${i}`), Buffer.alloc(4096, i % 251));
  }
  const redis = await startRedis(path.join(base, 'redis'));
  // --trace-gc: the heap still live after each full collection tells a leak (it climbs)
  // from a heap or allocator that settles at a larger size (RSS climbs, then stays).
  const env = await glacisEnv(path.join(base, 'glacis'), { [local]: { backend: 'local', path: remote } }, redis.url);
  const processes = {
    serve: await startGlacis('serve', path.join(base, 'glacis'), env, ['--trace-gc']),
    worker: await startGlacis('worker', path.join(base, 'glacis'), env, ['--trace-gc']),
  };
  const url = `http://127.0.0.1:${env.PORT}`;

  const series = [];
  let done = 0;
  const liveHeap = { serve: liveHeapReader(path.join(base, 'glacis/serve.log')), worker: liveHeapReader(path.join(base, 'glacis/worker.log')) };
  const sample = () => {
    const serveGc = liveHeap.serve();
    const workerGc = liveHeap.worker();
    series.push({
      t: Math.round(process.uptime()),
      done,
      serveMB: mb(processes.serve.rssKB()),
      workerMB: mb(processes.worker.rssKB()),
      serveHeapMB: serveGc.heapMB,
      workerHeapMB: workerGc.heapMB,
      serveCommittedMB: serveGc.committedMB,
      workerCommittedMB: workerGc.committedMB,
      // A full collection ran within the last second: this RSS holds little garbage.
      ...(serveGc.fresh ? { serveAfterFullGc: true } : {}),
      ...(workerGc.fresh ? { workerAfterFullGc: true } : {}),
    });
  };
  sampler = setInterval(sample, 1000);
  const rss = () => ({ serveMB: mb(processes.serve.rssKB()), workerMB: mb(processes.worker.rssKB()) });

  const started = Date.now();
  let atWarmup;
  for (let first = 0; first < opts.tasks; first += opts.batch) {
    const ids = [];
    for (let i = first; i < Math.min(opts.tasks, first + opts.batch); i++) {
      ids.push((await api(url, 'POST', '/pull', { path: path.join(local, dirOf(i), `f${i}`) })).task);
    }
    await waitForAll(url, ids);
    done += ids.length;
    if (atWarmup === undefined && done >= opts.warmup) atWarmup = { done, ...rss() };
    if (done % 1000 === 0) process.stderr.write(`  ${done} tasks, serve ${rss().serveMB} MB, worker ${rss().workerMB} MB\n`);
  }
  const seconds = (Date.now() - started) / 1000;
  // Let the timers of the last tasks (progress, stalled checks) run out.
  await sleep(2000);
  const end = { done, ...rss() };
  sample();
  clearInterval(sampler);
  // RSS moves by several MB between two collections: compare the medians of the samples
  // taken over the tenth of the run just after warm-up and over the last tenth.
  const tenth = Math.max(opts.batch, Math.round(opts.tasks / 10));
  const windowOf = (from, to) => {
    const inside = series.filter((s) => s.done >= from && s.done <= to);
    const of = (key) => median(inside.map((s) => s[key]).filter((v) => v !== undefined));
    return { tasks: `${from}–${to}`, samples: inside.length, serveMB: of('serveMB'), workerMB: of('workerMB'), serveHeapMB: of('serveHeapMB'), workerHeapMB: of('workerHeapMB'), serveCommittedMB: of('serveCommittedMB'), workerCommittedMB: of('workerCommittedMB') };
  };
  // RSS just after a full collection, the first one after warm-up against the last one:
  // garbage waiting for the collector no longer counts as growth.
  const afterFullGc = (name) => {
    const points = series.filter((s) => s[`${name}AfterFullGc`] && s.done >= atWarmup.done);
    if (points.length < 2) return undefined;
    const [first, last] = [points[0], points[points.length - 1]];
    return { collections: points.length, start: { done: first.done, rssMB: first[`${name}MB`] }, end: { done: last.done, rssMB: last[`${name}MB`] }, growth: round(last[`${name}MB`] / first[`${name}MB`]) };
  };
  const startWindow = windowOf(atWarmup.done, atWarmup.done + tenth);
  const endWindow = windowOf(opts.tasks - tenth, opts.tasks);
  // A leak keeps growing; V8 sizing its heap settles. The second half alone tells them apart.
  const halfWindow = windowOf(Math.round(opts.tasks / 2) - tenth, Math.round(opts.tasks / 2));
  const result = {
    tasks: opts.tasks,
    seconds: round(seconds, 0),
    tasksPerSecond: round(opts.tasks / seconds),
    start: { afterWarmup: atWarmup, median: startWindow },
    end: { atEnd: end, median: endWindow },
    serveGrowth: round(endWindow.serveMB / startWindow.serveMB),
    workerGrowth: round(endWindow.workerMB / startWindow.workerMB),
    rssAfterFullGc: { serve: afterFullGc('serve'), worker: afterFullGc('worker') },
    secondHalf: { from: halfWindow, serveGrowth: round(endWindow.serveMB / halfWindow.serveMB), workerGrowth: round(endWindow.workerMB / halfWindow.workerMB) },
    liveHeapGrowth: { serve: round(endWindow.serveHeapMB / startWindow.serveHeapMB), worker: round(endWindow.workerHeapMB / startWindow.workerHeapMB) },
    target: TARGET_GROWTH,
    peak: { serveMB: Math.max(...series.map((s) => s.serveMB)), workerMB: Math.max(...series.map((s) => s.workerMB)) },
    series: series.filter((_, i) => i % 10 === 0 || i === series.length - 1),
  };
  writeResult(opts.quick ? 'memory.quick' : 'memory', result);
  const describe = (name) => {
    const gc = result.rssAfterFullGc[name];
    const window = `${startWindow[`${name}MB`]} → ${endWindow[`${name}MB`]} MB (${result[`${name}Growth`]}x)`;
    const heap = `${startWindow[`${name}HeapMB`]} → ${endWindow[`${name}HeapMB`]} MB (V8 heap committed ${startWindow[`${name}CommittedMB`]} → ${endWindow[`${name}CommittedMB`]} MB)`;
    return gc
      ? `${name} RSS after full GC ${gc.start.rssMB} → ${gc.end.rssMB} MB (${gc.growth}x), medians ${window}, second half ${result.secondHalf[`${name}Growth`]}x, live heap ${heap}`
      : `${name} RSS medians ${window} (no two full GCs after warm-up), second half ${result.secondHalf[`${name}Growth`]}x, live heap ${heap}`;
  };
  console.log(`memory, ${opts.tasks} pulls, ${result.tasksPerSecond} tasks/s (target ≤ ${TARGET_GROWTH}x): ${describe('serve')}; ${describe('worker')}`);
} finally {
  clearInterval(sampler);
  await stopAll();
  rmSync(base, { recursive: true, force: true });
}

function dirOf(i) {
  return `d${Math.floor(i / FILES_PER_DIR)}`;
}

/**
 * The heap left after the latest full collection and the heap V8 keeps committed then
 * (`Mark-Compact … -> X (Y) MB` from --trace-gc), and whether one ran since the last
 * call, reading only what the log gained.
 */
function liveHeapReader(logFile) {
  let offset = 0;
  let last;
  let committed;
  let seen = 0;
  let reported = 0;
  return () => {
    const fd = openSync(logFile, 'r');
    try {
      const size = fstatSync(fd).size;
      const chunk = Buffer.alloc(size - offset);
      readSync(fd, chunk, 0, chunk.length, offset);
      // Only whole lines: a line still being written is read next time.
      const text = chunk.toString('utf8');
      const complete = text.lastIndexOf('\n') + 1;
      offset += Buffer.byteLength(text.slice(0, complete));
      for (const match of text.slice(0, complete).matchAll(/Mark-Compact[^\n]*?-> ([\d.]+) \(([\d.]+)\)/g)) {
        last = Number(match[1]);
        committed = Number(match[2]);
        seen++;
      }
    } finally {
      closeSync(fd);
    }
    const fresh = seen > reported;
    reported = seen;
    return { heapMB: last, committedMB: committed, fresh };
  };
}

function mb(kb) {
  return round(kb / 1024, 1);
}

/** Waits until every task has ended: the last submitted first, so most are done by the time the rest are asked. */
async function waitForAll(url, ids) {
  for (const id of [...ids].reverse()) {
    for (;;) {
      const task = await api(url, 'GET', `/tasks/status/${id}`);
      if (task.status === 'finished') break;
      if (task.status === 'failed' || task.status === 'cancelled') throw new Error(`task ${id} ${task.status}: ${task.error}`);
      await sleep(100);
    }
  }
}
