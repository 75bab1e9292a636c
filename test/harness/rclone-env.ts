/**
 * How tests drive the real rclone against the test services: remotes are configured only
 * through environment variables (RCLONE_CONFIG_<NAME>_<OPTION>), never a config file, and
 * the environment is cleaned of what breaks rclone 1.60 or leaks from the developer's shell.
 */
import { spawn } from 'node:child_process';
import { requireBinary } from './process.js';

/** What a test needs to reach the SFTP server (a subset of {@link SftpServer}). */
export interface SftpCoordinates {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
}

/** What a test needs to reach the S3 server (a subset of {@link S3Server}). */
export interface S3Coordinates {
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface RcloneResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * The parent environment minus every `RCLONE_*` variable (a developer's own remotes or
 * flags must not leak into tests) and minus `AWS_CA_BUNDLE`: with it set, rclone 1.60's S3
 * backend refuses to start ("LoadCustomCABundleError ... unsupported transport,
 * *fshttp.Transport"). Use {@link caCertArgs} to keep the same CA bundle. `RCLONE_CONFIG`
 * points at /dev/null so no config file is read.
 */
export function rcloneBaseEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(base)) {
    if (key.startsWith('RCLONE_') || key === 'AWS_CA_BUNDLE') continue;
    env[key] = value;
  }
  env.RCLONE_CONFIG = '/dev/null';
  return env;
}

/**
 * `--ca-cert <bundle>` carrying the CA bundle that `AWS_CA_BUNDLE` named, which
 * {@link rcloneBaseEnv} had to drop; empty when it was not set.
 */
export function caCertArgs(base: NodeJS.ProcessEnv = process.env): string[] {
  const bundle = base.AWS_CA_BUNDLE;
  return bundle === undefined || bundle === '' ? [] : ['--ca-cert', bundle];
}

/** Runs rclone with `args`, feeding `stdin` if given; never throws on a non-zero exit. */
export function runRclone(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  stdin?: string,
): Promise<RcloneResult> {
  const binary = requireBinary('rclone');
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

/** Like {@link runRclone} but throws, with rclone's stderr, unless it exits 0. */
export async function rcloneOk(args: readonly string[], env: NodeJS.ProcessEnv): Promise<string> {
  const result = await runRclone(args, env);
  if (result.code !== 0) {
    throw new Error(`rclone ${args.join(' ')} exited ${String(result.code)}:\n${result.stderr}`);
  }
  return result.stdout;
}

/**
 * rclone's reversible obscuring of a password, as `RCLONE_CONFIG_*_PASS` requires.
 * Fed on stdin (`rclone obscure -`) so the password never appears in a process list.
 */
export async function obscure(password: string): Promise<string> {
  const result = await runRclone(['obscure', '-'], rcloneBaseEnv(), password);
  if (result.code !== 0) throw new Error(`rclone obscure failed: ${result.stderr}`);
  return result.stdout.trim();
}

/**
 * Env vars defining an SFTP remote called `name` (use it as `NAME:path`).
 *
 * shell_type / md5sum_command / sha1sum_command are pinned because rclone 1.60 detects
 * them lazily and racily: with several checkers, the first Hash() call on each of the
 * others returns "hash type not supported" while detection is still running.
 */
export async function sftpRemoteEnv(name: string, sftp: SftpCoordinates): Promise<NodeJS.ProcessEnv> {
  const prefix = `RCLONE_CONFIG_${name.toUpperCase()}_`;
  return {
    [`${prefix}TYPE`]: 'sftp',
    [`${prefix}HOST`]: sftp.host,
    [`${prefix}PORT`]: String(sftp.port),
    [`${prefix}USER`]: sftp.user,
    [`${prefix}PASS`]: await obscure(sftp.password),
    [`${prefix}SHELL_TYPE`]: 'unix',
    [`${prefix}MD5SUM_COMMAND`]: 'md5sum',
    [`${prefix}SHA1SUM_COMMAND`]: 'sha1sum',
  };
}

/**
 * Env vars defining an S3 remote called `name` against the s3rver endpoint. rclone's
 * defaults already suit s3rver (path-style addressing; ListObjects v1 for provider
 * "Other"); run it with {@link rcloneBaseEnv} and {@link caCertArgs}.
 */
export function s3RemoteEnv(name: string, s3: S3Coordinates): NodeJS.ProcessEnv {
  const prefix = `RCLONE_CONFIG_${name.toUpperCase()}_`;
  return {
    [`${prefix}TYPE`]: 's3',
    [`${prefix}PROVIDER`]: 'Other',
    [`${prefix}ENDPOINT`]: s3.endpoint,
    [`${prefix}ACCESS_KEY_ID`]: s3.accessKeyId,
    [`${prefix}SECRET_ACCESS_KEY`]: s3.secretAccessKey,
    [`${prefix}ENV_AUTH`]: 'false',
    [`${prefix}FORCE_PATH_STYLE`]: 'true',
  };
}
