/**
 * Readers for the deployment files (Dockerfile, .dockerignore, compose files, systemd units),
 * for test/packaging. No Docker engine runs where the tests do, so these files are checked
 * by what they say: parsed here, then held against the code and against each other.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import picomatch from 'picomatch';
import { parse } from 'yaml';
import { z } from 'zod';
import { SETTINGS_ENV_KEYS } from '../../src/config/settings.js';

/** The checkout: vitest runs from it. */
export const REPO_ROOT = path.resolve('.');

export function repoFile(relative: string): string {
  return readFileSync(path.join(REPO_ROOT, relative), 'utf8');
}

// ---------------------------------------------------------------------------------------------
// Compose files

const stringList = z.union([z.string(), z.array(z.string())]);
const envValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

const serviceSchema = z.object({
  image: z.string().optional(),
  build: z.union([z.string(), z.object({ context: z.string().optional(), target: z.string().optional(), dockerfile: z.string().optional() })]).optional(),
  command: stringList.optional(),
  entrypoint: stringList.optional(),
  working_dir: z.string().optional(),
  user: z.string().optional(),
  environment: z.union([z.record(z.string(), envValue), z.array(z.string())]).optional(),
  volumes: z.array(z.union([z.string(), z.object({ type: z.string(), source: z.string().optional(), target: z.string(), read_only: z.boolean().optional() })])).optional(),
  ports: z.array(z.union([z.string(), z.number()])).optional(),
  healthcheck: z.object({ test: stringList.optional(), disable: z.boolean().optional() }).optional(),
  restart: z.string().optional(),
  stop_grace_period: z.string().optional(),
  depends_on: z.union([z.array(z.string()), z.record(z.string(), z.object({ condition: z.string().optional() }))]).optional(),
});
const composeSchema = z.object({
  services: z.record(z.string(), serviceSchema),
  volumes: z.record(z.string(), z.union([z.object({}).loose(), z.null()])).optional(),
});

export type ComposeService = z.infer<typeof serviceSchema>;
export type ComposeFile = z.infer<typeof composeSchema>;

/** A compose file as Compose reads it: YAML with merge keys (`<<: *glacis`). */
export function readCompose(relative: string): ComposeFile {
  return composeSchema.parse(parse(repoFile(relative), { merge: true }));
}

/** `environment:` in either of its two forms, as strings. */
export function serviceEnv(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((entry) => {
      const eq = entry.indexOf('=');
      return eq === -1 ? [entry, ''] : [entry.slice(0, eq), entry.slice(eq + 1)];
    }));
  }
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, value === null ? '' : String(value)]));
}

export function asList(value: string | readonly string[] | undefined): readonly string[] {
  if (value === undefined) return [];
  return typeof value === 'string' ? value.split(/\s+/).filter(Boolean) : value;
}

/** Whether the service is built from this checkout's Dockerfile. */
export function isBuiltHere(service: ComposeService): boolean {
  const context = typeof service.build === 'string' ? service.build : service.build?.context;
  return context === '.' || context === './';
}

/**
 * The services that run Glacis itself: built from the Dockerfile, with the image's
 * entrypoint (`glacis …`) or one that runs bin/glacis.js. Helpers run from the same image
 * (seeding, chown, tsc) are not Glacis and read no settings.
 */
export function glacisServices(compose: ComposeFile): Record<string, ComposeService> {
  return Object.fromEntries(
    Object.entries(compose.services).filter(([, service]) => {
      if (!isBuiltHere(service)) return false;
      const entrypoint = asList(service.entrypoint);
      return entrypoint.length === 0 || entrypoint.some((arg) => arg.endsWith('/bin/glacis.js'));
    }),
  );
}

export interface Mount {
  readonly source: string;
  readonly target: string;
  readonly readOnly: boolean;
  /** A named volume (declared under top-level `volumes:`), not a path of the host. */
  readonly named: boolean;
}

export function mounts(service: ComposeService): Mount[] {
  return (service.volumes ?? []).map((volume) => {
    if (typeof volume !== 'string') {
      const source = volume.source ?? '';
      return { source, target: volume.target, readOnly: volume.read_only === true, named: volume.type === 'volume' };
    }
    const [source = '', target = '', mode = ''] = volume.split(':');
    return { source, target, readOnly: mode.split(',').includes('ro'), named: !/^[./~$]/.test(source) };
  });
}

/** The mount whose target holds `containerPath` (the deepest one, as the kernel resolves it). */
export function mountHolding(service: ComposeService, containerPath: string): Mount | undefined {
  return mounts(service)
    .filter((mount) => containerPath === mount.target || containerPath.startsWith(`${mount.target}/`))
    .sort((a, b) => b.target.length - a.target.length)[0];
}

/** Compose durations ("90s", "1m30s") in seconds. */
export function durationSeconds(text: string): number {
  const units: Record<string, number> = { h: 3600, m: 60, s: 1 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)([hms])/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== text) throw new Error(`not a compose duration: ${text}`);
  return parts.reduce((total, [, amount, unit]) => total + Number(amount) * units[unit!]!, 0);
}

// ---------------------------------------------------------------------------------------------
// Settings

/** Keys of `env` that Glacis's loadSettings never reads (a typo, or a key of another program). */
export function unreadSettingKeys(env: Readonly<Record<string, string>>): string[] {
  return Object.keys(env).filter((key) => !SETTINGS_ENV_KEYS.includes(key));
}

// ---------------------------------------------------------------------------------------------
// Dockerfile

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  /** The stage's name (`AS …`), or its index. */
  readonly stage: string;
}

/** Instructions in order, continuation lines joined, comments dropped. */
export function parseDockerfile(text: string): Instruction[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(pending + line);
    pending = '';
  }
  if (pending !== '') logical.push(pending);
  const instructions: Instruction[] = [];
  let stage = '';
  let index = -1;
  for (const line of logical) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (keyword.toUpperCase() === 'FROM') {
      index += 1;
      stage = /\bAS\s+(\S+)\s*$/i.exec(args)?.[1] ?? String(index);
    }
    instructions.push({ keyword: keyword.toUpperCase(), args: args.trim(), stage });
  }
  return instructions;
}

/** A JSON-array (exec form) argument, as Docker reads it. */
export function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  return z.array(z.string()).parse(parsed);
}

/** Build-context sources of a COPY/ADD (those with `--from` come from another stage). */
export function copySources(instruction: Instruction): { from?: string; sources: string[]; destination: string } {
  const words = instruction.args.split(/\s+/);
  const flags = words.filter((word) => word.startsWith('--'));
  const paths = words.filter((word) => !word.startsWith('--'));
  const from = flags.find((flag) => flag.startsWith('--from='))?.slice('--from='.length);
  return { ...(from === undefined ? {} : { from }), sources: paths.slice(0, -1), destination: paths[paths.length - 1] ?? '' };
}

/**
 * Whether `relative` (a path in the checkout) is sent to the builder, by the rules of
 * .dockerignore: a pattern excludes what it matches and everything below it; `!` re-includes;
 * the last matching pattern wins.
 */
export function inBuildContext(relative: string, dockerignore: string): boolean {
  const rules = dockerignore
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negated = line.startsWith('!');
      const pattern = path.posix.normalize((negated ? line.slice(1) : line).replace(/^\/+/, ''));
      return { negated, match: picomatch(pattern, { dot: true }) };
    });
  const segments = path.posix.normalize(relative).split('/');
  const selfAndParents = segments.map((_, i) => segments.slice(0, i + 1).join('/'));
  let included = true;
  for (const rule of rules) {
    if (selfAndParents.some((candidate) => rule.match(candidate))) included = rule.negated;
  }
  return included;
}

// ---------------------------------------------------------------------------------------------
// systemd units

export type UnitFile = ReadonlyMap<string, ReadonlyArray<readonly [string, string]>>;

/** Sections of a unit file, each a list of its assignments in order (keys may repeat). */
export function parseUnit(text: string): UnitFile {
  const sections = new Map<string, Array<readonly [string, string]>>();
  let current: Array<readonly [string, string]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      current = [];
      sections.set(section[1]!, current);
      continue;
    }
    const eq = line.indexOf('=');
    if (current === undefined || eq === -1) throw new Error(`not a unit file line: ${line}`);
    current.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return sections;
}

export function unitValues(unit: UnitFile, section: string, key: string): string[] {
  return (unit.get(section) ?? []).filter(([name]) => name === key).map(([, value]) => value);
}

/** `Environment=` assignments (`KEY=value`, several per line, optionally quoted). */
export function unitEnvironment(unit: UnitFile): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of unitValues(unit, 'Service', 'Environment')) {
    for (const [, quoted, bare] of line.matchAll(/"([^"]*)"|(\S+)/g)) {
      const assignment = quoted ?? bare ?? '';
      const eq = assignment.indexOf('=');
      if (eq > 0) env[assignment.slice(0, eq)] = assignment.slice(eq + 1);
    }
  }
  return env;
}

// ---------------------------------------------------------------------------------------------
// External tools

export interface ToolRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a tool the packaging tests need; a missing one fails with the command that installs
 * it (as .ci/run does), never skips.
 */
export function runTool(command: string, args: readonly string[], installHint: string, cwd: string = REPO_ROOT): ToolRun {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME } });
  if ((result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error(`${command} is not installed: ${installHint}`);
  }
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
