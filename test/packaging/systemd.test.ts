/**
 * The systemd units of deploy/systemd: valid for systemd (`systemd-analyze verify`), and
 * running Glacis as the README says: settings from /etc/glacis, unprivileged, a worker
 * stopped gently enough for its tasks to finish.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/settings.js';
import { REPO_ROOT, parseUnit, repoFile, runTool, unitEnvironment, unitValues, unreadSettingKeys } from './deploy-files.js';

const UNITS = { serve: 'deploy/systemd/glacis-serve.service', worker: 'deploy/systemd/glacis-worker@.service' } as const;

describe.each(Object.entries(UNITS))('the %s unit', (command, file) => {
  const unit = parseUnit(repoFile(file));
  const one = (section: string, key: string): string | undefined => {
    const values = unitValues(unit, section, key);
    expect({ key, count: values.length }).toEqual({ key, count: 1 });
    return values[0];
  };

  it('passes systemd-analyze verify without a warning', () => {
    const run = runTool('systemd-analyze', ['verify', path.join(REPO_ROOT, file)], 'apt-get install -y --no-install-recommends systemd');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it(`runs glacis ${command} from /opt/glacis, unprivileged, with the settings of /etc/glacis`, () => {
    expect(one('Service', 'ExecStart')).toBe(`node /opt/glacis/bin/glacis.js ${command}`);
    expect(one('Service', 'User')).toBe('glacis');
    expect(one('Service', 'WorkingDirectory')).toBe('/var/lib/glacis');
    expect(one('Service', 'StateDirectory')).toBe('glacis');
    expect(unitEnvironment(unit)).toEqual({ GLACIS_CONFIG: '/etc/glacis/local.cfg' });
    // Secrets go to a file only root reads; "-": optional.
    expect(one('Service', 'EnvironmentFile')).toBe('-/etc/glacis/glacis.env');
    expect(one('Service', 'NoNewPrivileges')).toBe('yes');
  });

  it('sets only environment variables that Glacis reads', () => {
    const env = unitEnvironment(unit);
    expect(Object.keys(env).length).toBeGreaterThan(0);
    expect(unreadSettingKeys(env)).toEqual([]);
  });

  it('restarts after a failure, but not after a configuration error (exit code 2)', () => {
    expect(one('Service', 'Restart')).toBe('on-failure');
    expect(one('Service', 'RestartPreventExitStatus')).toBe('2');
    expect(repoFile('docs/cli.md')).toMatch(/Exit codes: 0 ok, 1 failure, 2 usage or configuration error/);
  });

  it('starts after Redis and the network, and at boot', () => {
    expect(one('Unit', 'After')?.split(/\s+/)).toEqual(expect.arrayContaining(['network-online.target', 'redis-server.service']));
    expect(one('Install', 'WantedBy')).toBe('multi-user.target');
  });
});

describe('the worker unit', () => {
  const unit = parseUnit(repoFile(UNITS.worker));

  it('signals only the worker on stop and waits longer than WORKER_SHUTDOWN_GRACE', () => {
    // control-group (the default) would send SIGTERM to rclone too, failing running tasks.
    expect(unitValues(unit, 'Service', 'KillMode')).toEqual(['mixed']);
    expect(unitValues(unit, 'Service', 'KillSignal')).toEqual(['SIGTERM']);
    const grace = loadSettings({ env: {}, configPath: '/dev/null', warn: () => undefined }).shutdownGraceMs / 1000;
    expect(Number(unitValues(unit, 'Service', 'TimeoutStopSec')[0])).toBeGreaterThan(grace);
  });

  it('can write the repositories anywhere (no ProtectSystem=strict) and names the capabilities chown needs', () => {
    expect(unitValues(unit, 'Service', 'ProtectSystem')).toEqual(['full']);
    expect(repoFile(UNITS.worker)).toMatch(/^#AmbientCapabilities=CAP_CHOWN CAP_FOWNER CAP_DAC_OVERRIDE$/m);
  });

  it('is a template, so that several workers run side by side', () => {
    expect(path.basename(UNITS.worker)).toMatch(/@\.service$/);
    expect(unitValues(unit, 'Unit', 'Description')[0]).toContain('%i');
  });
});

it('ships no other unit than the ones tested here', () => {
  expect(readdirSync(path.join(REPO_ROOT, 'deploy/systemd')).sort()).toEqual(Object.values(UNITS).map((f) => path.basename(f)).sort());
});
