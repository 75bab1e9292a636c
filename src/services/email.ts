import { BadRequestError } from './errors.js';

// Deliberately strict: the address ends up in mail headers, so anything that could
// smuggle a header (CR, LF, comma lists, display names) is refused.
const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

/**
 * True for one plain address (no display name, no list, no CR or LF): safe in a mail header.
 *
 * @example
 * ```ts
 * isEmailAddress('ada@example.org');        // true
 * isEmailAddress('ada@example.org, b@c.d'); // false
 * ```
 */
export function isEmailAddress(value: string): boolean {
  return value.length <= 254 && EMAIL.test(value);
}

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
