/**
 * Hash routes, so any view is a link to share (`#/tasks/<id>`) and the server serves one page:
 * `#/repos`, `#/browse?path=…`, `#/tasks?status=…&type=…&path=…`, `#/tasks/<id>`.
 */
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  readonly view: 'repos' | 'browse' | 'tasks' | 'task';
  readonly params: URLSearchParams;
  readonly id?: string;
}

export function parseRoute(hash: string): Route {
  const [where = '', query = ''] = hash.replace(/^#\/?/, '').split('?', 2);
  const params = new URLSearchParams(query);
  const parts = where.split('/').filter(Boolean);
  if (parts[0] === 'browse') return { view: 'browse', params };
  if (parts[0] === 'tasks' && parts[1]) return { view: 'task', params, id: decodeURIComponent(parts[1]) };
  if (parts[0] === 'tasks') return { view: 'tasks', params };
  return { view: 'repos', params };
}

/** A hash link to a view. */
export function href(view: 'repos' | 'browse' | 'tasks', params: Record<string, string | undefined> = {}): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) query.set(key, value);
  const text = query.toString();
  return `#/${view}${text ? `?${text}` : ''}`;
}

export function taskHref(id: string): string {
  return `#/tasks/${encodeURIComponent(id)}`;
}

export function go(link: string): void {
  window.location.hash = link;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const changed = (): void => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return route;
}
