/**
 * Reader for Baricadr's `local.cfg`: a Python file that Flask executes. Glacis does not run
 * Python, so it accepts the subset that real `local.cfg` files use: one `KEY = literal` per
 * statement, with literal strings, numbers, booleans and `None`, plus list/dict literals
 * (Celery's `['json', ]`) that are kept as their source text because nothing in Glacis reads
 * them.
 */
import { ConfigError, quote } from './errors.js';

/** A value as parsed from `local.cfg`. `None` is not a value: the key is simply unset. */
export type LocalCfgValue = string | number | boolean;

const KEY_PATTERN = /^([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)(.*)$/;
const INT_PATTERN = /^[+-]?\d+(?:_\d+)*$/;
/** Baricadr's own defaults are written `365 * 24 * 3600`; operators copy that style. */
const INT_PRODUCT_PATTERN = /^\d+(?:\s*\*\s*\d+)+$/;
const FLOAT_PATTERN = /^[+-]?(?:(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)$/;
const OPENERS = '([{';
const CLOSERS = ')]}';
const ALLOWED_VALUES =
  'a quoted string, a number, True, False, None, or a [list], (tuple) or {dict} literal';

/** One physical line after removing its comment. */
interface ScannedLine {
  readonly code: string;
  /** Bracket depth after this line, counting from the depth before it. */
  readonly depth: number;
  readonly unterminatedString: boolean;
}

/** One `KEY = value` statement, possibly spanning lines inside brackets. */
interface Statement {
  readonly key: string;
  readonly valueText: string;
  readonly line: number;
}

/**
 * Parse the text of a Baricadr-style `local.cfg`.
 *
 * Later assignments win, as they would in Python; `KEY = None` unsets the key. Any line that
 * is not a supported statement throws a {@link ConfigError} naming the file and the line
 * (never the value, which may be a password).
 *
 * @param text the file's content.
 * @param fileName the name to put in error messages.
 * @returns the keys in file order, with their parsed values.
 * @example
 * ```ts
 * parseLocalCfg("PORT = 9100  # web port\nRUN_MODE = 'prod'\n", 'local.cfg');
 * // { PORT: 9100, RUN_MODE: 'prod' }
 * ```
 */
export function parseLocalCfg(text: string, fileName: string): Record<string, LocalCfgValue> {
  // A Map, then fromEntries: a key like `__proto__` must become data, not a prototype.
  const values = new Map<string, LocalCfgValue>();
  for (const statement of readStatements(text, fileName)) {
    const value = parseValue(statement, fileName);
    if (value === undefined) values.delete(statement.key);
    else values.set(statement.key, value);
  }
  return Object.fromEntries(values);
}

function readStatements(text: string, fileName: string): Statement[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  const statements: Statement[] = [];
  for (let index = 0; index < lines.length; index++) {
    const lineNo = index + 1;
    const first = scanChecked(lines[index] ?? '', 0, fileName, lineNo);
    if (first.code.trim() === '') continue;
    const match = KEY_PATTERN.exec(first.code.trim());
    if (!match) {
      throw new ConfigError({ file: fileName, line: lineNo }, 'expected KEY = value');
    }
    const key = match[1] ?? '';
    const parts = [(match[2] ?? '').trim()];
    let depth = first.depth;
    while (depth > 0) {
      index++;
      if (index >= lines.length) {
        throw new ConfigError(
          { file: fileName, line: lineNo, key },
          `key ${quote(key)}: bracket opened here is never closed`,
        );
      }
      const next = scanChecked(lines[index] ?? '', depth, fileName, index + 1);
      parts.push(next.code.trim());
      depth = next.depth;
    }
    statements.push({ key, valueText: parts.filter((p) => p !== '').join(' '), line: lineNo });
  }
  return statements;
}

function scanChecked(line: string, depthBefore: number, fileName: string, lineNo: number): ScannedLine {
  const scanned = scanLine(line, depthBefore);
  if (scanned.unterminatedString) {
    throw new ConfigError(
      { file: fileName, line: lineNo },
      'unterminated string (strings must open and close on the same line)',
    );
  }
  if (scanned.depth < 0) {
    throw new ConfigError({ file: fileName, line: lineNo }, 'closing bracket without an opening one');
  }
  return scanned;
}

/** Cuts the comment and tracks brackets, both only outside quotes, so `'a#b'` stays whole. */
function scanLine(line: string, depthBefore: number): ScannedLine {
  let depth = depthBefore;
  let openQuote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] ?? '';
    if (openQuote !== undefined) {
      if (ch === '\\') i++;
      else if (ch === openQuote) openQuote = undefined;
      continue;
    }
    if (ch === '#') return { code: line.slice(0, i), depth, unterminatedString: false };
    if (ch === '"' || ch === "'") openQuote = ch;
    else if (OPENERS.includes(ch)) depth++;
    else if (CLOSERS.includes(ch)) depth--;
  }
  return { code: line, depth, unterminatedString: openQuote !== undefined };
}

function parseValue(statement: Statement, fileName: string): LocalCfgValue | undefined {
  const text = statement.valueText;
  if (text === 'None') return undefined;
  if (text === 'True') return true;
  if (text === 'False') return false;
  if (INT_PATTERN.test(text)) return Number(text.replace(/_/g, ''));
  if (INT_PRODUCT_PATTERN.test(text)) return multiply(text);
  if (FLOAT_PATTERN.test(text)) return Number(text);
  const str = parseStringLiteral(text);
  if (str !== undefined) return str;
  if (isBracketLiteral(text)) return text;
  throw new ConfigError(
    { file: fileName, line: statement.line, key: statement.key },
    text === ''
      ? `key ${quote(statement.key)} has no value (allowed: ${ALLOWED_VALUES})`
      : `key ${quote(statement.key)} has an unsupported value (allowed: ${ALLOWED_VALUES})`,
  );
}

function multiply(text: string): number {
  return text.split('*').reduce((product, factor) => product * Number(factor.trim()), 1);
}

/** A whole `'...'` / `"..."` literal (optionally `r`/`u`-prefixed), or undefined. */
function parseStringLiteral(text: string): string | undefined {
  const prefix = /^[rRuU]?/.exec(text)?.[0] ?? '';
  const body = text.slice(prefix.length);
  const quoteChar = body[0];
  if (quoteChar !== '"' && quoteChar !== "'") return undefined;
  const end = findClosingQuote(body, quoteChar);
  if (end !== body.length - 1) return undefined;
  const inner = body.slice(1, end);
  return prefix.toLowerCase() === 'r' ? inner : unescapePython(inner);
}

function findClosingQuote(body: string, quoteChar: string): number {
  for (let i = 1; i < body.length; i++) {
    const ch = body[i];
    if (ch === '\\') i++;
    else if (ch === quoteChar) return i;
  }
  return -1;
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0', a: '\x07', b: '\b', f: '\f', v: '\v',
};

function unescapePython(inner: string): string {
  return inner.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|[\s\S])/g, (whole, seq: string) => {
    if (seq.length > 1) return String.fromCharCode(parseInt(seq.slice(1), 16));
    // Python keeps the backslash of an unknown escape such as `\d`.
    return SIMPLE_ESCAPES[seq] ?? whole;
  });
}

/** Balanced and closed by the bracket that opened it; the scan already checked the quotes. */
function isBracketLiteral(text: string): boolean {
  const open = OPENERS.indexOf(text[0] ?? '');
  if (open < 0 || text[text.length - 1] !== CLOSERS[open]) return false;
  const scanned = scanLine(text, 0);
  return scanned.depth === 0 && scanned.code === text;
}
