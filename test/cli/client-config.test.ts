/**
 * The client's `~/.glacis.yml`: the warning about a file others can read is for files
 * holding a token only (issue 15: it was given for a file without any).
 */
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { readClientConfig } from '../../src/cli/client/config.js';
import { tempDir } from '../helpers/remotes.js';

function readWith(text: string, mode: number): string[] {
  const file = path.join(tempDir('client-config'), '.glacis.yml');
  writeFileSync(file, text);
  chmodSync(file, mode);
  const warnings: string[] = [];
  readClientConfig(file, (m) => warnings.push(m));
  return warnings;
}

it('warns about a file others can read only when it holds a token', () => {
  const withoutToken = 'default: local\nservers:\n  local:\n    url: http://127.0.0.1:9100\n';
  const withToken = 'default: local\nservers:\n  local:\n    url: http://127.0.0.1:9100\n    token: 0123456789abcdef0123\n';
  expect(readWith(withoutToken, 0o644)).toEqual([]);
  expect(readWith(withToken, 0o600)).toEqual([]);
  expect(readWith(withToken, 0o644)).toEqual([expect.stringMatching(/holds tokens and others can read it: run "chmod 600 /)]);
});
