import { useState } from 'preact/hooks';
import { PageTitle } from '../ui/components.js';
import { EventList } from './event-list.js';
import { type LiveEvents, useLiveEventsVersion } from './live-events.js';

const STATE_TEXT = {
  connecting: 'connecting…',
  open: 'live',
  reconnecting: 'reconnecting (resumes where it stopped)…',
  refused: 'refused: sign in again',
} as const;

export function EventsPage({ events }: { events: LiveEvents }) {
  useLiveEventsVersion(events);
  const [type, setType] = useState('');
  const types = [...new Set(events.log.map((e) => e.type))].sort();
  const shown = type ? events.log.filter((e) => e.type === type) : events.log;
  return (
    <main>
      <PageTitle>Event log</PageTitle>
      <p>
        The organization’s events as they happen (<code>GET /api/v1/events</code>), the last 200
        since sign-in. Stream:{' '}
        <span data-stream-state={events.state}>{STATE_TEXT[events.state]}</span>
      </p>
      <div class="field inline-field">
        <label for="event-type">Type</label>
        <select id="event-type" value={type} onChange={(e) => setType(e.currentTarget.value)}>
          <option value="">all</option>
          {types.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </div>
      <EventList events={shown} showSession />
    </main>
  );
}
