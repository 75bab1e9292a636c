/**
 * Token authentication for the whole HTTP surface (API, Bull Board, `/metrics`). Off unless
 * tokens are configured: like Baricadr, Glacis may instead sit behind a reverse proxy that
 * authenticates.
 *
 * A token is accepted as `Authorization: Bearer <token>` or as the password of HTTP basic
 * auth (any user name), which is what barique sends from its login/password settings and
 * what a browser prompts for on the board.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';

/**
 * Which tokens open what. Both empty: authentication is off.
 *
 * @example
 * ```ts
 * const auth: AuthOptions = { apiTokens: settings.apiTokens, metricsToken: settings.metricsToken };
 * ```
 */
export interface AuthOptions {
  /** Tokens accepted on every route. */
  readonly apiTokens?: readonly string[] | undefined;
  /** A token accepted on {@link METRICS_PATH} only, so a metrics scraper holds no API token. */
  readonly metricsToken?: string | undefined;
}

/**
 * Left open: `/health` for load balancers' liveness checks (`/ready` is guarded like the
 * rest), and the web page at `/`, which holds no data and asks for the token itself.
 *
 * @example
 * ```ts
 * OPEN_PATHS.includes('/health'); // true
 * ```
 */
export const OPEN_PATHS: readonly string[] = ['/health', '/'];
/**
 * The one route on which the metrics token is accepted.
 *
 * @example
 * ```ts
 * app.get(METRICS_PATH, metricsHandler);
 * ```
 */
export const METRICS_PATH = '/metrics';

/** The browser prompt is what makes the board usable without a client that sets headers. */
const CHALLENGE = 'Basic realm="Glacis", charset="UTF-8"';
const MISSING = 'Authentication required: send "Authorization: Bearer <token>", or HTTP basic auth with the token as password';
const REJECTED = 'Invalid token';

/**
 * The middleware that guards every route; mount it before all of them (and before body
 * parsing, so that anonymous requests cost nothing). Missing or wrong credentials get a 401
 * `{"error": "…"}` with a `WWW-Authenticate` basic challenge.
 *
 * With API tokens, every route but {@link OPEN_PATHS} needs one; `/metrics` also takes the
 * metrics token. With only a metrics token, only `/metrics` is guarded.
 *
 * @example
 * ```ts
 * const app = express();
 * app.use(requireToken({ apiTokens: ['k3y-0f-at-least-16-chars'], metricsToken: 'scraper-token-16+' }));
 * // curl -H 'Authorization: Bearer k3y-0f-at-least-16-chars' http://127.0.0.1:9100/tasks
 * // curl -u any:k3y-0f-at-least-16-chars http://127.0.0.1:9100/tasks
 * ```
 */
export function requireToken(options: AuthOptions): RequestHandler {
  const apiDigests = (options.apiTokens ?? []).map(digest);
  const metricsDigests = [...apiDigests, ...(options.metricsToken === undefined ? [] : [digest(options.metricsToken)])];
  if (metricsDigests.length === 0) return (_req, _res, next) => next();
  return (req, res, next) => {
    const metrics = routesTo(req.path, METRICS_PATH);
    const accepted = metrics ? metricsDigests : apiDigests;
    const presented = takeCredential(req);
    if (accepted.length === 0 || OPEN_PATHS.some((open) => routesTo(req.path, open))) {
      next();
      return;
    }
    if (presented !== undefined && matchesAny(digest(presented), accepted)) {
      next();
      return;
    }
    // A script that says so (the web page sends X-Requested-With) asks for the token itself:
    // the challenge would make the browser open its own login dialog over the page.
    if (req.headers['x-requested-with'] === undefined) res.set('WWW-Authenticate', CHALLENGE);
    res.status(401).json({ error: presented === undefined ? MISSING : REJECTED });
  };
}

/**
 * Whether express would route `requestPath` to `route`: its matching ignores case and one
 * trailing slash, so the exceptions above must too, or `/Metrics` would slip between them.
 */
function routesTo(requestPath: string, route: string): boolean {
  const normalized = requestPath.length > 1 && requestPath.endsWith('/') ? requestPath.slice(0, -1) : requestPath;
  return normalized.toLowerCase() === route;
}

/**
 * The token the request presents, if any. The header is removed from the request as it is
 * read, so that nothing downstream (a request logger, an error report) can record it.
 */
function takeCredential(req: Request): string | undefined {
  const header = req.headers.authorization;
  delete req.headers.authorization;
  for (let i = req.rawHeaders.length - 2; i >= 0; i -= 2) {
    if (req.rawHeaders[i]?.toLowerCase() === 'authorization') req.rawHeaders.splice(i, 2);
  }
  if (header === undefined) return undefined;
  const match = /^\s*(\S+)\s+(.*?)\s*$/.exec(header);
  if (!match) return '';
  const [, scheme = '', value = ''] = match;
  if (scheme.toLowerCase() === 'bearer') return value;
  if (scheme.toLowerCase() !== 'basic') return '';
  // RFC 7617: user-id ":" password; the password may itself contain colons.
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? '' : decoded.slice(colon + 1);
}

/** Fixed-length digests, so that comparing them reveals neither the tokens nor their lengths. */
function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** Compares against every token, without stopping at a match, so timing does not say which one. */
function matchesAny(candidate: Buffer, accepted: readonly Buffer[]): boolean {
  let found = false;
  for (const token of accepted) found = timingSafeEqual(candidate, token) || found;
  return found;
}
