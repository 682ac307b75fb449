import { EventSource } from 'eventsource';
import { waitFor } from './processes.js';

export interface ReceivedEvent {
  /** The SSE `id:` (a stream position). */
  position: number;
  event: {
    id: string;
    type: string;
    organizationId: string;
    sessionId: string | null;
    occurredAt: number;
    data: Record<string, unknown>;
  };
  receivedAt: number;
}

export interface ControlEvent {
  type: 'resync' | 'disconnect';
  data: Record<string, unknown>;
  lastEventId: string;
}

/**
 * A real SSE client (the `eventsource` package) recording what it receives. It reconnects by
 * itself when the connection drops, sending Last-Event-ID as browsers do.
 */
export class SseRecorder {
  readonly events: ReceivedEvent[] = [];
  readonly controls: ControlEvent[] = [];
  readonly errors: string[] = [];
  opens = 0;
  private readonly source: EventSource;

  constructor(
    url: string,
    token: string,
    options: { lastEventId?: string; headers?: Record<string, string> } = {},
  ) {
    let first = true;
    this.source = new EventSource(url, {
      fetch: (input, init) => {
        const headers: Record<string, string> = {
          ...(init.headers as Record<string, string>),
          authorization: `Bearer ${token}`,
          ...options.headers,
        };
        // A new client resuming elsewhere: the id it got from the other connection.
        if (first && options.lastEventId !== undefined)
          headers['Last-Event-ID'] = options.lastEventId;
        first = false;
        return fetch(input, { ...init, headers });
      },
    });
    this.source.onopen = () => (this.opens += 1);
    this.source.onerror = (e) => this.errors.push(`${e.code ?? ''} ${e.message ?? ''}`);
    this.source.onmessage = (e) =>
      this.events.push({
        position: Number(e.lastEventId),
        event: JSON.parse(e.data as string) as ReceivedEvent['event'],
        receivedAt: Date.now(),
      });
    for (const type of ['resync', 'disconnect'] as const)
      this.source.addEventListener(type, (e) =>
        this.controls.push({
          type,
          data: JSON.parse(e.data as string) as Record<string, unknown>,
          lastEventId: e.lastEventId,
        }),
      );
  }

  get readyState(): number {
    return this.source.readyState;
  }

  get lastPosition(): number | undefined {
    return this.events.at(-1)?.position;
  }

  async waitForOpen(timeoutMs = 10_000): Promise<void> {
    await waitFor('SSE open', () => Promise.resolve(this.opens > 0), timeoutMs, 20);
  }

  async waitForEvents(n: number, timeoutMs = 20_000): Promise<void> {
    await waitFor(
      `${n} SSE events (have ${this.events.length})`,
      () => Promise.resolve(this.events.length >= n),
      timeoutMs,
      20,
    );
  }

  close(): void {
    this.source.close();
  }
}
