/**
 * The hostile-input corpus: requests that must each be refused with a 4xx JSON error,
 * built against a sandbox laid out so that every escape has somewhere to go.
 *
 * sandbox/
 *   repo/                     the one repository
 *     subdir/local.txt
 *     subdir/up -> ../..      (the sandbox)
 *     escape -> <outside>     absolute symlink out of the repo
 *     rel-escape -> ../outside
 *     secret-link.txt -> <outside>/secret.txt
 *     root-link -> /
 *     loop -> loop
 *   repo-sibling/x            shares the repo's name as a prefix
 *   outside/                  what no request may read, list, write or delete
 *     secret.txt, nested/deeper.txt, unlisted-<uuid>.txt (named by no request)
 *
 * Left out, because the right answer to them is not a refusal:
 * - a pull or freeze of a percent-encoded name inside the repository (`<repo>/%2e%2e/x`):
 *   nothing decodes it, so it is a legal file name; the task is accepted and finds nothing
 *   on the remote (listings of such names are in, as they answer 404);
 * - `GET /tasks?path=/%FF`: the query decoder keeps undecodable escapes as U+FFFD, and a
 *   read-only filter matching nothing rightly answers `[]`;
 * - `GET /tasks` without an HTTP version: Node reads it as HTTP/0.9, a valid request.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { HttpRequest } from '../../helpers/raw-http.js';

export type Category =
  | 'traversal'
  | 'percent-encoded'
  | 'nul-byte'
  | 'symlink'
  | 'outside-path'
  | 'long-path'
  | 'non-utf8'
  | 'wrong-type'
  | 'too-large'
  | 'deep-nesting'
  | 'email'
  | 'unknown-field'
  | 'malformed-http';

/** One hostile request: over HTTP, or as raw bytes on a socket. */
export interface HostileCase {
  readonly category: Category;
  readonly name: string;
  readonly request?: HttpRequest;
  readonly raw?: Buffer;
}

export interface HostileTree {
  readonly sandbox: string;
  readonly repo: string;
  readonly outside: string;
  /** Text of every file under `outside`: none may ever appear in an answer. */
  readonly canaries: readonly string[];
  /** A file under `outside` that no request names: listing it back would show it. */
  readonly unlistedName: string;
}

/**
 * Lays out the sandbox described above.
 *
 * @example
 * ```ts
 * const tree = buildHostileTree(tempDir('hostile'));
 * ```
 */
export function buildHostileTree(sandbox: string): HostileTree {
  const repo = path.join(sandbox, 'repo');
  const outside = path.join(sandbox, 'outside');
  const unlistedName = `unlisted-${randomUUID()}.txt`;
  const files: Record<string, string> = {
    'secret.txt': `canary ${randomUUID()} secret\n`,
    'nested/deeper.txt': `canary ${randomUUID()} deeper\n`,
    [unlistedName]: `canary ${randomUUID()} unlisted\n`,
  };
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(outside, name)), { recursive: true });
    writeFileSync(path.join(outside, name), text);
  }
  mkdirSync(path.join(repo, 'subdir'), { recursive: true });
  writeFileSync(path.join(repo, 'subdir/local.txt'), 'a local file\n');
  mkdirSync(path.join(sandbox, 'repo-sibling'));
  writeFileSync(path.join(sandbox, 'repo-sibling/x'), 'not in the repo\n');
  symlinkSync('../..', path.join(repo, 'subdir/up'));
  symlinkSync(outside, path.join(repo, 'escape'));
  symlinkSync('../outside', path.join(repo, 'rel-escape'));
  symlinkSync(path.join(outside, 'secret.txt'), path.join(repo, 'secret-link.txt'));
  symlinkSync('/', path.join(repo, 'root-link'));
  symlinkSync('loop', path.join(repo, 'loop'));
  return { sandbox, repo, outside, canaries: Object.values(files).map((t) => t.trim()), unlistedName };
}

const PATH_ROUTES = ['/pull', '/freeze', '/list', '/tree'] as const;
const SUBMIT_ROUTES = ['/pull', '/freeze'] as const;
const LISTING_ROUTES = ['/list', '/tree'] as const;
const TASK_ROUTES: ReadonlyArray<readonly [string, string]> = [
  ['GET', '/tasks/status/'],
  ['GET', '/tasks/log/'],
  ['GET', '/tasks/remove/'],
  ['DELETE', '/tasks/'],
];

const post = (route: string, body: string | Buffer, headers?: Record<string, string>): HttpRequest => ({
  method: 'POST',
  route,
  body,
  ...(headers ? { headers } : {}),
});
const postJson = (route: string, value: unknown): HttpRequest => post(route, JSON.stringify(value));
const get = (route: string, method = 'GET'): HttpRequest => ({ method, route });
const rawRequest = (head: string, encoding: BufferEncoding = 'latin1'): Buffer => Buffer.from(`${head}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`, encoding);

/** `[[[…]]]` `depth` levels deep. */
const nestedArray = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
/** `{"a":{"a":…{}}}` `depth` levels deep. */
const nestedObject = (depth: number): string => '{"a":'.repeat(depth) + '{}' + '}'.repeat(depth);

/**
 * Every hostile request, against `tree`. Requests that name a valid path do so only to
 * get past the path check to the field under test.
 *
 * @example
 * ```ts
 * for (const c of hostileCorpus(tree, remoteDir)) await send(url, c.request!);
 * ```
 */
export function hostileCorpus(tree: HostileTree, remoteDir: string): HostileCase[] {
  const { repo, outside, sandbox } = tree;
  const valid = `${repo}/subdir`;
  const cases: HostileCase[] = [];
  const add = (category: Category, name: string, request: HttpRequest): void => void cases.push({ category, name, request });
  const addRaw = (category: Category, name: string, raw: Buffer): void => void cases.push({ category, name, raw });
  const eachPathRoute = (category: Category, name: string, body: (route: string) => HttpRequest, routes: readonly string[] = PATH_ROUTES): void => {
    for (const route of routes) add(category, `${route} ${name}`, body(route));
  };
  const withPath = (category: Category, name: string, p: string, routes: readonly string[] = PATH_ROUTES): void =>
    eachPathRoute(category, name, (route) => postJson(route, { path: p }), routes);

  // Traversal with "..": each normalises to somewhere outside the repository.
  withPath('traversal', 'repo/..', `${repo}/..`);
  withPath('traversal', 'repo/../outside', `${repo}/../outside`);
  withPath('traversal', 'repo/subdir/../../outside/secret.txt', `${repo}/subdir/../../outside/secret.txt`);
  withPath('traversal', 'repo/../../../../../../etc/passwd', `${repo}/../../../../../../etc/passwd`);
  withPath('traversal', 'repo/./../repo-sibling/x', `${repo}/./../repo-sibling/x`);
  withPath('traversal', '/../../<outside>', `/../..${outside}`);
  withPath('traversal', 'repo/subdir/../../../ (the root)', `${repo}/subdir/../../../`);

  // Percent-encoding: never decoded, so either relative or a name outside the repository…
  withPath('percent-encoded', '%2Fetc%2Fpasswd', '%2Fetc%2Fpasswd');
  withPath('percent-encoded', '..%2F..%2Fetc%2Fpasswd', '..%2F..%2Fetc%2Fpasswd');
  withPath('percent-encoded', 'the outside dir, encoded whole', encodeURIComponent(outside));
  withPath('percent-encoded', '<outside>/%2e%2e/%2e%2e<repo>', `${outside}/%2e%2e/%2e%2e${repo}`);
  withPath('percent-encoded', '<repo>%2F..%2F..%2Fetc', `${repo}%2F..%2F..%2Fetc`);
  // …or a literal name inside it that the remote does not hold (a listing answers 404).
  withPath('percent-encoded', '<repo>/%2e%2e/%2e%2e/etc/passwd', `${repo}/%2e%2e/%2e%2e/etc/passwd`, LISTING_ROUTES);
  withPath('percent-encoded', '<repo>/..%2f..%2f..%2fetc%2fpasswd', `${repo}/..%2f..%2f..%2fetc%2fpasswd`, LISTING_ROUTES);
  withPath('percent-encoded', '<repo>/subdir/%2e%2e%2f%2e%2e%2foutside', `${repo}/subdir/%2e%2e%2f%2e%2e%2foutside`, LISTING_ROUTES);
  // In the URL: ids that decode to paths are still only ids.
  for (const [method, prefix] of TASK_ROUTES) {
    add('percent-encoded', `${method} ${prefix}..%2F..%2Fetc%2Fpasswd`, get(`${prefix}..%2F..%2Fetc%2Fpasswd`, method));
    add('percent-encoded', `${method} ${prefix}%2e%2e%2f%2e%2e%2foutside (double-encoded)`, get(`${prefix}%252e%252e%252f%252e%252e%252foutside`, method));
    add('percent-encoded', `${method} ${prefix}<outside secret, encoded>`, get(`${prefix}${encodeURIComponent(`${outside}/secret.txt`)}`, method));
  }
  add('percent-encoded', 'GET /%2e%2e/%2e%2e/etc/passwd', get('/%2e%2e/%2e%2e/etc/passwd'));
  add('percent-encoded', 'GET /tasks/log/..%5c..%5cetc%5cpasswd', get('/tasks/log/..%5c..%5cetc%5cpasswd'));
  add('percent-encoded', 'POST /pull%2f..%2flist', post('/pull%2f..%2flist', JSON.stringify({ path: valid })));
  add('percent-encoded', 'GET /admin/queues/api/queue/..%2f..%2f..%2fetc%2fpasswd', get('/admin/queues/api/queues/..%2f..%2f..%2fetc%2fpasswd/jobs'));

  // NUL bytes, which C-level path functions would stop at.
  withPath('nul-byte', '<repo>/subdir\\0/x', `${repo}/subdir\u0000/x`);
  withPath('nul-byte', '<repo>\\0/../../etc/passwd', `${repo}\u0000/../../etc/passwd`);
  withPath('nul-byte', '<repo>/subdir/local.txt\\0.jpg', `${repo}/subdir/local.txt\u0000.jpg`);
  withPath('nul-byte', 'a lone NUL', '\u0000');
  eachPathRoute('nul-byte', 'email with a NUL', (route) => postJson(route, { path: valid, email: 'ada@example.org\u0000bcc@example.org' }), SUBMIT_ROUTES);
  add('nul-byte', 'GET /tasks/status/%00', get('/tasks/status/%00'));
  add('nul-byte', 'GET /tasks/log/..%00/etc/passwd', get('/tasks/log/..%00%2f..%2fetc%2fpasswd'));

  // Symlinks inside the repository that lead out of it.
  withPath('symlink', 'escape (abs symlink to outside)', `${repo}/escape`);
  withPath('symlink', 'escape/secret.txt', `${repo}/escape/secret.txt`);
  withPath('symlink', 'escape/not/yet/there', `${repo}/escape/not/yet/there`);
  withPath('symlink', 'rel-escape/nested/deeper.txt', `${repo}/rel-escape/nested/deeper.txt`);
  withPath('symlink', 'secret-link.txt (symlink to an outside file)', `${repo}/secret-link.txt`);
  withPath('symlink', 'root-link/etc/passwd', `${repo}/root-link/etc/passwd`);
  withPath('symlink', 'loop/x (a symlink loop)', `${repo}/loop/x`);
  withPath('symlink', 'subdir/up/outside (symlink to the sandbox)', `${repo}/subdir/up/outside`);

  // Absolute paths outside every repository.
  for (const [name, p] of [
    ['/', '/'],
    ['/etc/passwd', '/etc/passwd'],
    ['/proc/self/environ', '/proc/self/environ'],
    ['<outside>', outside],
    ['<outside>/secret.txt', `${outside}/secret.txt`],
    ['<sandbox>', sandbox],
    ['<repo>-sibling/x', `${repo}-sibling/x`],
    ['//etc//passwd', '//etc//passwd'],
    ['the remote directory itself', `${remoteDir}/file1.txt`],
    ['/root/.ssh/id_rsa', '/root/.ssh/id_rsa'],
  ] as const) {
    withPath('outside-path', name, p);
  }

  // Very long paths, in the body and in the URL.
  withPath('long-path', '5000-byte path', `${repo}/${'a'.repeat(5000)}`);
  withPath('long-path', 'a 300-byte component (NAME_MAX is 255)', `${repo}/subdir/${'b'.repeat(300)}`);
  withPath('long-path', '2100 nested directories', `${repo}/${'d/'.repeat(2100)}x`);
  withPath('long-path', '2100 two-byte characters (4200 bytes)', `${repo}/${'é'.repeat(2100)}`);
  withPath('long-path', 'half a megabyte', `${repo}/${'x'.repeat(500_000)}`);
  add('long-path', 'GET /tasks/status/<5000 chars>', get(`/tasks/status/${'a'.repeat(5000)}`));
  add('long-path', 'GET /tasks/log/<100000 chars> (over the header limit)', get(`/tasks/log/${'a'.repeat(100_000)}`));
  add('long-path', 'GET /tasks?path=<5000 chars>', get(`/tasks?path=/${'p'.repeat(5000)}`));

  // Not UTF-8: raw bytes in the body, overlong encodings of "/" and ".", lone surrogates.
  const jsonBytes = (prefix: string, bytes: number[], suffix: string): Buffer =>
    Buffer.concat([Buffer.from(prefix, 'utf8'), Buffer.from(bytes), Buffer.from(suffix, 'utf8')]);
  eachPathRoute('non-utf8', 'path with bytes FF FE', (route) => post(route, jsonBytes(`{"path":"${repo}/subdir/`, [0xff, 0xfe], '"}')));
  eachPathRoute('non-utf8', 'path with overlong "../" (C0 AE C0 AE C0 AF)', (route) =>
    post(route, jsonBytes(`{"path":"${repo}/subdir/`, [0xc0, 0xae, 0xc0, 0xae, 0xc0, 0xaf], 'x"}')),
  );
  eachPathRoute('non-utf8', 'path with a lone surrogate (\\ud800)', (route) => post(route, `{"path":"${repo}/subdir/\\ud800"}`));
  eachPathRoute('non-utf8', 'path with a truncated sequence (E2 82)', (route) => post(route, jsonBytes(`{"path":"${repo}/subdir/`, [0xe2, 0x82], '"}')));
  eachPathRoute('non-utf8', 'email with byte FF', (route) => post(route, jsonBytes(`{"path":"${valid}","email":"ada`, [0xff], '@example.org"}')), SUBMIT_ROUTES);
  add('non-utf8', 'POST /pull as latin1', post('/pull', Buffer.from(JSON.stringify({ path: `${valid}/é` }), 'latin1'), { 'content-type': 'application/json; charset=latin1' }));
  add('non-utf8', 'POST /pull as UTF-16LE, naming /etc/passwd', post('/pull', Buffer.from(JSON.stringify({ path: '/etc/passwd' }), 'utf16le'), { 'content-type': 'application/json; charset=utf-16le' }));
  add('non-utf8', 'GET /tasks/status/%FF%FE', get('/tasks/status/%FF%FE'));
  add('non-utf8', 'GET /tasks/log/%C0%AE%C0%AE%C0%AF', get('/tasks/log/%C0%AE%C0%AE%C0%AF'));
  addRaw('non-utf8', 'raw byte FF in the URL', rawRequest('GET /tasks/status/\xff\xfe HTTP/1.1'));
  addRaw('non-utf8', 'raw byte FF in a header value', Buffer.from(`POST /pull HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json; charset=\xff\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`, 'latin1'));

  // Wrong JSON types.
  for (const [name, value] of [['a number', 42], ['a boolean', true], ['a list', [repo]], ['an object', { path: repo }], ['empty', '']] as const) {
    withPath('wrong-type', `path as ${name}`, value as unknown as string);
  }
  for (const [name, value] of [['a number', 5], ['a boolean', true], ['a list', ['ada@example.org']], ['an object', { to: 'ada@example.org' }]] as const) {
    eachPathRoute('wrong-type', `email as ${name}`, (route) => postJson(route, { path: valid, email: value }), SUBMIT_ROUTES);
  }
  // null is "not given" and "yes"/"1" are true, as Baricadr reads them: not hostile.
  for (const value of ['maybe', 2, {}, []]) {
    eachPathRoute('wrong-type', `dry_run ${JSON.stringify(value)}`, (route) => postJson(route, { path: valid, dry_run: value }), SUBMIT_ROUTES);
  }
  add('wrong-type', '/freeze force "oui"', postJson('/freeze', { path: valid, force: 'oui' }));
  for (const value of [-1, 1.5, 'abc', 10_001, true, {}, [1]]) {
    eachPathRoute('wrong-type', `max_depth ${JSON.stringify(value)}`, (route) => postJson(route, { path: valid, max_depth: value }), LISTING_ROUTES);
  }
  for (const field of ['missing', 'full', 'from_root']) add('wrong-type', `/list ${field} "maybe"`, postJson('/list', { path: valid, [field]: 'maybe' }));
  for (const [name, body] of [['a list', '[]'], ['a string', '"/etc/passwd"'], ['a number', '123'], ['null', 'null'], ['true', 'true']] as const) {
    eachPathRoute('wrong-type', `body is ${name}`, (route) => post(route, body));
  }
  for (const query of ['status=bogus', 'status=finished&status=failed', 'type=zap', 'limit=-1', 'limit=abc', 'offset=1e9', 'path=relative', 'path[]=/etc']) {
    add('wrong-type', `GET /tasks?${query}`, get(`/tasks?${query}`));
  }

  // Bodies over 1 MB: announced, chunked, or hidden in nesting.
  const big = JSON.stringify({ path: valid, email: 'x'.repeat(1024 * 1024) });
  eachPathRoute('too-large', '1 MB email, with a length', (route) => post(route, big));
  eachPathRoute('too-large', '1 MB email, chunked', (route) => ({ ...post(route, big), chunked: true }));
  add('too-large', '5 MB path', postJson('/pull', { path: `${repo}/${'z'.repeat(5 * 1024 * 1024)}` }));
  add('too-large', '1.2 MB of nesting', post('/list', `{"path":${nestedArray(600_000)}}`));

  // Deeply nested JSON, under the size limit.
  eachPathRoute('deep-nesting', 'path as 100000 nested lists', (route) => post(route, `{"path":${nestedArray(100_000)}}`));
  eachPathRoute('deep-nesting', 'path as 50000 nested objects', (route) => post(route, `{"path":${nestedObject(50_000)}}`));
  eachPathRoute('deep-nesting', 'an unknown field of 100000 nested lists', (route) => post(route, `{"path":"${valid}","x":${nestedArray(100_000)}}`));
  eachPathRoute('deep-nesting', 'the body as 100000 nested lists', (route) => post(route, nestedArray(100_000)));
  eachPathRoute('deep-nesting', 'email as 50000 nested objects', (route) => post(route, `{"path":"${valid}","email":${nestedObject(50_000)}}`), SUBMIT_ROUTES);
  eachPathRoute('deep-nesting', 'max_depth as 100000 nested lists', (route) => post(route, `{"path":"${valid}","max_depth":${nestedArray(100_000)}}`), LISTING_ROUTES);

  // Invalid emails, and mail-header injection through the email field.
  for (const email of [
    'not-an-email',
    'ada@example.org\r\nBcc: eve@example.org',
    'ada@example.org\nBcc: eve@example.org',
    'ada@example.org\rBcc: eve@example.org',
    'ada@example.org\r\n\r\nforged body',
    'ada@example.org\r\nSubject: forged',
    'ada@example.org, eve@example.org',
    'ada@example.org;eve@example.org',
    'Ada <ada@example.org>',
    '"ada\r\nBcc: eve@example.org"@example.org',
    'ada@example.org%0d%0aBcc:eve@example.org',
    'ada@example.org\u2028Bcc: eve@example.org',
    'ada@example.org\u0085Bcc: eve@example.org',
    'ada@example.org\tBcc: eve@example.org',
    '@example.org',
    'ada@',
    'ada@example',
    'ada@-example.org',
    `${'x'.repeat(300)}@example.org`,
    'ada lovelace@example.org',
  ]) {
    eachPathRoute('email', `email ${JSON.stringify(email).slice(0, 60)}`, (route) => postJson(route, { path: valid, email }), SUBMIT_ROUTES);
  }

  // Unknown fields, including ones that would be special to a careless object merge.
  for (const field of ['recursive', '__proto__', 'constructor', 'Path', 'path ', 'task_id']) {
    eachPathRoute('unknown-field', `field ${JSON.stringify(field)}`, (route) => post(route, `{"path":${JSON.stringify(valid)},${JSON.stringify(field)}:{"polluted":true}}`));
  }
  add('unknown-field', '/pull with force', postJson('/pull', { path: valid, force: true }));
  add('unknown-field', '/tree with missing', postJson('/tree', { path: valid, missing: true }));
  add('unknown-field', '/pull with max_depth', postJson('/pull', { path: valid, max_depth: 0 }));
  add('unknown-field', '/list with email', postJson('/list', { path: valid, email: 'ada@example.org' }));
  add('unknown-field', 'GET /tasks?__proto__=x', get('/tasks?__proto__=x'));

  // HTTP the parser refuses.
  addRaw('malformed-http', 'garbage request line', Buffer.from('HELLO\r\n\r\n'));
  addRaw('malformed-http', 'an invalid method', rawRequest('G@T /tasks HTTP/1.1'));
  addRaw('malformed-http', 'an unknown HTTP version', rawRequest('GET /tasks HTTP/x.y'));
  addRaw('malformed-http', 'header without a colon', Buffer.from('GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\nConnection: close\r\n\r\n'));
  addRaw('malformed-http', 'CR LF injected in a header value', Buffer.from('GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\rBcc: b\r\nConnection: close\r\n\r\n'));
  addRaw('malformed-http', 'both Content-Length and chunked', Buffer.from(`POST /pull HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n`));
  addRaw('malformed-http', 'invalid chunk size', Buffer.from(`POST /pull HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`));
  addRaw('malformed-http', '64 KB of headers', Buffer.from(`GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'h'.repeat(64 * 1024)}\r\nConnection: close\r\n\r\n`));
  add('malformed-http', 'gzip that is not gzip', post('/pull', 'not gzip at all', { 'content-encoding': 'gzip' }));
  add('malformed-http', 'an unknown content-encoding', post('/pull', JSON.stringify({ path: valid }), { 'content-encoding': 'compress' }));
  return cases;
}
