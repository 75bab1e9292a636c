/**
 * "1 file", "2 files": the one place counts meet nouns in messages, task logs and mails
 * ("froze 1 files" was in all of them, issue 15).
 */

/**
 * @example
 * ```ts
 * plural(1, 'file');              // '1 file'
 * plural(3, 'file');              // '3 files'
 * plural(2, 'entry', 'entries');  // '2 entries'
 * ```
 */
export function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : nouns}`;
}
