/**
 * The repository `exclude` rule, in one place: pull, freeze and listings all ask
 * here whether a repo-relative path is excluded.
 *
 * Patterns follow rclone's filter glob syntax, so a Baricadr repos file means the
 * same thing here: `*` any run of characters but `/`, `**` any run including `/`,
 * `?` one character but `/`, `[…]` a class, `{a,b}` alternatives, `\` escapes.
 * A pattern starting with `/` is anchored at the repository root; any other pattern
 * matches the end of the path (`*xml` excludes every name ending in xml, at any depth).
 * A pattern ending with `/` excludes everything below such a directory.
 */

/** Thrown for a pattern that cannot be compiled (unbalanced `[` or `{`). */
export class ExcludePatternError extends Error {
  override readonly name = 'ExcludePatternError';
}

/** Tests a repo-relative path (`/` separators, no leading slash). */
export type ExcludeMatcher = (relativePath: string) => boolean;

/**
 * Compiles the patterns once; the returned function is cheap enough to call for
 * each of millions of files.
 *
 * @example
 * ```ts
 * const isExcluded = compileExcludes(['*xml', '*tsv']);
 * isExcluded('runs/a.xml'); // true
 * isExcluded('runs/a.txt'); // false
 * ```
 */
export function compileExcludes(patterns: readonly string[]): ExcludeMatcher {
  if (patterns.length === 0) return () => false;
  const regex = new RegExp(patterns.map(globToRegexSource).join('|'), 'u');
  return (relativePath) => regex.test(relativePath);
}

function globToRegexSource(pattern: string): string {
  let glob = pattern;
  const anchored = glob.startsWith('/');
  if (anchored) glob = glob.slice(1);
  if (glob.endsWith('/')) glob += '**';
  return `(?:${anchored ? '^' : '(?:^|/)'}${translate(glob, pattern)}$)`;
}

function translate(glob: string, original: string): string {
  let out = '';
  let braceDepth = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '\\') {
      const next = glob[++i];
      if (next === undefined) throw new ExcludePatternError(`exclude pattern "${original}" ends with a lone backslash`);
      out += escapeRegex(next);
    } else if (c === '*') {
      if (glob[i + 1] === '*') {
        out += '.*';
        i++;
      } else {
        out += '[^/]*';
      }
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end === -1) throw new ExcludePatternError(`exclude pattern "${original}" has an unclosed "["`);
      let body = glob.slice(i + 1, end);
      if (body.startsWith('!')) body = `^${body.slice(1)}`;
      out += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '{') {
      braceDepth++;
      out += '(?:';
    } else if (c === '}' && braceDepth > 0) {
      braceDepth--;
      out += ')';
    } else if (c === ',' && braceDepth > 0) {
      out += '|';
    } else {
      out += escapeRegex(c);
    }
  }
  if (braceDepth !== 0) throw new ExcludePatternError(`exclude pattern "${original}" has an unclosed "{"`);
  return out;
}

function escapeRegex(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}
