/**
 * Push's memory is bounded (issue 18: "bound memory" at millions of files): it matches the
 * remote listing and the local walk as they stream, keeping only freeze's compact index of
 * the remote files (src/freeze/remote-index.ts) and spooling the files to push to disk.
 * Held to it here by a heap too small for the whole listing: 50,000 files with long names
 * (hard links, so the tree costs no data), a push in a process with a 24 MB V8 heap. The
 * push that kept every remote entry (a Map of RemoteEntry) ran out of heap below 40 MB on
 * this tree; this one needs about 16. bench/push.mjs part (c) measures the RSS at scale.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { linkSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { tempDir } from '../helpers/remotes.js';

const FILES = 50_000;
const HEAP_MB = 24;

it(`pushes to a remote of ${FILES} files within a ${HEAP_MB} MB heap`, async () => {
  const base = tempDir('push-memory');
  const [local, remote] = [path.join(base, 'local'), path.join(base, 'remote')];
  // A name near NAME_MAX: the listing a push held whole grew by the length of each name.
  const pad = 'p'.repeat(236);
  for (let i = 0; i < FILES; i++) {
    const dir = `d${Math.floor(i / 1000)}`;
    const seed = path.join(base, `seed-${dir}`);
    if (i % 1000 === 0) {
      writeFileSync(seed, 'x');
      utimesSync(seed, new Date('2020-01-01T00:00:00Z'), new Date('2020-01-01T00:00:00Z'));
      for (const side of [local, remote]) mkdirSync(path.join(side, dir), { recursive: true });
    }
    const name = `${pad}${String(i).padStart(6, '0')}`;
    linkSync(seed, path.join(local, dir, name));
    // The remote lacks 1 % of the files: those are pushed.
    if (i % 100 !== 0) linkSync(seed, path.join(remote, dir, name));
  }

  const yaml = `${JSON.stringify(local)}: ${JSON.stringify({ backend: 'local', path: remote, pushable: true })}\n`;
  const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_MB}`, path.resolve('test/push/push-child.mjs'), local, randomUUID()], {
    env: { ...process.env, PUSH_CHILD_REPOS: yaml },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err = (err + d).slice(-2000)));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  expect(code, err).toBe(0);
  expect(JSON.parse(out.trim().split('\n').pop()!)).toEqual({ files: FILES / 100, events: FILES / 100 });
  expect(readdirSync(remote, { recursive: true }).length).toBe(FILES + FILES / 1000);
}, 180_000);
