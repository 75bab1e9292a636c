/**
 * HTTP exchanges that fetch cannot make: any method with a body, exact body bytes
 * (non-UTF-8, chunked, over the limit), and raw bytes on a socket (malformed request
 * lines, raw non-ASCII in the URL, oversized headers).
 */
import http from 'node:http';
import net from 'node:net';

/** What came back, whatever it was. */
export interface Reply {
  /** 0 when the connection closed without a status line. */
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
  /** The parsed JSON body; undefined when the body is not JSON. */
  readonly body: unknown;
}

/** A request as the corpus describes it. */
export interface HttpRequest {
  readonly method: string;
  /** Path and query, sent as given (already percent-encoded where intended). */
  readonly route: string;
  readonly body?: string | Buffer;
  readonly headers?: Readonly<Record<string, string>>;
  /** Send the body in 64 KiB chunks without a length, so the server cannot know it up front. */
  readonly chunked?: boolean;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * @example
 * ```ts
 * const reply = await send('http://127.0.0.1:9100', { method: 'POST', route: '/pull', body: Buffer.from([0x7b, 0xff, 0x7d]) });
 * ```
 */
export function send(base: string, request: HttpRequest): Promise<Reply> {
  const payload = request.body === undefined ? undefined : Buffer.from(request.body);
  const framing = request.chunked ? { 'transfer-encoding': 'chunked' } : payload ? { 'content-length': String(payload.length) } : {};
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(
      base + request.route,
      {
        method: request.method,
        headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...framing, ...request.headers },
        // One connection per request: a request that upsets the parser cannot poison the next.
        agent: false,
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text, body: parseJson(text) });
        });
      },
    );
    // The server may answer (413) and close before reading a large body: not a client failure.
    req.on('error', (error) => {
      if (!answered) reject(error);
    });
    if (request.chunked && payload) {
      for (let i = 0; i < payload.length; i += 64 * 1024) req.write(payload.subarray(i, i + 64 * 1024));
      req.end();
    } else {
      req.end(payload);
    }
  });
}

/**
 * Writes `bytes` to a fresh connection and reads until the server closes it. The request
 * should say `Connection: close` (or be malformed, which closes it anyway).
 *
 * @example
 * ```ts
 * const reply = await sendRaw(9100, Buffer.from('GET /\xff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 'latin1'));
 * ```
 */
export function sendRaw(port: number, bytes: Buffer, timeoutMs = 10_000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    // A reset after the answer was read is the server closing a connection it refused.
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseRawResponse(Buffer.concat(chunks)));
    });
    socket.on('connect', () => socket.end(bytes));
  });
}

function parseRawResponse(raw: Buffer): Reply {
  const text = raw.toString('latin1');
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd < 0) return { status: 0, contentType: '', text, body: undefined };
  const [statusLine = '', ...headerLines] = text.slice(0, headEnd).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const headers = new Map(headerLines.map((line) => [line.slice(0, line.indexOf(':')).trim().toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]));
  let body = raw.subarray(Buffer.byteLength(text.slice(0, headEnd + 4), 'latin1'));
  if (headers.get('transfer-encoding') === 'chunked') body = dechunk(body);
  const bodyText = body.toString('utf8');
  return { status, contentType: headers.get('content-type') ?? '', text: bodyText, body: parseJson(bodyText) };
}

function dechunk(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = body.indexOf('\r\n', offset);
    if (lineEnd < 0) break;
    const size = parseInt(body.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!(size > 0)) break;
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    offset = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}
