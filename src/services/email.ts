import { isEmailAddress } from '../text/email.js';
import { BadRequestError } from './errors.js';

/**
 * Validates an optional notification address: undefined, null and '' mean none.
 *
 * @example
 * ```ts
 * normalizeEmail('Ada@Example.org'); // 'Ada@Example.org'
 * normalizeEmail('x@y\r\nBcc: z@w');  // throws BadRequestError
 * ```
 */
export function normalizeEmail(value: unknown): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw new BadRequestError('"email" must be a string');
  const email = value.trim();
  if (!isEmailAddress(email)) throw new BadRequestError(`"email" is not a valid address: ${JSON.stringify(value.slice(0, 100))}`);
  return email;
}
