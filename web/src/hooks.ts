import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { messageOf } from './api.js';

export interface Loaded<T> {
  readonly data: T | undefined;
  readonly error: string | undefined;
  readonly loading: boolean;
  readonly reload: () => void;
}

/**
 * Loads with `load` when `key` changes; again every `everyMs` while `keepPolling(data)` says so
 * (a running task), and when asked.
 */
export function useLoad<T>(load: () => Promise<T>, key: string, everyMs?: number, keepPolling?: (data: T) => boolean): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: string | undefined; loading: boolean; key: string }>({
    data: undefined,
    error: undefined,
    loading: true,
    key,
  });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    let live = true;
    let timer: number | undefined;
    const run = async (): Promise<void> => {
      try {
        const data = await loadRef.current();
        if (!live) return;
        setState({ data, error: undefined, loading: false, key });
        if (everyMs !== undefined && (keepPolling === undefined || keepPolling(data))) timer = window.setTimeout(run, everyMs);
      } catch (error) {
        if (!live) return;
        setState((previous) => ({ data: previous.key === key ? previous.data : undefined, error: messageOf(error), loading: false, key }));
        // A running task's page keeps trying: the server may be back at the next poll.
        if (everyMs !== undefined) timer = window.setTimeout(run, everyMs * 3);
      }
    };
    setState((previous) => ({ ...previous, loading: true, ...(previous.key === key ? {} : { data: undefined, error: undefined, key }) }));
    void run();
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
    // keepPolling and everyMs are fixed per call site
  }, [key, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.key === key ? state.data : undefined, error: state.key === key ? state.error : undefined, loading: state.loading, reload };
}
