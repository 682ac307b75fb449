import { useEffect, useMemo, useState } from 'preact/hooks';
import { type Connection, connect, forgetToken, storedToken } from './api/connection.js';
import { SignInPage } from './auth/sign-in.page.js';
import { EventsPage } from './events/events.page.js';
import { LiveEvents, useLiveEventsVersion } from './events/live-events.js';
import { GatewaysPage } from './gateways/gateways.page.js';
import { useRoute } from './router.js';
import { SessionPage } from './sessions/session.page.js';
import { SessionsPage } from './sessions/sessions.page.js';

export function App() {
  const [connection, setConnection] = useState<Connection | null>(null);
  const [restoring, setRestoring] = useState(() => storedToken() !== null);

  // A reload keeps the tab signed in (the credential is in sessionStorage).
  useEffect(() => {
    const token = storedToken();
    if (!token) return;
    connect(token)
      .then(setConnection, () => forgetToken())
      .finally(() => setRestoring(false));
  }, []);

  if (restoring) return <p aria-busy="true">Loading…</p>;
  if (!connection) return <SignInPage onSignedIn={setConnection} />;
  return (
    <SignedIn
      connection={connection}
      onSignOut={() => {
        forgetToken();
        setConnection(null);
      }}
    />
  );
}

function SignedIn({ connection, onSignOut }: { connection: Connection; onSignOut: () => void }) {
  const route = useRoute();
  const events = useMemo(() => new LiveEvents(connection.token), [connection]);
  useEffect(() => () => events.close(), [events]);
  useLiveEventsVersion(events);
  const current = (page: string) => (route.page === page ? 'page' : undefined);

  return (
    <>
      <a
        class="skip"
        href="#content"
        onClick={(e) => {
          e.preventDefault();
          document.querySelector<HTMLElement>('main h1')?.focus();
        }}
      >
        Skip to content
      </a>
      <header class="top">
        <span class="brand">WhatsApp Gateway</span>
        <nav aria-label="Main">
          <a href="#/" aria-current={current('sessions') ?? current('session')}>
            Sessions
          </a>
          <a href="#/events" aria-current={current('events')}>
            Events
          </a>
          {connection.admin && (
            <a href="#/gateways" aria-current={current('gateways')}>
              Gateways
            </a>
          )}
        </nav>
        <span class={`live live-${events.state}`} title="event stream">
          {events.state === 'open' ? 'live' : events.state}
        </span>
        {connection.sandbox && <span class="tag">sandbox</span>}
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <div id="content">
        {route.page === 'sessions' && <SessionsPage connection={connection} events={events} />}
        {route.page === 'session' && (
          <SessionPage key={route.id} id={route.id} connection={connection} events={events} />
        )}
        {route.page === 'events' && <EventsPage events={events} />}
        {route.page === 'gateways' &&
          (connection.admin ? (
            <GatewaysPage connection={connection} />
          ) : (
            <main>
              <h1>Gateways</h1>
              <p>Only platform-admin credentials see the gateways.</p>
            </main>
          ))}
      </div>
    </>
  );
}
