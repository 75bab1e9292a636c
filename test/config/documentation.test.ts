/**
 * The configuration documentation names exactly the keys the code reads, so neither can
 * drift: local.example.cfg and docs/configuration.md's settings reference against the settings module's
 * key list, repos.example.yaml and its repos file reference against the repos
 * module's. (test/config/settings.test.ts and repos.test.ts check that the documented
 * defaults are the real ones and the examples load.)
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, isScalar, parseDocument, type Pair } from 'yaml';
import { describe, expect, it } from 'vitest';
import { BACKEND_KEYS, COMMON_KEYS } from '../../src/config/repos.js';
import { SETTING_NAMES } from '../../src/config/settings.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (file: string): string => fs.readFileSync(path.join(repoRoot, file), 'utf8');

/** Each setting's key, then the names it is also read under. */
const NAMES: ReadonlyArray<readonly string[]> = Object.values(SETTING_NAMES);
const PRIMARY_KEYS = NAMES.map((names) => names[0]!);
const ALL_KEYS = NAMES.flat();
const BACKENDS = Object.keys(BACKEND_KEYS) as Array<keyof typeof BACKEND_KEYS>;

/** The text of a markdown section: from its heading to the next heading of the same level or above. */
function section(markdown: string, heading: string): string {
  const level = /^#+/.exec(heading)![0].length;
  const start = markdown.indexOf(`\n${heading}\n`);
  expect(start, `the document has a "${heading}" section`).toBeGreaterThanOrEqual(0);
  const rest = markdown.slice(start + heading.length + 2);
  const end = rest.search(new RegExp(`^#{1,${level}} `, 'm'));
  return end < 0 ? rest : rest.slice(0, end);
}

/** The cells of each body row of the markdown tables in `text`. */
function tableRows(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('| ') && !/^\|\s*(key|---)/.test(line))
    .map((line) => line.slice(1, -1).split(' | ').map((cell) => cell.trim()));
}

const backticked = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((match) => match[1]!);

describe('local.example.cfg', () => {
  const text = read('local.example.cfg');
  const lines = text.split('\n');
  /** `KEY = value` lines, commented out or not, by key. */
  const documented = new Map<string, number>();
  lines.forEach((line, index) => {
    const key = /^(?:# )?([A-Z][A-Z0-9_]*) = /.exec(line)?.[1];
    if (key !== undefined) documented.set(key, index);
  });

  it('has one KEY = value line for each setting, and none for a key the code does not read', () => {
    expect([...documented.keys()].sort()).toEqual([...PRIMARY_KEYS].sort());
  });

  it('names the other names a setting is read under (Baricadr\'s)', () => {
    for (const [key, ...aliases] of NAMES) {
      for (const alias of aliases) expect(text, `${key}'s alias ${alias}`).toMatch(new RegExp(`\\b${alias}\\b`));
    }
  });

  it('gives each key its default in the comment above it', () => {
    for (const [key, index] of documented) {
      // The comment block above the line, across the KEY = lines of keys documented together (HOST and PORT).
      const above: string[] = [];
      for (let i = index - 1; i >= 0 && lines[i]!.startsWith('#'); i--) above.unshift(lines[i]!);
      expect(above.join('\n'), key).toMatch(/Default/);
    }
  });
});

describe('repos.example.yaml', () => {
  const text = read('repos.example.yaml');

  it('lists the keys of every backend, with default and allowed values, in its header', () => {
    const header = text.slice(text.indexOf('# Keys valid for every backend'), text.indexOf('\n#\n', text.indexOf('# Keys valid for every backend')));
    const entries = [...header.matchAll(/^# {3}(\w+): +(\S.*)$/gm)].map((match) => ({ key: match[1]!, doc: match[2]! }));
    expect(entries.map((entry) => entry.key).sort()).toEqual(['backend', ...COMMON_KEYS].sort());
    // "default. allowed values…"; the default is a value, "none" or REQUIRED.
    for (const { key, doc } of entries) expect(doc, key).toMatch(/^(REQUIRED|none|false|true|\d+|size|changes)\. \S/);
  });

  it('shows each backend\'s own keys on an example, each with a comment saying its default and values', () => {
    // The repo map as YAML, examples uncommented (the key reference above them is not YAML).
    const examples = text
      .slice(text.indexOf('\n./demo/'))
      .split('\n')
      .map((line) => line.replace(/^# (\/data\/|  )/, '$1'))
      .join('\n');
    const doc = parseDocument(examples);
    expect(doc.errors).toEqual([]);
    expect(isMap(doc.contents)).toBe(true);
    const shown = new Map<string, Set<string>>();
    for (const repo of (doc.contents as { items: Pair[] }).items) {
      expect(isMap(repo.value)).toBe(true);
      const settings = (repo.value as { items: Pair[] }).items;
      const backend = String((settings.find((pair) => String(pair.key) === 'backend')?.value as { value: unknown }).value);
      for (const pair of settings) {
        const key = String(pair.key);
        if (!BACKEND_KEYS[backend as keyof typeof BACKEND_KEYS]?.includes(key)) continue;
        const value = pair.value as { comment?: string; commentBefore?: string } | null;
        const comment = (isScalar(value) ? value.comment : value?.commentBefore) ?? '';
        expect(comment.trim(), `${String(repo.key)}: ${key}`).toMatch(/^(REQUIRED|none|""|\{\}|\d+)( \([^)]*\))?[.;] \S/);
        shown.set(backend, (shown.get(backend) ?? new Set()).add(key));
      }
    }
    for (const backend of BACKENDS) expect([...(shown.get(backend) ?? [])].sort(), backend).toEqual([...BACKEND_KEYS[backend]].sort());
  });
});

describe('docs/configuration.md', () => {
  const configuration = section(read('docs/configuration.md'), '## Configuration');

  it('has a settings reference row for each setting, its other names included', () => {
    const rows = tableRows(section(configuration, '### Settings reference (local.cfg)'));
    const named = rows.flatMap((cells) => backticked(cells[0]!));
    expect([...named].sort()).toEqual([...ALL_KEYS].sort());
    for (const cells of rows) expect(cells.length, cells[0]).toBe(4);
    for (const cells of rows) expect(cells.slice(1, 3).every((cell) => cell !== ''), cells[0]).toBe(true);
  });

  it('has a repos file reference row for each key of each backend', () => {
    const rows = tableRows(section(configuration, '### Repos file reference'));
    const documented = rows.flatMap((cells) => {
      const backends = cells[1] === 'all' ? ['all'] : backticked(cells[1]!);
      return backticked(cells[0]!).flatMap((key) => backends.map((backend) => `${backend}: ${key}`));
    });
    const expected = [
      'all: backend',
      ...COMMON_KEYS.map((key) => `all: ${key}`),
      ...BACKENDS.flatMap((backend) => BACKEND_KEYS[backend].map((key) => `${backend}: ${key}`)),
    ];
    expect([...documented].sort()).toEqual([...expected].sort());
    for (const cells of rows) expect(cells.length, cells[0]).toBe(5);
  });
});
