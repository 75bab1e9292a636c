/**
 * Baricadr's recorded answers (`../shared/baricadr-reference/answers.json`, the contract of
 * issue 13), the tree and repos they were recorded on, and the comparison rules: how an
 * answer of Glacis is held equal to one of Baricadr's.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sharedServices } from '../harness/services.js';
import { tempDir } from '../helpers/remotes.js';

export interface Entry {
  readonly group: 'read' | 'task' | 'flow' | 'barique';
  readonly name: string;
  readonly request: string;
  readonly baricadr: any;
}

/**
 * `../shared` beside the clone (CI), or beside any ancestor (a git worktree under /work/wt).
 * Missing, the test fails: the contract is not optional.
 */
export function sharedDir(): string {
  let dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  for (;;) {
    const candidate = path.join(path.dirname(dir), 'shared');
    if (existsSync(path.join(candidate, 'baricadr-reference', 'answers.json'))) return candidate;
    if (path.dirname(dir) === dir) throw new Error('../shared/baricadr-reference/answers.json not found beside the clone or any parent');
    dir = path.dirname(dir);
  }
}

export function loadAnswers(): Entry[] {
  return JSON.parse(readFileSync(path.join(sharedDir(), 'baricadr-reference', 'answers.json'), 'utf8')) as Entry[];
}

/** The remote tree of the reference README; symlinks as rclone `--links` stores them. */
export const REFERENCE_TREE: Readonly<Record<string, string>> = {
  'file.txt': 'top file\n',
  'file2.txt': 'second top file\n',
  'sub/x.txt': 'in sub\n',
  'subX/y.txt': 'in subX\n',
  'subdir/subfile.txt': 'subfile content\n',
  'subdir/subsubdir/subsubfile.txt': 'deep file\n',
  'subdir/subsubdir/poutrelle.tsv': 'a\tb\n1\t2\n',
  'subdir/subsubdir/poutrelle.xml': '<a>1</a>\n',
  'subdir/subsubdir/relative_symlink.tsv.rclonelink': 'poutrelle.tsv',
  'subdir/subsubdir/absolute_symlink.tsv.rclonelink': '/tmp/something.tsv',
  'subdir/subsubdir2/subsubfile.txt': 'deep file two\n',
  'subdir/subsubdir2/poutrelle.xml': '<b>2</b>\n',
  'subdir/subsubdir2/subsubsubdir/subsubsubdir2/a file': 'spaced name\n',
};
/** The recording's files carry this mtime (the `ModTime` of its `full` listings). */
export const REFERENCE_MTIME = new Date('2026-12-01T09:14:05Z');

export interface ReferenceSetup {
  /** `<R>`: the directory holding the three local repos. */
  readonly root: string;
  /** Repos YAML map, as the reference README gives it. */
  readonly repos: Record<string, Record<string, unknown>>;
  /** Empties the three local trees (the state before each group). */
  clearLocal(): void;
}

/** Writes the reference tree on the shared SFTP server and the three repos on it. */
export function referenceSetup(): ReferenceSetup {
  const { sftp } = sharedServices();
  const remoteName = `test-repo-${Math.random().toString(36).slice(2, 10)}`;
  for (const [name, content] of Object.entries(REFERENCE_TREE)) {
    const file = path.join(sftp.root, remoteName, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
    utimesSync(file, REFERENCE_MTIME, REFERENCE_MTIME);
  }
  const root = tempDir('R');
  const remote = { backend: 'sftp', url: `${sftp.host}:${remoteName}`, port: sftp.port, user: sftp.user, password: sftp.password };
  const repos = {
    [`${root}/test_repo`]: { ...remote, freezable: true, freeze_age: 10 },
    [`${root}/test_repo_exclude`]: { ...remote, exclude: '*xml', freezable: true },
    [`${root}/test_repo_nofreeze`]: { ...remote, freezable: false },
  };
  const clearLocal = (): void => {
    for (const dir of Object.keys(repos)) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir);
    }
  };
  clearLocal();
  return { root, repos, clearLocal };
}

/** Placeholders of the recording replaced by this run's values. */
export function fill(text: string, root: string): string {
  return text.replaceAll('<R>', root);
}

/**
 * The local tree as the recording shows it: file → first 16 hex digits of its SHA-256
 * (found from the data: "top file\n" is 61ef2d06107fb675), symlink → `link:<target>`.
 */
export function localFiles(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string): void => {
    for (const name of readdirSync(path.join(dir, rel))) {
      const child = rel === '' ? name : `${rel}/${name}`;
      const full = path.join(dir, child);
      const stat = lstatSync(full);
      if (stat.isDirectory()) walk(child);
      else if (stat.isSymbolicLink()) out[child] = `link:${readlinkSync(full)}`;
      else out[child] = createHash('sha256').update(readFileSync(full)).digest('hex').slice(0, 16);
    }
  };
  if (existsSync(dir)) walk('');
  return out;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const UUID_IN_TEXT = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
/** RFC 1123, as Flask writes datetimes: `Tue, 01 Dec 2026 09:19:39 GMT`. */
export const HTTP_DATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}/;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A recorded string held against ours: `<ID>` and any uuid stand for a task id, `<TMP>`
 * and `<W>` for temporary paths, an HTTP date for any HTTP date (the recording's clock).
 */
function sameString(expected: string, actual: string, root: string): boolean {
  if (HTTP_DATE.test(expected)) return HTTP_DATE.test(actual);
  const pattern = escapeRegExp(fill(expected, root))
    .replaceAll('<ID>', UUID.source.slice(1, -1))
    .replace(UUID_IN_TEXT, UUID.source.slice(1, -1))
    .replaceAll('<TMP>', '.+')
    .replaceAll('<W>', '.+');
  return new RegExp(`^${pattern}$`).test(actual);
}

/**
 * Differences between a recorded JSON value and ours, as readable lines (none: equal).
 * Objects: every recorded key present with an equal value (Glacis's extra keys allowed).
 * Arrays: the same elements, in any order (listings are not ordered the same way).
 */
export function differences(expected: unknown, actual: unknown, root: string, at = '$'): string[] {
  if (typeof expected === 'string') {
    return typeof actual === 'string' && sameString(expected, actual, root) ? [] : [`${at}: expected ${JSON.stringify(fill(expected, root))}, got ${JSON.stringify(actual)}`];
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [`${at}: expected an array, got ${JSON.stringify(actual)}`];
    if (actual.length !== expected.length) return [`${at}: expected ${expected.length} elements, got ${actual.length}: ${JSON.stringify(actual)}`];
    // Greedy matching is enough: the recorded elements are distinct.
    const left = [...actual];
    const problems: string[] = [];
    for (const [i, element] of expected.entries()) {
      const index = left.findIndex((candidate) => differences(element, candidate, root).length === 0);
      if (index === -1) problems.push(`${at}[${i}]: no element matches ${JSON.stringify(element)} in ${JSON.stringify(actual)}`);
      else left.splice(index, 1);
    }
    return problems;
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return [`${at}: expected an object, got ${JSON.stringify(actual)}`];
    return Object.entries(expected).flatMap(([key, value]) =>
      key in actual ? differences(value, (actual as Record<string, unknown>)[key], root, `${at}.${key}`) : [`${at}.${key}: missing`],
    );
  }
  return Object.is(expected, actual) ? [] : [`${at}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
}

/**
 * An answer held against a recorded one. Errors: same status and keys; the sentence is
 * Glacis's own (it names the repo, the path, the rule), so it is not compared.
 */
export function answerDifferences(recorded: { code: number; json?: unknown }, reply: { status: number; body: unknown }, root: string): string[] {
  if (reply.status !== recorded.code) return [`status: expected ${recorded.code}, got ${reply.status} ${JSON.stringify(reply.body)}`];
  const json = recorded.json as Record<string, unknown> | undefined;
  if (json && typeof json === 'object' && !Array.isArray(json) && typeof json.error === 'string' && json.error !== '' && recorded.code >= 400) {
    const body = reply.body as Record<string, unknown> | undefined;
    if (!body || typeof body.error !== 'string') return [`expected an {"error"} answer, got ${JSON.stringify(reply.body)}`];
    const missing = Object.keys(json).filter((key) => !(key in body));
    return missing.length ? [`keys missing: ${missing.join(', ')} in ${JSON.stringify(body)}`] : [];
  }
  return differences(recorded.json, reply.body, root);
}

/**
 * A task record held against a recorded one: as {@link answerDifferences}, but a failed
 * task's `error` sentence is Glacis's own (Baricadr's quotes rclone's command line and
 * stderr, which Glacis keeps out of answers): only its presence is compared.
 */
export function taskDifferences(recorded: { code: number; json?: unknown }, reply: { status: number; body: unknown }, root: string): string[] {
  const json = recorded.json as Record<string, unknown> | undefined;
  const body = reply.body as Record<string, unknown> | undefined;
  if (reply.status === 200 && json && typeof json.error === 'string' && body) {
    if (typeof body.error !== 'string' || body.error === '') return [`error: expected a sentence, got ${JSON.stringify(body.error)}`];
    return answerDifferences({ code: recorded.code, json: { ...json, error: body.error } }, reply, root);
  }
  return answerDifferences(recorded, reply, root);
}

/**
 * A recorded `shape`: `{"field": "str:http-date" | "str:uuid" | "str" | "null" | "str:iso-date"}`;
 * the fields listed are Baricadr's (Glacis's extra ones are allowed).
 */
export function shapeDifferences(shape: Record<string, string>, value: unknown): string[] {
  if (value === null || typeof value !== 'object') return [`expected an object, got ${JSON.stringify(value)}`];
  const record = value as Record<string, unknown>;
  return Object.entries(shape).flatMap(([key, kind]) => {
    const v = record[key];
    const ok =
      kind === 'null' ? v === null
      : kind === 'str' ? typeof v === 'string'
      : kind === 'str:http-date' ? typeof v === 'string' && HTTP_DATE.test(v)
      : kind === 'str:uuid' ? typeof v === 'string' && UUID.test(v)
      : kind === 'str:iso-date' ? typeof v === 'string' && (v === '' || ISO_DATE.test(v))
      : false;
    return ok ? [] : [`${key}: expected ${kind}, got ${JSON.stringify(v)}`];
  });
}

/** One recorded HTTP request, parsed from the recording's `METHOD /route [json=…|data=…] [headers=…]`. */
export interface ParsedRequest {
  readonly method: string;
  readonly route: string;
  readonly body?: Buffer;
  readonly headers: Record<string, string>;
}

/** Python's `b'…'` literal (as the recording prints it) to bytes. */
function pythonBytes(literal: string): Buffer {
  const inner = literal.slice(2, -1);
  return Buffer.from(inner.replace(/\\(x[0-9a-f]{2}|.)/g, (_m, c: string) => (c.startsWith('x') ? String.fromCharCode(parseInt(c.slice(1), 16)) : c === 'n' ? '\n' : c)), 'latin1');
}

export function parseRequest(request: string, root: string): ParsedRequest {
  const text = fill(request, root);
  const match = /^(GET|POST|DELETE) (\S+)(?: (.*))?$/s.exec(text);
  if (!match) throw new Error(`cannot parse request: ${request}`);
  const [, method, route, rest = ''] = match as unknown as [string, string, string, string | undefined];
  const headers: Record<string, string> = {};
  let body: Buffer | undefined;
  let remaining = rest;
  const headersAt = remaining.lastIndexOf(' headers={');
  if (remaining.startsWith('headers={')) {
    Object.assign(headers, JSON.parse(remaining.slice('headers='.length)));
    remaining = '';
  } else if (headersAt !== -1) {
    Object.assign(headers, JSON.parse(remaining.slice(headersAt + ' headers='.length)));
    remaining = remaining.slice(0, headersAt);
  }
  if (remaining.startsWith('json=')) {
    body = Buffer.from(remaining.slice('json='.length));
    headers['Content-Type'] = 'application/json';
  } else if (remaining.startsWith("data=b'")) {
    body = pythonBytes(remaining.slice('data='.length));
  } else if (remaining.startsWith('data={')) {
    // requests' `data=dict`: a form body.
    const form = JSON.parse(remaining.slice('data='.length).replaceAll("'", '"')) as Record<string, string>;
    body = Buffer.from(new URLSearchParams(form).toString());
    headers['Content-Type'] = 'application/x-www-form-urlencoded';
  } else if (remaining !== '') {
    throw new Error(`cannot parse request body: ${request}`);
  }
  return { method, route, headers, ...(body ? { body } : {}) };
}
