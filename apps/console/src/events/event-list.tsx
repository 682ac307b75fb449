import type { GatewayEvent } from '@wagw/sdk';
import { formatTime } from '../ui/format.js';

/** What an event says, in a few words (the full JSON on demand). */
const text = (value: unknown): string =>
  typeof value === 'string' || typeof value === 'number' ? String(value) : JSON.stringify(value);

function summary(event: GatewayEvent): string {
  const d = event.data;
  switch (event.type) {
    case 'session.status':
      return `${text(d.status)}${d.gatewayId ? ` on ${text(d.gatewayId)}` : ''}${d.reason ? ` (${text(d.reason)})` : ''}`;
    case 'auth.qr':
      return 'new QR code';
    case 'auth.pairing_code':
      return `pairing code for ${text(d.phoneNumber)}`;
    case 'session.paired':
      return `paired with ${text(d.phoneNumber)}`;
    case 'session.logged_out':
      return `logged out (${text(d.reason)})`;
    default:
      return '';
  }
}

export function EventList(props: { events: GatewayEvent[]; showSession: boolean }) {
  if (props.events.length === 0)
    return <p class="muted">No events since this page was opened; they appear here live.</p>;
  return (
    <ol class="event-log" aria-label="Events, newest first">
      {props.events.map((event) => (
        <li key={event.id} data-event-type={event.type}>
          <time dateTime={new Date(event.occurredAt).toISOString()}>
            {formatTime(event.occurredAt)}
          </time>{' '}
          <strong>{event.type}</strong> {summary(event)}
          {props.showSession && event.sessionId && (
            <>
              {' '}
              · <a href={`#/sessions/${event.sessionId}`}>{event.sessionId}</a>
            </>
          )}
          <details>
            <summary>JSON</summary>
            <pre>{JSON.stringify(event, null, 2)}</pre>
          </details>
        </li>
      ))}
    </ol>
  );
}
