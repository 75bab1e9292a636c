/**
 * Per-task logs, kept in the task database (table `task_logs`, one row an event): every host
 * that can reach the database can write and read them, no shared directory needed. Workers
 * record events (./task-events.ts: a file placed, frozen, kept, a summary, a message); each
 * row keeps the event's kind and fields and its rendering, so {@link TaskLogs.read} answers
 * the text a log always had and {@link TaskLogs.events} gives the events back to mails and
 * reports, which never parse the text.
 *
 * Writes are batched: lines are buffered and inserted by the hundred (or after a short
 * delay), so a pull of a million files does a few thousand round trips, not a million.
 * A task's log is capped: its first {@link LOG_HEAD_LINES} lines and its last
 * {@link LOG_TAIL_LINES} are kept, the middle is deleted as the task runs, and reading the
 * log says how many lines were cut there.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.js';
import { eventData, eventFromRow, renderEvent, type EventLevel, type TaskEvent, type TaskEventKind } from './task-events.js';

/** How {@link TaskLogs.read} indents the rest of a text that had line breaks. */
const CONTINUATION = '\n    ';

const TASK_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** True for a well-formed task id (a UUID). */
export function isTaskId(value: string): boolean {
  return TASK_ID.test(value);
}

/** Most of a log returned by {@link TaskLogs.read}; beyond it, the start is cut. */
export const MAX_LOG_READ_BYTES = 4 * 1024 * 1024;
/** Lines kept from the start of a task's log. */
export const LOG_HEAD_LINES = 10_000;
/** Lines kept from the end of a task's log. */
export const LOG_TAIL_LINES = 10_000;
/** A longer line is cut (a path is at most 4096 bytes; a line is a path and a few words). */
export const MAX_LINE_CHARS = 8_192;

/** Limits of a {@link TaskLogs}; the defaults are the constants above. Tests make them small. */
export interface TaskLogLimits {
  readonly headLines: number;
  readonly tailLines: number;
  /** Lines buffered before they are written in one statement. */
  readonly batchLines: number;
  /** Longest time a buffered line waits before it is written. */
  readonly flushMs: number;
}

const DEFAULT_LIMITS: TaskLogLimits = { headLines: LOG_HEAD_LINES, tailLines: LOG_TAIL_LINES, batchLines: 500, flushMs: 500 };

/** Rows per INSERT: 7 parameters a row stays far below SQLite's and PostgreSQL's limits. */
const INSERT_ROWS = 1_000;
/** Rows read per query when a log is read back. */
const READ_PAGE = 5_000;

/** An open log of one task. */
export interface TaskLogWriter {
  /** Appends one timestamped line: a message event (info). Secrets must be removed before calling. */
  line(text: string): void;
  /** Appends one event, rendered as its line (task-events.ts `renderEvent`). Secrets must be removed before calling. */
  event(event: TaskEvent): void;
  /**
   * Writes what is buffered; resolves once it is in the database. The worker calls it
   * before it records a task's end, so that whoever sees the end reads the whole log
   * (test/workers/log-complete.test.ts).
   */
  flush(): Promise<void>;
  /** Writes what is buffered; resolves once it is in the database. Nothing is written after. */
  close(): Promise<void>;
}

/** An event as {@link TaskLogs.events} gives it back. */
export interface LoggedEvent {
  /** Its number in the task's log, increasing: read on after it with `events(id, { after })`. */
  readonly seq: number;
  /** When it was written (ISO 8601). */
  readonly time: string;
  readonly level: EventLevel;
  readonly event: TaskEvent;
}

/**
 * @example
 * ```ts
 * const logs = store.logs;
 * const log = await logs.open(taskId);
 * log.event({ kind: 'placed', path: 'raw/a.txt', bytes: 12 });
 * log.line('a note');
 * await log.close();
 * console.log(await logs.read(taskId)); // '2024-… pulled raw/a.txt\n2024-… a note\n'
 * for await (const { event } of logs.events(taskId, { kinds: ['placed'] })) console.log(event.path);
 * ```
 */
export class TaskLogs {
  private readonly limits: TaskLogLimits;

  constructor(
    private readonly db: Kysely<Database>,
    limits: Partial<TaskLogLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /**
   * Opens the log for appending. A task run again (a retried attempt) appends after what
   * its earlier attempt wrote.
   */
  async open(taskId: string): Promise<TaskLogWriter> {
    checkTaskId(taskId);
    return new BatchedWriter(this.db, taskId, await logEnd(this.db, taskId), this.limits);
  }

  /** The log's text (its last {@link MAX_LOG_READ_BYTES} bytes), or undefined if there is none. */
  async read(taskId: string): Promise<string | undefined> {
    checkTaskId(taskId);
    const parts: string[] = [];
    let previous = 0;
    for await (const rows of this.pages(taskId)) {
      for (const row of rows) {
        // A gap in the numbering is the middle the cap deleted.
        if (row.seq > previous + 1 && previous > 0) parts.push(cutLine(row.seq - previous - 1));
        parts.push(`${row.time} ${row.message.replace(/\n/g, CONTINUATION)}\n`);
        previous = row.seq;
      }
    }
    if (parts.length === 0) return undefined;
    // Bounded by the cap (head and tail lines of bounded length), so held whole here.
    const text = Buffer.from(parts.join(''));
    if (text.length <= MAX_LOG_READ_BYTES) return text.toString('utf8');
    const start = text.length - MAX_LOG_READ_BYTES;
    const rest = text.subarray(start).toString('utf8');
    return `[… first ${start} bytes not shown]\n${rest.slice(rest.indexOf('\n') + 1)}`;
  }

  /**
   * The log's lines without their times, in order, read page by page: a long log is never
   * held whole. Yields nothing when there is no log. To learn what a task did, read
   * {@link events}: a line's text is for people, and a file name can read like any line.
   *
   * @example
   * ```ts
   * for await (const text of logs.entries(taskId)) process.stdout.write(`${text}\n`);
   * ```
   */
  async *entries(taskId: string): AsyncGenerator<string> {
    checkTaskId(taskId);
    for await (const rows of this.pages(taskId)) for (const row of rows) yield row.message;
  }

  /**
   * The log's events, in order, read page by page (bounded memory, however long the log).
   * With `kinds`, only events of those kinds are read. Events the cap deleted (the middle of
   * a long log) are not there: counts come from the task record or its summary event. A line
   * written before events existed comes back as a message. With `after`, only events
   * numbered above it (`GET /tasks/events/<id>` pages on it).
   *
   * @example
   * ```ts
   * for await (const { event } of logs.events(taskId, { kinds: ['unprotected'] })) console.log(event);
   * ```
   */
  async *events(taskId: string, options: { readonly kinds?: readonly TaskEventKind[]; readonly after?: number } = {}): AsyncGenerator<LoggedEvent> {
    checkTaskId(taskId);
    // Lines written before events existed are stored as kind `line`: messages.
    const kinds = options.kinds && (options.kinds.includes('message') ? [...options.kinds, 'line'] : [...options.kinds]);
    if (kinds?.length === 0) return;
    for await (const rows of this.pages(taskId, kinds, options.after)) {
      for (const row of rows) {
        const { level, event } = eventFromRow(row);
        // A row whose fields did not read back is a message: not what a kinds filter asked for.
        if (options.kinds && !options.kinds.includes(event.kind)) continue;
        yield { seq: Number(row.seq), time: row.time, level, event };
      }
    }
  }

  /** The log's last event, if it has one (one indexed read, however long the log). */
  async lastEvent(taskId: string): Promise<LoggedEvent | undefined> {
    checkTaskId(taskId);
    const row = await this.db
      .selectFrom('task_logs')
      .select(['seq', 'time', 'level', 'kind', 'message', 'data'])
      .where('task_id', '=', taskId)
      .orderBy('seq', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!row) return undefined;
    const { level, event } = eventFromRow(row);
    return { seq: Number(row.seq), time: row.time, level, event };
  }

  /**
   * True when the task has a log at all: every run writes one, so a missing log is one that
   * was removed with its task (or never written).
   */
  async exists(taskId: string): Promise<boolean> {
    checkTaskId(taskId);
    const row = await this.db.selectFrom('task_logs').select('seq').where('task_id', '=', taskId).limit(1).executeTakeFirst();
    return row !== undefined;
  }

  async remove(taskId: string): Promise<void> {
    checkTaskId(taskId);
    await this.db.deleteFrom('task_logs').where('task_id', '=', taskId).execute();
  }

  /**
   * The rows of a log in order, a page at a time (keyset paging on the primary key), only
   * those of `kinds` when given.
   */
  private async *pages(taskId: string, kinds?: readonly string[], from = 0): AsyncGenerator<Array<Omit<Database['task_logs'], 'task_id'>>> {
    let after = from;
    for (;;) {
      let query = this.db
        .selectFrom('task_logs')
        .select(['seq', 'time', 'level', 'kind', 'message', 'data'])
        .where('task_id', '=', taskId)
        .where('seq', '>', after);
      if (kinds) query = query.where('kind', 'in', kinds);
      const rows = await query.orderBy('seq', 'asc').limit(READ_PAGE).execute();
      if (rows.length === 0) return;
      yield rows;
      after = Number(rows.at(-1)!.seq);
      if (rows.length < READ_PAGE) return;
    }
  }
}

/** The highest seq of a task's log, 0 when it has none. */
async function logEnd(db: Kysely<Database>, taskId: string): Promise<number> {
  const last = await db.selectFrom('task_logs').select((eb) => eb.fn.max('seq').as('seq')).where('task_id', '=', taskId).executeTakeFirst();
  return Number(last?.seq ?? 0);
}

function checkTaskId(taskId: string): void {
  if (!isTaskId(taskId)) throw new Error(`not a task id: ${JSON.stringify(taskId.slice(0, 100))}`);
}

/** A text cut to {@link MAX_LINE_CHARS}, saying so. */
function cutText(text: string): string {
  return text.length > MAX_LINE_CHARS ? `${text.slice(0, MAX_LINE_CHARS)} [… ${text.length - MAX_LINE_CHARS} characters cut]` : text;
}

function cutLine(lines: number): string {
  return `[… ${lines} line${lines === 1 ? '' : 's'} cut here: a task's log keeps its first and last lines]\n`;
}

/**
 * Buffers lines and writes them in batches; deletes the middle of the log once it is past
 * the cap. Writes are chained, so they reach the database in order, one at a time. A write
 * that fails is dropped (as a full disk dropped lines of a log file): the log must never
 * fail the task it describes.
 *
 * Lines are numbered when they are written, not when they are buffered: two writers may
 * append to one log at once (a new attempt of a task opened while the earlier one wrote its
 * last lines), and a batch whose numbers another writer took meanwhile is numbered again
 * after the log's end and written (test/store/store.test.ts, "two attempts writing at once";
 * test/safety/redis.test.ts found the earlier attempt's "stopped" line dropped).
 */
class BatchedWriter implements TaskLogWriter {
  private buffer: Array<Omit<Database['task_logs'], 'seq'>> = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  /** Highest seq deleted by trimming so far (or the head's end): the next trim starts above. */
  private trimmed: number;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly taskId: string,
    /** The last seq this writer wrote (or the log's end when it was opened). */
    private seq: number,
    private readonly limits: TaskLogLimits,
  ) {
    this.trimmed = limits.headLines;
  }

  line(text: string): void {
    this.event({ kind: 'message', text });
  }

  event(event: TaskEvent): void {
    const bounded = 'path' in event ? { ...event, path: cutText(event.path) } : event;
    const level: EventLevel = bounded.kind === 'message' ? (bounded.level ?? 'info') : 'info';
    this.buffer.push({
      task_id: this.taskId,
      time: new Date().toISOString(),
      level,
      kind: bounded.kind,
      message: cutText(renderEvent(bounded)),
      data: eventData(bounded) ?? null,
    });
    if (this.buffer.length >= this.limits.batchLines) this.write(false);
    else this.timer ??= setTimeout(() => this.write(false), this.limits.flushMs).unref();
  }

  flush(): Promise<void> {
    this.write(true);
    return this.chain;
  }

  close(): Promise<void> {
    return this.flush();
  }

  private write(final: boolean): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const rows = this.buffer;
    this.buffer = [];
    this.chain = this.chain.then(async () => {
      try {
        for (let i = 0; i < rows.length; i += INSERT_ROWS) await this.insert(rows.slice(i, i + INSERT_ROWS));
        await this.trim(this.seq, final);
      } catch {
        // Dropped: see the class comment.
      }
    });
  }

  /** Inserts rows numbered after {@link seq}; numbered again after the log's end if another writer took those numbers. */
  private async insert(rows: ReadonlyArray<Omit<Database['task_logs'], 'seq'>>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const first = this.seq + 1;
      try {
        await this.db.insertInto('task_logs').values(rows.map((row, i) => ({ ...row, seq: first + i }))).execute();
        this.seq = first + rows.length - 1;
        return;
      } catch (error) {
        const end = await logEnd(this.db, this.taskId);
        // Not a clash of numbers (the database refused for another reason), or clashing still.
        if (end < first || attempt >= 5) throw error;
        this.seq = end;
      }
    }
  }

  /**
   * Deletes the lines between the head and the last `tailLines`. While the task runs this
   * waits until a whole tail's worth is deletable (one DELETE per tailLines lines); at the
   * end it trims exactly.
   */
  private async trim(last: number, final: boolean): Promise<void> {
    const upTo = last - this.limits.tailLines;
    if (upTo <= this.trimmed || (!final && upTo - this.trimmed < this.limits.tailLines)) return;
    await this.db.deleteFrom('task_logs').where('task_id', '=', this.taskId).where('seq', '>', this.trimmed).where('seq', '<=', upTo).execute();
    this.trimmed = upTo;
  }
}
