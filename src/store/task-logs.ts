/**
 * Per-task log files under `TASK_LOG_DIR`, one `<task id>.log` a task.
 * Lines are written by the worker and read back through the API.
 */
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';

/** How {@link TaskLogWriter.line} starts each line: an ISO timestamp and a space. */
const LINE_START = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z /;
/** How it indents the rest of a text that had line breaks. */
const CONTINUATION = '\n    ';

const TASK_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** True for a well-formed task id (a UUID): the only names that reach the filesystem. */
export function isTaskId(value: string): boolean {
  return TASK_ID.test(value);
}

/** Most of a log returned by {@link TaskLogs.read}; beyond it, the start is cut. */
export const MAX_LOG_READ_BYTES = 4 * 1024 * 1024;

/** An open log of one task. */
export interface TaskLogWriter {
  /** Appends one timestamped line. Secrets must be removed before calling. */
  line(text: string): void;
  close(): Promise<void>;
}

/**
 * @example
 * ```ts
 * const logs = new TaskLogs('./data/task-logs');
 * const log = await logs.open(taskId);
 * log.line('pull /data/lab1/raw: 12 files, 3.1 MB');
 * await log.close();
 * console.log(await logs.read(taskId));
 * ```
 */
export class TaskLogs {
  constructor(private readonly dir: string) {}

  private file(taskId: string): string {
    if (!isTaskId(taskId)) throw new Error(`not a task id: ${JSON.stringify(taskId)}`);
    return path.join(this.dir, `${taskId}.log`);
  }

  async open(taskId: string): Promise<TaskLogWriter> {
    await mkdir(this.dir, { recursive: true });
    const stream: WriteStream = createWriteStream(this.file(taskId), { flags: 'a', mode: 0o640 });
    stream.on('error', () => undefined);
    return {
      line: (text) => {
        stream.write(`${new Date().toISOString()} ${text.replace(/\n/g, CONTINUATION)}\n`);
      },
      close: () => new Promise<void>((resolve) => stream.end(resolve)),
    };
  }

  /** The log's text (its last {@link MAX_LOG_READ_BYTES} bytes), or undefined if there is none. */
  async read(taskId: string): Promise<string | undefined> {
    let handle;
    try {
      handle = await open(this.file(taskId), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    try {
      const { size } = await handle.stat();
      const start = Math.max(0, size - MAX_LOG_READ_BYTES);
      const buffer = Buffer.alloc(size - start);
      await handle.read(buffer, 0, buffer.length, start);
      const text = buffer.toString('utf8');
      return start > 0 ? `[… first ${start} bytes not shown]\n${text.slice(text.indexOf('\n') + 1)}` : text;
    } finally {
      await handle.close();
    }
  }

  /**
   * The texts given to {@link TaskLogWriter.line}, in order and without their timestamps, read
   * as a stream: a log of millions of lines is never held whole. Yields nothing when there is
   * no log.
   *
   * @example
   * ```ts
   * for await (const text of logs.entries(taskId)) if (text.startsWith('pulled ')) count++;
   * ```
   */
  async *entries(taskId: string): AsyncGenerator<string> {
    const input = createReadStream(this.file(taskId), { encoding: 'utf8' });
    const opened = await new Promise<boolean>((resolve, reject) => {
      input.once('ready', () => resolve(true));
      input.once('error', (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? resolve(false) : reject(error)));
    });
    if (!opened) return;
    let pending: string | undefined;
    try {
      for await (const line of createInterface({ input, crlfDelay: Infinity })) {
        const start = LINE_START.exec(line);
        if (start) {
          if (pending !== undefined) yield pending;
          pending = line.slice(start[0].length);
        } else if (pending !== undefined && line.startsWith(CONTINUATION.slice(1))) {
          pending += `\n${line.slice(CONTINUATION.length - 1)}`;
        }
      }
      if (pending !== undefined) yield pending;
    } finally {
      input.destroy();
    }
  }

  async remove(taskId: string): Promise<void> {
    await rm(this.file(taskId), { force: true });
  }
}
