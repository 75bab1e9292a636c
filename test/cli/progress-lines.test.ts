/**
 * `--wait` without a terminal prints plain progress lines (issue 15: a stalled task repeated
 * the same line every 5 s, and the lines gave no total).
 */
import { expect, it } from 'vitest';
import { PlainLines } from '../../src/cli/client/progress.js';
import type { TaskJson } from '../../src/cli/client/http.js';

const task = (status: string, progress?: TaskJson['progress']): TaskJson => ({ task_id: 't1', type: 'pull', path: '/data/x', status, ...(progress ? { progress } : {}) });
const pulling = (bytes: number, files: number) => task('pulling', { percent: (bytes / 1000) * 100, bytes, totalBytes: 1000, files, totalFiles: 4 });
const freezing = (files: number) => task('freezing', { percent: 0, bytes: files * 10, totalBytes: 0, files, totalFiles: 0 });

it('never prints the same line twice, however long the task stays where it is', () => {
  const lines = new PlainLines();
  const printed: string[] = [];
  const poll = (t: TaskJson, at: number): void => {
    const line = lines.next(t, at);
    if (line !== undefined) printed.push(line);
  };
  poll(task('waiting'), 0);
  for (let at = 500; at < 60_000; at += 500) poll(task('waiting'), at);
  for (let at = 60_000; at < 120_000; at += 500) poll(pulling(0, 0), at);
  for (let at = 120_000; at < 180_000; at += 500) poll(freezing(3), at);
  expect(printed).toHaveLength(3);
  expect(new Set(printed).size).toBe(printed.length);
});

it('gives the totals: percent, bytes of the total and files of the total; a freeze its count so far', () => {
  const lines = new PlainLines();
  expect(lines.next(pulling(500, 2), 0)).toMatch(/^task t1: pulling +50% +500 B \/ 1000 B +2\/4 files/);
  expect(lines.next(pulling(510, 2), 500)).toBeUndefined(); // the same tenth of the way
  expect(lines.next(pulling(600, 3), 1000)).toMatch(/60% +600 B \/ 1000 B +3\/4 files/);
  const freeze = new PlainLines();
  expect(freeze.next(freezing(1), 0)).toMatch(/^task t1: freezing {2}1 file so far {2}10 B/);
  // A count that moved is shown, but not more often than every few seconds.
  expect(freeze.next(freezing(2), 1000)).toBeUndefined();
  expect(freeze.next(freezing(3), 6000)).toMatch(/3 files so far {2}30 B/);
});
