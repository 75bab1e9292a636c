/**
 * The Dockerfile, checked without a Docker engine: the build context carries what the build
 * copies, dependencies are installed the way scripts/setup.sh installs them, and the final
 * image holds what `glacis serve` and `glacis worker` need at run time.
 */
import { readdirSync, readlinkSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  REPO_ROOT,
  copySources,
  execForm,
  inBuildContext,
  parseDockerfile,
  repoFile,
  unreadSettingKeys,
  type Instruction,
} from './deploy-files.js';

const instructions = parseDockerfile(repoFile('Dockerfile'));
const dockerignore = repoFile('.dockerignore');
const stages = [...new Set(instructions.map((i) => i.stage))];
const finalStage = stages.at(-1)!;

function inStage(stage: string, keyword?: string): Instruction[] {
  return instructions.filter((i) => i.stage === stage && (keyword === undefined || i.keyword === keyword));
}

/** The stage and its ancestors (`FROM <stage>`), the first stage first. */
function lineage(stage: string): string[] {
  const from = inStage(stage, 'FROM')[0]!.args.split(/\s+/)[0]!;
  return stages.includes(from) ? [...lineage(from), stage] : [stage];
}

function lastInLineage(stage: string, keyword: string): Instruction | undefined {
  return lineage(stage).flatMap((s) => inStage(s, keyword)).at(-1);
}

/** Every file below `relative` (a file or directory of the checkout). */
function filesUnder(relative: string): string[] {
  const full = path.join(REPO_ROOT, relative);
  if (!statSync(full).isDirectory()) return [relative];
  return readdirSync(full).flatMap((name) => filesUnder(path.posix.join(relative, name)));
}

function argDefault(name: string): string | undefined {
  const arg = instructions.find((i) => i.keyword === 'ARG' && i.args.startsWith(`${name}=`));
  return arg?.args.slice(name.length + 1);
}

describe('Dockerfile', () => {
  it('builds the runtime image last, so that a plain `docker build` gives it', () => {
    expect(finalStage).toBe('runtime');
    expect(stages).toEqual(expect.arrayContaining(['base', 'deps', 'build', 'prod-deps', 'dev', 'runtime']));
  });

  it('runs on a slim image of the Node major version package.json requires', () => {
    const engines = (JSON.parse(repoFile('package.json')) as { engines: { node: string } }).engines.node;
    const major = /^>=(\d+)\./.exec(engines)?.[1];
    const image = argDefault('NODE_IMAGE');
    expect(image).toMatch(new RegExp(`^node:${major}(\\.\\d+)*-[a-z]+-slim$`));
    for (const stage of lineage(finalStage)) {
      const from = inStage(stage, 'FROM')[0]!.args.split(/\s+/)[0];
      expect(from === '${NODE_IMAGE}' || stages.includes(from!)).toBe(true);
    }
  });

  it('installs rclone, tini and setpriv in the image glacis runs in', () => {
    const apt = lineage(finalStage).flatMap((s) => inStage(s, 'RUN')).map((i) => i.args).join(' ');
    for (const pkg of ['rclone', 'tini', 'util-linux', 'ca-certificates']) expect(apt).toMatch(new RegExp(`apt-get install[^&]*\\b${pkg}\\b`));
    const env = lineage(finalStage).flatMap((s) => inStage(s, 'ENV')).map((i) => i.args).join(' ');
    expect(env).toMatch(/RCLONE_EXECUTABLE=\/usr\/bin\/rclone/);
  });

  it('sets in the image only environment variables that Glacis (or Node) reads', () => {
    const keys = Object.fromEntries(
      instructions.filter((i) => i.keyword === 'ENV').flatMap((i) => [...i.args.matchAll(/(\w+)=/g)].map((m) => [m[1]!, ''])),
    );
    expect(Object.keys(keys).length).toBeGreaterThan(0);
    const { NODE_ENV: _node, ...glacisKeys } = keys;
    expect(unreadSettingKeys(glacisKeys)).toEqual([]);
  });

  it('runs glacis under tini as a user other than root', () => {
    for (const stage of [finalStage, 'dev']) {
      expect(execForm(lastInLineage(stage, 'ENTRYPOINT')!.args)).toEqual(['/usr/bin/tini', '--', 'glacis']);
      expect(execForm(lastInLineage(stage, 'CMD')!.args)).toEqual(['serve']);
      const user = lastInLineage(stage, 'USER')?.args;
      expect(user).toBeDefined();
      expect(['root', '0', '0:0']).not.toContain(user);
      const runs = lineage(stage).flatMap((s) => inStage(s, 'RUN')).map((i) => i.args).join(' ');
      expect(runs).toMatch(/ln -s \/opt\/glacis\/bin\/glacis\.js \/usr\/local\/bin\/glacis/);
    }
  });

  it('installs dependencies as scripts/setup.sh does: no install scripts, better-sqlite3 rebuilt', () => {
    const runs = instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    const npm = runs.flatMap((run) => run.split('&&').map((part) => part.trim())).filter((part) => part.startsWith('npm '));
    expect(npm.filter((command) => /^npm (ci|install|i)\b/.test(command))).toEqual(['npm ci --ignore-scripts --no-audit --no-fund']);
    expect(npm).toContain('npm rebuild better-sqlite3 --build-from-source');
    for (const command of npm.filter((c) => /^npm (prune|ci)\b/.test(c))) expect(command).toMatch(/--ignore-scripts/);
    expect(repoFile('scripts/setup.sh')).toContain('npm ci --ignore-scripts --no-audit --no-fund');
  });

  it('copies the lock file and packaging/ before npm ci needs them', () => {
    const ciIndex = instructions.findIndex((i) => i.keyword === 'RUN' && i.args.includes('npm ci'));
    const stage = instructions[ciIndex]!.stage;
    const copied = instructions
      .slice(0, ciIndex)
      .filter((i) => i.stage === stage && i.keyword === 'COPY')
      .flatMap((i) => copySources(i).sources);
    expect(copied).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'packaging/']));
    // package.json points msgpackr-extract to the directory that is copied.
    expect(repoFile('package.json')).toContain('"msgpackr-extract": "file:packaging/msgpackr-extract-disabled"');
  });

  it('finds every file it copies in the build context that .dockerignore leaves', () => {
    const copies = instructions.filter((i) => (i.keyword === 'COPY' || i.keyword === 'ADD') && copySources(i).from === undefined);
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) {
      for (const source of copySources(copy).sources) {
        const files = filesUnder(source.replace(/\/$/, '') || '.');
        const sent = files.filter((file) => inBuildContext(file, dockerignore));
        expect({ source, sent: sent.length > 0 }).toEqual({ source, sent: true });
      }
    }
    for (const needed of ['packaging/msgpackr-extract-disabled/package.json', 'packaging/msgpackr-extract-disabled/index.js', 'package-lock.json', 'deploy/docker/healthcheck.mjs']) {
      expect({ needed, sent: inBuildContext(needed, dockerignore) }).toEqual({ needed, sent: true });
    }
  });

  it('keeps host builds, data and secrets out of the build context', () => {
    for (const kept of ['node_modules/yaml/package.json', 'dist/src/cli/main.js', 'data/glacis.sqlite', '.git/HEAD', 'local.cfg', 'repos.yaml', 'test/api/api.test.ts']) {
      expect({ kept, sent: inBuildContext(kept, dockerignore) }).toEqual({ kept, sent: false });
    }
  });

  it('gives the runtime image what bin/glacis.js and the compose healthchecks load', () => {
    const placed = placements(finalStage);
    const from = (target: string) => placed.find((p) => p.target === target)?.from;
    expect(from('/opt/glacis/node_modules')).toBe('prod-deps');
    expect(from('/opt/glacis/dist')).toBe('build');
    for (const file of ['bin', 'package.json', 'packaging', 'deploy/docker']) {
      expect({ file, from: from(`/opt/glacis/${file}`) }).toEqual({ file, from: 'context' });
    }
    // bin/glacis.js loads ../dist; node_modules/msgpackr-extract is a link into ../packaging.
    expect(repoFile('bin/glacis.js')).toContain("from '../dist/src/cli/main.js'");
    expect(readlinkSync(path.join(REPO_ROOT, 'node_modules/msgpackr-extract'))).toBe('../packaging/msgpackr-extract-disabled');
    // The sources copied into the build stage are what tsconfig.build.json compiles.
    const built = inStage('build', 'COPY').flatMap((copy) => copySources(copy).sources.map((s) => s.replace(/\/$/, '')));
    const tsconfig = JSON.parse(repoFile('tsconfig.build.json')) as { include: string[] };
    expect(built).toEqual(expect.arrayContaining([...tsconfig.include, 'tsconfig.json', 'tsconfig.build.json']));
    // …and what npm run build also needs: the web page's sources and its build script.
    expect(repoFile('package.json')).toContain('node scripts/build-web.mjs');
    expect(built).toEqual(expect.arrayContaining(['web', 'scripts/build-web.mjs']));
    expect(lastInLineage(finalStage, 'WORKDIR')?.args).toBe('/var/lib/glacis');
  });
});

/** What the COPY instructions of `stage` put where (absolute paths), and from which stage. */
function placements(stage: string): Array<{ readonly from: string; readonly target: string }> {
  let workdir = '/';
  const placed: Array<{ readonly from: string; readonly target: string }> = [];
  for (const instruction of lineage(stage).flatMap((s) => inStage(s))) {
    if (instruction.keyword === 'WORKDIR') workdir = path.posix.resolve(workdir, instruction.args);
    if (instruction.keyword !== 'COPY' || instruction.stage !== stage) continue;
    const { from, sources, destination } = copySources(instruction);
    const dest = path.posix.resolve(workdir, destination);
    for (const source of sources) {
      const isDir = source.endsWith('/') || (from === undefined && statSync(path.join(REPO_ROOT, source)).isDirectory());
      const target = isDir || !destination.endsWith('/') ? dest : path.posix.join(dest, path.posix.basename(source));
      placed.push({ from: from ?? 'context', target });
    }
  }
  return placed;
}
