/**
 * Reports end to end (issue 16 §1-2), through a real Glacis (API, worker, mail worker):
 * a file deleted from the remote after its local copy was frozen is reported by the next
 * report and mailed to MAIL_ADMIN by name (a real SMTP server); the latest report is at
 * GET /repos/<repo>/report and in /metrics; report_cron schedules reports.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { reportScheduleQueue } from '../../src/schedule/report.js';
import { startSmtpCapture } from '../notify/smtp-capture.js';
import { startGlacis, type TestGlacis } from '../helpers/glacis.js';
import { makeRemote, tempDir, writeFixture } from '../helpers/remotes.js';
import { until } from '../helpers/worker-process.js';

const ADMIN = 'admin@test.example';
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function submit(glacis: TestGlacis, route: string, body: Record<string, unknown>): Promise<any> {
  const { status, body: answer } = await glacis.post(route, body);
  expect(status, JSON.stringify(answer)).toBe(200);
  return glacis.waitForTask(answer.task as string);
}

describe('reports through the API', () => {
  it('a frozen file deleted from the remote is reported by the next report and mailed by name', async () => {
    const smtp = await startSmtpCapture();
    cleanups.push(() => smtp.stop());
    const remote = await makeRemote('sftp');
    const local = tempDir('report-api');
    writeFixture(local, 'symlink');
    const glacis = await startGlacis({
      repos: { [local]: { ...remote.settings, freezable: true } },
      env: { MAIL_SERVER: '127.0.0.1', MAIL_PORT: String(smtp.port), MAIL_SENDER: 'glacis@test.example', MAIL_ADMIN: ADMIN, MAIL_RETRY_DELAY: '1' },
    });
    cleanups.push(() => glacis.stop());

    expect(await submit(glacis, '/freeze', { path: path.join(local, 'subdir'), force: true })).toMatchObject({ status: 'finished', files: 4 });
    const clean = await submit(glacis, '/report', { path: local });
    expect(clean).toMatchObject({ type: 'report', status: 'finished', report: { frozen: { files: 4, lost: { files: 0 } } } });

    rmSync(path.join(remote.root!, 'subdir/subsubdir2/subsubfile.txt'));
    const next = await submit(glacis, '/report', { path: local });
    expect(next.report.frozen.lost).toMatchObject({ files: 1, listed: [{ path: 'subdir/subsubdir2/subsubfile.txt', state: 'missing' }] });

    const mail = await smtp.waitFor((m) => m.rcptTo.includes(ADMIN));
    expect(mail.parsed.subject).toBe(`Glacis: 1 frozen file lost on the remote of ${local}`);
    expect(mail.parsed.text).toMatch(/missing +subdir\/subsubdir2\/subsubfile.txt/);
    expect(smtp.messages.filter((m) => m.parsed.subject?.includes('lost'))).toHaveLength(1); // the clean report mailed nobody

    const latest = await glacis.get(`/repos/${encodeURIComponent(local)}/report`);
    expect(latest).toMatchObject({ status: 200, body: { repo: local, frozen: { lost: { files: 1 } } } });
    // A report of a directory is not the repository's.
    await submit(glacis, '/report', { path: path.join(local, 'big') });
    expect((await glacis.get(`/repos/${encodeURIComponent(local)}/report`)).body.nowMs).toBe(next.report.nowMs);

    const metrics = (await fetch(`${glacis.url}/metrics`).then((r) => r.text())).split('\n');
    const series = (name: string): string | undefined => metrics.find((line) => line.startsWith(name));
    expect(series(`glacis_report_frozen_lost_files{repo="${local}"}`)).toBe(`glacis_report_frozen_lost_files{repo="${local}"} 1`);
    expect(series(`glacis_report_frozen_files{repo="${local}"}`)).toBe(`glacis_report_frozen_files{repo="${local}"} 4`);
    expect(series(`glacis_report_local_files{repo="${local}",age=">365d"}`)).toMatch(/ \d+$/);
  });

  it('a file path is refused when the report runs, saying a report covers a directory', async () => {
    const remote = await makeRemote('local');
    const local = tempDir('report-api');
    writeFixture(local, 'symlink');
    const glacis = await startGlacis({ repos: { [local]: remote.settings } });
    cleanups.push(() => glacis.stop());
    expect(await submit(glacis, '/report', { path: path.join(local, 'file1.txt') })).toMatchObject({ status: 'failed', error: expect.stringMatching(/is a file: a report covers a repository or a directory/) });
  });

  it('report_cron schedules reports of the whole repository', async () => {
    const remote = await makeRemote('local');
    const local = tempDir('report-cron');
    writeFixture(local, 'symlink');
    const glacis = await startGlacis({ repos: { [local]: { ...remote.settings, report_cron: '*/2 * * * * *' } } });
    cleanups.push(() => glacis.stop());
    let scheduled: any;
    await until(
      async () => {
        const tasks = (await glacis.get('/tasks?type=report')).body as any[];
        scheduled = tasks.find((t) => t.origin === 'schedule' && t.status === 'finished');
        return scheduled !== undefined;
      },
      45_000,
      () => 'no scheduled report finished',
    );
    expect(scheduled).toMatchObject({ path: local, files: 10 });
    // The schedule lives in Redis: leave none firing behind the test.
    const queue = reportScheduleQueue(glacis.runtime.redis, glacis.env.QUEUE_PREFIX!);
    expect((await queue.getJobSchedulers(0, -1)).map((s) => s.key)).toEqual([`report:${local}`]);
    await queue.removeJobScheduler(`report:${local}`);
    await queue.close();
  }, 90_000);
});
