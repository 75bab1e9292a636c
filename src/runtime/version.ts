/**
 * The package version, read once from package.json. Kept apart from the runtime so that
 * commands which start no service (the client commands, `--version`) need not load it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package version, reported by `/version` unless the settings override it.
 *
 * @example
 * ```ts
 * program.version(PACKAGE_VERSION);
 * ```
 */
export const PACKAGE_VERSION: string = readPackageVersion();

// The same code runs from src/ (tests) and dist/src/ (installed): look upwards.
function readPackageVersion(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'glacis' && pkg.version) return pkg.version;
    } catch {
      // not here: keep looking
    }
  }
  return '0.0.0';
}
