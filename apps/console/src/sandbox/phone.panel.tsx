import type { Session } from '@wagw/sdk';
import { useState } from 'preact/hooks';
import { describeError } from '../api/connection.js';
import { enterPairingCode, scanQr, sendFromContact } from '../api/sandbox.js';
import type { PairingState } from '../sessions/session.page.js';
import { Notice } from '../ui/components.js';

const randomNumber = (): string =>
  `6281${String(Math.floor(Math.random() * 1e9)).padStart(9, '0')}`;

/**
 * Sandbox only (`npm start` on the simulated network): the console plays the phone. It scans the
 * QR shown above or types the pairing code as a simulated phone, and writes to the paired number
 * as a simulated contact, through the simulator's control API (forwarded by the API).
 */
export function PhonePanel(props: {
  token: string;
  session: Session;
  pairing: PairingState;
  pairingPhone: string;
}) {
  const { session, pairing } = props;
  const [phone, setPhone] = useState(randomNumber);
  const [contact, setContact] = useState('6598765432');
  const [text, setText] = useState('Hello from a simulated phone');
  const [message, setMessage] = useState<{ kind: 'error' | 'info'; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const phoneNumber = pairing.code && props.pairingPhone ? props.pairingPhone : phone;

  const act = async (what: () => Promise<unknown>, done: string) => {
    setBusy(true);
    setMessage(null);
    try {
      await what();
      setMessage({ kind: 'info', text: done });
    } catch (failure) {
      setMessage({ kind: 'error', text: describeError(failure) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="phone-title" class="card sandbox">
      <h2 id="phone-title">Sandbox: play the phone</h2>
      <p>
        This server runs the simulated WhatsApp network: no real phone is needed. Act as the phone
        that links this session, then as a contact writing to it.
      </p>
      {!session.phoneNumber && (
        <>
          <div class="field">
            <label for="sim-phone">Simulated phone number</label>
            <input
              id="sim-phone"
              inputMode="numeric"
              value={phoneNumber}
              disabled={Boolean(pairing.code && props.pairingPhone)}
              onInput={(e) => setPhone(e.currentTarget.value)}
            />
          </div>
          <div class="actions wrap">
            <button
              type="button"
              class="primary"
              disabled={busy || !pairing.qr}
              onClick={() =>
                void act(
                  () => scanQr(props.token, pairing.qr!, phoneNumber),
                  `Scanned with ${phoneNumber}: pairing…`,
                )
              }
            >
              Scan the QR code
            </button>
            <button
              type="button"
              class="primary"
              disabled={busy || !pairing.code}
              onClick={() =>
                void act(
                  () => enterPairingCode(props.token, pairing.code!, phoneNumber),
                  `Code entered on ${phoneNumber}: pairing…`,
                )
              }
            >
              Enter the pairing code
            </button>
          </div>
          {!pairing.qr && !pairing.code && (
            <p class="muted">Start pairing above: a QR code or a pairing code appears.</p>
          )}
        </>
      )}
      {session.phoneNumber && (
        <form
          class="grid"
          onSubmit={(e) => {
            e.preventDefault();
            void act(
              () => sendFromContact(props.token, contact, session.phoneNumber!, text),
              `Sent from ${contact} to ${session.phoneNumber}.`,
            );
          }}
        >
          <div class="field">
            <label for="sim-from">From (simulated contact)</label>
            <input
              id="sim-from"
              inputMode="numeric"
              required
              value={contact}
              onInput={(e) => setContact(e.currentTarget.value)}
            />
          </div>
          <div class="field">
            <label for="sim-text">Message</label>
            <input
              id="sim-text"
              required
              value={text}
              onInput={(e) => setText(e.currentTarget.value)}
            />
          </div>
          <div>
            <button type="submit" disabled={busy}>
              Send to {session.phoneNumber}
            </button>
          </div>
        </form>
      )}
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
    </section>
  );
}
