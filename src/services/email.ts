import { BadRequestError } from './errors.js';

// Deliberately strict: the address ends up in mail headers, so anything that could
// smuggle a header (CR, LF, comma lists, display names) is refused.
const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

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
  if (email.length > 254 || !EMAIL.test(email)) throw new BadRequestError(`"email" is not a valid address: ${JSON.stringify(value.slice(0, 100))}`);
  return email;
}
