/**
 * Serving the web page: the built file with a Content-Security-Policy that admits only its
 * own inline script and style; a JSON 404 saying how to build it when it is not built; a
 * rebuilt page served without a restart. The browser side is test/web/page.test.ts.
 */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { WEB_PAGE_PATH, webPage } from '../../src/api/web-page.js';
import { buildWebPage, PAGE_BUDGET_BYTES } from '../../scripts/build-web.mjs';
import { tempDir } from '../helpers/remotes.js';

const sha = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

function appServing(file: string): express.Express {
  const app = express();
  app.get(WEB_PAGE_PATH, webPage(file));
  return app;
}

describe('the web page route', () => {
  it('serves the built page, its CSP naming its own script and style by hash and only this origin', async () => {
    const file = path.join(tempDir('page'), 'index.html');
    writeFileSync(file, '<!doctype html><style>p{}</style><p>hi</p><script>go()</script>');
    const answer = await request(appServing(file)).get('/');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^text\/html/);
    expect(answer.text).toContain('<p>hi</p>');
    const policy = String(answer.headers['content-security-policy']);
    expect(policy).toContain(`script-src ${sha('go()')}`);
    expect(policy).toContain(`style-src ${sha('p{}')}`);
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("connect-src 'self'");
    expect(answer.headers['x-frame-options']).toBe('DENY');

    // Rebuilt: the new page, with its new hashes, without a restart.
    writeFileSync(file, '<!doctype html><script>again()</script>');
    const later = new Date(Date.now() + 5_000);
    utimesSync(file, later, later);
    const rebuilt = await request(appServing(file)).get('/');
    expect(String(rebuilt.headers['content-security-policy'])).toContain(sha('again()'));
  });

  it('answers a JSON 404 saying how to build it when it is not built', async () => {
    const file = path.join(tempDir('page'), 'index.html');
    rmSync(file, { force: true });
    const answer = await request(appServing(file)).get('/');
    expect(answer.status).toBe(404);
    expect(answer.body).toEqual({ error: 'The web page is not built: run "npm run build"' });
  });

  it('is built into one file with its script and style inlined, within its 300 kB budget', async () => {
    const { file, gzipBytes } = await buildWebPage();
    const html = readFileSync(file, 'utf8');
    expect(html).toMatch(/<style>[\s\S]+<\/style>/);
    expect(html).toMatch(/<script>[\s\S]+<\/script>/);
    // Nothing loaded from elsewhere: no src or href pointing off the page but the empty icon.
    expect([...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1])).toEqual(['data:,']);
    expect(gzipBytes).toBeLessThan(PAGE_BUDGET_BYTES);
    expect(PAGE_BUDGET_BYTES).toBe(300 * 1024);
  });
});
