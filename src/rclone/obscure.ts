/**
 * rclone's password obscuring, done in-process so that a secret never has to be handed
 * to a child process (not even on stdin) just to be transformed.
 *
 * This is NOT encryption: the key is public and the result is trivially reversible. It
 * exists because rclone insists that password-type options (e.g. sftp `pass`) arrive
 * obscured, also through `RCLONE_CONFIG_<NAME>_PASS`. Treat an obscured value as a secret.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

// rclone's fixed, published key (fs/config/obscure/obscure.go).
const KEY = Buffer.from('9c935b48730a554d6bfd7c63c886a92bd390198eb8128afbf4de162b8b95f638', 'hex');
const IV_LENGTH = 16;

/**
 * Obscures `plain` exactly as `rclone obscure` does: AES-256-CTR under rclone's key,
 * random IV, base64url without padding of IV+ciphertext.
 *
 * @example
 * ```ts
 * env.RCLONE_CONFIG_GLACISREMOTE_PASS = obscure(remote.password);
 * ```
 */
export function obscure(plain: string): string {
  const iv = randomBytes(IV_LENGTH);
  const cipher = createCipheriv('aes-256-ctr', KEY, iv);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, body]).toString('base64url');
}

/**
 * Reverses {@link obscure} (rclone's `reveal`). Returns undefined when `obscured` cannot
 * be an obscured value; used to redact what a user-supplied obscured option stands for.
 *
 * @example
 * ```ts
 * reveal(obscure('pw')); // 'pw'
 * ```
 */
export function reveal(obscured: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(obscured)) return undefined;
  const raw = Buffer.from(obscured, 'base64url');
  if (raw.length < IV_LENGTH) return undefined;
  const decipher = createDecipheriv('aes-256-ctr', KEY, raw.subarray(0, IV_LENGTH));
  const plain = Buffer.concat([decipher.update(raw.subarray(IV_LENGTH)), decipher.final()]);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(plain);
  } catch {
    return undefined;
  }
}
