/**
 * Every error leaves the API as JSON `{"error": "…"}` with a status that says whose
 * fault it was; never an HTML page, never a stack trace.
 */
import type { Duplex } from 'node:stream';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { RcloneError, RemoteNotFoundError } from '../rclone/index.js';
import { BadRequestError, ConflictError, NotFoundError, UnavailableError } from '../services/errors.js';
import { isRedisUnavailable } from '../queue/connection.js';

/** Status and message for an error thrown while handling a request. */
export function toHttpError(error: unknown): { status: number; message: string } {
  if (!(error instanceof Error)) return { status: 500, message: 'Internal error; see the server log' };
  if (error instanceof BadRequestError) return { status: 400, message: error.message };
  if (error instanceof NotFoundError) return { status: 404, message: error.message };
  if (error instanceof ConflictError) return { status: 409, message: error.message };
  if (error instanceof RemoteNotFoundError) return { status: 404, message: error.message };
  if (error instanceof UnavailableError || isRedisUnavailable(error)) return { status: 503, message: 'Redis is unreachable; try again shortly' };
  if (error instanceof RcloneError) return { status: 502, message: `the remote could not be read: ${error.message}` };
  // body-parser's errors carry the client's fault as a 4xx status.
  const status = (error as { status?: unknown }).status;
  const type = (error as { type?: unknown }).type;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    if (type === 'entity.parse.failed') return { status: 400, message: 'Malformed JSON in the request body' };
    if (type === 'entity.too.large') return { status: 413, message: 'The request body is too large (limit 1 MB)' };
    if (type === 'charset.unsupported' || type === 'encoding.unsupported') return { status: 415, message: 'Unsupported request encoding; send UTF-8 JSON' };
    return { status, message: error instanceof Error ? (error as Error).message : 'Bad request' };
  }
  return { status: 500, message: 'Internal error; see the server log' };
}

/**
 * @param onServerError called with 5xx errors, for the log.
 */
export function errorHandler(onServerError: (error: unknown) => void): ErrorRequestHandler {
  return (error, _req, res, _next) => {
    const { status, message } = toHttpError(error);
    if (status >= 500) onServerError(error);
    if (res.headersSent) {
      // A streamed listing failed midway: cut the body so it cannot parse as complete.
      res.destroy();
      return;
    }
    res.status(status).json({ error: message });
  };
}

export const notFoundHandler: RequestHandler = (req, res) => {
  res.status(404).json({ error: `No route for ${req.method} ${req.path}` });
};

/** Parser errors with a status of their own; anything else the parser refuses is a 400. */
const CLIENT_ERRORS: Readonly<Record<string, readonly [status: number, reason: string, message: string]>> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'The request line and headers are too large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'Payload Too Large', 'The chunk extensions are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'The request took too long to arrive'],
};
const MALFORMED: readonly [number, string, string] = [400, 'Bad Request', 'Malformed HTTP request'];

/**
 * The HTTP server's `clientError` listener: a request Node's parser refuses (malformed
 * request line or header, headers over the limit) never reaches express, and Node's own
 * answer has no body. This gives it the API's `{"error": "…"}` form, and otherwise does
 * what Node does: no answer on a connection already answering, then close it.
 *
 * @example
 * ```ts
 * server.on('clientError', answerClientError);
 * ```
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code !== 'ECONNRESET' && socket.writable && !inFlight?.headersSent) {
    const [status, reason, message] = CLIENT_ERRORS[error.code ?? ''] ?? MALFORMED;
    const body = JSON.stringify({ error: message });
    socket.write(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}
