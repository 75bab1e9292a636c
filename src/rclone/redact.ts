/**
 * Removal of secrets from any text that leaves the rclone module (errors, logs).
 */

/**
 * Replaces every known secret in a text by `***`.
 *
 * @example
 * ```ts
 * const redact: Redactor = makeRedactor(secretsOf(repo.remote));
 * ```
 */
export type Redactor = (text: string) => string;

/**
 * What a secret is replaced by.
 *
 * @example
 * ```ts
 * makeRedactor(['pw'])('pw') === REDACTED; // true
 * ```
 */
export const REDACTED = '***';

/**
 * Secrets shorter than this are not redacted: a password `p` is in every other word, and
 * replacing it garbled every message (`re***ository`) while showing where the secret was
 * (issue 15, test/rclone/remote-env.test.ts). Start-up warns about such secrets instead
 * ({@link shortSecretKeys} callers). Secrets reach rclone through its environment only, so
 * redaction is a second line of defence, not the first.
 *
 * @example
 * ```ts
 * 'hunter2'.length < MIN_REDACTED_LENGTH; // true: warned about, not redacted
 * ```
 */
export const MIN_REDACTED_LENGTH = 8;

/**
 * Builds a redactor for a set of secret values. JSON-escaped variants are covered too,
 * because rclone's `--use-json-log` output would carry a secret with quotes or
 * backslashes in escaped form. A secret is replaced only where it stands alone, never
 * inside a longer word; secrets shorter than {@link MIN_REDACTED_LENGTH} are ignored.
 *
 * @example
 * ```ts
 * const redact = makeRedactor(['hunter2hunter2']);
 * redact('login as bob/hunter2hunter2 failed'); // 'login as bob/*** failed'
 * ```
 */
export function makeRedactor(secrets: Iterable<string>): Redactor {
  const variants = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < MIN_REDACTED_LENGTH) continue;
    variants.add(secret);
    variants.add(JSON.stringify(secret).slice(1, -1));
  }
  if (variants.size === 0) return (text) => text;
  // Longest first, so a secret that contains another is replaced whole.
  const ordered = [...variants].sort((a, b) => b.length - a.length);
  const pattern = new RegExp(ordered.map(standingAlone).join('|'), 'gu');
  return (text) => text.replace(pattern, REDACTED);
}

const WORD_CHAR = /[\p{L}\p{N}_]/u;

/** The secret as a pattern that does not match inside a longer word. */
function standingAlone(secret: string): string {
  const escaped = secret.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const before = WORD_CHAR.test(secret.slice(0, 1)) ? '(?<![\\p{L}\\p{N}_])' : '';
  const after = WORD_CHAR.test(secret.slice(-1)) ? '(?![\\p{L}\\p{N}_])' : '';
  return `${before}${escaped}${after}`;
}
