/**
 * Process logging through pino: one line per event on stderr, JSON in production (for
 * log collectors), plain text otherwise. Lines about a task carry its id as `task_id`.
 * Nothing here removes secrets: callers pass error text through the remote's redactor.
 */
import { pino, type DestinationStream } from 'pino';
import type { LogFormat, RunMode } from '../config/types.js';

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger whose every line also carries `fields`. */
  child(fields: Record<string, unknown>): Logger;
}

/**
 * @param write receives each line without its newline (tests capture lines through it).
 * @example
 * ```ts
 * const log = createLogger('prod');
 * log.info('listening', { port: 9100 });
 * // {"level":"info","time":"2025-05-01T10:00:00.000Z","pid":42,"hostname":"h","port":9100,"msg":"listening"}
 * ```
 */
export function createLogger(mode: RunMode | LogFormat, write: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Logger {
  const json = mode === 'prod' || mode === 'json';
  const destination: DestinationStream = {
    // pino hands over one complete line per call, synchronously: nothing is lost on exit.
    write: json ? (line) => write(line.trimEnd()) : (line) => write(asText(line)),
  };
  return wrap(
    pino(
      {
        level: 'info',
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        // pid and hostname tell apart the API and the workers of several hosts in one collector;
        // a terminal shows one process.
        ...(json ? {} : { base: undefined }),
      },
      destination,
    ),
  );
}

/**
 * The logger for lines about one task: each carries `task_id`.
 *
 * @example
 * ```ts
 * forTask(log, task.id).warn('task failed', { error: message });
 * ```
 */
export function forTask(log: Logger, taskId: string): Logger {
  return log.child({ task_id: taskId });
}

/** The message of an unknown thrown value, without its stack. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/**
 * The format a process logs in: `LOG_FORMAT` when set; else JSON in `prod` for a log
 * collector, unless a person watches (stdout is a terminal: the demo), and readable lines
 * in `dev` and `test`.
 *
 * @example
 * ```ts
 * createLogger(logFormat(settings.runMode, settings.logFormat, process.stdout.isTTY));
 * ```
 */
export function logFormat(mode: RunMode, configured: LogFormat | undefined, isTTY: boolean | undefined): LogFormat {
  if (configured !== undefined) return configured;
  return mode === 'prod' && isTTY !== true ? 'json' : 'pretty';
}

function wrap(logger: pino.Logger): Logger {
  return {
    info: (message, fields) => logger.info(fields ?? {}, message),
    warn: (message, fields) => logger.warn(fields ?? {}, message),
    error: (message, fields) => logger.error(fields ?? {}, message),
    child: (fields) => wrap(logger.child(fields)),
  };
}

/** `2025-05-01T10:00:00.000Z INFO message {"other":"fields"}` from pino's JSON line. */
function asText(jsonLine: string): string {
  const { time, level, msg, ...fields } = JSON.parse(jsonLine) as { time: string; level: string; msg: string } & Record<string, unknown>;
  const extra = Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
  return `${time} ${level.toUpperCase()} ${msg}${extra}`;
}
