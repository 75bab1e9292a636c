/**
 * Secrets (issue 7, suite 5): while pulls and freezes run against SFTP and S3 remotes, no
 * password or secret key appears in `ps` output, the service's log, task logs, API
 * responses, Bull Board's job data (nor anywhere in Redis), the task database, or mails.
 *
 * The secrets: the SFTP password, the S3 secret key, a wrong SFTP password (whose tasks
 * fail, so rclone's error text travels to the task, its log and the failure mails), the
 * SMTP password and the API token.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, expect, it } from 'vitest';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { makeRemote, tempDir } from '../helpers/remotes.js';
import { until } from '../helpers/worker-process.js';
import { startSmtpCapture } from '../notify/smtp-capture.js';
import { send } from '../helpers/raw-http.js';

const run = promisify(execFile);
const USER = 'ada@test.example';
const ADMIN = 'admin@test.example';
const MAIL_USER = 'glacis-mailer';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Samples `ps` (full command lines, no truncation) until stopped. */
function samplePs(): { stop(): Promise<{ samples: number; lines: Set<string> }> } {
  const lines = new Set<string>();
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const { stdout } = await run('ps', ['-eww', '-o', 'args'], { maxBuffer: 64 * 1024 * 1024 });
      samples++;
      for (const line of stdout.split('\n')) lines.add(line);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { samples, lines };
    },
  };
}

/** Every file below `dir`, as text. */
function filesBelow(dir: string): { name: string; text: string }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => path.join(dir, name))
    .filter((file) => statSync(file).isFile())
    .map((file) => ({ name: file, text: readFileSync(file).toString('latin1') }));
}

/** Everything under the instance's Redis prefix, values included: what BullMQ keeps of its jobs. */
async function redisDump(glacis: TestGlacis): Promise<string> {
  const redis = glacis.runtime.redis;
  const parts: string[] = [];
  for (let cursor = '0'; ; ) {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${glacis.env.QUEUE_PREFIX}:*`, 'COUNT', 500);
    for (const key of keys) {
      const type = await redis.type(key);
      const value =
        type === 'string' ? await redis.get(key)
        : type === 'hash' ? await redis.hgetall(key)
        : type === 'list' ? await redis.lrange(key, 0, -1)
        : type === 'set' ? await redis.smembers(key)
        : type === 'zset' ? await redis.zrange(key, 0, -1)
        : type === 'stream' ? await redis.xrange(key, '-', '+')
        : type;
      parts.push(`${key} ${JSON.stringify(value)}`);
    }
    cursor = next;
    if (cursor === '0') break;
  }
  return parts.join('\n');
}

it('keeps every password and secret key out of ps, logs, task logs, API answers, Bull Board, Redis, the database and mails', async () => {
  const mailPassword = `mail-${randomBytes(12).toString('hex')}`;
  const apiToken = `tok-${randomBytes(16).toString('hex')}`;
  const wrongPassword = `wrong-${randomBytes(12).toString('hex')}`;
  const smtp = await startSmtpCapture({ users: { [MAIL_USER]: mailPassword } });
  cleanups.push(() => smtp.stop());

  const sftp = await makeRemote('sftp');
  const s3 = await makeRemote('s3');
  const repos = { sftp: tempDir('secrets-sftp'), s3: tempDir('secrets-s3'), wrong: tempDir('secrets-wrong') };
  const freezing = { freezable: true, disable_atime_test: true };
  const glacis = await startGlacis({
    repos: {
      [repos.sftp]: { ...sftp.settings, ...freezing },
      [repos.s3]: { ...s3.settings, ...freezing },
      [repos.wrong]: { ...sftp.settings, password: wrongPassword },
    },
    env: {
      API_TOKENS: apiToken,
      MAIL_SERVER: '127.0.0.1',
      MAIL_PORT: String(smtp.port),
      MAIL_USERNAME: MAIL_USER,
      MAIL_PASSWORD: mailPassword,
      MAIL_SENDER: 'Glacis <glacis@test.example>',
      MAIL_ADMIN: ADMIN,
      MAIL_RETRY_DELAY: '1',
    },
  });
  cleanups.push(() => glacis.stop());
  const secrets = { 'SFTP password': sftp.secrets[0]!, 'S3 secret key': s3.secrets[0]!, 'wrong SFTP password': wrongPassword, 'SMTP password': mailPassword, 'API token': apiToken };
  // s3rver accepts one fixed key pair (its secret is 'S3RVER', like its key id): short, but
  // distinctive enough that finding it anywhere is a finding.
  expect(Object.values(secrets).every((s) => s.length >= 6)).toBe(true);

  // Every API answer of the test, kept to be searched.
  const answers: string[] = [];
  const api = async (method: string, route: string, body?: unknown, token = apiToken): Promise<{ status: number; body: any }> => {
    const reply = await send(glacis.url, {
      method,
      route,
      headers: { authorization: `Bearer ${token}` },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    answers.push(`${method} ${route} ${reply.status} ${reply.text}`);
    return { status: reply.status, body: reply.body };
  };
  const submit = async (route: '/pull' | '/freeze', body: Record<string, unknown>): Promise<string> => {
    const { status, body: answer } = await api('POST', route, body);
    expect(status, JSON.stringify(answer)).toBe(200);
    return answer.task as string;
  };
  const ended = async (taskId: string): Promise<any> => {
    let task: any;
    await until(async () => ['finished', 'failed', 'cancelled'].includes((task = (await api('GET', `/tasks/status/${taskId}`)).body).status), 45_000, () => `task ${taskId} still ${task?.status}`);
    return task;
  };

  let failed: any;
  const runTasks = async (): Promise<void> => {
    // Pull, then freeze, on both backends at once; and a pull that fails on the wrong password.
    const [sftpPull, s3Pull, wrongPull] = await Promise.all([
      submit('/pull', { path: repos.sftp, email: USER }),
      submit('/pull', { path: repos.s3, email: USER }),
      submit('/pull', { path: repos.wrong, email: USER }),
    ]);
    const pulls = await Promise.all([sftpPull, s3Pull].map(ended));
    for (const task of pulls) expect(task, JSON.stringify(task)).toMatchObject({ status: 'finished', files: expect.any(Number) });
    failed = await ended(wrongPull);
    expect(failed.status).toBe('failed');
    for (const repo of [repos.sftp, repos.s3]) {
      expect((await api('POST', '/list', { path: repo, max_depth: 0, full: true })).status).toBe(200);
      expect((await api('POST', '/tree', { path: repo, max_depth: 0 })).status).toBe(200);
    }
    const freezes = await Promise.all([repos.sftp, repos.s3].map((repo) => submit('/freeze', { path: repo, force: true, email: USER })));
    for (const task of await Promise.all(freezes.map(ended))) expect(task, JSON.stringify(task)).toMatchObject({ status: 'finished', files: expect.any(Number) });
  };
  const ps = samplePs();
  const outcome = await runTasks().then(() => undefined, (error: unknown) => error ?? new Error('failed'));
  const sampled = await ps.stop();
  if (outcome) throw outcome;

  // Everything else the API shows, and what it answers to a wrong token.
  for (const route of ['/tasks', '/version', '/endpoints', '/ready', '/metrics', '/zombie', '/health']) expect((await api('GET', route)).status, route).toBe(200);
  const taskIds: string[] = (await api('GET', '/tasks')).body.map((t: { task_id: string }) => t.task_id);
  // The five pulls and freezes, and the clean-up task GET /zombie started (its log too is checked).
  expect(taskIds).toHaveLength(6);
  const taskLogs: string[] = [];
  for (const id of taskIds) taskLogs.push((await api('GET', `/tasks/log/${id}`)).body.logs);
  expect(taskLogs.join('\n')).toMatch(/froze \d+ files?/);
  expect((await api('GET', '/tasks', undefined, `${apiToken}x`)).status).toBe(401);

  // Bull Board: every queue, every status, every job's detail and log.
  const board = async (route: string): Promise<any> => {
    const { status, body } = await api('GET', `/admin/queues/api${route}`);
    expect(status, route).toBe(200);
    return body;
  };
  const queueNames: string[] = (await board('/queues')).queues.map((q: { name: string }) => q.name);
  let boardJobs = 0;
  for (const queue of queueNames) {
    for (const status of ['latest', 'active', 'waiting', 'completed', 'failed', 'delayed', 'paused', 'prioritized', 'waiting-children']) {
      const listed = await board(`/queues?activeQueue=${encodeURIComponent(queue)}&status=${status}&page=1&jobsPerPage=100`);
      const jobs: { id: string }[] = listed.queues.find((q: { name: string }) => q.name === queue).jobs;
      for (const job of status === 'latest' ? jobs : []) {
        boardJobs++;
        await board(`/queues/${encodeURIComponent(queue)}/${encodeURIComponent(job.id)}`);
        await board(`/queues/${encodeURIComponent(queue)}/${encodeURIComponent(job.id)}/logs`);
      }
    }
  }
  // Five tasks, and at least their mails.
  expect(boardJobs).toBeGreaterThanOrEqual(10);

  // Mails: each task's to the user (the failed pull's also to the admin), sent with the SMTP password.
  await until(() => smtp.messages.length >= 6, 30_000, () => `only ${smtp.messages.length} mails`);
  expect(smtp.messages.filter((m) => m.rcptTo.includes(ADMIN))).toHaveLength(1);
  expect(smtp.authAttempts.length).toBeGreaterThan(0);
  expect(smtp.authAttempts.every((a) => a.user === MAIL_USER && a.accepted)).toBe(true);
  const mails = smtp.messages.map((m) => [m.raw.toString('latin1'), m.parsed.subject ?? '', m.parsed.text ?? '', String(m.parsed.html || '')].join('\n'));

  // ps: rclone was caught running against both remotes, and never with a secret on its command line.
  const rcloneLines = [...sampled.lines].filter((line) => /\brclone\b/.test(line) && line.includes('glacisremote:'));
  const sftpPath = String(sftp.settings.url).split(':')[1]!;
  const s3Path = String(s3.settings.path);
  expect(rcloneLines.some((line) => line.includes(sftpPath)), 'rclone seen in ps against the SFTP remote').toBe(true);
  expect(rcloneLines.some((line) => line.includes(s3Path)), 'rclone seen in ps against the S3 remote').toBe(true);

  const sinks: Record<string, string> = {
    ps: [...sampled.lines].join('\n'),
    'service log': glacis.logLines.join('\n'),
    'task logs (API)': taskLogs.join('\n'),
    'API answers': answers.join('\n'),
    'Redis (Bull Board job data)': await redisDump(glacis),
    'task database': filesBelow(path.dirname(glacis.env.DATABASE_URL!)).filter((f) => f.name.includes('glacis.sqlite')).map((f) => f.text).join('\n'),
    mails: mails.join('\n'),
  };
  // The failure travelled: rclone's error reached the task, its log and the mails.
  expect(failed.error).toMatch(/\S/);
  expect(sinks['task logs (API)']).toContain('rclone');
  expect(sinks.mails).toContain(repos.wrong);

  const leaks: string[] = [];
  for (const [sink, text] of Object.entries(sinks)) {
    expect(text.length, sink).toBeGreaterThan(0);
    for (const [what, secret] of Object.entries(secrets)) if (text.includes(secret)) leaks.push(`${what} in ${sink}`);
    // Also not the variables rclone gets its secrets from, in whatever form (obscured).
    if (/RCLONE_CONFIG_\w*(PASS|SECRET_ACCESS_KEY)\s*[=:]/.test(text)) leaks.push(`an RCLONE_CONFIG_* secret variable in ${sink}`);
  }
  console.log(
    `secrets: ${Object.keys(secrets).length} secrets, ${Object.keys(sinks).length} sinks (${Object.keys(sinks).join(', ')}); ` +
      `${sampled.samples} ps samples (${rcloneLines.length} distinct rclone command lines), ${answers.length} API answers, ` +
      `${boardJobs} Bull Board jobs, ${smtp.messages.length} mails; ${leaks.length} leaks`,
  );
  expect(leaks).toEqual([]);
});
