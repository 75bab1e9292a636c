/**
 * What a mail address may be, in the lowest layer: the config (ADMIN_EMAILS), the API (a task's
 * `email`) and the mailer all check addresses here. It lived in src/services, so src/config
 * and src/notify imported a higher layer (test/architecture.test.ts).
 */

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
