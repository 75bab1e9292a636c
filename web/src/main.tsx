/**
 * The Glacis web page: repositories, browsing with pull and freeze (a dry run first), tasks
 * with live progress. Preact, bundled by esbuild into one HTML file (scripts/build-web.mjs).
 */
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, hasToken, messageOf, onAuthRequired, setToken } from './api.js';
import { BrowsePage } from './browse.js';
import { ReposPage } from './repos.js';
import { href, useRoute } from './route.js';
import { TaskPage } from './task.js';
import { TasksPage } from './tasks.js';

function SignIn({ onSignedIn, refused }: { onSignedIn: () => void; refused: boolean }) {
  const [token, setValue] = useState('');
  const [error, setError] = useState<string | undefined>(refused ? 'The server refused the token of this tab: sign in again.' : undefined);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);
  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setToken(token.trim());
    try {
      await api('GET', '/version');
      onSignedIn();
    } catch (failure) {
      setToken(null);
      setError(failure instanceof ApiError && failure.status === 401 ? 'This token was refused.' : messageOf(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="signin-title" class="signin">
      <h1 id="signin-title">Sign in</h1>
      <p>This Glacis server asks for an API token. It is kept for this tab only and sent with each request.</p>
      <form onSubmit={(event) => void submit(event)}>
        <label for="token">API token</label>
        <input
          id="token"
          ref={input}
          type="password"
          autoComplete="current-password"
          required
          value={token}
          onInput={(event) => setValue(event.currentTarget.value)}
          aria-describedby={error ? 'signin-error' : undefined}
        />
        <button type="submit" disabled={busy || token.trim() === ''}>
          Sign in
        </button>
      </form>
      {error && (
        <p id="signin-error" class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

function App() {
  const route = useRoute();
  const [auth, setAuth] = useState<'ok' | 'needed' | 'refused'>('ok');
  const [generation, setGeneration] = useState(0);
  useEffect(() => {
    onAuthRequired(() => {
      const had = hasToken();
      setToken(null);
      setAuth(had ? 'refused' : 'needed');
    });
  }, []);
  const mainRef = useRef<HTMLElement>(null);
  // A new view: its heading is announced and keyboard focus starts there.
  useEffect(() => {
    const heading = mainRef.current?.querySelector('h1');
    if (heading) {
      heading.setAttribute('tabindex', '-1');
      heading.focus({ preventScroll: true });
    }
  }, [route.view, route.id]);

  const nav: [string, string, boolean][] = [
    ['Repositories', href('repos'), route.view === 'repos'],
    ['Browse', href('browse'), route.view === 'browse'],
    ['Tasks', href('tasks'), route.view === 'tasks' || route.view === 'task'],
  ];
  return (
    <>
      <a class="skip" href="#main" onClick={(event) => { event.preventDefault(); mainRef.current?.focus(); }}>
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Glacis</span>
        <nav aria-label="Main">
          <ul>
            {nav.map(([label, link, current]) => (
              <li key={label}>
                <a href={link} aria-current={current ? 'page' : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        {auth === 'ok' && hasToken() && (
          <button
            type="button"
            class="link signout"
            onClick={() => {
              setToken(null);
              setAuth('needed');
            }}
          >
            Sign out
          </button>
        )}
      </header>
      <main id="main" ref={mainRef} tabIndex={-1} key={generation}>
        {auth !== 'ok' ? (
          <SignIn
            refused={auth === 'refused'}
            onSignedIn={() => {
              setAuth('ok');
              setGeneration((g) => g + 1);
            }}
          />
        ) : route.view === 'browse' ? (
          <BrowsePage path={route.params.get('path')} />
        ) : route.view === 'tasks' ? (
          <TasksPage params={route.params} />
        ) : route.view === 'task' && route.id ? (
          <TaskPage id={route.id} />
        ) : (
          <ReposPage />
        )}
      </main>
    </>
  );
}

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App />, root);
}
