/**
 * Bull Board: a web view of Glacis's BullMQ queues for operators, mounted on the API at
 * {@link BOARD_PATH}. A running pull shows its progress (percent ring on the job, and
 * bytes, files, current file and speed in its Progress tab), refreshed every
 * {@link BOARD_POLL_SECONDS} seconds; workers report progress every second.
 *
 * The board is read-only, enforced by bull-board's API (mutations answer 405), not only
 * hidden in the page: a job removed, retried, promoted or added behind Glacis's back
 * would no longer match its task record and path lock. Tasks are changed through the
 * REST API (`DELETE /tasks/:task_id` cancels one properly).
 *
 * It carries no access control of its own: whatever guards the API guards the board. Its
 * page is served without the Google Fonts link bull-board puts in: nothing is fetched from
 * outside.
 */
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import express, { type Express } from 'express';

/**
 * Where the API serves the board (page, static assets under `static/`, JSON under `api/`).
 *
 * @example
 * ```ts
 * `http://127.0.0.1:9100${BOARD_PATH}/queue/glacis-tasks?status=active`;
 * ```
 */
export const BOARD_PATH = '/admin/queues';

/**
 * How often an open board refreshes, in seconds (forced: the page offers no other value).
 *
 * @example
 * ```ts
 * BOARD_POLL_SECONDS; // 2
 * ```
 */
export const BOARD_POLL_SECONDS = 2;

/**
 * A BullMQ queue the board can show, whatever its job types.
 *
 * @example
 * ```ts
 * const shown: BoardQueue[] = [runtime.queue.queue, autoFreezeQueue(redis, prefix)];
 * ```
 */
export type BoardQueue = ConstructorParameters<typeof BullMQAdapter>[0];

/**
 * The board as an Express app to mount at {@link BOARD_PATH}. It uses the queues'
 * connections and never closes them: their owner does.
 *
 * @example
 * ```ts
 * app.use(BOARD_PATH, queueBoard([runtime.queue.queue, schedules, housekeeping]));
 * ```
 */
export function queueBoard(queues: readonly BoardQueue[]): Express {
  const serverAdapter = new ExpressAdapter().setBasePath(BOARD_PATH);
  createBullBoard({
    queues: queues.map((queue) => {
      const adapter = new BullMQAdapter(queue, { readOnlyMode: true });
      adapter.setFormatter('name', (job: unknown) => jobTitle(job));
      adapter.setFormatter('progress', (progress: unknown) => withProgressRing(progress));
      return adapter;
    }),
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: 'Glacis queues',
        pollingInterval: { forceInterval: BOARD_POLL_SECONDS, showSetting: false },
      },
    },
  });
  const board = serverAdapter.getRouter() as Express;
  // bull-board builds its own Express app, which would announce itself where the API does not.
  board.disable('x-powered-by');
  // Its page links Google Fonts: Glacis fetches nothing from outside (issue 17), so the link
  // goes, and the board falls back to the system's fonts.
  const outer = express();
  outer.disable('x-powered-by');
  outer.use((_req, res, next) => {
    const send = res.send.bind(res);
    res.send = (body?: unknown) => send(typeof body === 'string' ? withoutOutsideFonts(body) : body);
    next();
  });
  outer.use(board);
  return outer;
}

/**
 * The board's page without its links to font services on the internet.
 *
 * @example
 * ```ts
 * withoutOutsideFonts('<link href="https://fonts.googleapis.com/css2?family=X" rel="stylesheet"><p>'); // '<p>'
 * ```
 */
export function withoutOutsideFonts(html: string): string {
  return html.replace(/<link\b[^>]*\bhref="https:\/\/fonts\.(?:googleapis|gstatic)\.com\/[^"]*"[^>]*>\s*/g, '');
}

/**
 * A job's title on the board: its name, and the path it works on when it has one
 * (`pull /data/lab1/run42`), so a list of jobs reads without opening each.
 *
 * @example
 * ```ts
 * jobTitle({ name: 'pull', data: { taskId: 't1', type: 'pull', path: '/data/a' } }); // 'pull /data/a'
 * ```
 */
export function jobTitle(job: unknown): string {
  if (!isRecord(job)) return '';
  const name = typeof job.name === 'string' ? job.name : '';
  const data = job.data;
  if (isRecord(data) && typeof data.path === 'string') return name === '' ? data.path : `${name} ${data.path}`;
  return name;
}

/**
 * Progress as the board shows it: bull-board draws its progress ring from a numeric
 * `progress` field, so a Glacis progress object (`percent`, `bytes`, …) gets one
 * equal to its `percent`; anything else is shown as it is.
 *
 * @example
 * ```ts
 * withProgressRing({ percent: 40, bytes: 4, totalBytes: 10 }); // { percent: 40, bytes: 4, totalBytes: 10, progress: 40 }
 * ```
 */
export function withProgressRing(progress: unknown): unknown {
  if (!isRecord(progress) || typeof progress.percent !== 'number') return progress;
  return { ...progress, progress: progress.percent };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
