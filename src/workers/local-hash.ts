/**
 * The local side of a hash comparison, for freeze and push alike: the hash types Glacis asks
 * rclone for, and a local file's hash in the first type its remote copy has.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/** The hashes asked of rclone when a repo verifies by hash, in order of preference. */
export const HASH_TYPES = ['md5', 'sha1'] as const;

/**
 * `local` with its hash in the first of {@link HASH_TYPES} that `remote` has, when `wanted`
 * and the two are files of the same size (otherwise unchanged: size decides). Undefined when
 * the file is gone: its user removed it after the walk saw it, which is no reason to fail a
 * whole task (test/safety/freeze-faults.test.ts found that).
 *
 * @example
 * ```ts
 * const judged = await withLocalHashes(local, remote, repo.verify === 'hash', '/data/lab1/raw/a.dat');
 * ```
 */
export async function withLocalHashes<T extends { readonly kind: string; readonly size: number }>(
  local: T,
  remote: { readonly size: number; readonly hashes?: Readonly<Record<string, string>> } | undefined,
  wanted: boolean,
  full: string,
): Promise<(T & { readonly hashes?: Readonly<Record<string, string>> }) | undefined> {
  if (!wanted || local.kind !== 'file' || !remote?.hashes || remote.size !== local.size) return local;
  const type = HASH_TYPES.find((t) => remote.hashes![t] !== undefined);
  if (!type) return local;
  const hash = createHash(type);
  // O_NOATIME: hashing must not make the file look freshly read (a freeze would then keep it).
  const handle = await open(full, constants.O_RDONLY | (constants.O_NOATIME ?? 0)).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
    throw error;
  });
  if (!handle) return undefined;
  try {
    for await (const chunk of handle.createReadStream()) hash.update(chunk as Buffer);
  } finally {
    await handle.close().catch(() => undefined);
  }
  return { ...local, hashes: { [type]: hash.digest('hex') } };
}
