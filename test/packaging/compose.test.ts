/**
 * docker-compose.prod.yml and docker-compose.dev.yml, checked without a Docker engine:
 * Compose's own validation (`docker-compose config`), then what each stack must provide,
 * and that every environment variable set on a Glacis service is a setting Glacis reads,
 * with a value it accepts.
 */
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRepos } from '../../src/config/repos.js';
import { loadSettings } from '../../src/config/settings.js';
import type { S3Remote, SftpRemote } from '../../src/config/types.js';
import { tempDir } from '../helpers/remotes.js';
import {
  REPO_ROOT,
  asList,
  durationSeconds,
  glacisServices,
  isBuiltHere,
  mountHolding,
  mounts,
  readCompose,
  repoFile,
  runTool,
  serviceEnv,
  unreadSettingKeys,
  type ComposeFile,
  type ComposeService,
} from './deploy-files.js';

const FILES = ['docker-compose.prod.yml', 'docker-compose.dev.yml'] as const;
const COMPOSE_INSTALL = 'apt-get install -y --no-install-recommends docker-compose (it validates without an engine)';

function service(compose: ComposeFile, name: string): ComposeService {
  const found = compose.services[name];
  if (found === undefined) throw new Error(`no service ${name}`);
  return found;
}

/** The directory on the host that a bind mount's source names, relative to the compose file. */
function hostPath(source: string): string {
  return path.resolve(REPO_ROOT, source);
}

describe.each(FILES)('%s', (file) => {
  const compose = readCompose(file);

  it('is valid for Compose (docker-compose config)', () => {
    const run = runTool('docker-compose', ['-f', file, 'config', '-q'], COMPOSE_INSTALL);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('sets on Glacis services only environment variables that Glacis reads, with values it accepts', () => {
    const services = glacisServices(compose);
    expect(Object.keys(services).sort()).toEqual(['api', 'worker']);
    for (const [name, glacis] of Object.entries(services)) {
      const env = serviceEnv(glacis);
      expect({ service: name, unread: unreadSettingKeys(env) }).toEqual({ service: name, unread: [] });
      // GLACIS_CONFIG names a file of the host, mounted: an empty one stands in for it.
      const config = path.join(tempDir('compose-env'), 'local.cfg');
      writeFileSync(config, '');
      const { GLACIS_CONFIG: _mounted, ...rest } = env;
      expect(() => loadSettings({ env: rest, configPath: config, warn: () => undefined })).not.toThrow();
    }
  });

  it('runs serve and worker from the one image built from this Dockerfile', () => {
    const api = service(compose, 'api');
    const worker = service(compose, 'worker');
    for (const glacis of [api, worker]) expect(isBuiltHere(glacis)).toBe(true);
    expect(api.image).toBeDefined();
    expect(worker.image).toBe(api.image);
    expect(asList(api.command)).toEqual(['serve']);
    expect(asList(worker.command)).toEqual(['worker']);
  });

  it('starts the API and the worker once Redis is healthy, and reaches Redis by its service name', () => {
    for (const name of ['api', 'worker']) {
      const glacis = service(compose, name);
      expect(glacis.depends_on).toMatchObject({ redis: { condition: 'service_healthy' } });
      expect(new URL(serviceEnv(glacis).REDIS_URL ?? '').hostname).toBe('redis');
    }
    expect(asList(service(compose, 'redis').healthcheck?.test)).toContain('ping');
  });

  it('publishes the API on the host loopback only', () => {
    expect(service(compose, 'api').ports).toEqual(['127.0.0.1:9100:9100']);
  });

  it('mounts the repos file where REPOS_CONF points, read-only', () => {
    for (const name of ['api', 'worker']) {
      const glacis = service(compose, name);
      const reposConf = serviceEnv(glacis).REPOS_CONF ?? '';
      const mount = mountHolding(glacis, reposConf);
      expect(mount).toMatchObject({ named: false, readOnly: true });
    }
  });
});

describe('docker-compose.prod.yml', () => {
  const compose = readCompose('docker-compose.prod.yml');
  const api = service(compose, 'api');
  const worker = service(compose, 'worker');
  const redis = service(compose, 'redis');

  it('restarts every long-running service and checks its health', () => {
    for (const [name, running] of Object.entries({ api, worker, redis })) {
      expect({ name, restart: running.restart }).toEqual({ name, restart: 'unless-stopped' });
      expect({ name, health: asList(running.healthcheck?.test).length > 1 }).toEqual({ name, health: true });
    }
  });

  it('checks the API and the worker with the script the image carries', () => {
    const dockerfile = repoFile('Dockerfile');
    expect(dockerfile).toMatch(/^COPY deploy\/docker\/ \.\/deploy\/docker\/$/m);
    expect(dockerfile).toMatch(/^WORKDIR \/opt\/glacis$/m);
    for (const [role, glacis] of [['serve', api], ['worker', worker]] as const) {
      const test = asList(glacis.healthcheck?.test);
      expect(test).toEqual(['CMD', 'node', '/opt/glacis/deploy/docker/healthcheck.mjs', role]);
      expect(existsSync(path.join(REPO_ROOT, 'deploy/docker/healthcheck.mjs'))).toBe(true);
    }
  });

  it('keeps Redis on a volume with an append-only file, never evicting BullMQ keys', () => {
    const command = asList(redis.command);
    expect(command.join(' ')).toMatch(/--appendonly yes/);
    expect(command.join(' ')).toMatch(/--maxmemory-policy noeviction/);
    const data = mountHolding(redis, '/data');
    expect(data?.named).toBe(true);
    expect(Object.keys(compose.volumes ?? {})).toContain(data?.source);
  });

  it('keeps the task records and logs in PostgreSQL, reached by service name, on a named volume, healthy before Glacis starts', () => {
    const postgres = service(compose, 'postgres');
    for (const glacis of [api, worker]) {
      const url = new URL(serviceEnv(glacis).DATABASE_URL ?? '');
      expect(url.protocol).toBe('postgresql:');
      expect(url.hostname).toBe('postgres');
      expect(url.pathname).toBe(`/${serviceEnv(postgres).POSTGRES_DB}`);
      expect(url.username).toBe(serviceEnv(postgres).POSTGRES_USER);
      expect(glacis.depends_on).toMatchObject({ postgres: { condition: 'service_healthy' } });
      // No state of Glacis's own in its containers: no TASK_LOG_DIR, no database volume.
      expect(serviceEnv(glacis)).not.toHaveProperty('TASK_LOG_DIR');
      expect(mounts(glacis).filter((mount) => mount.named)).toEqual([]);
    }
    // One password, given to both from the environment (.env), never written here.
    expect(serviceEnv(postgres).POSTGRES_PASSWORD).toBe('${GLACIS_DB_PASSWORD:-}');
    expect(repoFile('docker-compose.prod.yml')).toContain('postgresql://glacis:${GLACIS_DB_PASSWORD:-}@postgres:5432/glacis');
    expect(postgres.restart).toBe('unless-stopped');
    expect(asList(postgres.healthcheck?.test)).toContain('pg_isready');
    const data = mountHolding(postgres, '/var/lib/postgresql/data');
    expect(data?.named).toBe(true);
    expect(Object.keys(compose.volumes ?? {})).toContain(data?.source);
    expect(postgres.ports).toBeUndefined();
  });

  it('reads local.cfg and the repos file from the host, and gives the workers the repositories', () => {
    for (const glacis of [api, worker]) {
      const config = mountHolding(glacis, serviceEnv(glacis).GLACIS_CONFIG ?? '');
      expect(config).toMatchObject({ source: './local.cfg', named: false, readOnly: true });
      expect(mountHolding(glacis, serviceEnv(glacis).REPOS_CONF ?? '')).toMatchObject({ source: './repos.yaml' });
    }
    expect(mounts(worker)).toContainEqual({ source: '/data', target: '/data', readOnly: false, named: false });
  });

  it('gives a stopping worker longer than WORKER_SHUTDOWN_GRACE to finish its tasks', () => {
    const grace = loadSettings({ env: serviceEnv(worker), configPath: emptyConfig(), warn: () => undefined }).shutdownGraceMs / 1000;
    expect(durationSeconds(worker.stop_grace_period ?? '10s')).toBeGreaterThan(grace);
  });
});

function emptyConfig(): string {
  const file = path.join(tempDir('compose-cfg'), 'local.cfg');
  writeFileSync(file, '');
  return file;
}

describe('docker-compose.dev.yml', () => {
  const compose = readCompose('docker-compose.dev.yml');
  const api = service(compose, 'api');
  const worker = service(compose, 'worker');

  it('has the whole stack: Redis, an SFTP server, an S3 server and a mail catcher', () => {
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['api', 'worker', 'redis', 'sftp', 's3', 'mailpit', 'seed', 'tsc']));
  });

  it('mounts the sources and restarts Glacis when tsc recompiles them', () => {
    const tsc = service(compose, 'tsc');
    expect([...asList(tsc.entrypoint), ...asList(tsc.command)].join(' ')).toMatch(/tsc -p tsconfig\.build\.json --watch/);
    const dist = mountHolding(tsc, '/opt/glacis/dist');
    expect(dist?.named).toBe(true);
    for (const glacis of [api, worker]) {
      expect(asList(glacis.entrypoint)).toEqual(['/usr/bin/tini', '--', 'node', '--watch', '/opt/glacis/bin/glacis.js']);
      expect(mountHolding(glacis, '/opt/glacis/dist')).toEqual(dist);
      for (const dir of ['src', 'bin']) {
        const mount = mountHolding(glacis, `/opt/glacis/${dir}`);
        expect(mount).toMatchObject({ source: `./${dir}`, target: `/opt/glacis/${dir}`, named: false });
        expect(statSync(hostPath(mount!.source)).isDirectory()).toBe(true);
        expect(mountHolding(tsc, `/opt/glacis/${dir}`)).toEqual(mount);
      }
    }
  });

  it('sends mail to the mail catcher, whose web page is published', () => {
    for (const glacis of [api, worker]) {
      const env = serviceEnv(glacis);
      expect(env.MAIL_SERVER).toBe('mailpit');
      expect(env.MAIL_PORT).toBe('1025');
    }
    expect(service(compose, 'mailpit').ports).toContain('127.0.0.1:8025:8025');
  });

  describe('its repos file', () => {
    const reposConf = serviceEnv(api).REPOS_CONF ?? '';
    const mount = mountHolding(api, reposConf);
    const reposFile = path.join(hostPath(mount?.source ?? ''), path.relative(mount?.target ?? '', reposConf));
    const text = repoFile(path.relative(REPO_ROOT, reposFile));
    /** The repos with /data (the dev-repos volume) at a temporary directory. */
    const loadRepos = () => {
      const dataRoot = tempDir('dev-data');
      for (const dir of ['lab1', 'lab2', 'lab3', 'cold/lab3']) mkdirSync(path.join(dataRoot, dir), { recursive: true });
      return { dataRoot, repos: parseRepos(text.replaceAll('/data/', `${dataRoot}/`), reposFile, path.dirname(reposFile)) };
    };

    it('is a valid repos file with one repo per remote server of the stack', () => {
      const { dataRoot, repos } = loadRepos();
      expect(repos.map((repo) => [path.relative(dataRoot, repo.localPath), repo.remote.backend])).toEqual([
        ['lab1', 'sftp'], ['lab2', 's3'], ['lab3', 'local'],
      ]);
    });

    it('names the servers and credentials of the stack', () => {
      const { repos } = loadRepos();
      const sftp = repos.find((repo) => repo.remote.backend === 'sftp')!.remote as SftpRemote;
      const s3 = repos.find((repo) => repo.remote.backend === 's3')!.remote as S3Remote;
      expect(sftp.host).toBe('sftp');
      expect(asList(service(compose, 'sftp').command)[0]).toBe(`${sftp.user}:${sftp.password}:10001:10001`);
      // The sample data is the SFTP user's <path> directory.
      expect(mounts(service(compose, 'sftp'))).toContainEqual({ source: './deploy/dev/sample-data', target: `/home/${sftp.user}/${sftp.path}`, readOnly: true, named: false });
      expect(new URL(s3.endpoint ?? '').host).toBe('s3:9000');
      expect(serviceEnv(service(compose, 's3'))).toMatchObject({ MINIO_ROOT_USER: s3.accessKeyId, MINIO_ROOT_PASSWORD: s3.secretAccessKey });
    });

    it('is prepared by the seed script: every repo directory, the local remote and the S3 copy', () => {
      const seed = service(compose, 'seed');
      const script = asList(seed.entrypoint).at(-1) ?? '';
      const scriptMount = mountHolding(seed, script);
      const scriptFile = path.join(hostPath(scriptMount?.source ?? ''), path.relative(scriptMount?.target ?? '', script));
      const seedText = repoFile(path.relative(REPO_ROOT, scriptFile));
      expect(runTool('sh', ['-n', scriptFile], 'apt-get install -y dash').status).toBe(0);
      const { dataRoot, repos } = loadRepos();
      const mkdir = /^mkdir -p (.+)$/m.exec(seedText)?.[1]?.split(/\s+/) ?? [];
      for (const repo of repos) expect(mkdir).toContain(`/data/${path.relative(dataRoot, repo.localPath)}`);
      const local = repos.find((r) => r.remote.backend === 'local')!;
      expect(seedText).toContain(`cp -a "$sample" /data/${path.relative(dataRoot, (local.remote as { path: string }).path)}`);
      const s3 = repos.find((r) => r.remote.backend === 's3')!.remote as S3Remote;
      expect(seedText).toContain(`devs3:${s3.path.replace(/\/$/, '')}`);
      expect(seedText).toContain(`RCLONE_CONFIG_DEVS3_SECRET_ACCESS_KEY=${s3.secretAccessKey}`);
      // /data is the same volume for the seed and for Glacis.
      expect(mountHolding(seed, '/data')).toEqual(mountHolding(worker, '/data'));
      expect(seed.depends_on).toMatchObject({ s3: { condition: 'service_healthy' } });
      for (const glacis of [api, worker]) expect(glacis.depends_on).toMatchObject({ seed: { condition: 'service_completed_successfully' } });
    });

    it('has sample data to serve', () => {
      const sample = path.join(REPO_ROOT, 'deploy/dev/sample-data');
      expect(readdirSync(sample).sort()).toEqual(['README.txt', 'raw', 'results']);
    });
  });
});
