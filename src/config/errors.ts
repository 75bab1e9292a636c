/**
 * The one error type of the config module, and the helpers that keep its messages to one
 * line that an operator can act on without reading code.
 */

/** Where a configuration problem was found. Only `file` is required. */
export interface ConfigErrorContext {
  /** The config file as the operator named it (or `environment` for env vars). */
  readonly file: string;
  /** 1-based line number, when the parser knows it. */
  readonly line?: number;
  /** The repo key as written in the repos file. */
  readonly repo?: string;
  /** The offending key, kept for programmatic use; the problem text names it too. */
  readonly key?: string;
}

/** Longest excerpt of a value quoted back in a message; config values are short, garbage is not. */
const MAX_QUOTED = 60;

/**
 * A configuration problem, reported as one line naming the file, the repo and the key,
 * and what would have been allowed.
 *
 * Messages never contain secret values: callers quote a value back only for keys whose
 * values are known to be harmless (numbers, enums), and describe the rest by type.
 *
 * @example
 * ```ts
 * throw ConfigError.invalidValue(
 *   { file: 'repos.yaml', repo: '/data/lab1' },
 *   'freeze_age',
 *   'a whole number of days from 2 to 10000',
 *   describeValue(1),
 * );
 * // repos.yaml: repo "/data/lab1": key "freeze_age" must be a whole number of days from 2 to 10000 (got 1)
 * ```
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly file: string;
  readonly line: number | undefined;
  readonly repo: string | undefined;
  readonly key: string | undefined;

  /**
   * @param context where the problem is; becomes the message prefix.
   * @param problem what is wrong, e.g. `key "port" must be ...`.
   * @example
   * ```ts
   * new ConfigError({ file: 'repos.yaml' }, 'the file is empty');
   * ```
   */
  constructor(context: ConfigErrorContext, problem: string) {
    super(oneLine(`${formatPrefix(context)}: ${problem}`));
    this.file = context.file;
    this.line = context.line;
    this.repo = context.repo;
    this.key = context.key;
  }

  /**
   * `key "k" must be <allowed> (got <got>)`; pass `got` only when the value is safe to show.
   *
   * @example
   * ```ts
   * ConfigError.invalidValue({ file: 'local.cfg' }, 'PORT', 'a whole number from 1 to 65535', '0');
   * ```
   */
  static invalidValue(
    context: ConfigErrorContext,
    key: string,
    allowed: string,
    got?: string,
  ): ConfigError {
    const suffix = got === undefined ? '' : ` (got ${got})`;
    return new ConfigError({ ...context, key }, `key ${quote(key)} must be ${allowed}${suffix}`);
  }

  /**
   * `unknown key "k" (allowed: a, b, c)`.
   *
   * @example
   * ```ts
   * ConfigError.unknownKey({ file: 'repos.yaml', repo: '/a' }, 'fooo', ['backend', 'url']);
   * ```
   */
  static unknownKey(
    context: ConfigErrorContext,
    key: string,
    allowed: readonly string[],
    qualifier = '',
  ): ConfigError {
    const scope = qualifier ? ` ${qualifier}` : '';
    return new ConfigError(
      { ...context, key },
      `unknown key ${quote(key)}${scope} (allowed: ${allowed.join(', ')})`,
    );
  }

  /**
   * `missing key "k" (<why>)`.
   *
   * @example
   * ```ts
   * ConfigError.missingKey({ file: 'repos.yaml', repo: '/a' }, 'url', 'required for backend sftp');
   * ```
   */
  static missingKey(context: ConfigErrorContext, key: string, why: string): ConfigError {
    return new ConfigError({ ...context, key }, `missing key ${quote(key)} (${why})`);
  }
}

/**
 * Quote a name for a message, JSON-style so that quotes and newlines in it cannot break the
 * one-line form.
 *
 * @example
 * ```ts
 * quote('/data/lab1'); // '"/data/lab1"'
 * ```
 */
export function quote(name: string): string {
  return JSON.stringify(name);
}

/**
 * Show a harmless value back to the operator: numbers and booleans as is, strings quoted and
 * shortened, containers by kind. Never call this on a value that may be a secret; use
 * {@link describeType} instead.
 *
 * @example
 * ```ts
 * describeValue(1);        // '1'
 * describeValue('weekly'); // '"weekly"'
 * describeValue([1, 2]);   // 'a list'
 * ```
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const short = value.length > MAX_QUOTED ? `${value.slice(0, MAX_QUOTED)}...` : value;
    return quote(short);
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return describeType(value);
}

/**
 * Name the kind of a value without showing it, for values that may be secrets.
 *
 * @example
 * ```ts
 * describeType('hunter2'); // 'a string'
 * describeType(null);      // 'an empty value'
 * ```
 */
export function describeType(value: unknown): string {
  if (value === null || value === undefined) return 'an empty value';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Map || isPlainObject(value)) return 'a map';
  if (value instanceof Date) return 'a date';
  if (value instanceof Uint8Array) return 'binary data';
  return `a ${typeof value}`;
}

function isPlainObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function formatPrefix(context: ConfigErrorContext): string {
  let prefix = context.file;
  if (context.line !== undefined) prefix += `: line ${context.line}`;
  if (context.repo !== undefined) prefix += `: repo ${quote(context.repo)}`;
  return prefix;
}

/** Log lines and API error bodies expect a single line; file names may hold anything. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}
