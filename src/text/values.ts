/**
 * One parser per value form, for every edge that reads values people write: local.cfg and the
 * environment (src/config/settings.ts), the repos file (src/config/repos.ts), API bodies and
 * queries (src/api/requests.ts) and the command line (src/cli). Each edge keeps its own error
 * message (the config names file, key and allowed values; the API the field); what a form
 * means is said here once. test/text/values.test.ts holds the forms.
 */

/** Read as true, in any case: Python's and Baricadr's True, YAML 1.1's yes and on, and 1. */
export const TRUE_WORDS: readonly string[] = ['true', 'yes', 'on', '1'];
/** Read as false, in any case. */
export const FALSE_WORDS: readonly string[] = ['false', 'no', 'off', '0'];

/** A string {@link parseBoolean} reads (for schemas that document the accepted strings). */
export const BOOLEAN_PATTERN = new RegExp(`^\\s*(?:${[...TRUE_WORDS, ...FALSE_WORDS].join('|')})\\s*$`, 'i');

/**
 * A boolean in any form people write one: a boolean, the numbers 1 and 0, or one of
 * {@link TRUE_WORDS} / {@link FALSE_WORDS} in any case, spaces around ignored. Anything else
 * is undefined, never false: a mistyped `dry_run` must not become a real freeze.
 *
 * @example
 * ```ts
 * parseBoolean('Yes');   // true
 * parseBoolean(0);       // false
 * parseBoolean('maybe'); // undefined
 * ```
 */
export function parseBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === 0) return value === 1;
  if (typeof value !== 'string') return undefined;
  const word = value.trim().toLowerCase();
  if (TRUE_WORDS.includes(word)) return true;
  if (FALSE_WORDS.includes(word)) return false;
  return undefined;
}

/** A string {@link parseWholeNumber} reads: digits, spaces around ignored. */
export const WHOLE_NUMBER_PATTERN = /^\s*\d+\s*$/;

/**
 * A whole number (0, 1, 2, …) written as a number or as digits (environment values are
 * strings, Baricadr's files quote numbers: `'3600'`). Undefined for anything else: a
 * fraction, a sign, an exponent, a number too large to be exact.
 *
 * @example
 * ```ts
 * parseWholeNumber(' 3600 '); // 3600
 * parseWholeNumber(1.5);      // undefined
 * parseWholeNumber('-1');     // undefined
 * ```
 */
export function parseWholeNumber(value: unknown): number | undefined {
  const number = typeof value === 'string' && WHOLE_NUMBER_PATTERN.test(value) ? Number(value) : value;
  return typeof number === 'number' && Number.isSafeInteger(number) && number >= 0 ? number : undefined;
}

/** Bounds of a whole number, both included. */
export interface WholeNumberRange {
  readonly min: number;
  readonly max: number;
}

/**
 * {@link parseWholeNumber}, within `range`.
 *
 * @example
 * ```ts
 * wholeNumberIn('20000', { min: 0, max: 10_000 }); // undefined
 * ```
 */
export function wholeNumberIn(value: unknown, range: WholeNumberRange): number | undefined {
  const number = parseWholeNumber(value);
  return number !== undefined && number >= range.min && number <= range.max ? number : undefined;
}

/** Units durations are written in: settings in seconds, repo keys in days (or hours). */
export type DurationUnit = 'seconds' | 'hours' | 'days';

export const SECOND_MS = 1000;
export const HOUR_MS = 3600 * SECOND_MS;
export const DAY_MS = 24 * HOUR_MS;

const UNIT_MS: Readonly<Record<DurationUnit, number>> = { seconds: SECOND_MS, hours: HOUR_MS, days: DAY_MS };

/**
 * A duration written as a whole number of `unit`, in milliseconds (how timers and dates count).
 *
 * @example
 * ```ts
 * durationMs(7, 'days'); // 604_800_000
 * ```
 */
export function durationMs(amount: number, unit: DurationUnit): number {
  return amount * UNIT_MS[unit];
}

/**
 * A duration written as a whole number of `unit` within `range` (in that unit), in
 * milliseconds; undefined for anything else. The settings write seconds, as Baricadr's files
 * do (`CLEANUP_AGE = '31536000'`); a suffix (`6h`) is not read: one form, the one Baricadr's
 * administrators already write.
 *
 * @example
 * ```ts
 * parseDuration('3600', 'seconds', { min: 1, max: 86_400 }); // 3_600_000
 * parseDuration('1h', 'seconds', { min: 1, max: 86_400 });   // undefined
 * ```
 */
export function parseDuration(value: unknown, unit: DurationUnit, range: WholeNumberRange): number | undefined {
  const amount = wholeNumberIn(value, range);
  return amount === undefined ? undefined : durationMs(amount, unit);
}
