import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { RemoteSpec } from '../../src/config/types.js';
import { requireBinary } from '../harness/process.js';
import {
  childEnv,
  isBucketBased,
  makeRedactor,
  normalizeRelPath,
  obscure,
  remoteEnv,
  remoteRoot,
  reveal,
  secretsOf,
  secretSettings,
} from '../../src/rclone/index.js';

const P = 'RCLONE_CONFIG_GLACISREMOTE_';

/** `rclone obscure -` with the secret on stdin, never argv. */
function rcloneObscure(secret: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // Not a bare 'rclone': under npx, node_modules/.bin/rclone is rclone.js's shim.
    const child = spawn(requireBinary('rclone'), ['obscure', '-'], {
      env: { PATH: process.env.PATH, RCLONE_CONFIG: '/dev/null' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`exit ${code}`))));
    child.stdin.end(`${secret}\n`);
  });
}

describe('remoteRoot', () => {
  it('joins relative sftp paths without adding a leading slash', () => {
    const sftp: RemoteSpec = { backend: 'sftp', host: 'h', path: 'store/lab1/' };
    expect(remoteRoot(sftp, 'sub/file.txt')).toBe('glacisremote:store/lab1/sub/file.txt');
    expect(remoteRoot(sftp, '')).toBe('glacisremote:store/lab1');
    expect(remoteRoot({ ...sftp, path: '' }, 'a')).toBe('glacisremote:a');
    expect(remoteRoot({ ...sftp, path: '' }, '')).toBe('glacisremote:');
  });

  it('keeps absolute paths absolute and collapses slashes', () => {
    expect(remoteRoot({ backend: 'sftp', host: 'h', path: '/srv//data/' }, '/a//b/./c/')).toBe('glacisremote:/srv/data/a/b/c');
    expect(remoteRoot({ backend: 'local', path: '/' }, 'x')).toBe('glacisremote:/x');
    expect(remoteRoot({ backend: 'local', path: '/mnt/cold' }, '')).toBe('glacisremote:/mnt/cold');
  });

  it('treats s3 paths as bucket/prefix, never absolute', () => {
    const s3: RemoteSpec = { backend: 's3', provider: 'Other', path: '/bucket/pre/' };
    expect(remoteRoot(s3, 'a/b')).toBe('glacisremote:bucket/pre/a/b');
  });

  it('refuses paths that climb out of the repository', () => {
    expect(() => normalizeRelPath('a/../../etc')).toThrow(/\.\./);
    expect(() => remoteRoot({ backend: 'local', path: '/r' }, '..')).toThrow();
    expect(normalizeRelPath('./a/./b//')).toBe('a/b');
  });
});

describe('remoteEnv', () => {
  it('describes an sftp remote with an obscured password', () => {
    const { vars, secrets } = remoteEnv({
      backend: 'sftp', host: 'example.org', port: 2222, path: 'x', user: 'bob', password: 'hunter2', keyFile: '/k', knownHostsFile: '/etc/glacis/known_hosts',
    });
    expect(vars).toMatchObject({
      [`${P}TYPE`]: 'sftp', [`${P}HOST`]: 'example.org', [`${P}PORT`]: '2222', [`${P}USER`]: 'bob', [`${P}KEY_FILE`]: '/k',
      [`${P}KNOWN_HOSTS_FILE`]: '/etc/glacis/known_hosts',
    });
    const pass = vars[`${P}PASS`]!;
    expect(pass).not.toContain('hunter2');
    expect(reveal(pass)).toBe('hunter2');
    expect(secrets).toEqual(expect.arrayContaining(['hunter2', pass]));
  });

  it('describes an s3 remote, path style for self-hosted providers, env auth off', () => {
    const { vars, secrets } = remoteEnv({
      backend: 's3', provider: 'minio', endpoint: 'http://127.0.0.1:9000', path: 'b/p',
      accessKeyId: 'AK', secretAccessKey: 'SK/secret', region: 'eu-west-1',
    });
    expect(vars).toEqual({
      [`${P}TYPE`]: 's3', [`${P}PROVIDER`]: 'Minio', [`${P}ENDPOINT`]: 'http://127.0.0.1:9000',
      [`${P}REGION`]: 'eu-west-1', [`${P}ACCESS_KEY_ID`]: 'AK', [`${P}SECRET_ACCESS_KEY`]: 'SK/secret',
      [`${P}ENV_AUTH`]: 'false', [`${P}FORCE_PATH_STYLE`]: 'true',
    });
    expect(secrets).toEqual(['SK/secret']);
    expect(remoteEnv({ backend: 's3', provider: 'AWS', path: 'b' }).vars[`${P}FORCE_PATH_STYLE`]).toBeUndefined();
  });

  it('passes generic options verbatim and treats their values as secrets', () => {
    const obscuredPass = obscure('webdav-pw');
    const remote: RemoteSpec = {
      backend: 'rclone', type: 'webdav', path: 'dav',
      options: { url: 'https://dav.example.org', pass: obscuredPass, vendor: 'other', pacer_min_sleep: '10ms', type: 'ignored' },
    };
    const { vars, secrets } = remoteEnv(remote);
    expect(vars).toEqual({
      [`${P}TYPE`]: 'webdav', [`${P}URL`]: 'https://dav.example.org', [`${P}PASS`]: obscuredPass,
      [`${P}VENDOR`]: 'other', [`${P}PACER_MIN_SLEEP`]: '10ms',
    });
    expect(secrets).toEqual(expect.arrayContaining(['https://dav.example.org', obscuredPass, 'webdav-pw', 'other']));
    expect(secrets).not.toContain('10ms');
    expect(secretsOf(remote)).toEqual(secrets);
    expect(isBucketBased(remote)).toBe(false);
    expect(isBucketBased({ ...remote, type: 's3' })).toBe(true);
  });

  it('types a local remote', () => {
    expect(remoteEnv({ backend: 'local', path: '/x' })).toEqual({ vars: { [`${P}TYPE`]: 'local' }, secrets: [] });
  });
});

describe('obscure', () => {
  it('produces what rclone accepts, and reads what rclone produces', async () => {
    const secret = 'p@ss wörd "quoted"';
    const fromRclone = await rcloneObscure(secret);
    expect(reveal(fromRclone)).toBe(secret);
    const ours = obscure(secret);
    expect(ours).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(ours).not.toBe(obscure(secret)); // random IV
    expect(reveal(ours)).toBe(secret);
    // That rclone itself decodes ours is proven by the SFTP tests, which log in with it.
  });

  it('rejects what cannot be an obscured value', () => {
    expect(reveal('short')).toBeUndefined();
    expect(reveal('not base64!')).toBeUndefined();
  });
});

describe('childEnv', () => {
  it('drops RCLONE_* and AWS_CA_BUNDLE, adds the remote and --ca-cert', () => {
    const base = {
      PATH: '/usr/bin', HOME: '/root', LANG: 'C.UTF-8', TMPDIR: '/tmp',
      RCLONE_CONFIG_OTHER_TYPE: 'local', RCLONE_TRANSFERS: '99', RCLONE_CONFIG: '/root/.rclone.conf',
      RCLONE_PASSWORD_COMMAND: 'cat /secret', AWS_CA_BUNDLE: '/etc/ssl/certs/ca-certificates.crt',
    };
    const { env, args } = childEnv(base, { backend: 'local', path: '/x' });
    expect(env).toEqual({
      PATH: '/usr/bin', HOME: '/root', LANG: 'C.UTF-8', TMPDIR: '/tmp',
      RCLONE_CONFIG: '/dev/null', [`${P}TYPE`]: 'local',
    });
    expect(args).toEqual(['--ca-cert=/etc/ssl/certs/ca-certificates.crt']);
    expect(childEnv({ AWS_CA_BUNDLE: '/nonexistent/bundle.pem' }).args).toEqual([]);
  });

  it('redacts the secrets of the remote, plain, obscured and JSON-escaped', () => {
    const { env, redact } = childEnv({}, { backend: 'sftp', host: 'h', path: '', password: 'pa"ss\\word' });
    const obscured = env[`${P}PASS`]!;
    const text = `failed with pa"ss\\word and ${obscured} in {"msg":"pa\\"ss\\\\word"}`;
    expect(redact(text)).toBe('failed with *** and *** in {"msg":"***"}');
  });
});

describe('makeRedactor', () => {
  it('replaces the longest secret first and leaves other text alone', () => {
    const redact = makeRedactor(['abcdefgh', 'abcdefgh ijk', '']);
    expect(redact('x abcdefgh ijk y abcdefgh z')).toBe('x *** y *** z');
    expect(makeRedactor([])('nothing')).toBe('nothing');
  });

  // Issue 15: with an SFTP password `p`, messages read `re***ository /tm***/…` and `Co***ied`.
  it('ignores a secret shorter than 8 characters: it would garble every message and show where it is', () => {
    const text = 'repository /tmp/pulls: Copied (new) p.txt with pass hunter2';
    expect(makeRedactor(['p', 'pass', 'hunter2'])(text)).toBe(text);
  });

  it('never replaces inside a longer word, only where the secret stands alone', () => {
    const redact = makeRedactor(['Secret-42x', 'sauvignon']);
    expect(redact('mySecret-42xyz and Secret-42x, sauvignonblanc "sauvignon" /sauvignon/')).toBe('mySecret-42xyz and ***, sauvignonblanc "***" /***/');
  });

  it('finds a secret that begins or ends with punctuation next to a letter', () => {
    expect(makeRedactor(['-pa$$word!'])('login x-pa$$word!y failed')).toBe('login x***y failed');
  });

  it('names the key of each secret of a remote', () => {
    expect(secretSettings({ backend: 'sftp', host: 'h', path: '', user: 'u', password: 'pw' } as RemoteSpec)).toEqual([{ key: 'password', value: 'pw' }]);
    expect(secretSettings({ backend: 'rclone', type: 'webdav', path: '', options: { url: 'http://x', pass: 'abc' } } as RemoteSpec).map((s) => s.key)).toContain('options.pass');
  });
});
