import { type Session, unwrap } from '@wagw/sdk';
import { useState } from 'preact/hooks';
import { type Connection, describeError } from '../api/connection.js';
import { Notice } from '../ui/components.js';

/** label, autoRead, presenceTyping, ratePerMin, ratePerHour: a running session picks them up. */
export function SessionSettingsForm(props: {
  connection: Connection;
  session: Session;
  onSaved: (session: Session) => void;
}) {
  const { session } = props;
  const [label, setLabel] = useState(session.label ?? '');
  const [autoRead, setAutoRead] = useState(session.autoRead);
  const [presenceTyping, setPresenceTyping] = useState(session.presenceTyping);
  const [ratePerMin, setRatePerMin] = useState(String(session.ratePerMin));
  const [ratePerHour, setRatePerHour] = useState(String(session.ratePerHour));
  const [message, setMessage] = useState<{ kind: 'error' | 'info'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setMessage(null);
    try {
      const saved = await unwrap(
        props.connection.api.PATCH('/api/v1/sessions/{session}', {
          params: { path: { session: session.id } },
          body: {
            label: label.trim() === '' ? null : label.trim(),
            autoRead,
            presenceTyping,
            ratePerMin: Number(ratePerMin),
            ratePerHour: Number(ratePerHour),
          },
        }),
      );
      props.onSaved(saved);
      setMessage({ kind: 'info', text: 'Settings saved.' });
    } catch (failure) {
      setMessage({ kind: 'error', text: describeError(failure) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="settings-title" class="card">
      <h2 id="settings-title">Settings</h2>
      <form class="grid" onSubmit={(e) => void submit(e)}>
        <div class="field">
          <label for="set-label">Label</label>
          <input
            id="set-label"
            maxLength={100}
            value={label}
            onInput={(e) => setLabel(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="set-rate-min">Messages per minute</label>
          <input
            id="set-rate-min"
            type="number"
            min={1}
            required
            value={ratePerMin}
            onInput={(e) => setRatePerMin(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="set-rate-hour">Messages per hour</label>
          <input
            id="set-rate-hour"
            type="number"
            min={1}
            required
            value={ratePerHour}
            onInput={(e) => setRatePerHour(e.currentTarget.value)}
          />
        </div>
        <div class="field check">
          <input
            id="set-auto-read"
            type="checkbox"
            checked={autoRead}
            onChange={(e) => setAutoRead(e.currentTarget.checked)}
          />
          <label for="set-auto-read">Mark incoming messages read</label>
        </div>
        <div class="field check">
          <input
            id="set-typing"
            type="checkbox"
            checked={presenceTyping}
            onChange={(e) => setPresenceTyping(e.currentTarget.checked)}
          />
          <label for="set-typing">Show “typing…” before sending</label>
        </div>
        <div>
          <button type="submit" class="primary" disabled={busy}>
            Save settings
          </button>
        </div>
      </form>
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
    </section>
  );
}
