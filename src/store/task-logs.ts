/**
 * Per-task log files under `TASK_LOG_DIR`, one `<task id>.log` a task.
 * Lines are written by the worker and read back through the API.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import path from 'node:path';

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
        stream.write(`${new Date().toISOString()} ${text.replace(/\n/g, '\n    ')}\n`);
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

  async remove(taskId: string): Promise<void> {
    await rm(this.file(taskId), { force: true });
  }
}
