import { type EventStream, type GatewayEvent, openEventStream } from '@wagw/sdk';
import { useEffect, useState } from 'preact/hooks';

export type StreamState = 'connecting' | 'open' | 'reconnecting' | 'refused';

type Listener = (event: GatewayEvent) => void;

const LOG_SIZE = 200;

/**
 * The console's one event stream (the organization's, over fetch streaming with the credential
 * in the Authorization header), shared by every page: listeners per page, the last 200 events
 * for the event log, and a resync signal (state must be re-read).
 */
export class LiveEvents {
  readonly log: GatewayEvent[] = [];
  state: StreamState = 'connecting';
  private readonly listeners = new Set<Listener>();
  private readonly resyncListeners = new Set<() => void>();
  private readonly changeListeners = new Set<() => void>();
  private readonly stream: EventStream;

  constructor(token: string) {
    this.stream = openEventStream({
      baseUrl: '',
      token,
      onEvent: (event) => {
        this.log.unshift(event);
        if (this.log.length > LOG_SIZE) this.log.length = LOG_SIZE;
        for (const listener of this.listeners) listener(event);
        this.changed();
      },
      onResync: () => {
        for (const listener of this.resyncListeners) listener();
      },
      onConnectionChange: (open) => {
        const wasOpen = this.state === 'open';
        this.state = open ? 'open' : 'reconnecting';
        // Back after a drop: whatever happened meanwhile is replayed, but a page that was
        // opened during the drop may hold stale rows.
        if (open && !wasOpen) for (const listener of this.resyncListeners) listener();
        this.changed();
      },
      onFatal: () => {
        this.state = 'refused';
        this.changed();
      },
    });
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onResync(listener: () => void): () => void {
    this.resyncListeners.add(listener);
    return () => this.resyncListeners.delete(listener);
  }

  onChange(listener: () => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  close(): void {
    this.stream.close();
  }

  private changed(): void {
    for (const listener of this.changeListeners) listener();
  }
}

/** Re-renders on every event and stream state change. */
export function useLiveEventsVersion(events: LiveEvents): number {
  const [version, setVersion] = useState(0);
  useEffect(() => events.onChange(() => setVersion((v) => v + 1)), [events]);
  return version;
}
