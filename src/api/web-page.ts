/**
 * The web page at `/` (issue 17): one HTML file with its script and style inlined, built
 * from web/ by `npm run build` (scripts/build-web.mjs) into dist/page/index.html. It holds
 * no data and no secret, so it is served without a token: it asks for one itself and reads
 * everything through the public API.
 *
 * Its Content-Security-Policy allows only its own inline script and style (by hash) and
 * requests to this server, so nothing on the page can fetch from anywhere else.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RequestHandler } from 'express';

/**
 * Where the page is served.
 *
 * @example
 * ```ts
 * app.get(WEB_PAGE_PATH, webPage());
 * ```
 */
export const WEB_PAGE_PATH = '/';

/** The built page, relative to the package root. */
const PAGE_FILE = path.join('dist', 'page', 'index.html');

interface Built {
  readonly mtimeMs: number;
  readonly html: string;
  readonly policy: string;
}

/**
 * Answers with the built page, or a JSON 404 saying how to build it.
 *
 * @param file the built page; default dist/page/index.html in the package.
 * @example
 * ```ts
 * app.get(WEB_PAGE_PATH, webPage());
 * ```
 */
export function webPage(file: string = path.join(packageRoot(), PAGE_FILE)): RequestHandler {
  let built: Built | undefined;
  return (_req, res) => {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(file).mtimeMs;
    } catch {
      res.status(404).json({ error: 'The web page is not built: run "npm run build"' });
      return;
    }
    // Re-read when rebuilt, so a development server shows the current page.
    if (built?.mtimeMs !== mtimeMs) {
      const html = readFileSync(file, 'utf8');
      built = { mtimeMs, html, policy: contentSecurityPolicy(html) };
    }
    res
      .status(200)
      .set({
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-cache',
        'Content-Security-Policy': built.policy,
        'X-Content-Type-Options': 'nosniff',
        'X-Frame-Options': 'DENY',
        'Referrer-Policy': 'no-referrer',
      })
      .send(built.html);
  };
}

/** Only the page's own inline script and style, by hash; requests to this origin only. */
function contentSecurityPolicy(html: string): string {
  const hashes = (tag: string): string =>
    [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))]
      .map((match) => `'sha256-${createHash('sha256').update(match[1]!, 'utf8').digest('base64')}'`)
      .join(' ');
  return [
    "default-src 'none'",
    `script-src ${hashes('script')}`,
    `style-src ${hashes('style')}`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

// The same code runs from src/ (tests) and dist/src/ (installed): look upwards, as for the version.
function packageRoot(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string };
      if (pkg.name === 'glacis') return dir;
    } catch {
      // not here: keep looking
    }
  }
  return process.cwd();
}
