/**
 * Sizes as the mails and task logs write them: binary units, two decimals.
 */

/**
 * Human-readable size, as Baricadr writes it (binary units, two decimals).
 *
 * @example
 * ```ts
 * formatSize(1536); // '1.50 KiB'
 * ```
 */
export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let size = bytes;
  let unit = 0;
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${size.toFixed(2)} ${units[unit]}`;
}
