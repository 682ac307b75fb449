import { type Session, unwrap } from '@wagw/sdk';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { type Connection, describeError } from '../api/connection.js';
import { EventList } from '../events/event-list.js';
import { type LiveEvents, useLiveEventsVersion } from '../events/live-events.js';
import { navigate } from '../router.js';
import { ChatPanel } from '../messages/chat.panel.js';
import { PhonePanel } from '../sandbox/phone.panel.js';
import { ConfirmDialog, Notice, PageTitle, StatusBadge } from '../ui/components.js';
import { formatAgo, formatDateTime, formatTime } from '../ui/format.js';
import { SessionSettingsForm } from './session-settings.form.js';
import { useSessionRefresh } from './use-session-refresh.js';

type Action = 'start' | 'stop' | 'restart' | 'logout';
type Confirming = 'logout' | 'delete' | null;

export interface PairingState {
  /** The QR payload on screen (what a phone would read from the image). */
  qr: string | null;
  qrImage: string | null;
  qrExpiresAt: number | null;
  code: string | null;
  codeExpiresAt: number | null;
}

const NO_PAIRING: PairingState = {
  qr: null,
  qrImage: null,
  qrExpiresAt: null,
  code: null,
  codeExpiresAt: null,
};

export function SessionPage(props: { id: string; connection: Connection; events: LiveEvents }) {
  const { id, connection, events } = props;
  const { api } = connection;
  const path = { params: { path: { session: id } } };
  const [session, setSession] = useState<Session | null>(null);
  const [gone, setGone] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [info, setInfo] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [confirming, setConfirming] = useState<Confirming>(null);
  const [pairing, setPairing] = useState<PairingState>(NO_PAIRING);
  const [mode, setMode] = useState<'qr' | 'code'>('qr');
  const [pairingPhone, setPairingPhone] = useState('');
  const imageUrl = useRef<string | null>(null);
  useLiveEventsVersion(events);

  const showImage = useCallback((blob: Blob | null) => {
    if (imageUrl.current) URL.revokeObjectURL(imageUrl.current);
    imageUrl.current = blob ? URL.createObjectURL(blob) : null;
    return imageUrl.current;
  }, []);
  useEffect(() => () => void showImage(null), [showImage]);

  /** The PNG of the current QR code, as the API renders it. */
  const loadQrImage = useCallback(async () => {
    const { data, response } = await api.GET('/api/v1/sessions/{session}/qr', {
      ...path,
      headers: { accept: 'image/png' },
      parseAs: 'blob',
    });
    if (!response.ok || !(data instanceof Blob)) return;
    const qrImage = showImage(data);
    const expires = Number(response.headers.get('x-qr-expires-at')) || null;
    setPairing((p) => ({ ...p, qrImage, qrExpiresAt: expires ?? p.qrExpiresAt }));
  }, [api, id, showImage]);

  /** Starts QR pairing if none runs (GET /qr), then shows the code. */
  const pairWithQr = useCallback(async () => {
    setMode('qr');
    setError(null);
    try {
      const qr = await unwrap(api.GET('/api/v1/sessions/{session}/qr', path));
      setPairing((p) => ({ ...p, qr: qr.qr, qrExpiresAt: qr.expiresAt, code: null }));
      await loadQrImage();
    } catch (failure) {
      setError(describeError(failure));
    }
  }, [api, id, loadQrImage]);

  const load = useCallback(async () => {
    try {
      const current = await unwrap(api.GET('/api/v1/sessions/{session}', path));
      setSession(current);
      return current;
    } catch (failure) {
      setError(describeError(failure));
      return null;
    }
  }, [api, id]);

  useEffect(() => {
    void load().then((current) => {
      if (current && !current.phoneNumber && ['starting', 'scan_qr_code'].includes(current.status))
        void pairWithQr();
    });
    return events.onResync(() => void load());
  }, [load, pairWithQr, events]);

  const pairedNow = (phoneNumber: string | null | undefined) => {
    if (!phoneNumber) return;
    showImage(null);
    setPairing(NO_PAIRING);
  };
  useSessionRefresh(
    connection,
    events,
    id,
    (_id, row) => {
      if (!row) return setGone(true);
      setSession(row);
      pairedNow(row.phoneNumber);
    },
    (_id, patch) => {
      setSession((current) => (current ? { ...current, ...patch } : current));
      pairedNow(patch.phoneNumber);
    },
  );

  // The live QR: a new code on every auth.qr; the pairing code when one is issued.
  useEffect(
    () =>
      events.subscribe((event) => {
        if (event.sessionId !== id) return;
        if (event.type === 'auth.qr') {
          const data = event.data as { qr: string; expiresAt: number };
          setPairing((p) => ({ ...p, qr: data.qr, qrExpiresAt: data.expiresAt }));
          setMode((m) => (m === 'code' ? m : 'qr'));
          void loadQrImage();
        } else if (event.type === 'auth.pairing_code') {
          const data = event.data as { code: string; expiresAt: number };
          setPairing((p) => ({ ...p, code: data.code, codeExpiresAt: data.expiresAt }));
        }
      }),
    [events, id, loadQrImage],
  );

  const run = async (action: Action) => {
    setBusy(action);
    setError(null);
    setInfo(null);
    try {
      const routes = {
        start: '/api/v1/sessions/{session}:start',
        stop: '/api/v1/sessions/{session}:stop',
        restart: '/api/v1/sessions/{session}:restart',
        logout: '/api/v1/sessions/{session}:logout',
      } as const;
      setSession(await unwrap(api.POST(routes[action], path)));
      setInfo(`${action[0]!.toUpperCase()}${action.slice(1)} requested.`);
      if (action === 'logout') setPairing(NO_PAIRING);
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(null);
    }
  };

  const remove = async () => {
    setBusy('delete');
    try {
      await unwrap(api.DELETE('/api/v1/sessions/{session}', path));
      navigate('/');
    } catch (failure) {
      setError(describeError(failure));
      setBusy(null);
    }
  };

  const requestCode = async (event: Event) => {
    event.preventDefault();
    setMode('code');
    setError(null);
    setBusy('code');
    try {
      const code = await unwrap(
        api.POST('/api/v1/sessions/{session}/pairing-code', {
          ...path,
          body: { phoneNumber: pairingPhone },
        }),
      );
      showImage(null);
      setPairing({ ...NO_PAIRING, code: code.code, codeExpiresAt: code.expiresAt });
    } catch (failure) {
      setError(describeError(failure));
    } finally {
      setBusy(null);
    }
  };

  if (gone)
    return (
      <main>
        <PageTitle>Session deleted</PageTitle>
        <p>
          This session no longer exists. <a href="#/">Back to sessions</a>
        </p>
      </main>
    );
  if (!session)
    return (
      <main>
        <PageTitle>Session</PageTitle>
        {error ? <Notice kind="error">{error}</Notice> : <p aria-busy="true">Loading…</p>}
      </main>
    );

  const paired = session.phoneNumber !== null;
  const sessionEvents = events.log.filter((e) => e.sessionId === id);
  return (
    <main>
      <p class="crumbs">
        <a href="#/">Sessions</a> /
      </p>
      <PageTitle>{session.label || 'Unnamed session'}</PageTitle>
      <dl class="facts">
        <div>
          <dt>Status</dt>
          <dd>
            <StatusBadge status={session.status} />
          </dd>
        </div>
        <div>
          <dt>Number</dt>
          <dd>{session.phoneNumber ?? 'not paired'}</dd>
        </div>
        <div>
          <dt>Gateway</dt>
          <dd>{session.gatewayId ?? '—'}</dd>
        </div>
        <div>
          <dt>Last connected</dt>
          <dd title={formatDateTime(session.lastConnectedAt)}>
            {formatAgo(session.lastConnectedAt)}
          </dd>
        </div>
        <div>
          <dt>Id</dt>
          <dd>
            <code>{session.id}</code>
          </dd>
        </div>
      </dl>

      <section aria-labelledby="actions-title" class="card">
        <h2 id="actions-title">Connection</h2>
        <div class="actions wrap">
          <button
            type="button"
            disabled={busy !== null || !paired}
            onClick={() => void run('start')}
          >
            Start
          </button>
          <button type="button" disabled={busy !== null} onClick={() => void run('stop')}>
            Stop
          </button>
          <button
            type="button"
            disabled={busy !== null || !paired}
            onClick={() => void run('restart')}
          >
            Restart
          </button>
          <button
            type="button"
            class="danger"
            disabled={busy !== null || !paired}
            onClick={() => setConfirming('logout')}
          >
            Log out
          </button>
          <button
            type="button"
            class="danger"
            disabled={busy !== null}
            onClick={() => setConfirming('delete')}
          >
            Delete
          </button>
        </div>
        {error && <Notice kind="error">{error}</Notice>}
        {info && <Notice kind="info">{info}</Notice>}
      </section>

      {!paired && (
        <section aria-labelledby="pair-title" class="card">
          <h2 id="pair-title">Pair a phone</h2>
          <p>
            On the phone: WhatsApp → Linked devices → Link a device, then scan the code, or choose
            “link with phone number instead” and type the pairing code.
          </p>
          <div class="actions wrap">
            <button type="button" onClick={() => void pairWithQr()}>
              {pairing.qrImage ? 'Refresh QR code' : 'Pair with a QR code'}
            </button>
          </div>
          {mode === 'qr' && pairing.qrImage && (
            <figure class="qr">
              <img
                src={pairing.qrImage}
                width={200}
                height={200}
                alt="QR code to scan with WhatsApp on the phone"
                data-qr={pairing.qr ?? ''}
              />
              <figcaption aria-live="polite">
                {pairing.qrExpiresAt
                  ? `Renewed automatically; this one expires at ${formatTime(pairing.qrExpiresAt)}.`
                  : 'Renewed automatically.'}
              </figcaption>
            </figure>
          )}
          <form class="inline" onSubmit={(e) => void requestCode(e)}>
            <div class="field">
              <label for="pair-phone">Phone number (digits with country code)</label>
              <input
                id="pair-phone"
                inputMode="numeric"
                pattern="[0-9]{6,15}"
                required
                placeholder="6281234567890"
                value={pairingPhone}
                onInput={(e) => setPairingPhone(e.currentTarget.value)}
              />
            </div>
            <button type="submit" disabled={busy !== null}>
              Get a pairing code
            </button>
          </form>
          {mode === 'code' && pairing.code && (
            <p class="pairing-code" aria-live="polite">
              Pairing code: <strong data-pairing-code={pairing.code}>{pairing.code}</strong>
              {pairing.codeExpiresAt && <> (valid until {formatTime(pairing.codeExpiresAt)})</>}
            </p>
          )}
        </section>
      )}

      {connection.sandbox && (
        <PhonePanel
          token={connection.token}
          session={session}
          pairing={mode === 'qr' ? { ...pairing, code: null } : { ...pairing, qr: null }}
          pairingPhone={pairingPhone}
        />
      )}

      {paired && <ChatPanel connection={connection} events={events} sessionId={session.id} />}

      <SessionSettingsForm
        key={session.id}
        connection={connection}
        session={session}
        onSaved={setSession}
      />

      <section aria-labelledby="log-title" class="card">
        <h2 id="log-title">Events of this session</h2>
        <EventList events={sessionEvents} showSession={false} />
      </section>

      <ConfirmDialog
        open={confirming === 'logout'}
        title="Log out this number?"
        confirmLabel="Log out"
        onCancel={() => setConfirming(null)}
        onConfirm={() => {
          setConfirming(null);
          void run('logout');
        }}
      >
        <p>The device is unlinked from {session.phoneNumber}; pairing again needs the phone.</p>
      </ConfirmDialog>
      <ConfirmDialog
        open={confirming === 'delete'}
        title="Delete this session?"
        confirmLabel="Delete"
        onCancel={() => setConfirming(null)}
        onConfirm={() => {
          setConfirming(null);
          void remove();
        }}
      >
        <p>The device is unlinked, its credentials are deleted and the session is removed.</p>
      </ConfirmDialog>
    </main>
  );
}
