/**
 * The process log: JSON lines in production, readable lines otherwise, the task id on
 * every line about a task, and no secret in any line.
 */
import { hostname } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, forTask, logFormat } from '../../src/log/index.js';
import { makeRedactor, REDACTED } from '../../src/rclone/index.js';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { makeRemote, tempDir } from '../helpers/remotes.js';

function capture(mode: 'prod' | 'dev' | 'test') {
  const lines: string[] = [];
  return { log: createLogger(mode, (line) => lines.push(line)), lines };
}

describe('the format', () => {
  it('is JSON in production unless a person watches (stdout a terminal), readable otherwise; LOG_FORMAT decides when set', () => {
    expect(logFormat('prod', undefined, false)).toBe('json');
    expect(logFormat('prod', undefined, undefined)).toBe('json');
    expect(logFormat('prod', undefined, true)).toBe('pretty');
    expect(logFormat('dev', undefined, false)).toBe('pretty');
    expect(logFormat('prod', 'pretty', false)).toBe('pretty');
    expect(logFormat('dev', 'json', true)).toBe('json');
  });

  it('pretty: one readable line per event, json: one JSON object', () => {
    const pretty: string[] = [];
    createLogger('pretty', (line) => pretty.push(line)).info('listening', { port: 9100 });
    expect(pretty).toEqual([expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z INFO listening \{"port":9100\}$/)]);
    const json: string[] = [];
    createLogger('json', (line) => json.push(line)).info('listening', { port: 9100 });
    expect(JSON.parse(json[0]!)).toMatchObject({ msg: 'listening', port: 9100 });
  });
});

describe('in production', () => {
  it('writes one JSON object per line: level, ISO time, message, fields, process', () => {
    const { log, lines } = capture('prod');
    log.info('listening', { port: 9100 });
    log.warn('slow');
    log.error('request failed', { error: 'boom' });
    expect(lines).toHaveLength(3);
    expect(lines.every((line) => !line.includes('\n'))).toBe(true);
    const [info, warn, error] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(info).toMatchObject({ level: 'info', msg: 'listening', port: 9100, pid: process.pid, hostname: hostname() });
    expect(new Date(info!.time as string).toISOString()).toBe(info!.time);
    expect(warn).toMatchObject({ level: 'warn', msg: 'slow' });
    expect(error).toMatchObject({ level: 'error', msg: 'request failed', error: 'boom' });
  });

  it('puts task_id on every line of a task logger, and only there', () => {
    const { log, lines } = capture('prod');
    const task = forTask(log, 'b9e3c2a4-0d6e-4c57-9f0b-5f1f8a4d2e11');
    task.info('task started', { type: 'pull' });
    task.child({ attempt: 2 }).warn('task failed', { error: 'rclone copy failed' });
    log.info('unrelated');
    const [started, failed, unrelated] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(started).toMatchObject({ task_id: 'b9e3c2a4-0d6e-4c57-9f0b-5f1f8a4d2e11', type: 'pull', msg: 'task started' });
    expect(failed).toMatchObject({ task_id: 'b9e3c2a4-0d6e-4c57-9f0b-5f1f8a4d2e11', attempt: 2, level: 'warn', error: 'rclone copy failed' });
    expect(unrelated).not.toHaveProperty('task_id');
  });

  it('never shows a secret that went through the redactor', () => {
    const secret = 'S3cr3t"pass\\word';
    const redact = makeRedactor([secret]);
    const { log, lines } = capture('prod');
    forTask(log, 'some-task').error('task failed', { error: redact(`rclone lsjson failed: login as bob/${secret} refused`) });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('S3cr3t');
    expect(JSON.parse(lines[0]!)).toMatchObject({ error: `rclone lsjson failed: login as bob/${REDACTED} refused`, task_id: 'some-task' });
  });
});

describe('in development and tests', () => {
  it.each(['dev', 'test'] as const)('%s: one readable line, time LEVEL message {fields}', (mode) => {
    const { log, lines } = capture(mode);
    forTask(log, 'the-task').warn('task failed', { error: 'rclone copy failed' });
    log.info('Glacis worker started (concurrency 2)');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARN task failed \{"task_id":"the-task","error":"rclone copy failed"\}$/);
    expect(lines[1]).toMatch(/^\S+Z INFO Glacis worker started \(concurrency 2\)$/);
  });
});

describe('a worker', () => {
  const running: TestGlacis[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((g) => g.stop()));
  });

  it('logs the start and the end of each task with its task id', async () => {
    const repo = tempDir('log-repo');
    const glacis = await startGlacis({ repos: { [repo]: (await makeRemote('local')).settings } });
    running.push(glacis);
    const ok = await glacis.post('/pull', { path: path.join(repo, 'subdir') });
    const missing = await glacis.post('/pull', { path: path.join(repo, 'nowhere') });
    expect((await glacis.waitForTask(ok.body.task)).status).toBe('finished');
    expect((await glacis.waitForTask(missing.body.task)).status).toBe('failed');

    const about = (taskId: string): string[] => glacis.logLines.filter((line) => line.includes(`"task_id":"${taskId}"`));
    expect(about(ok.body.task)).toEqual([
      expect.stringMatching(/ INFO task started \{.*"type":"pull".*\}$/),
      expect.stringMatching(/ INFO task finished \{.*"files":4,"bytes":31\}$/),
    ]);
    expect(about(missing.body.task)).toEqual([
      expect.stringMatching(/ INFO task started /),
      expect.stringMatching(/ WARN task failed \{.*"error":".*nowhere does not exist on the remote"\}$/),
    ]);
  });
});
