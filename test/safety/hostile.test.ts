/**
 * Hostile input (issue 7, suite 4): a corpus of over 200 hostile requests against a real
 * Glacis (API and worker). Every one must get a 4xx JSON error; the server must never
 * crash nor answer 5xx; and nothing outside the repository may be read, listed, written
 * or deleted, which the filesystem itself is asked about (names, sizes, mtimes and, on a
 * filesystem that keeps them, access times).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkAtimeSupport } from '../../src/freeze/atime.js';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { makeRemote, tempDir, type TestRemote } from '../helpers/remotes.js';
import { ageAccessTimes, diffSnapshots, snapshot } from './corpus/fs-snapshot.js';
import { buildHostileTree, hostileCorpus, type HostileCase, type HostileTree } from './corpus/hostile-corpus.js';
import { send, sendRaw, type Reply } from '../helpers/raw-http.js';

let glacis: TestGlacis;
let tree: HostileTree;
let remote: TestRemote;
let readsDetectable: boolean;

/** Files the remote holds where the repository has a symlink out of itself: a pull must not follow it. */
function planted(outside: string): Record<string, string> {
  return {
    'escape/newsub/planted.txt': 'planted through escape\n',
    'escape/secret.txt': 'remote version of secret\n',
    'rel-escape/made/planted.txt': 'planted through rel-escape\n',
    'subdir/up/outside/planted.txt': 'planted through subdir/up\n',
    [`root-link${outside}/from-root/planted.txt`]: 'planted through root-link\n',
  };
}

beforeAll(async () => {
  const sandbox = tempDir('hostile');
  tree = buildHostileTree(sandbox);
  remote = await makeRemote('local', planted(tree.outside));
  readsDetectable = (await checkAtimeSupport(sandbox)).supported;
  // Freezable, with no atime test: a request that slipped through would really delete.
  glacis = await startGlacis({ repos: { [tree.repo]: { ...remote.settings, freezable: true, disable_atime_test: true } } });
});
afterAll(async () => {
  await glacis?.stop();
});

async function exchange(c: HostileCase): Promise<Reply> {
  if (c.raw) return sendRaw(Number(new URL(glacis.url).port), c.raw);
  return send(glacis.url, c.request!);
}

/**
 * Why a reply is not a clean refusal (empty when it is). Bull Board's own JSON API answers
 * its errors as `{"error": {"key": "…"}}`: JSON and 4xx, in its own shape, accepted as such.
 */
function problemsWith(reply: Reply, c: HostileCase): string[] {
  const boardApi = c.request?.route.startsWith('/admin/queues/api/') ?? false;
  const problems: string[] = [];
  if (reply.status >= 500) problems.push(`answered ${reply.status}`);
  else if (reply.status < 400) problems.push(reply.status === 0 ? 'no answer' : `accepted (${reply.status})`);
  if (!/^application\/json\b/.test(reply.contentType)) problems.push(`content-type ${JSON.stringify(reply.contentType)}`);
  const body = reply.body as Record<string, unknown> | undefined;
  // Removing an unknown task answers Baricadr's `{"error", "info": ""}` (barique prints it whole).
  const keys = body && typeof body === 'object' && !Array.isArray(body) ? Object.keys(body).join() : '';
  const message = keys === 'error' || (keys === 'error,info' && body!.info === '') ? body!.error : undefined;
  if (!(typeof message === 'string' && message !== '') && !(boardApi && message && typeof message === 'object')) {
    problems.push(`not {"error": "…"}: ${reply.text.slice(0, 200)}`);
  }
  if (/<html|<!DOCTYPE|\n\s+at |node_modules|\.ts:\d+/i.test(reply.text)) problems.push('shows a page or a stack trace');
  return problems;
}

/** The outside tree's contents or unnamed file appearing in any answer means it was read or listed back. */
function leaks(text: string): string[] {
  return [...tree.canaries, tree.unlistedName].filter((secret) => text.includes(secret));
}

async function alive(): Promise<boolean> {
  try {
    return (await fetch(`${glacis.url}/health`)).status === 200;
  } catch {
    return false;
  }
}

it('refuses every request of the corpus with a 4xx JSON error, never crashes, and never touches the outside', async () => {
  const corpus = hostileCorpus(tree, remote.root!);
  expect(corpus.length).toBeGreaterThanOrEqual(200);
  ageAccessTimes(tree.sandbox);
  ageAccessTimes(remote.root!);
  const sandboxBefore = snapshot(tree.sandbox);
  const remoteBefore = snapshot(remote.root!);

  const failures: string[] = [];
  const byCategory = new Map<string, number>();
  const statuses = new Map<number, number>();
  let fiveXx = 0;
  let crashes = 0;
  for (const c of corpus) {
    byCategory.set(c.category, (byCategory.get(c.category) ?? 0) + 1);
    let reply: Reply;
    try {
      reply = await exchange(c);
    } catch (error) {
      reply = { status: 0, contentType: '', text: String(error), body: undefined };
    }
    statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
    if (reply.status >= 500) fiveXx++;
    const problems = [...problemsWith(reply, c), ...leaks(reply.text).map((s) => `leaks ${s}`)];
    if (!(await alive())) {
      crashes++;
      problems.push('the server stopped answering');
    }
    if (problems.length > 0) failures.push(`[${c.category}] ${c.name}: ${problems.join('; ')}`);
  }

  const sandboxChanges = diffSnapshots(sandboxBefore, snapshot(tree.sandbox));
  const remoteChanges = diffSnapshots(remoteBefore, snapshot(remote.root!));
  const tasks = await glacis.get('/tasks');
  const serverErrors = glacis.logLines.filter((line) => /request failed/.test(line));
  console.log(
    `hostile: ${corpus.length} requests, ${fiveXx} 5xx, ${crashes} crashes, ${failures.length} not a 4xx JSON error; ` +
      `statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}; ` +
      `${sandboxChanges.length + remoteChanges.length} filesystem changes outside the requests' reach ` +
      `(reads ${readsDetectable ? '' : 'NOT '}detectable by atime); tasks created: ${tasks.body.length}`,
  );
  console.log(`hostile: by category ${JSON.stringify(Object.fromEntries(byCategory))}`);

  expect(failures).toEqual([]);
  expect(fiveXx).toBe(0);
  expect(crashes).toBe(0);
  expect(serverErrors).toEqual([]);
  // Refused means no effect: not one task, not one file.
  expect(tasks).toEqual({ status: 200, body: [] });
  expect(sandboxChanges).toEqual([]);
  expect(remoteChanges, 'the remote').toEqual([]);
  for (const [i, name] of ['secret.txt', 'nested/deeper.txt', tree.unlistedName].entries()) {
    expect(readFileSync(path.join(tree.outside, name), 'utf8').trim()).toBe(tree.canaries[i]);
  }
  // And it still does its job.
  const listing = await glacis.post('/tree', { path: `${tree.repo}/subdir` });
  expect(listing.status).toBe(200);
  expect(listing.body).toContainEqual({ Path: 'subfile.txt', missing: true });
});

it('pulls, lists and freezes a tree whose symlinks lead out of it without reaching through them', async () => {
  ageAccessTimes(tree.outside);
  const before = snapshot(tree.sandbox, ['repo']);
  const answers: string[] = [];

  const pull = await glacis.post('/pull', { path: tree.repo });
  expect(pull.status, JSON.stringify(pull.body)).toBe(200);
  const pulled = await glacis.waitForTask(pull.body.task);
  expect(pulled.status, JSON.stringify(pulled)).toBe('finished');
  const pullLog = (await glacis.get(`/tasks/log/${pull.body.task}`)).body.logs as string;
  answers.push(JSON.stringify(pulled), pullLog);
  // The fixture landed; the planted files, all behind symlinks out of the repo, did not.
  expect(readFileSync(path.join(tree.repo, 'subdir/subfile.txt'), 'utf8')).toBe('sub file\n');
  expect(pullLog).not.toMatch(/pulled (escape|rel-escape|subdir\/up|root-link)\//);
  expect(pullLog).toMatch(/skipped escape\/newsub\/planted\.txt: its directory leads outside the repository/);

  for (const [route, body] of [
    ['/list', { path: tree.repo, max_depth: 0, full: true }],
    ['/list', { path: tree.repo, max_depth: 0, missing: true, from_root: true }],
    ['/tree', { path: tree.repo, max_depth: 0 }],
    ['/list', { path: `${tree.repo}/subdir`, max_depth: 0 }],
  ] as const) {
    const reply = await glacis.post(route, body);
    expect(reply.status, `${route} ${JSON.stringify(body)}`).toBe(200);
    answers.push(JSON.stringify(reply.body));
  }

  const freeze = await glacis.post('/freeze', { path: tree.repo, force: true });
  expect(freeze.status, JSON.stringify(freeze.body)).toBe(200);
  const frozen = await glacis.waitForTask(freeze.body.task);
  expect(frozen.status, JSON.stringify(frozen)).toBe('finished');
  // It did freeze what it should: the pulled fixture files are safe on the remote.
  expect(frozen.files).toBeGreaterThan(0);
  answers.push(JSON.stringify(frozen), (await glacis.get(`/tasks/log/${freeze.body.task}`)).body.logs as string);

  const changes = diffSnapshots(before, snapshot(tree.sandbox, ['repo']));
  console.log(`hostile: escaping symlinks: pull, 4 listings and a freeze of the repo; ${changes.length} changes outside it`);
  expect(changes).toEqual([]);
  expect(answers.flatMap(leaks)).toEqual([]);
  expect(readFileSync(path.join(tree.outside, 'secret.txt'), 'utf8').trim()).toBe(tree.canaries[0]);
});
