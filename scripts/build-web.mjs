#!/usr/bin/env node
/**
 * Builds the web page (web/) into ONE file, dist/page/index.html, with its script and style
 * inlined: `glacis serve` answers `GET /` with it and needs no other route, no CDN and no
 * font from outside. Fails when the page grows past its budget (300 kB compressed).
 *
 * Run by `npm run build`, and by the test setup so that browser tests see the current sources.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Compressed bytes the page may weigh: issue 17's budget. */
export const PAGE_BUDGET_BYTES = 300 * 1024;

/**
 * @returns where the page was written and its compressed size.
 * @example
 * ```js
 * const { file, gzipBytes } = await buildWebPage();
 * ```
 */
export async function buildWebPage() {
  const bundle = await build({
    entryPoints: [path.join(ROOT, 'web/src/main.tsx')],
    bundle: true,
    minify: true,
    format: 'iife',
    target: ['es2020'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  // `</script` inside the script would end it early in the HTML.
  const script = bundle.outputFiles[0].text.replace(/<\/script/gi, '<\\/script');
  const style = readFileSync(path.join(ROOT, 'web/style.css'), 'utf8');
  const template = readFileSync(path.join(ROOT, 'web/index.html'), 'utf8');
  const html = template.replace('<!--STYLE-->', () => `<style>${style}</style>`).replace('<!--SCRIPT-->', () => `<script>${script}</script>`);
  const gzipBytes = gzipSync(html).length;
  if (gzipBytes > PAGE_BUDGET_BYTES) throw new Error(`the web page is ${gzipBytes} bytes compressed, over its budget of ${PAGE_BUDGET_BYTES}`);
  const dir = path.join(ROOT, 'dist/page');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'index.html');
  // Written whole then renamed would be safer for a running server, but it reads the file once at start.
  writeFileSync(file, html);
  return { file, bytes: Buffer.byteLength(html), gzipBytes, sha256: createHash('sha256').update(html).digest('hex') };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const { file, bytes, gzipBytes } = await buildWebPage();
    console.log(`web page: ${path.relative(ROOT, file)}, ${bytes} bytes, ${gzipBytes} compressed`);
  } catch (error) {
    console.error(`web page build failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
