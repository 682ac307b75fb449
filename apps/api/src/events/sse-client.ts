import type { ServerResponse } from 'node:http';
import type { HubEvent } from './event-ring.js';
import { type DisconnectReason, disconnectChunk } from './sse-format.js';

/** What a client asked to see; the organization is its principal's, never its choice. */
export interface ClientFilter {
  organizationId: string;
  sessionId: string | null;
  types: ReadonlySet<string> | null;
}

/** The `Authorization` header the stream was opened with, rechecked while it lasts. */
export type StreamCredential = string;

/** A cut-off client gets this long to read its last bytes before its socket is destroyed. */
const CLOSE_GRACE_MS = 5_000;

/**
 * One SSE connection. `position` is the last stream position it has been carried past (sent,
 * or filtered out): nothing at or before it is ever written again, which is what makes a
 * replay from the stream or the ring followed by live fan-out exactly-once and in order.
 */
export class SseClient {
  position = 0;
  live = false;
  closed = false;
  private corked = false;

  constructor(
    readonly filter: ClientFilter,
    readonly credential: StreamCredential,
    private readonly response: ServerResponse,
    private readonly bufferLimit: number,
    private readonly onClose: (client: SseClient, reason: DisconnectReason | null) => void,
  ) {
    response.once('close', () => this.finish(null));
  }

  matches(event: HubEvent): boolean {
    const { organizationId, sessionId, types } = this.filter;
    return (
      event.organizationId === organizationId &&
      (sessionId === null || event.sessionId === sessionId) &&
      (types === null || types.has(event.type))
    );
  }

  /** Live fan-out: written at once (the hub corks a batch and checks the backlog after). */
  offer(event: HubEvent): void {
    if (!this.live || this.closed || event.seq <= this.position) return;
    this.position = event.seq;
    if (this.matches(event)) this.response.write(event.chunk);
  }

  write(chunk: string): void {
    if (!this.closed) this.response.write(chunk);
  }

  /** Replay from the stream: waits while the client's socket is full instead of buffering. */
  async writePaced(chunk: string): Promise<void> {
    if (this.closed || this.response.write(chunk)) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.response.off('drain', done);
        this.response.off('close', done);
        resolve();
      };
      this.response.once('drain', done);
      this.response.once('close', done);
    });
  }

  cork(): void {
    if (this.corked || this.closed) return;
    this.corked = true;
    this.response.cork();
  }

  /** Sends what was corked; a client that has more unread than its buffer allows is cut off. */
  uncork(): void {
    if (!this.corked) return;
    this.corked = false;
    this.response.uncork();
    if (!this.closed && this.response.writableLength > this.bufferLimit) {
      this.cutOff(
        'slow_consumer',
        `more than ${this.bufferLimit} bytes unread: reconnect with Last-Event-ID to resume`,
      );
    }
  }

  /** Ends the stream with a final event saying why. */
  cutOff(reason: DisconnectReason, message: string): void {
    if (this.closed) return;
    this.response.end(disconnectChunk(reason, message));
    // A client that stopped reading would hold its socket (and what is buffered) for ever.
    setTimeout(() => this.response.destroy(), CLOSE_GRACE_MS).unref();
    this.finish(reason);
  }

  private finish(reason: DisconnectReason | null): void {
    if (this.closed) return;
    this.closed = true;
    this.live = false;
    this.onClose(this, reason);
  }
}
