import { useEffect, useState } from 'preact/hooks';
import { can, Identity, logOut, Scope, SESSION_ENDED, storedIdentity } from './session';
import { Login } from './views/login';
import { Overview } from './views/overview';
import { Models } from './views/models';
import { Training } from './views/training';
import { MapView } from './views/map';
import { Users } from './views/users';
import { Exports } from './views/exports';
import { Experiments } from './views/experiments';

interface Route {
  path: string;
  title: string;
  /** The scopes the view needs: any one of them shows it (each part checks its own). */
  scopes: Scope[];
  view: (props: { identity: Identity; param: string }) => preact.JSX.Element;
}

const ROUTES: Route[] = [
  { path: 'overview', title: 'Overview', scopes: ['admin'], view: Overview },
  { path: 'models', title: 'Models', scopes: ['admin'], view: Models },
  { path: 'training', title: 'Training', scopes: ['admin'], view: Training },
  { path: 'map', title: 'Map', scopes: ['embeddings'], view: MapView },
  { path: 'users', title: 'Users', scopes: ['admin', 'serve'], view: Users },
  { path: 'experiments', title: 'Experiments', scopes: ['admin'], view: Experiments },
  { path: 'exports', title: 'Exports', scopes: ['admin'], view: Exports },
];

/** `#/models`, `#/users/u42`: the view and what follows its name. */
function parseHash(): { path: string; param: string } {
  const [path = '', ...rest] = location.hash.replace(/^#\/?/, '').split('/');
  return { path, param: decodeURIComponent(rest.join('/')) };
}

export function App() {
  const [identity, setIdentity] = useState<Identity | null>(storedIdentity);
  const [{ path, param }, setRoute] = useState(parseHash);

  useEffect(() => {
    const onHash = () => setRoute(parseHash());
    const onEnded = () => setIdentity(null);
    window.addEventListener('hashchange', onHash);
    window.addEventListener(SESSION_ENDED, onEnded);
    return () => {
      window.removeEventListener('hashchange', onHash);
      window.removeEventListener(SESSION_ENDED, onEnded);
    };
  }, []);

  const allowed = ROUTES.filter((r) => r.scopes.some((s) => can(identity, s)));
  const route = ROUTES.find((r) => r.path === path) ?? allowed[0];

  useEffect(() => {
    document.title = identity && route ? `${route.title} · recoder console` : 'recoder console';
  }, [identity, route]);

  if (!identity) {
    return (
      <main id="main" class="login-page">
        <h1>recoder console</h1>
        <Login onLogin={setIdentity} />
      </main>
    );
  }

  const View = route?.view;
  const permitted = route && allowed.includes(route);
  return (
    <>
      <a class="skip" href="#main" onClick={skipToMain}>
        Skip to content
      </a>
      <header>
        <span class="brand">recoder</span>
        <nav aria-label="Views">
          <ul>
            {allowed.map((r) => (
              <li key={r.path}>
                <a href={`#/${r.path}`} aria-current={r === route ? 'page' : undefined}>
                  {r.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who">
          <span title={identity.scopes.join(', ')}>{identity.name}</span>
          <button type="button" onClick={() => void logOut()}>
            Log out
          </button>
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        {!route ? (
          <p class="notice" role="status">
            Key “{identity.name}” has none of the scopes a view needs (
            {[...new Set(ROUTES.flatMap((r) => r.scopes))].join(', ')}); its scopes:{' '}
            {identity.scopes.join(', ') || 'none'}.
          </p>
        ) : permitted && View ? (
          <>
            <h1>{route.title}</h1>
            <View identity={identity} param={path === route.path ? param : ''} />
          </>
        ) : (
          <p class="notice" role="status">
            {route.title} needs a key with the {route.scopes.join(' or ')} scope; key “{identity.name}” has{' '}
            {identity.scopes.join(', ') || 'none'}.
          </p>
        )}
      </main>
    </>
  );
}

/** The skip link moves focus without touching the hash (the router's). */
function skipToMain(event: Event): void {
  event.preventDefault();
  document.getElementById('main')?.focus();
}
