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
 * Builds a redactor for a set of secret values. JSON-escaped variants are covered too,
 * because rclone's `--use-json-log` output would carry a secret with quotes or
 * backslashes in escaped form.
 *
 * @example
 * ```ts
 * const redact = makeRedactor(['hunter2']);
 * redact('login as bob/hunter2 failed'); // 'login as bob/*** failed'
 * ```
 */
export function makeRedactor(secrets: Iterable<string>): Redactor {
  const variants = new Set<string>();
  for (const secret of secrets) {
    if (secret === '') continue;
    variants.add(secret);
    variants.add(JSON.stringify(secret).slice(1, -1));
  }
  if (variants.size === 0) return (text) => text;
  // Longest first, so a secret that contains another is replaced whole.
  const ordered = [...variants].sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const v of ordered) if (out.includes(v)) out = out.split(v).join(REDACTED);
    return out;
  };
}
