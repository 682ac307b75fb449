import { useEffect, useState } from 'preact/hooks';

/**
 * Hash routes (`#/sessions/…`): the server serves one page and its assets, nothing else, so an
 * unknown path stays a 404 there.
 */
export type Route =
  | { page: 'sessions' }
  | { page: 'session'; id: string }
  | { page: 'events' }
  | { page: 'gateways' };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, '') || '/';
  const session = /^\/sessions\/([0-9A-Za-z]+)$/.exec(path);
  if (session?.[1]) return { page: 'session', id: session[1] };
  if (path === '/events') return { page: 'events' };
  if (path === '/gateways') return { page: 'gateways' };
  return { page: 'sessions' };
}

export const navigate = (path: string): void => {
  location.hash = `#${path}`;
};

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}
