/**
 * A `local` remote's files, read by Glacis itself rather than by `rclone lsjson -R`: the
 * remote is a directory on this host, and walking it in a worker thread costs a fraction
 * of what rclone's listing and its JSON cost (issue 16 §5: the freeze decision was 1.7× to
 * 1.8× `find` + `rclone lsf`, most of it rclone's CPU and the parsing of its output).
 *
 * The entries are rclone's, exactly (test/rclone/local-walk.test.ts holds the two equal on
 * trees with odd names, symlinks, special files, empty directories and nanosecond mtimes):
 * - regular files by their `lstat` size and mtime, the mtime read in nanoseconds (rclone's
 *   precision here) and given as `Date.parse` reads rclone's (whole milliseconds);
 * - symlinks as `name.rclonelink`, their own `lstat` size and mtime (`--links`), never
 *   followed, whatever they point at;
 * - FIFOs, sockets and devices left out (rclone: "Can't transfer non file/directory");
 * - every directory descended into, symlinked ones excepted.
 * rclone shows a name in its own encoding, which differs from the name on disk for control
 * characters, their Unicode symbols (`␊`), `‛`, `／`, `．`, and invalid UTF-8 (which Node's
 * names cannot even tell apart). A directory holding such a name is not mirrored: it is
 * listed, with everything below it, by rclone itself. So is a root that is not a plain
 * directory.
 *
 * What it never does: hashes or MIME types (the caller asks rclone when it needs them).
 */
import { lstatSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { pathHash } from '../text/path-hash.js';
import { abortError } from './errors.js';
import type { ListedFiles, RemoteEntry } from './types.js';

/** Files a message from the walker carries. */
const BATCH = 2048;
/** Messages the walker may have in flight before it waits for the reader: bounds memory. */
const IN_FLIGHT = 8;

/** What the walker thread is given. */
interface WalkerData {
  readonly root: string;
  readonly batch: number;
  readonly inFlight: number;
  /** One Int32: messages posted and not yet read. */
  readonly pending: SharedArrayBuffer;
}

/** What the walker thread posts. */
type WalkerMessage =
  | ({ readonly kind: 'files' } & ListedFiles)
  /** A directory (relative, `''` for the root) holding a name or time rclone shows differently: rclone lists it. */
  | { readonly kind: 'delegate'; readonly dir: string }
  | { readonly kind: 'failed'; readonly message: string; readonly code: string | undefined }
  | { readonly kind: 'done' };

/** How {@link walkLocalRemote} reads what it does not mirror. */
export interface LocalWalkOptions {
  readonly signal?: AbortSignal | undefined;
  /** rclone's own recursive, files-only listing of a directory (relative to the root), with paths relative to it. */
  readonly delegate: (relativeDir: string) => AsyncIterable<RemoteEntry>;
}

/**
 * The files below `root` (an absolute local path), as `rclone lsjson -R --files-only --links`
 * lists them: in {@link ListedFiles} batches, and the entries of delegated directories as
 * rclone gives them (paths relative to `root`). A failure to read any directory fails the
 * walk (as it fails rclone's listing): an incomplete listing never passes for a complete
 * one. Undefined when `root` is not a plain directory: the caller asks rclone (which also
 * says what is missing).
 *
 * @example
 * ```ts
 * const items = walkLocalRemote('/mnt/cold/lab1', { signal, delegate: (dir) => rcloneList(dir) });
 * ```
 */
export function walkLocalRemote(root: string, options: LocalWalkOptions): AsyncGenerator<ListedFiles | RemoteEntry> | undefined {
  const stat = lstatSync(root, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) return undefined;
  return walk(root, options);
}

async function* walk(root: string, { signal, delegate }: LocalWalkOptions): AsyncGenerator<ListedFiles | RemoteEntry> {
  if (signal?.aborted) throw abortError(signal);
  const pending = new SharedArrayBuffer(4);
  const counter = new Int32Array(pending);
  const data: WalkerData = { root, batch: BATCH, inFlight: IN_FLIGHT, pending };
  // The walker is run from the source text of functions of this program, so that it is the
  // same code under the TypeScript test runner and in the compiled tree; they import nothing.
  const source = `const walkerHash = ${pathHash.toString()};\n(${walkerThread.toString()})();`;
  // Its garbage (a directory's entries, a Stats each) dies young: a small young generation
  // took ~20 MB off the peak RSS of a million-file walk, for no CPU that could be measured.
  const worker = new Worker(source, { eval: true, workerData: data, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
  const queue: WalkerMessage[] = [];
  let wake: (() => void) | undefined;
  let ended: Error | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  worker.on('message', (message: WalkerMessage) => {
    queue.push(message);
    notify();
  });
  worker.on('error', (error: Error) => {
    ended ??= error;
    notify();
  });
  worker.on('exit', (code) => {
    ended ??= new Error(`the walker of ${root} stopped (exit ${code})`);
    notify();
  });
  signal?.addEventListener('abort', notify);
  const delegated: string[] = [];
  try {
    for (;;) {
      if (signal?.aborted) throw abortError(signal);
      const message = queue.shift();
      if (message === undefined) {
        if (ended) throw ended;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        continue;
      }
      if (message.kind === 'done') break;
      if (message.kind === 'failed') throw Object.assign(new Error(`reading the remote directory ${root}: ${message.message}`), { code: message.code });
      if (message.kind === 'delegate') {
        delegated.push(message.dir);
        continue;
      }
      Atomics.sub(counter, 0, 1);
      Atomics.notify(counter, 0);
      const { kind: _kind, ...files } = message;
      yield files;
    }
    for (const dir of delegated) {
      for await (const entry of delegate(dir)) {
        yield dir === '' ? entry : { ...entry, path: `${dir}/${entry.path}` };
      }
    }
  } finally {
    signal?.removeEventListener('abort', notify);
    await worker.terminate();
  }
}

/**
 * The walker thread's program (run from its source text, with `walkerHash` beside it: it
 * refers to nothing else). Breadth first, one directory at a time, read whole before any of
 * it is posted, so that a directory is either mirrored entirely or delegated entirely.
 */
function walkerThread(): void {
  const fs = require('node:fs') as typeof import('node:fs');
  const threads = require('node:worker_threads') as typeof import('node:worker_threads');
  const port = threads.parentPort!;
  const { root, batch, inFlight, pending } = threads.workerData as WalkerData;
  const counter = new Int32Array(pending);
  // Names rclone's local backend shows otherwise (its Base decoding, then its Standard
  // encoding): NUL and control characters, DEL, their symbols U+2400–U+2421, the quote
  // U+201B, FULLWIDTH SOLIDUS and FULL STOP, and U+FFFD (what invalid UTF-8 reads as). A
  // superset: a name rclone would show as is may still be delegated, never the reverse.
  const odd = /[\x00-\x1f\x7f\u2400-\u2421\u201b\uff0e\uff0f\ufffd]/;
  const LINK_SUFFIX = '.rclonelink';
  const NS_PER_MS = 1_000_000n;
  // rclone prints years 0–9999 in RFC 3339, which Date.parse reads; others are left to rclone.
  const MIN_NS = BigInt(Date.parse('0000-01-01T00:00:00Z')) * NS_PER_MS;
  const MAX_NS = BigInt(Date.UTC(10000, 0, 1)) * NS_PER_MS;

  let files = 0;
  let hashHi = new Uint32Array(batch);
  let hashLo = new Uint32Array(batch);
  let sizes = new Float64Array(batch);
  let mtimesMs = new Float64Array(batch);
  let links = new Uint8Array(batch);
  const flush = (): void => {
    if (files === 0) return;
    // Wait while the reader is behind: memory stays bounded however slow it is.
    for (let now = Atomics.load(counter, 0); now >= inFlight; now = Atomics.load(counter, 0)) Atomics.wait(counter, 0, now);
    Atomics.add(counter, 0, 1);
    const message = { kind: 'files', count: files, hashHi, hashLo, sizes, mtimesMs, links };
    port.postMessage(message, [hashHi.buffer, hashLo.buffer, sizes.buffer, mtimesMs.buffer, links.buffer]);
    files = 0;
    hashHi = new Uint32Array(batch);
    hashLo = new Uint32Array(batch);
    sizes = new Float64Array(batch);
    mtimesMs = new Float64Array(batch);
    links = new Uint8Array(batch);
  };

  try {
    const queue: string[] = [''];
    for (let next = 0; next < queue.length; next++) {
      const relDir = queue[next]!;
      queue[next] = '';
      const dir = relDir === '' ? root : `${root}/${relDir}`;
      const entries = fs.readdirSync(dir, { withFileTypes: true });
      const subdirs: string[] = [];
      const found: { key: string; link: boolean; size: number; ns: bigint }[] = [];
      let mirrored = !entries.some((entry) => odd.test(entry.name));
      for (let i = 0; mirrored && i < entries.length; i++) {
        const entry = entries[i]!;
        const relative = relDir === '' ? entry.name : `${relDir}/${entry.name}`;
        if (entry.isDirectory()) {
          subdirs.push(relative);
          continue;
        }
        const stat = fs.lstatSync(`${dir}/${entry.name}`, { bigint: true });
        if (stat.isDirectory()) subdirs.push(relative);
        else if (stat.isFile() || stat.isSymbolicLink()) {
          if (stat.mtimeNs < MIN_NS || stat.mtimeNs >= MAX_NS) mirrored = false;
          // rclone names a symlink `x.rclonelink`, and Glacis keys that as `x` (localNameOf),
          // as it keys a regular file so named.
          const link = stat.isSymbolicLink() || relative.endsWith(LINK_SUFFIX);
          const key = stat.isFile() && link ? relative.slice(0, -LINK_SUFFIX.length) : relative;
          found.push({ key, link, size: Number(stat.size), ns: stat.mtimeNs });
        }
      }
      if (!mirrored) {
        port.postMessage({ kind: 'delegate', dir: relDir });
        continue;
      }
      for (const subdir of subdirs) queue.push(subdir);
      for (const file of found) {
        const [hi, lo] = walkerHash(file.key);
        hashHi[files] = hi;
        hashLo[files] = lo;
        sizes[files] = file.size;
        // Date.parse keeps whole milliseconds: the floor, before 1970 too.
        const ms = file.ns / NS_PER_MS;
        mtimesMs[files] = Number(file.ns < 0n && ms * NS_PER_MS !== file.ns ? ms - 1n : ms);
        links[files] = file.link ? 1 : 0;
        if (++files === batch) flush();
      }
    }
    flush();
    port.postMessage({ kind: 'done' });
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    port.postMessage({ kind: 'failed', message: e.message, code: e.code });
  }
}

/**
 * {@link pathHash} as the walker's source text names it (not the import: a test runner may
 * rename imports in the module, not in the thread's source).
 */
declare const walkerHash: typeof pathHash;
