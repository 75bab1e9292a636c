/**
 * Dependencies point one way: a folder of src/ imports only from its own layer or lower ones
 * (issue 14 §1). The order, lowest first, and why each sits where it does:
 *
 *   0 text                 plain values: words, mail addresses, value parsers
 *   1 paths, config, log   request paths and excludes; local.cfg and the repos file; the logger
 *   2 rclone               the rclone driver
 *   3 freeze, policy       the freeze decision and matcher; age, report and watermark policy
 *                          (pure rules and their words: no record, queue or lock)
 *   4 store, queue, locks, wire   task records, BullMQ, path locks, the API's wire shapes; the
 *                          task log renders its events in the freeze rules' words (store
 *                          above freeze: src/store/task-events.ts reads freeze/summary.ts)
 *   5 tasks, workers, notify, metrics   running a task: its kind, the job processing, the
 *                          mail at its end, the counters it bumps (they read each other)
 *   6 services, schedule   what the API and the schedulers ask for
 *   7 api                  the REST API
 *   8 runtime              the wiring of a process (serve, worker)
 *   9 cli                  the command: `glacis serve` starts the runtime
 *
 * Before this test, src/config and src/notify imported src/services (mail addresses) and
 * src/workers imported src/services (remote paths). The same table is in README.md's
 * development section: keep both equal.
 *
 * The wire shapes (src/wire) are read by the web page's bundle and by clients: they and all
 * they import, even as types, reach no node module and no package but zod; the page imports
 * nothing else from src/ but the store's words (src/store/vocabulary.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const SRC = path.join(ROOT, 'src');

const LAYERS: readonly (readonly string[])[] = [
  ['text'],
  ['paths', 'config', 'log'],
  ['rclone'],
  ['freeze', 'policy', 'push'],
  ['store', 'queue', 'locks', 'wire'],
  ['tasks', 'workers', 'notify', 'metrics'],
  ['services', 'schedule'],
  ['api'],
  ['runtime'],
  ['cli'],
];

const layerOf = new Map<string, number>(LAYERS.flatMap((folders, layer) => folders.map((folder) => [folder, layer] as const)));

/** Every module specifier a TypeScript source imports or re-exports, statically or dynamically (`import type` too: a type is a dependency). */
function importsOf(source: string): string[] {
  const specifiers: string[] = [];
  // Statements start a line; `[^;]*?` spans a multi-line `{ … }` list. Comments are not
  // statements, so an `import` in a doc example (which starts with ` * `) is not one.
  for (const match of source.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s*'([^']+)'/gm)) specifiers.push(match[1]!);
  for (const match of source.matchAll(/^import\s*'([^']+)'/gm)) specifiers.push(match[1]!);
  for (const match of source.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)) specifiers.push(match[1]!);
  return specifiers;
}

/** The top folder of src/ a file lies in ('' for a file directly in src/). */
function folderOf(file: string): string {
  const relative = path.relative(SRC, file).split(path.sep);
  return relative.length > 1 ? relative[0]! : '';
}

/** Upward imports of one file, as readable lines; `file` is an absolute path under src/. */
function upwardImports(file: string, source: string): string[] {
  const from = folderOf(file);
  const fromLayer = layerOf.get(from);
  const found: string[] = [];
  for (const specifier of importsOf(source)) {
    if (!specifier.startsWith('.')) continue;
    const target = path.resolve(path.dirname(file), specifier);
    if (!target.startsWith(SRC + path.sep)) continue;
    const to = folderOf(target);
    const toLayer = layerOf.get(to);
    if (to === from || fromLayer === undefined || toLayer === undefined) continue;
    if (toLayer > fromLayer) found.push(`${path.relative(ROOT, file)} imports ${specifier}: ${from} (layer ${fromLayer}) → ${to} (layer ${toLayer})`);
  }
  return found;
}

function sourcesUnder(directory: string): string[] {
  return fs
    .readdirSync(directory, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.tsx?$/.test(entry.name))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

describe('dependency direction', () => {
  it('places every folder of src/ in a layer', () => {
    const folders = fs
      .readdirSync(SRC, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    expect(folders.filter((folder) => !layerOf.has(folder))).toEqual([]);
    expect(sourcesUnder(SRC).filter((file) => folderOf(file) === '')).toEqual([]);
  });

  it('has no import from a lower layer to a higher one', () => {
    const violations = sourcesUnder(SRC).flatMap((file) => upwardImports(file, fs.readFileSync(file, 'utf8')));
    expect(violations).toEqual([]);
  });

  it('finds an upward import however it is written', () => {
    const file = path.join(SRC, 'config', 'settings.ts');
    const sources = [
      "import { isEmailAddress } from '../services/email.js';",
      "import type { Task } from '../services/task-service.js';",
      "import {\n  a,\n  b,\n} from '../api/app.js';",
      "export { x } from '../workers/index.js';",
      "const load = () => import('../runtime/index.js');",
      "import '../notify/mailer.js';",
    ];
    for (const source of sources) expect(upwardImports(file, source), source).toHaveLength(1);
    // Same layer, lower layer, a package, a doc comment: none is upward.
    const fine = [
      "import { log } from '../log/index.js';",
      "import { plural } from '../text/plural.js';",
      "import { z } from 'zod';",
      " * import { Rclone } from '../rclone/index.js';",
      "import { parse } from './local-cfg.js';",
    ];
    for (const source of fine) expect(upwardImports(file, source), source).toEqual([]);
  });
});

/** Every file a source imports, transitively, from `file` on (relative imports only), with the packages they name. */
function closure(file: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (current: string): void => {
    if (files.has(current)) return;
    files.add(current);
    for (const specifier of importsOf(fs.readFileSync(current, 'utf8'))) {
      if (specifier.startsWith('.')) visit(path.resolve(path.dirname(current), specifier).replace(/\.js$/, '.ts'));
      else packages.add(specifier);
    }
  };
  visit(file);
  return { files, packages };
}

describe('the wire shapes and the web page', () => {
  it('src/wire reaches no node module and no package but zod, even through types', () => {
    const { files, packages } = closure(path.join(SRC, 'wire', 'index.ts'));
    expect([...packages]).toEqual(['zod']);
    expect([...files].map((file) => path.relative(ROOT, file)).sort()).toEqual(['src/config/types.ts', 'src/store/vocabulary.ts', 'src/wire/index.ts']);
  });

  it('the page imports from src/ only the wire shapes and the store\'s words', () => {
    const web = path.join(ROOT, 'web', 'src');
    const reached = sourcesUnder(web).flatMap((file) =>
      importsOf(fs.readFileSync(file, 'utf8'))
        .filter((specifier) => specifier.startsWith('.'))
        .map((specifier) => path.resolve(path.dirname(file), specifier))
        .filter((target) => target.startsWith(SRC + path.sep))
        .map((target) => path.relative(ROOT, target)),
    );
    expect(reached.length).toBeGreaterThan(0);
    expect(reached.filter((target) => !['src/wire/index.js', 'src/store/vocabulary.js'].includes(target))).toEqual([]);
  });
});
