import { type Gateway, unwrap } from '@wagw/sdk';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { type Connection, describeError } from '../api/connection.js';
import { ConfirmDialog, Notice, PageTitle } from '../ui/components.js';
import { formatAgo, formatDateTime } from '../ui/format.js';

const REFRESH_MS = 5_000;

/** Platform admins: the live gateway workers, their load, and draining one. */
export function GatewaysPage({ connection }: { connection: Connection }) {
  const { api } = connection;
  const [gateways, setGateways] = useState<Gateway[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [draining, setDraining] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setGateways((await unwrap(api.GET('/api/v1/gateways'))).items);
      setError(null);
    } catch (failure) {
      setError(describeError(failure));
    }
  }, [api]);

  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [load]);

  const drain = async (id: string) => {
    setDraining(null);
    try {
      await unwrap(api.POST('/api/v1/gateways/{id}:drain', { params: { path: { id } } }));
      await load();
    } catch (failure) {
      setError(describeError(failure));
    }
  };

  return (
    <main>
      <PageTitle>Gateways</PageTitle>
      <p>Workers seen recently, refreshed every 5 s.</p>
      {error && <Notice kind="error">{error}</Notice>}
      {gateways === null ? (
        <p aria-busy="true">Loading…</p>
      ) : gateways.length === 0 ? (
        <p>No gateway worker is running.</p>
      ) : (
        <table class="gateways">
          <caption class="visually-hidden">Gateway workers</caption>
          <thead>
            <tr>
              <th scope="col">Gateway</th>
              <th scope="col">Sessions held</th>
              <th scope="col">Capacity</th>
              <th scope="col">State</th>
              <th scope="col">Last seen</th>
              <th scope="col">
                <span class="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {gateways.map((g) => (
              <tr key={g.id}>
                <td data-label="Gateway">{g.id}</td>
                <td data-label="Sessions held">{g.sessionsHeld}</td>
                <td data-label="Capacity">
                  <meter
                    min={0}
                    max={g.capacity}
                    value={g.sessionsHeld}
                    aria-label={`load of ${g.id}`}
                  />{' '}
                  {g.capacity}
                </td>
                <td data-label="State">{g.draining ? 'draining' : 'active'}</td>
                <td data-label="Last seen" title={formatDateTime(g.lastSeenAt)}>
                  {formatAgo(g.lastSeenAt)}
                </td>
                <td>
                  <button
                    type="button"
                    class="danger"
                    disabled={g.draining}
                    onClick={() => setDraining(g.id)}
                  >
                    Drain<span class="visually-hidden"> {g.id}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ConfirmDialog
        open={draining !== null}
        title={`Drain ${draining ?? ''}?`}
        confirmLabel="Drain"
        onCancel={() => setDraining(null)}
        onConfirm={() => draining && void drain(draining)}
      >
        <p>It hands every session it holds to its peers and claims no more.</p>
      </ConfirmDialog>
    </main>
  );
}
