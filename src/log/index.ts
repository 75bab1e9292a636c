/**
 * Process logging: one line per event on stderr, JSON in production (for log
 * collectors), plain text otherwise. Task-specific lines carry the task id.
 */
import type { RunMode } from '../config/types.js';

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * @example
 * ```ts
 * const log = createLogger('prod');
 * log.info('listening', { port: 9100 });
 * ```
 */
export function createLogger(mode: RunMode, write: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Logger {
  const emit = (level: string, message: string, fields?: Record<string, unknown>): void => {
    if (mode === 'prod') {
      write(JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields }));
    } else {
      const extra = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
      write(`${new Date().toISOString()} ${level.toUpperCase()} ${message}${extra}`);
    }
  };
  return {
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

/** The message of an unknown thrown value, without its stack. */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
