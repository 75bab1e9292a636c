/**
 * The 64-bit hash that finds a path in the freeze's remote index (src/freeze/remote-index.ts).
 * Here, at the bottom, because the direct walk of a `local` remote (src/rclone/local-walk.ts)
 * computes it in its own thread, from this function's source text: so it refers to nothing
 * outside itself.
 */

/**
 * Two independent 32-bit hashes of the UTF-16 code units (FNV-1a, and a multiply-xorshift
 * one), each finished with murmur3's avalanche: 64 bits in all, as `[high, low]`.
 *
 * @example
 * ```ts
 * const [hi, lo] = pathHash('sub/file.dat');
 * ```
 */
export function pathHash(text: string): [number, number] {
  const avalanche = (h: number): number => {
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    return h ^ (h >>> 16);
  };
  let a = 0x811c9dc5;
  let b = 0x9747b28c ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return [avalanche(a) >>> 0, avalanche(b) >>> 0];
}
