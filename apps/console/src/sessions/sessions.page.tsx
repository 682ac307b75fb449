import { type Session, unwrap } from '@wagw/sdk';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { type Connection, describeError } from '../api/connection.js';
import type { LiveEvents } from '../events/live-events.js';
import { Notice, PageTitle, StatusBadge } from '../ui/components.js';
import { formatAgo, formatDateTime } from '../ui/format.js';
import { navigate } from '../router.js';
import { useSessionRefresh } from './use-session-refresh.js';

export function SessionsPage({
  connection,
  events,
}: {
  connection: Connection;
  events: LiveEvents;
}) {
  const { api } = connection;
  const [sessions, setSessions] = useState<Session[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const page = await unwrap(api.GET('/api/v1/sessions'));
      setSessions(page.items);
      setError(null);
    } catch (failure) {
      setError(describeError(failure));
    }
  }, [api]);

  useEffect(() => {
    void load();
    return events.onResync(() => void load());
  }, [load, events]);

  useSessionRefresh(
    connection,
    events,
    null,
    (id, session) =>
      setSessions((current) => {
        if (!current) return current;
        if (!session) return current.filter((s) => s.id !== id);
        const index = current.findIndex((s) => s.id === id);
        if (index < 0) return [...current, session];
        const next = current.slice();
        next[index] = session;
        return next;
      }),
    (id, patch) =>
      setSessions((current) => current?.map((s) => (s.id === id ? { ...s, ...patch } : s)) ?? null),
  );

  return (
    <main>
      <PageTitle>Sessions</PageTitle>
      <CreateSessionForm connection={connection} />
      {error && <Notice kind="error">{error}</Notice>}
      {sessions === null ? (
        <p aria-busy="true">Loading…</p>
      ) : sessions.length === 0 ? (
        <p>No sessions yet: create one above.</p>
      ) : (
        <table class="sessions">
          <caption class="visually-hidden">Sessions of your organization, live</caption>
          <thead>
            <tr>
              <th scope="col">Session</th>
              <th scope="col">Status</th>
              <th scope="col">Number</th>
              <th scope="col">Gateway</th>
              <th scope="col">Last connected</th>
            </tr>
          </thead>
          <tbody>
            {sessions.map((s) => (
              <tr key={s.id} data-session-id={s.id}>
                <td data-label="Session">
                  <a href={`#/sessions/${s.id}`}>{s.label || s.id}</a>
                </td>
                <td data-label="Status">
                  <StatusBadge status={s.status} />
                </td>
                <td data-label="Number">{s.phoneNumber ?? 'not paired'}</td>
                <td data-label="Gateway">{s.gatewayId ?? '—'}</td>
                <td data-label="Last connected" title={formatDateTime(s.lastConnectedAt)}>
                  {formatAgo(s.lastConnectedAt)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}

function CreateSessionForm({ connection }: { connection: Connection }) {
  const [label, setLabel] = useState('');
  const [start, setStart] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = { start, ...(label.trim() ? { label: label.trim() } : {}) };
      const session = await unwrap(connection.api.POST('/api/v1/sessions', { body }));
      navigate(`/sessions/${session.id}`);
    } catch (failure) {
      setError(describeError(failure));
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="create-title" class="card">
      <h2 id="create-title">New session</h2>
      <form class="inline" onSubmit={(e) => void submit(e)}>
        <div class="field">
          <label for="new-label">Label</label>
          <input
            id="new-label"
            maxLength={100}
            placeholder="Support line"
            value={label}
            onInput={(e) => setLabel(e.currentTarget.value)}
          />
        </div>
        <div class="field check">
          <input
            id="new-start"
            type="checkbox"
            checked={start}
            onChange={(e) => setStart(e.currentTarget.checked)}
          />
          <label for="new-start">Start pairing now</label>
        </div>
        <button type="submit" class="primary" disabled={busy}>
          Create session
        </button>
      </form>
      {error && <Notice kind="error">{error}</Notice>}
    </section>
  );
}
