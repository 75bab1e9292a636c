/**
 * The remote listing as a hash map, held once: path → index into typed arrays. For a
 * million files this stays around a hundred megabytes, where a map of objects would
 * take several times more.
 */
import { localNameOf, type RemoteEntry } from '../rclone/index.js';
import type { RemoteFile } from './decision.js';

export class RemoteIndex {
  private readonly slots = new Map<string, number>();
  private sizes = new Float64Array(1024);
  private mtimes = new Float64Array(1024);
  private links = new Uint8Array(1024);
  private readonly hashes: Array<Readonly<Record<string, string>> | undefined> = [];

  get size(): number {
    return this.slots.size;
  }

  /** Adds an entry, keyed by its local name (a `.rclonelink` is the symlink it stands for). */
  add(entry: RemoteEntry, keepHashes: boolean): void {
    if (entry.isDir) return;
    const key = localNameOf(entry.path);
    const isLink = key !== entry.path;
    const slot = this.slots.size;
    if (slot === this.sizes.length) this.grow();
    this.slots.set(key, slot);
    this.sizes[slot] = entry.size;
    this.mtimes[slot] = Date.parse(entry.modTime);
    this.links[slot] = isLink ? 1 : 0;
    if (keepHashes) this.hashes[slot] = entry.hashes;
  }

  /** What the remote holds for a local path, and whether it is a symlink there. */
  get(localRelative: string): (RemoteFile & { readonly isLink: boolean }) | undefined {
    const slot = this.slots.get(localRelative);
    if (slot === undefined) return undefined;
    const hashes = this.hashes[slot];
    return { size: this.sizes[slot]!, mtimeMs: this.mtimes[slot]!, isLink: this.links[slot] === 1, ...(hashes ? { hashes } : {}) };
  }

  private grow(): void {
    const grown = (a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> => {
      const b = new Float64Array(a.length * 2);
      b.set(a);
      return b;
    };
    this.sizes = grown(this.sizes);
    this.mtimes = grown(this.mtimes);
    const links = new Uint8Array(this.links.length * 2);
    links.set(this.links);
    this.links = links;
  }
}
